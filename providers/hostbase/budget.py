"""A person's budget on a host: the systemd drop-in of their ``user-<uid>.slice`` (pure).

logind starts ``user-<uid>.slice`` for a person's first session and every process of theirs (login
shells, ``systemd --user`` and its services) lives below it, so the slice's limits hold whatever
they start.  The drop-in is a ``host:ManagedFile`` with ``reload: systemd``: ``systemctl
daemon-reload`` makes systemd read it and apply it to a running slice at once, nobody logged out.
"""
from __future__ import annotations

DROPIN_DIR = "/etc/systemd/system/user-{uid}.slice.d"
DROPIN_NAME = "keystone.conf"


def dropin_path(uid: int) -> str:
    return f"{DROPIN_DIR.format(uid=uid)}/{DROPIN_NAME}"


def render_dropin(user: str, uid: int, memory_max: str | None, cpu_weight: int | None,
                  tasks_max: str | None) -> str:
    """The drop-in's text: the values set, in systemd's names (an unset value is not written, so
    systemd's default holds)."""
    lines = [f"# Keystone: the budget of {user} (uid {uid}); `pulumi up` rewrites it when it differs.",
             "[Slice]"]
    for key, value in (("MemoryMax", memory_max), ("CPUWeight", cpu_weight), ("TasksMax", tasks_max)):
        if value is not None:
            lines.append(f"{key}={value}")
    return "\n".join(lines) + "\n"
