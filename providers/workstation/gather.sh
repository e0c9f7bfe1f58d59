#!/bin/sh
# Workstation facts of one host in one process tree (read-only).  The instances are those with an
# environment file (/etc/keystone/workstation/<unit>/<user>.env); their templates are its directories.
# Sections:
#   @@now           the host's clock (seconds since the epoch)
#   @@sessions      "ID UID USER" per login session of a person (uid 1000 and up: no person waits for
#                   a system account's session, such as the one this script runs in), from logind's
#                   own session files (what sd_get_sessions(3) reads: asking logind over D-Bus for the
#                   list costs seconds on a busy host), then per session "@@session <id>" with its
#                   Name, IdleHint, IdleSinceHint (µs), TTY and State from loginctl, and TTYAtime (the
#                   terminal's last input, seconds) when it has a terminal; "Error=…" when it cannot
#                   be shown; "@@sessions-error …" instead when logind is not running
#   @@env           sha256 of every instance's environment file
#   @@units         systemd's loaded instances of those templates: "UNIT LOAD ACTIVE SUB
#                   DESCRIPTION" (systemctl list-units: one call; a unit not loaded is inactive)
#   @@enabled       the links that enable those templates' instances: .wants/ and .requires/
#                   symlinks in /etc/systemd/system (enabled) and /run/systemd/system
#                   (enabled-runtime), what systemctl(1) is-enabled documents (asking systemd
#                   for each instance's UnitFileState costs seconds per hundred instances)
#   @@listen        listening TCP sockets with owner
#   @@established   established TCP connections ("@@established-error …" when ss fails)
echo @@now
date +%s
echo @@sessions
if ! state=$(systemctl is-active systemd-logind 2>&1); then
  echo "@@sessions-error systemd-logind is not running ($(printf '%s\n' "$state" | head -n 1))"
else
  list=
  for f in /run/systemd/sessions/*; do
    [ -f "$f" ] || continue  # (its .ref FIFO beside it)
    uid='' user=''
    { while IFS='=' read -r key value; do
        case $key in UID) uid=$value ;; USER) user=$value ;; esac
      done <"$f"; } 2>/dev/null  # a file gone meanwhile leaves uid empty: reported as unreadable
    case $uid in
      ''|*[!0-9]*) list="${list}unreadable session file ${f##*/}
" ;;  # the parser refuses the list: nobody is idle
      *) [ "$uid" -ge 1000 ] && list="$list${f##*/} $uid $user
" ;;
    esac
  done
  printf '%s' "$list"
  printf '%s' "$list" | while read -r id uid _; do
    case $uid in ''|*[!0-9]*) continue ;; esac
    echo "@@session $id"
    if info=$(loginctl show-session -p Name -p IdleHint -p IdleSinceHint -p TTY -p State -- "$id" 2>&1 </dev/null); then
      printf '%s\n' "$info"
      tty=$(printf '%s\n' "$info" | sed -n 's/^TTY=//p')
      case $tty in
        ''|*..*) ;;
        *) [ -c "/dev/$tty" ] && echo "TTYAtime=$(stat -c %X -- "/dev/$tty")" ;;
      esac
    else
      echo "Error=$(printf '%s\n' "$info" | head -n 1)"
    fi
  done
fi
echo @@env
envs=
templates=  # every template with an environment file, once
for f in /etc/keystone/workstation/*/*.env; do
  [ -f "$f" ] || continue
  envs="$envs $f"
  d=${f%/*}
  case " $templates " in *" ${d##*/} "*) ;; *) templates="$templates ${d##*/}" ;; esac
done
# shellcheck disable=SC2086  # the paths are <unit>/<user>.env: validated names, no blanks
[ -n "$envs" ] && sha256sum -- $envs 2>/dev/null
echo @@units
set --
for t in $templates; do set -- "$@" "$t@*.service"; done
[ $# -gt 0 ] && systemctl list-units --all --plain --no-legend --full -- "$@" 2>/dev/null
echo @@enabled
for t in $templates; do
  for link in /etc/systemd/system/*.wants/"$t"@*.service /etc/systemd/system/*.requires/"$t"@*.service \
              /run/systemd/system/*.wants/"$t"@*.service /run/systemd/system/*.requires/"$t"@*.service; do
    [ -L "$link" ] && printf '%s\n' "$link"
  done
done
echo @@listen
ss -ltnpeH 2>/dev/null
echo @@established
if est=$(ss -Htn state established 2>&1); then
  printf '%s\n' "$est"
else
  echo "@@established-error $(printf '%s\n' "$est" | head -n 1)"
fi
true
