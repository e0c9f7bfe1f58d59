#!/bin/sh
# Argument: HOME.  Replaces HOME/.ssh/authorized_keys with stdin (written aside, then renamed:
# a reader never sees half a file).  Run as the account's user.
# -T: an authorized_keys that is a directory is an error ("cannot overwrite directory"), never a
# target the new file silently moves into; a symlink is replaced by the file, never followed.
umask 077; mkdir -p -- "$1/.ssh" && cat > "$1/.ssh/.authorized_keys.keystone" && mv -f -T -- "$1/.ssh/.authorized_keys.keystone" "$1/.ssh/authorized_keys"
