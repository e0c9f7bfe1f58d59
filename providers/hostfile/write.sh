#!/bin/sh
# Write stdin to $1 atomically: a temporary file in the same directory, its mode ($2) set, then
# renamed over $1 (a symlink at $1 is replaced, never followed).  $3 = "new": link it into place
# only if nothing is at $1 (exit 17 when something is), for seeded files.  $4: owner uid:gid to give
# it (only when run as root; a write as the person owns it already).  Directories it makes: 0755
# as root, 0700 as the person.
set -u
cd / || exit 1
dir=${1%/*}
[ -n "$dir" ] || dir=/
# directories made for host files (as root) are readable by all, those made in a home are private
if [ -n "${4:-}" ]; then umask 022; else umask 077; fi
# (tests first: every process started costs, and a host's directories are there after the first write)
[ -d "$dir" ] || mkdir -p -- "$dir" || exit 1
umask 077
tmp="$dir/.${1##*/}.keystone-tmp"
if [ -e "$tmp" ] || [ -L "$tmp" ]; then rm -f -- "$tmp"; fi
cat >"$tmp" || { rm -f -- "$tmp"; exit 1; }
chmod -- "$2" "$tmp" || { rm -f -- "$tmp"; exit 1; }
if [ -n "${4:-}" ]; then chown -- "$4" "$tmp" || { rm -f -- "$tmp"; exit 1; }; fi
if [ "${3:-}" = new ]; then
  if ln -- "$tmp" "$1" 2>/dev/null; then rm -f -- "$tmp"; exit 0; fi
  rm -f -- "$tmp"
  [ -e "$1" ] || [ -L "$1" ] && exit 17
  exit 1
fi
mv -f -- "$tmp" "$1"
