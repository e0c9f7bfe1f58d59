"""A host's state as Keystone sees it, read in ONE round trip, and a per-process cache of it.

``read_commands(scope)`` builds the read (pure), ``parse_host_state`` turns the captured output into
a typed ``HostState`` (pure).  The scope is either narrow (one user / one dataset: what ``create`` and
``update`` need) or a whole home tree (what ``pulumi refresh`` needs: every ``Read`` for a host is
then served from one gather).  ``HostStateCache`` shares a gather between the provider process's
worker threads and drops it as soon as anything on that host is written.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from providers.accounts.facts import GroupEntry, PasswdEntry, ShadowEntry, parse_authorized_keys_dump, parse_group, parse_passwd, parse_shadow
from providers.transport import Command, HostTarget, Result, Transport, for_host
from providers.zfs.facts import READ_PROPERTIES, AllowState, DatasetState, parse_zfs_allow, parse_zfs_get

# Prints "<dataset>\t<uid>:<gid>:<mode>" for each mounted filesystem given (or under the root given).
_OWNERS = r'''for ds in $(zfs list -H -o name -t filesystem "$@" 2>/dev/null); do
  mp=$(zfs get -H -o value mountpoint "$ds"); [ -d "$mp" ] && [ "$(zfs get -H -o value mounted "$ds")" = yes ] &&
  printf '%s\t%s\n' "$ds" "$(stat -c %u:%g:%a "$mp")"; done; true'''
# `zfs allow` takes one dataset per process: loop on the host, not over the network.
_ALLOWS = r'''for ds in $(zfs list -H -o name -t filesystem "$@" 2>/dev/null); do zfs allow "$ds"; done; true'''
# Prints each user's authorized_keys framed by "@@keys <user>" lines.
_KEYS = r'''getent passwd "$@" | while IFS=: read -r u _ uid _ _ home _; do
  [ "$uid" -ge 1000 ] 2>/dev/null || continue
  printf '@@keys %s\n' "$u"; [ -f "$home/.ssh/authorized_keys" ] && cat -- "$home/.ssh/authorized_keys"; done; true'''


@dataclass(frozen=True)
class Scope:
    """What to read: ``users`` (None = all), datasets by name, or whole trees under ``zfs_roots``."""

    users: tuple[str, ...] | None = ()
    datasets: tuple[str, ...] = ()
    zfs_roots: tuple[str, ...] = ()


@dataclass
class HostState:
    passwd: dict[str, PasswdEntry] = field(default_factory=dict)
    groups: dict[str, GroupEntry] = field(default_factory=dict)
    shadow: dict[str, ShadowEntry] = field(default_factory=dict)
    keys: dict[str, list[str]] = field(default_factory=dict)
    datasets: dict[str, DatasetState] = field(default_factory=dict)
    owners: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    allows: AllowState = field(default_factory=AllowState)
    existing: set[str] = field(default_factory=set)  # dataset names (of any type) found by `zfs list`

    def groups_of(self, user: str) -> set[str]:
        return {g.name for g in self.groups.values() if user in g.members}


def read_commands(scope: Scope) -> list[Command]:
    cmds: list[Command] = []
    if scope.users is None or scope.users:
        users = list(scope.users or ())
        cmds += [
            Command.of("getent", "passwd", *users, check=False),
            Command.of("getent", "group", check=False),
            Command.of("getent", "shadow", *users, check=False),
            Command.of("sh", "-c", _KEYS, "keystone-keys", *users, check=False),
        ]
    targets = [*scope.zfs_roots, *scope.datasets]
    if targets:
        recursive = ["-r"] if scope.zfs_roots else []
        # -r only applies to roots; narrow reads name datasets only.
        names = list(scope.zfs_roots) if scope.zfs_roots else list(scope.datasets)
        cmds += [
            Command.of("zfs", "list", "-H", "-o", "name", *recursive, *names, check=False),
            Command.of("zfs", "get", "-H", "-p", "-o", "name,property,value,source", *recursive,
                       ",".join(READ_PROPERTIES), *names, check=False),
            Command.of("sh", "-c", _OWNERS, "keystone-owners", *recursive, *names, check=False),
            Command.of("sh", "-c", _ALLOWS, "keystone-allows", *recursive, *names, check=False),
        ]
    return cmds


def parse_host_state(results: list[Result]) -> HostState:
    state = HostState()
    for r in results:
        argv = r.command.argv
        if argv[:2] == ("getent", "passwd"):
            state.passwd = parse_passwd(r.stdout)
        elif argv[:2] == ("getent", "group"):
            state.groups = parse_group(r.stdout)
        elif argv[:2] == ("getent", "shadow"):
            state.shadow = parse_shadow(r.stdout)
        elif argv[:3] == ("sh", "-c", _KEYS):
            state.keys = parse_authorized_keys_dump(r.stdout)
        elif argv[:2] == ("zfs", "list"):
            state.existing = {line.strip() for line in r.stdout.splitlines() if line.strip()}
        elif argv[:2] == ("zfs", "get"):
            state.datasets = parse_zfs_get(r.stdout)
        elif argv[:3] == ("sh", "-c", _OWNERS):
            for line in r.stdout.splitlines():
                ds, _, own = line.partition("\t")
                uid, gid, mode = own.split(":")
                state.owners[ds] = (int(uid), int(gid), mode)
        elif argv[:3] == ("sh", "-c", _ALLOWS):
            state.allows = parse_zfs_allow(r.stdout)
    return state


def read_host_state(transport: Transport, scope: Scope) -> HostState:
    return parse_host_state(transport.run_batch(read_commands(scope), stop_on_error=False))


class HostStateCache:
    """Whole-tree reads shared by every ``Read`` of a host, dropped when the host is written."""

    TTL = 120.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[HostTarget, Scope], tuple[int, float, HostState]] = {}
        self._key_locks: dict[tuple[HostTarget, Scope], threading.Lock] = {}
        self._generation: dict[HostTarget, int] = {}

    def get(self, target: HostTarget, scope: Scope) -> HostState:
        key = (target, scope)
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:  # one gather per host and scope, however many threads ask at once
            with self._lock:
                gen = self._generation.get(target, 0)
                hit = self._entries.get(key)
                if hit and hit[0] == gen and time.monotonic() - hit[1] < self.TTL:
                    return hit[2]
            state = read_host_state(for_host(target), scope)
            with self._lock:
                if self._generation.get(target, 0) == gen:
                    self._entries[key] = (gen, time.monotonic(), state)
            return state

    def invalidate(self, target: HostTarget) -> None:
        with self._lock:
            self._generation[target] = self._generation.get(target, 0) + 1
            for key in [k for k in self._entries if k[0] == target]:
                del self._entries[key]


CACHE = HostStateCache()
