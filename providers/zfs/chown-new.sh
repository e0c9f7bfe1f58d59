#!/bin/sh
# Arguments: DATASET UID GID MODE.  Owner and mode of the mount point of a dataset just created
# (found in /proc/self/mounts with builtins; `install -d` on the existing directory is chown +
# chmod in one process).  Exit 3 when the dataset is not mounted.
while IFS=' ' read -r dev mp fs _; do
  [ "$fs" = zfs ] && [ "$dev" = "$1" ] && exec install -d -o "$2" -g "$3" -m "$4" -- "$mp"
done </proc/self/mounts
echo "dataset $1 is not mounted" >&2; exit 3
