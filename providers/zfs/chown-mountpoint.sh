#!/bin/sh
# Arguments: DATASET UID:GID MODE.  Owner and mode of a mounted dataset's mount point; exit 3 when
# the dataset is not mounted.
mp=$(zfs get -H -o value mountpoint -- "$1") && [ "$(zfs get -H -o value mounted -- "$1")" = yes ] && chown -- "$2" "$mp" && chmod -- "$3" "$mp" || { echo "dataset $1 is not mounted ($mp)" >&2; exit 3; }
