#!/bin/sh
# Accounts in one process tree (sh + three getent), for the users named as arguments (none: every
# account): sections "@@passwd", "@@group", "@@shadow", then "@@keys" with each user's
# authorized_keys framed by "@@keys <user>" lines (builtins: no process per user).
# A symlinked ~/.ssh or authorized_keys is not followed (its keys read as none: the next apply
# replaces the link with a file, written as the user).
pw=$(getent passwd "$@")
echo @@passwd; [ -n "$pw" ] && printf '%s\n' "$pw"
echo @@group; getent group
echo @@shadow; getent shadow "$@"
echo @@keys
[ -n "$pw" ] && printf '%s\n' "$pw" | while IFS=: read -r u _ uid _ _ home _; do
  [ "$uid" -ge 1000 ] 2>/dev/null || continue
  printf '@@keys %s\n' "$u"
  # never follow a link the user made (root would read its target): such keys read as none
  f=$home/.ssh/authorized_keys
  { [ -L "$home/.ssh" ] || [ -L "$f" ] || [ ! -f "$f" ]; } && continue
  while IFS= read -r line || [ -n "$line" ]; do printf '%s\n' "$line"; done <"$f"
done; true
