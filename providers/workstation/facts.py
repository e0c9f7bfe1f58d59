"""Pure parser of the workstation gather (``gather.sh``): the host's clock, login sessions with the
time of their last input, instance environment files, instance units, listening sockets and
established connections of one host.

What cannot be read is recorded as such, never as "nothing": ``sessions_error`` (logind could not be
asked, or the section is missing), a session's ``error`` or ``last_input`` None (no hint and no
terminal, or a value that is not a number), ``now`` None, ``established`` None — the idle rule
(``providers/workstation/idle.py``) then holds the restart back."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from providers.scripts import script

GATHER = script(__file__, "gather.sh")


@dataclass(frozen=True)
class UnitState:
    active: str  # ActiveState: active, inactive, failed, activating … (a unit systemd has not loaded: inactive)
    enabled: str  # enabled (a .wants/ or .requires/ link in /etc), enabled-runtime (in /run), "" (no link)

    @property
    def running(self) -> bool:
        return self.active in ("active", "activating", "reloading")

    @property
    def is_enabled(self) -> bool:
        return self.enabled in ("enabled", "enabled-runtime")


@dataclass(frozen=True)
class Listener:
    port: int
    uid: int
    process: str
    pid: int

    def describe(self) -> str:
        who = f"{self.process} (pid {self.pid})" if self.process else "a process"
        return f"{who} of uid {self.uid}"


@dataclass(frozen=True)
class Session:
    """One logind session of a person."""

    id: str
    user: str
    last_input: int | None = None
    """Seconds since the epoch of the last input: logind's IdleSinceHint, else the terminal's atime;
    None when neither is known."""
    tty: str = ""
    state: str = ""
    error: str | None = None
    """Why the session could not be read (``loginctl show-session`` failed, or said nothing)."""


@dataclass
class WorkstationFacts:
    sessions: dict[str, list[Session]] = field(default_factory=dict)  # user -> their login sessions
    env_digests: dict[str, str] = field(default_factory=dict)  # environment file -> sha256
    units: dict[str, UnitState] = field(default_factory=dict)  # "unit@user.service" -> state
    listeners: dict[int, list[Listener]] = field(default_factory=dict)  # TCP port -> who listens
    sessions_error: str | None = None  # why logind's sessions could not be read
    now: int | None = None  # the host's clock, seconds since the epoch
    established: dict[int, int] | None = field(default_factory=dict)  # local TCP port -> open connections
    established_error: str | None = None


_SECTIONS = ("@@now", "@@sessions", "@@env", "@@units", "@@enabled", "@@listen", "@@established")


def _number(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def session_from(sid: str, user: str, props: dict[str, str]) -> Session:
    """A session from ``loginctl show-session``'s properties (and the gather's ``TTYAtime``)."""
    if "Error" in props or "IdleSinceHint" not in props:
        return Session(sid, user, error=props.get("Error") or "logind showed no idle time")
    since = _number(props.get("IdleSinceHint"))  # µs since the epoch; 0: logind has no hint
    last = since // 1_000_000 if since else _number(props.get("TTYAtime"))
    return Session(sid, user, last or None, props.get("TTY", ""), props.get("State", ""))


def parse_gather(text: str) -> WorkstationFacts:
    facts = WorkstationFacts(sessions_error="the gather has no session list", established=None,
                             established_error="the gather has no connection list")
    section = None
    listed: dict[str, str] = {}  # session id -> user, from the list
    shown: dict[str, dict[str, str]] = {}  # session id -> properties
    active: dict[str, str] = {}  # instance -> ActiveState
    enabled: dict[str, str] = {}  # instance -> enabled / enabled-runtime

    for line in text.splitlines():
        if line in _SECTIONS or line.startswith(("@@session ", "@@sessions-error", "@@established-error")):
            section = line
            if line == "@@sessions":
                facts.sessions_error = None
            elif line.startswith("@@sessions-error"):
                facts.sessions_error = line.removeprefix("@@sessions-error").strip() or "loginctl failed"
            elif line.startswith("@@session "):
                shown[line.split(maxsplit=1)[1]] = {}
            elif line == "@@established":
                facts.established, facts.established_error = {}, None
            elif line.startswith("@@established-error"):
                facts.established = None
                facts.established_error = line.removeprefix("@@established-error").strip() or "ss failed"
            continue
        if section == "@@now":
            facts.now = _number(line.strip()) if line.strip() else facts.now
        elif section == "@@sessions":
            parts = line.split()
            if len(parts) >= 3 and parts[1].isdigit():
                listed[parts[0]] = parts[2]
            elif line.strip():
                facts.sessions_error = f"unreadable session line {line[:60]!r}"
        elif section and section.startswith("@@session "):
            key, eq, value = line.partition("=")
            if eq:
                shown[section.split(maxsplit=1)[1]][key] = value
        elif section == "@@established" and facts.established is not None:
            parts = line.split()
            if len(parts) >= 4:
                _, _, port = parts[2].rpartition(":")
                if port.isdigit():
                    facts.established[int(port)] = facts.established.get(int(port), 0) + 1
        elif section == "@@env":
            digest, _, path = line.partition("  ")
            if len(digest) == 64 and path:
                facts.env_digests[path] = digest
        elif section == "@@units":
            parts = line.split()  # UNIT LOAD ACTIVE SUB DESCRIPTION…
            if len(parts) >= 4 and parts[0].endswith(".service"):
                active[parts[0]] = parts[2]
        elif section == "@@enabled":
            where, _, name = line.rpartition("/")
            if name.endswith(".service") and where.endswith((".wants", ".requires")):
                state = "enabled-runtime" if line.startswith("/run/") else "enabled"
                enabled[name] = "enabled" if "enabled" in (state, enabled.get(name)) else state
        elif section == "@@listen":
            listener = parse_listen_line(line)
            if listener:
                facts.listeners.setdefault(listener.port, []).append(listener)
    facts.units = {u: UnitState(active.get(u, "inactive"), enabled.get(u, "")) for u in {**active, **enabled}}
    for sid, user in listed.items():
        facts.sessions.setdefault(user, []).append(session_from(sid, user, shown.get(sid, {})))
    return facts


_USERS = re.compile(r'users:\(\("([^"]*)",pid=(\d+)')
_UID = re.compile(r"\buid:(\d+)")


def parse_listen_line(line: str) -> Listener | None:
    """One line of ``ss -ltnpeH``: state, queues, local address:port, peer, then extras (``users:``,
    ``uid:`` — absent for root —, ``ino:`` …)."""
    parts = line.split()
    if len(parts) < 4 or parts[0] != "LISTEN":
        return None
    _, _, port = parts[3].rpartition(":")
    if not port.isdigit():
        return None
    users = _USERS.search(line)
    uid = _UID.search(line)
    return Listener(int(port), int(uid.group(1)) if uid else 0, users.group(1) if users else "",
                    int(users.group(2)) if users else 0)
