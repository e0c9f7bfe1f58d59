"""The guest's logind sessions, as the idle-restart tests watch them."""
from __future__ import annotations


def logged_in(guest) -> set[str]:
    """Users in logind's session list (``loginctl list-sessions``: SESSION UID USER …)."""
    rows = [line.split() for line in guest.ssh("loginctl list-sessions --no-legend").stdout.splitlines()]
    return {r[2] for r in rows if len(r) > 2}
