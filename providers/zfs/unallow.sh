#!/bin/sh
# Arguments: DATASET USER.  Removes USER's `zfs allow` entry on DATASET; nothing to do (exit 0)
# when the dataset is gone.
zfs list -H -o name -- "$1" >/dev/null 2>&1 || exit 0; zfs unallow -u "$2" "$1"
