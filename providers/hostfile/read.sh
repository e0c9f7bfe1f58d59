#!/bin/sh
# What is at each path argument, one line each, without following a symlink at the path itself:
# "absent PATH", "link PATH", "other PATH" (not a regular file), or "file SHA256 MODE UID:GID PATH"
# (unreadable: "file - MODE UID:GID PATH").  Run as the file's owner for files in a home.
cd / || exit 1
for p in "$@"; do
  if [ -L "$p" ]; then echo "link $p"
  elif [ ! -e "$p" ]; then echo "absent $p"
  elif [ ! -f "$p" ]; then echo "other $p"
  else
    meta=$(stat -c '%a %u:%g' -- "$p" 2>/dev/null) || meta="- -"
    sum=$(sha256sum <"$p" 2>/dev/null) || sum=-
    echo "file ${sum%% *} $meta $p"
  fi
done
true
