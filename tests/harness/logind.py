"""The guest's logind sessions, as the idle-restart tests watch and steer them."""
from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator

from tests.harness.wait import wait_for


@contextlib.contextmanager
def ssh_login(guest, user: str, key) -> Iterator[None]:
    """An SSH login of ``user`` without a terminal, open for the ``with`` block: in logind's list when
    the block starts, gone from it once the block has ended (EOF ends the remote shell's ``read``)."""
    session = subprocess.Popen(guest.ssh_argv(user, key) + ["read line"], stdin=subprocess.PIPE)
    try:
        wait_for(f"{user}'s logind session", lambda: user in logged_in(guest), timeout=60, interval=0.5)
        yield
    finally:
        assert session.stdin is not None
        session.stdin.close()
        session.wait(timeout=30)
    wait_for(f"{user}'s session to end", lambda: user not in logged_in(guest), timeout=60, interval=0.5)


def logged_in(guest) -> set[str]:
    """Users in logind's session list (``loginctl list-sessions``: SESSION UID USER …)."""
    rows = [line.split() for line in guest.ssh("loginctl list-sessions --no-legend").stdout.splitlines()]
    return {r[2] for r in rows if len(r) > 2}


def terminals(guest, user: str) -> list[str]:
    """The terminals (``pts/N``) of ``user``'s sessions, as logind reports them."""
    rows = [line.split() for line in guest.ssh("loginctl list-sessions --no-legend").stdout.splitlines()]
    ttys = []
    for r in rows:
        if len(r) > 2 and r[2] == user:
            tty = guest.ssh(f"loginctl show-session -p TTY --value {r[0]}").stdout.strip()
            if tty:
                ttys.append(tty)
    return ttys


def terminal_session(guest, user: str, key) -> subprocess.Popen:
    """An SSH login of ``user`` on a terminal (``ssh -tt``) that waits until it is terminated."""
    argv = ["-tt" if a == "-T" else a for a in guest.ssh_argv(user, key)]
    return subprocess.Popen(argv + ["read line"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def set_last_input(guest, tty: str, minutes_ago: int) -> None:
    """The terminal's last input ``minutes_ago`` (its atime, which logind's IdleSinceHint reports)."""
    guest.ssh(f"touch -a -d '{minutes_ago} minutes ago' /dev/{tty}")


def idle_since(guest, user: str) -> list[int]:
    """logind's IdleSinceHint (µs since the epoch) of each of ``user``'s sessions."""
    rows = [line.split() for line in guest.ssh("loginctl list-sessions --no-legend").stdout.splitlines()]
    return [int(guest.ssh(f"loginctl show-session -p IdleSinceHint --value {r[0]}").stdout.strip() or 0)
            for r in rows if len(r) > 2 and r[2] == user]
