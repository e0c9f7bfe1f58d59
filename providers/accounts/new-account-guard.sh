#!/bin/sh
# Arguments: USER UID GID [GROUP...].  Exits 0 when the account can be created from nothing: no
# user USER, no uid UID, no group USER, no gid GID, and every supplementary group GROUP exists.
# Else 100 (GUARD_MISS in account.py) and nothing is written.
u=$1 uid=$2 gid=$3; shift 3
nl='
'
[ -z "$(getent passwd "$u" "$uid")" ] || exit 100
found=$(getent group "$u" "$gid" "$@")
for g in "$@"; do
  case "$nl$found$nl" in *"$nl$g:"*) ;; *) exit 100 ;; esac
done
printf '%s\n' "$found" | while IFS=: read -r name _ id _; do
  [ -z "$name" ] || [ "$name" != "$u" ] && [ "$id" != "$gid" ] || exit 100
done
