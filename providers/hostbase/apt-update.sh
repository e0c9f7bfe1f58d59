#!/bin/sh
# apt-get update, then Keystone's stamp of the last successful one (/var/lib/keystone/apt-updated):
# apt gives its list files the source's own time, so only this says when the lists were read.
set -e
DEBIAN_FRONTEND=noninteractive apt-get update -q
mkdir -p /var/lib/keystone
touch /var/lib/keystone/apt-updated
