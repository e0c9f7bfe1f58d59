#!/bin/sh
# Workstation facts of one host in one process tree (read-only).  Arguments: unit instances to show
# besides those found from their environment files (/etc/keystone/workstation/<unit>/<user>.env).
# Sections: @@sessions (loginctl's session list), @@env (sha256 of every instance's environment
# file), @@units (systemctl show of every instance), @@listen (listening TCP sockets with owner).
echo @@sessions
loginctl list-sessions --no-legend 2>/dev/null
echo @@env
envs=
units=
for f in /etc/keystone/workstation/*/*.env; do
  [ -f "$f" ] || continue
  d=${f%/*}
  n=${f##*/}
  envs="$envs $f"
  units="$units ${d##*/}@${n%.env}.service"
done
# shellcheck disable=SC2086  # the paths are <unit>/<user>.env: validated names, no blanks
[ -n "$envs" ] && sha256sum -- $envs 2>/dev/null
echo @@units
# shellcheck disable=SC2086
set -- "$@" $units
[ $# -gt 0 ] && systemctl show --property=Id,ActiveState,UnitFileState,MainPID "$@" 2>/dev/null
echo @@listen
ss -ltnpeH 2>/dev/null
true
