#!/bin/sh
# The host base's facts in one process tree (read-only).  Arguments: KUBELOGIN ("-": none), TIMER
# ("-": none), HOME_PARENT and BACKUP_PARENT ("-": no backups), then the packages to look at.
# Sections: @@now (epoch seconds), @@swap (swap in KiB), @@dpkg (package TAB status abbrev), @@policy
# (apt-cache policy of the packages: a "name:" line, then its "Candidate:"), @@lists (newest mtime of
# the apt lists or of Keystone's stamp of its last apt-get update, TAB newest mtime of the apt sources), @@kubelogin (present|absent|-), @@timer
# (ActiveState TAB UnitFileState), @@snapshots (name TAB creation of every snapshot of the homes and
# of the backups).
kubelogin=$1 timer=$2 homes=$3 backups=$4
shift 4
echo @@now
date +%s
echo @@swap
total=0
while read -r _ _ size _; do
  case $size in ''|*[!0-9]*) ;; *) total=$((total + size)) ;; esac
done </proc/swaps
echo "$total"
echo @@dpkg
[ $# -gt 0 ] && dpkg-query -W -f '${Package}\t${db:Status-Abbrev}\n' "$@" 2>/dev/null
echo @@policy
[ $# -gt 0 ] && LC_ALL=C apt-cache policy "$@" 2>/dev/null
echo @@lists
lists=$(find /var/lib/apt/lists -maxdepth 1 -type f -name '*_Packages*' -printf '%T@\n' 2>/dev/null;
  find /var/lib/keystone/apt-updated -maxdepth 0 -type f -printf '%T@\n' 2>/dev/null)
lists=$(printf '%s\n' "$lists" | sort -n | tail -n 1)
sources=$(find /etc/apt/sources.list /etc/apt/sources.list.d -maxdepth 1 -type f -printf '%T@\n' 2>/dev/null | sort -n | tail -n 1)
printf '%s\t%s\n' "${lists%.*}" "${sources%.*}"
echo @@kubelogin
if [ "$kubelogin" = - ]; then echo -; elif [ -x "$kubelogin" ] && [ -f "$kubelogin" ]; then echo present; else echo absent; fi
echo @@timer
[ "$timer" != - ] && printf '%s\t%s\n' "$(systemctl show -p ActiveState --value "$timer" 2>/dev/null)" \
  "$(systemctl show -p UnitFileState --value "$timer" 2>/dev/null)"
echo @@snapshots
if [ "$homes" != - ]; then
  zfs list -H -p -t snapshot -o name,creation -d 2 "$homes" 2>/dev/null
  zfs list -H -p -t snapshot -o name,creation -d 2 "$backups" 2>/dev/null
fi
true
