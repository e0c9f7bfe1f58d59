"""Pure parser of the workstation gather (``gather.sh``): login sessions, instance environment
files, instance units and listening sockets of one host."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from providers.scripts import script

GATHER = script(__file__, "gather.sh")


@dataclass(frozen=True)
class UnitState:
    active: str  # ActiveState: active, inactive, failed, activating …
    enabled: str  # UnitFileState: enabled, disabled, "" (unknown unit) …
    main_pid: int = 0

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


@dataclass
class WorkstationFacts:
    sessions: dict[str, int] = field(default_factory=dict)  # user -> number of login sessions
    env_digests: dict[str, str] = field(default_factory=dict)  # environment file -> sha256
    units: dict[str, UnitState] = field(default_factory=dict)  # "unit@user.service" -> state
    listeners: dict[int, list[Listener]] = field(default_factory=dict)  # TCP port -> who listens


def parse_gather(text: str) -> WorkstationFacts:
    facts = WorkstationFacts()
    section = None
    block: dict[str, str] = {}

    def flush() -> None:
        if block.get("Id"):
            facts.units[block["Id"]] = UnitState(block.get("ActiveState", ""), block.get("UnitFileState", ""),
                                                 int(block.get("MainPID") or 0))
        block.clear()

    for line in text.splitlines():
        if line in ("@@sessions", "@@env", "@@units", "@@listen"):
            flush()
            section = line
            continue
        if section == "@@sessions":
            parts = line.split()
            if len(parts) >= 3 and parts[1].isdigit():
                facts.sessions[parts[2]] = facts.sessions.get(parts[2], 0) + 1
        elif section == "@@env":
            digest, _, path = line.partition("  ")
            if len(digest) == 64 and path:
                facts.env_digests[path] = digest
        elif section == "@@units":
            if not line.strip():
                flush()
            else:
                key, _, value = line.partition("=")
                block[key] = value
        elif section == "@@listen":
            listener = parse_listen_line(line)
            if listener:
                facts.listeners.setdefault(listener.port, []).append(listener)
    flush()
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
