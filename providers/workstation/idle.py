"""The idle rule (pure): may a person's instance be restarted now?

A person is **idle** on a host when

* every one of their logind sessions has had no input for at least ``idle_minutes`` (the last input:
  logind's ``IdleSinceHint``, else the session terminal's last input), and
* none of their services has an established TCP connection: no connection to the instance's port,
  nor to any port a process of theirs listens on (a person working in the web IDE has no login
  session at all, but has a connection).

It **fails closed**: when any of it cannot be read — logind down, a session that cannot be shown or
reports no idle time (no hint and no terminal), the host's clock, the connection list — the person
is *not* idle, and ``busy_reason`` says why (the instance's ``pending_reason`` output).
"""
from __future__ import annotations

from providers.workstation.facts import WorkstationFacts


def busy_reason(facts: WorkstationFacts, user: str, uid: int, port: int, idle_minutes: int) -> str | None:
    """None when ``user`` is idle on the host; otherwise why a restart must wait (one line)."""
    if facts.sessions_error is not None:
        return f"logind's sessions cannot be read ({facts.sessions_error}): the person may be working"
    for s in facts.sessions.get(user, []):
        if s.error is not None:
            return f"login session {s.id} cannot be read ({s.error})"
        if s.last_input is None:
            return (f"login session {s.id} ({s.tty or 'no terminal'}, {s.state or 'state unknown'}) "
                    "reports no idle time")
        if facts.now is None:
            return "the host's clock cannot be read"
        idle = max(0, facts.now - s.last_input) // 60
        if idle < idle_minutes:
            return f"login session {s.id} had input {idle} min ago (idle after {idle_minutes} min)"
    if facts.established is None:
        return f"connections cannot be read ({facts.established_error})"
    ports = sorted({port} | {ln.port for found in facts.listeners.values() for ln in found if ln.uid == uid})
    open_ = {p: facts.established[p] for p in ports if facts.established.get(p)}
    if open_:
        return "open connection to port " + ", ".join(f"{p} ({n})" for p, n in open_.items())
    return None
