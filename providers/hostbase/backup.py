"""Backups of every home: the files that make the host's backup timer (pure).

Keystone installs, as ``host:ManagedFile`` resources, ``backup.sh`` (snapshot every home, replicate
it incrementally to the backup parent, prune to ``keep``) and a oneshot service with its timer; the
host's ``host:Base`` keeps the timer enabled and running and reads every home's newest snapshot and
the backup's lag (docs/hostbase.md says why a timer of Keystone's and not ``zfs-auto-snapshot``).
"""
from __future__ import annotations

from providers.scripts import script

SCRIPT = script(__file__, "backup.sh")
SCRIPT_PATH = "/usr/local/lib/keystone/backup.sh"
UNIT = "keystone-backup"
SERVICE_PATH = f"/etc/systemd/system/{UNIT}.service"
TIMER_PATH = f"/etc/systemd/system/{UNIT}.timer"
TIMER = f"{UNIT}.timer"
PATHS = (SCRIPT_PATH, SERVICE_PATH, TIMER_PATH)


def service(home_parent: str, backup_parent: str, keep: int) -> str:
    return (f"# Keystone: snapshot every home and replicate it (keystone:base.backups)\n"
            f"[Unit]\nDescription=Keystone backup of every home\nAfter=zfs.target\n\n"
            f"[Service]\nType=oneshot\nExecStart=/bin/sh {SCRIPT_PATH} {home_parent} {backup_parent} {keep}\n")


def timer(schedule: str) -> str:
    return (f"# Keystone: when the homes are backed up (keystone:base.backups.schedule)\n"
            f"[Unit]\nDescription=Keystone backup of every home\n\n"
            f"[Timer]\nOnCalendar={schedule}\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n")
