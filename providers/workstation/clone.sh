#!/bin/sh
# Run as the person: clone $3 (branch $4) into $1/$2 only if nothing is there.  Prints "cloned" or
# "present".  HOME is the person's, so git reads their configuration, never root's.
set -u
cd -- "$1" || exit 1
dest="$1/$2"
if [ -e "$dest" ] || [ -L "$dest" ]; then echo present; exit 0; fi
mkdir -p -- "${dest%/*}" || exit 1
HOME=$1 GIT_TERMINAL_PROMPT=0 git clone --quiet --branch "$4" -- "$3" "$dest" >&2 || exit 1
echo cloned
