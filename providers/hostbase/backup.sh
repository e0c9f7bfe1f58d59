#!/bin/sh
# Keystone's backup of every home, run by keystone-backup.service (its timer: keystone:base.backups).
# Arguments: HOME_PARENT BACKUP_PARENT KEEP.  For each home (a child of HOME_PARENT): a snapshot
# keystone-<UTC time>, then replication to BACKUP_PARENT/<user> — the whole snapshot the first time,
# then incrementally (zfs send -I) from the newest snapshot both sides hold — and the oldest
# keystone-* snapshots beyond KEEP destroyed on both sides.  Backups are received unmounted
# (zfs receive -u) and BACKUP_PARENT is made with mountpoint=none: a backup never shadows a home.
# One home failing does not stop the others; the exit status says whether any failed.
set -u
homes=$1 backups=$2 keep=$3
stamp=keystone-$(date -u +%Y%m%dT%H%M%SZ)
failed=0
zfs list -H -o name "$backups" >/dev/null 2>&1 || zfs create -p -o mountpoint=none "$backups" || exit 1

prune() {  # keep the newest $keep keystone-* snapshots of dataset $1
  zfs list -H -o name -t snapshot -s creation -d 1 "$1" 2>/dev/null | grep '@keystone-' >"$tmp.list"
  n=$(wc -l <"$tmp.list")
  if [ "$n" -gt "$keep" ]; then
    head -n "$((n - keep))" "$tmp.list" | while read -r snap; do zfs destroy "$snap" || exit 1; done
  fi
}

tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp" "$tmp.list"' EXIT
zfs list -H -o name -d 1 "$homes" >"$tmp" || exit 1
while read -r home; do
  [ "$home" = "$homes" ] && continue
  user=${home##*/}
  copy=$backups/$user
  if ! zfs snapshot "$home@$stamp"; then failed=1; continue; fi
  base=
  if zfs list -H -o name "$copy" >/dev/null 2>&1; then
    # the newest snapshot of the backup that the home still has: the incremental's start
    for snap in $(zfs list -H -o name -t snapshot -S creation -d 1 "$copy"); do
      if zfs list -H -o name "$home@${snap#*@}" >/dev/null 2>&1; then base=${snap#*@}; break; fi
    done
    if [ -z "$base" ]; then
      echo "keystone-backup: $copy shares no snapshot with $home: replicate it by hand" >&2
      failed=1
      continue
    fi
    zfs send -I "@$base" "$home@$stamp" | zfs receive -u -F "$copy" || { failed=1; continue; }
  else
    zfs send "$home@$stamp" | zfs receive -u "$copy" || { failed=1; continue; }
  fi
  prune "$home" || failed=1
  prune "$copy" || failed=1
done <"$tmp"
exit "$failed"
