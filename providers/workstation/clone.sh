#!/bin/sh
# Run as the person: clone $3 (branch $4) into $1/$2 only if nothing is there (a symlink, even a
# dangling one, counts).  Prints "cloned" or "present".  HOME is the person's, so git reads their
# configuration and the host's /etc/gitconfig (where a credential helper the admin provides lives),
# never root's.
# The clone is git-crypt *locked*: the git-crypt filters are `cat` and not required, for the clone
# itself (-c) and in the clone's .git/config (--config), so a file git-crypt encrypted stays
# ciphertext (it starts with "\0GITCRYPT\0"), everything else is plain text, and the person can
# commit without the key.
set -u
cd -- "$1" || exit 1
dest="$1/$2"
if [ -e "$dest" ] || [ -L "$dest" ]; then echo present; exit 0; fi
mkdir -p -- "${dest%/*}" || exit 1
HOME=$1 GIT_TERMINAL_PROMPT=0 git \
  -c filter.git-crypt.smudge=cat -c filter.git-crypt.clean=cat -c filter.git-crypt.required=false \
  clone --quiet \
  --config filter.git-crypt.smudge=cat --config filter.git-crypt.clean=cat \
  --config filter.git-crypt.required=false \
  --branch "$4" -- "$3" "$dest" >&2 || exit 1
echo cloned
