"""What a host looks like after a planner's commands ran: one small pure state transition per planner,
for the planner cases' idempotence check (``tests/unit/test_planner_cases.py``: a case's commands,
applied to its state, must give a state on which the planner plans nothing).

Each transition reads the commands the way the host's tools do (``useradd``, ``usermod``, ``zfs``,
…) and changes only what those tools change.  A command it does not understand is an error
(:class:`UnknownCommand`), never silently skipped: a planner that starts emitting a new command
needs its transition here first.

The BIRD route server's transition runs the commands on :class:`~tests.harness.fake_bird_host.FakeBirdHost`
(its files, ``bird -p`` and daemon), after checking each command's shape here.

A command that runs a script (``sh -c SCRIPT NAME ARGS…``) is recognised by the script's name
(``$0``: ``keystone-keys``, ``keystone-chown``), whatever the script's text.
"""
from __future__ import annotations

import copy
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from providers.accounts.facts import GroupEntry, PasswdEntry, ShadowEntry
from providers.bird import plan as bird_plan
from providers.host import CommandError
from providers.hostbase.facts import BaseFacts
from providers.hostfile.plan import PathState, sha256
from providers.hoststate import HostState
from providers.workstation.facts import UnitState, WorkstationFacts
from providers.zfs.facts import SIZE_PROPERTIES, DatasetState, Grants, PropertyValue, size_bytes
from tests.harness.fake_bird_host import FakeBirdHost


class UnknownCommand(AssertionError):
    """A command the transition cannot apply: teach it the command before using it in a case."""

    def __init__(self, planner: str, argv: Sequence[str]):
        super().__init__(f"{planner}: no state transition for `{' '.join(argv)}`")


def script_name(argv: Sequence[str]) -> str | None:
    """``NAME`` of ``[setpriv …] sh -c SCRIPT NAME ARGS…``, else None."""
    for i in range(len(argv) - 3):
        if argv[i] == "sh" and argv[i + 1] == "-c":
            return argv[i + 3]
    return None


def script_args(argv: Sequence[str]) -> list[str]:
    """``ARGS…`` of ``[…] sh -c SCRIPT NAME ARGS…``."""
    for i in range(len(argv) - 3):
        if argv[i] == "sh" and argv[i + 1] == "-c":
            return list(argv[i + 4:])
    raise ValueError(f"not a script command: {argv}")


def _options(argv: Sequence[str], flags: Iterable[str], with_value: Iterable[str]) -> tuple[dict[str, Any], list[str]]:
    """Short options of a tool's argv (``-a`` flags, ``-g VALUE`` options), up to ``--``; returns
    them and the operands."""
    flags, with_value = set(flags), set(with_value)
    found: dict[str, Any] = {}
    args = list(argv[1:])
    operands: list[str] = []
    while args:
        a = args.pop(0)
        if a == "--":
            operands += args
            break
        if a in flags:
            found[a] = True
        elif a in with_value:
            found[a] = args.pop(0)
        elif a.startswith("-"):
            raise UnknownCommand(argv[0], argv)
        else:
            operands.append(a)
    return found, operands


# --- accounts (providers/accounts/plan.py) ----------------------------------------------------------

def apply_accounts(state: HostState, commands: Iterable[Any]) -> HostState:
    """``groupadd``, ``useradd``, ``usermod``, ``chpasswd -e``, ``userdel``, ``install -d`` and the
    ``keystone-keys`` writer, as shadow-utils and the script change ``/etc/passwd``, ``/etc/group``,
    ``/etc/shadow`` and ``authorized_keys``."""
    s = copy.deepcopy(state)
    for c in commands:
        argv = list(c.argv)
        tool = argv[0]
        if tool == "groupadd":
            opts, (name,) = _options(argv, (), ("-g",))
            s.groups[name] = GroupEntry(name, int(opts["-g"]), frozenset())
        elif tool == "useradd":
            opts, (name,) = _options(argv, ("-M",), ("-u", "-g", "-d", "-s", "-c", "-G"))
            group = s.groups[opts["-g"]]
            s.passwd[name] = PasswdEntry(name, int(opts["-u"]), group.gid, opts.get("-c", ""), opts["-d"],
                                         opts.get("-s", "/bin/sh"))
            s.shadow[name] = ShadowEntry(name, "!", "")  # useradd: no password, locked
            _set_groups(s, name, opts.get("-G", ""), add=False)
        elif tool == "usermod":
            opts, (name,) = _options(argv, ("-a", "-L", "-U"), ("-s", "-d", "-c", "-G", "-e"))
            pw = s.passwd[name]
            s.passwd[name] = replace(pw, shell=opts.get("-s", pw.shell), home=opts.get("-d", pw.home),
                                     gecos=opts.get("-c", pw.gecos))
            if "-G" in opts:
                _set_groups(s, name, opts["-G"], add="-a" in opts)
            sh = s.shadow.get(name, ShadowEntry(name, "!", ""))
            if "-L" in opts and not sh.password.startswith("!"):
                sh = replace(sh, password="!" + sh.password)
            if "-U" in opts:
                sh = replace(sh, password=sh.password.removeprefix("!"))
            if "-e" in opts:
                sh = replace(sh, expire=opts["-e"])
            s.shadow[name] = sh
        elif argv == ["chpasswd", "-e"]:
            for line in (c.stdin or "").splitlines():
                name, _, hashed = line.partition(":")
                s.shadow[name] = replace(s.shadow.get(name, ShadowEntry(name, "!", "")), password=hashed)
        elif tool == "userdel":
            _, (name,) = _options(argv, (), ())
            s.passwd.pop(name, None)
            s.shadow.pop(name, None)
            s.keys.pop(name, None)
            s.groups = {g: replace(e, members=e.members - {name}) for g, e in s.groups.items()}
        elif tool == "install" and "-d" in argv:
            pass  # the home directory: not part of the account state
        elif script_name(argv) == "keystone-keys":
            uid = int(next(a for a in argv if a.startswith("--reuid=")).split("=", 1)[1])
            (name,) = [p.name for p in s.passwd.values() if p.uid == uid]
            s.keys[name] = [line for line in (c.stdin or "").splitlines() if line]
        else:
            raise UnknownCommand("accounts", argv)
    return s


def _set_groups(s: HostState, user: str, groups: str, add: bool) -> None:
    want = {g for g in groups.split(",") if g}
    for name, entry in list(s.groups.items()):
        if name in want:
            s.groups[name] = replace(entry, members=entry.members | {user})
        elif not add and user in entry.members:
            s.groups[name] = replace(entry, members=entry.members - {user})


# --- ZFS datasets (providers/zfs/plan.py: plan_dataset) ----------------------------------------------

def _stored(prop: str, value: str) -> str:
    """The value as ``zfs get -p`` shows it (sizes in bytes, ``0`` for none)."""
    if prop in SIZE_PROPERTIES:
        return str(size_bytes(value) or 0)
    return value


def apply_datasets(state: HostState, commands: Iterable[Any]) -> HostState:
    """``zfs create|set|inherit|snapshot|rename|destroy`` and the ``keystone-chown`` script, as
    they change the datasets, their properties and their mountpoints' owners."""
    s = copy.deepcopy(state)
    for c in commands:
        argv = list(c.argv)
        if argv[:2] == ["zfs", "create"]:
            opts = [argv[i + 1] for i, a in enumerate(argv) if a == "-o"]
            name = argv[-1]
            if "-p" in argv:
                for i in range(1, name.count("/") + 1):
                    s.existing.add(name.rsplit("/", i)[0])
            props = {"type": PropertyValue("filesystem", "-"), "readonly": PropertyValue("off", "default")}
            for o in opts:
                k, _, v = o.partition("=")
                props[k] = PropertyValue(_stored(k, v), "local")
            s.existing.add(name)
            s.datasets[name] = DatasetState(name, props)
        elif argv[:2] == ["zfs", "set"]:
            name = argv[-1]
            for o in argv[2:-1]:
                k, _, v = o.partition("=")
                s.datasets[name].properties[k] = PropertyValue(_stored(k, v), "local")
        elif argv[:3] == ["zfs", "inherit", "readonly"]:
            s.datasets[argv[-1]].properties["readonly"] = PropertyValue("off", "default")
        elif argv[:2] == ["zfs", "snapshot"]:
            s.existing.add(argv[2])
        elif argv[:2] == ["zfs", "rename"]:
            old, new = argv[2], argv[3]
            for name in sorted(n for n in s.existing if n == old or n.startswith(old + "/") or n.startswith(old + "@")):
                moved = new + name[len(old):]
                s.existing.discard(name)
                s.existing.add(moved)
                if name in s.datasets:
                    s.datasets[moved] = DatasetState(moved, s.datasets.pop(name).properties)
                if name in s.owners:
                    s.owners[moved] = s.owners.pop(name)
        elif argv[:3] == ["zfs", "destroy", "-r"]:
            gone = argv[3]
            for name in [n for n in s.existing if n == gone or n.startswith((gone + "/", gone + "@"))]:
                s.existing.discard(name)
                s.datasets.pop(name, None)
                s.owners.pop(name, None)
        elif script_name(argv) == "keystone-chown":
            dataset, owner, mode = script_args(argv)
            uid, gid = owner.split(":")
            s.owners[dataset] = (int(uid), int(gid), mode.lstrip("0"))
        else:
            raise UnknownCommand("zfs datasets", argv)
    return s


# --- ZFS delegations (providers/zfs/plan.py: plan_delegation) ----------------------------------------

def apply_grants(grants: Grants, user: str, commands: Iterable[Any]) -> Grants:
    """``zfs allow|unallow [-l|-d] -u USER PERMS DATASET`` on one user's entry (no flag: both scopes)."""
    g = Grants(set(grants.local), set(grants.descendent))
    for c in commands:
        argv = list(c.argv)
        if argv[0] != "zfs" or argv[1] not in ("allow", "unallow"):
            raise UnknownCommand("zfs delegations", argv)
        opts, operands = _options(argv[1:], ("-l", "-d"), ("-u",))
        if opts.get("-u") != user or len(operands) != 2:
            raise UnknownCommand("zfs delegations", argv)
        perms = set(operands[0].split(","))
        scopes = [g.local] if "-l" in opts else [g.descendent] if "-d" in opts else [g.local, g.descendent]
        for scope in scopes:
            if argv[1] == "allow":
                scope |= perms
            else:
                scope -= perms
    return g


# --- host files (providers/hostfile/plan.py: plan_file) ----------------------------------------------

def _writer(argv: Sequence[str]) -> tuple[int | None, int | None]:
    """The uid and gid a command runs as under ``setpriv``, or (None, None) for root."""
    if argv[0] != "setpriv":
        return None, None
    ids = {a.split("=", 1)[0]: int(a.split("=", 1)[1]) for a in argv if a.startswith(("--reuid=", "--regid="))}
    return ids["--reuid"], ids["--regid"]


def _without_setpriv(argv: Sequence[str]) -> list[str]:
    return list(argv[argv.index("--") + 1:]) if argv[0] == "setpriv" else list(argv)


def written(argv: Sequence[str], stdin: str | None) -> tuple[str, PathState]:
    """What ``write.sh`` (``keystone-write PATH MODE new|replace OWNER``, content on stdin) leaves at PATH."""
    path, mode, how, owner = script_args(argv)
    uid, gid = _writer(argv)
    if owner:
        uid, gid = (int(x) for x in owner.split(":"))
    if how not in ("new", "replace"):
        raise UnknownCommand("keystone-write", argv)
    return path, PathState("file", sha256(stdin or ""), mode.lstrip("0") or "0", 0 if uid is None else uid,
                           0 if gid is None else gid)


def apply_files(paths: dict[str, PathState], commands: Iterable[Any]) -> dict[str, PathState]:
    """``keystone-write`` (``new`` only where nothing is), ``rm -f``, ``systemctl daemon-reload``."""
    out = dict(paths)
    for c in commands:
        argv = list(c.argv)
        plain = _without_setpriv(argv)
        if script_name(argv) == "keystone-write":
            path, state = written(argv, c.stdin)
            if script_args(argv)[2] == "new" and out.get(path, PathState("absent")).present:
                raise AssertionError(f"write.sh new: something is at {path} already (exit 17)")
            out[path] = state
        elif plain[:3] == ["rm", "-f", "--"]:
            for path in plain[3:]:
                out[path] = PathState("absent")
        elif argv == ["systemctl", "daemon-reload"]:
            pass  # systemd rereads unit files: nothing at any path changes
        else:
            raise UnknownCommand("host files", argv)
    return out


# --- service instances (providers/workstation/plan.py: plan_instance) ---------------------------------

@dataclass
class InstanceHost:
    """An instance's host as its planner sees it: the workstation facts, and whether the last run
    deferred a restart (what the provider keeps in its outputs)."""

    facts: WorkstationFacts
    pending: bool = False


def apply_instance(host: InstanceHost, commands: Iterable[Any], pending_restart: bool) -> InstanceHost:
    """``keystone-write`` of the environment file, ``rm -f`` of it, and ``systemctl enable|start|
    restart|disable --now``; ``pending_restart`` is what the planner reported with the commands."""
    f = copy.deepcopy(host.facts)
    for c in commands:
        argv = list(c.argv)
        if script_name(argv) == "keystone-write":
            path, _ = written(argv, c.stdin)
            f.env_digests[path] = sha256(c.stdin or "")
        elif argv[:3] == ["rm", "-f", "--"]:
            for path in argv[3:]:
                f.env_digests.pop(path, None)
        elif argv[:1] == ["systemctl"]:
            verb, unit = argv[1], argv[-1]
            flags = set(argv[2:-1])
            was = f.units.get(unit, UnitState("inactive", ""))
            if verb == "enable" and flags <= {"--no-reload"}:
                f.units[unit] = replace(was, enabled="enabled")
            elif verb in ("start", "restart") and not flags:
                f.units[unit] = replace(was, active="active")
            elif verb == "disable" and flags == {"--now", "--no-reload"}:
                f.units[unit] = replace(was, active="inactive", enabled="disabled")
            else:
                raise UnknownCommand("service instances", argv)
        else:
            raise UnknownCommand("service instances", argv)
    return InstanceHost(f, pending_restart)


# --- a BIRD route server (providers/bird/plan.py: the safe apply) --------------------------------------

@dataclass(frozen=True)
class RouteServer:
    """A route server as the safe apply sees it: its files by path, the protocols its daemon runs
    (name → proto type: ``BGP``, ``Device``, ``Static``), the directories that do not exist, what
    ``birdc`` prints when it cannot connect, and the seconds left before a pending undo."""

    files: dict[str, str]
    protocols: dict[str, str]
    absent_dirs: frozenset[str] = frozenset()
    birdc_error: str | None = None
    pending_undo: float | None = None

    def host(self, config_file: str) -> FakeBirdHost:
        h = FakeBirdHost(posixpath.dirname(config_file))
        h.files = dict(self.files)
        h.absent_dirs = set(self.absent_dirs)
        h.daemon.protocols = dict(self.protocols)
        h.daemon.unreachable = self.birdc_error
        if self.pending_undo is not None:
            h.daemon.undo, h.daemon.undo_in = dict(self.protocols), self.pending_undo
        return h

    @staticmethod
    def of(h: FakeBirdHost) -> RouteServer:
        d = h.daemon
        return RouteServer(dict(h.files), dict(d.protocols), frozenset(h.absent_dirs), d.unreachable,
                           d.undo_in if d.undo is not None else None)


def observe_bird(rs: RouteServer, change: bird_plan.Change) -> bird_plan.Observed:
    """What round trip 1 (``gather_commands``) reads on this route server, parsed by ``observe``."""
    h = rs.host(change.rs.config_file)
    return bird_plan.observe(change, h.run_batch(bird_plan.gather_commands(change), stop_on_error=False))


#: the argv shapes the safe apply emits: the tool, then a predicate on the rest
_BIRD_SHAPES = {
    "tee": lambda a: len(a) == 1,
    "rm": lambda a: a[:1] == ["-f"] and len(a) > 1,
    "ln": lambda a: a[:1] == ["-f"] and len(a) == 3,
    "cp": lambda a: a[:1] == ["-p"] and len(a) == 3,
    "mv": lambda a: a[:1] == ["-f"] and len(a) == 3,
    "chmod": lambda a: a[:1] in (["0640"], ["0644"]) and len(a) > 1,
    "chgrp": lambda a: len(a) > 1 and not a[0].startswith("-"),
    "mkdir": lambda a: a[:2] == ["-p", "-m"] and a[2:3] in (["0750"], ["0755"]) and len(a) == 4,
    "bird": lambda a: a[:2] == ["-p", "-c"] and len(a) == 3,
    "runuser": lambda a: a[:1] == ["-u"] and a[2:6] == ["--", "bird", "-p", "-c"] and len(a) == 7,
    "birdc": lambda a: a[:1] == ["-s"] and (a[2:] in (["configure", "check"], ["configure", "confirm"],
                                                        ["show", "protocols"])
                                             or (a[2:4] == ["configure", "timeout"] and len(a) == 5 and a[4].isdigit())
                                             or (a[2:3] == ["restart"] and len(a) == 4)),
}


def apply_bird(rs: RouteServer, config_file: str, commands: Iterable[Any]) -> RouteServer:
    """Stage/check/swap/``configure timeout``/confirm, as the tools and the daemon change the route
    server: after ``configure timeout`` the daemon runs the protocols the live config declares (the
    main config and the files its ``include`` matches) with an undo pending until ``configure confirm``.
    A checked command that would fail on this state (``bird -p`` of a missing file, ``mv`` of nothing,
    ``restart`` of a protocol the daemon does not run) is an error: the apply would have stopped there."""
    h = rs.host(config_file)
    for c in commands:
        argv = list(c.argv)
        shape = _BIRD_SHAPES.get(argv[0])
        if shape is None or not shape(argv[1:]):
            raise UnknownCommand("bird", argv)
        if argv[0] == "birdc" and argv[3] == "restart" and argv[4] not in h.daemon.protocols:
            raise AssertionError(f"bird: `{c.display()}`: the daemon runs no protocol {argv[4]}")
        try:
            h.run_batch([c])
        except CommandError as e:
            raise AssertionError(f"bird: `{c.display()}` fails on this state: {e}") from e
    return RouteServer.of(h)


@dataclass(frozen=True)
class BaseHost:
    """A host as the base planner sees it, and what Keystone installed there (carried in outputs)."""

    facts: BaseFacts
    installed_by_keystone: tuple[str, ...] = ()


def apply_base(host: BaseHost, commands: Iterable[Any], ours: Sequence[str]) -> BaseHost:
    """``apt-get update`` (apt learns every package of the sources: ``available``), ``apt-get install``
    (needs a candidate), ``apt-get purge``, ``systemctl enable --now``."""
    f = host.facts
    installed, candidates = set(f.installed), dict(f.candidates)
    active, enabled = f.timer_active, f.timer_enabled
    for c in commands:
        argv = list(c.argv)
        if argv[:2] == ["env", "DEBIAN_FRONTEND=noninteractive"]:
            argv = argv[2:]
        if script_name(argv) == "keystone-apt-update":
            candidates.update({p: "1.0" for p in AVAILABLE_AFTER_UPDATE})
        elif argv[:2] in (["apt-get", "install"], ["apt-get", "purge"]):
            names = [a for a in argv[2:] if not a.startswith("-")]
            if argv[1] == "install":
                lacking = [n for n in names if not candidates.get(n)]
                if lacking:
                    raise CommandError("h", c, 100, f"E: Unable to locate package {lacking[0]}")
                installed |= set(names)
            else:
                installed -= set(names)
        elif argv[:3] == ["systemctl", "enable", "--now"] and len(argv) == 4:
            active, enabled = "active", "enabled"
        else:
            raise UnknownCommand("base", argv)
    return BaseHost(replace(f, installed=frozenset(installed), candidates=candidates, timer_active=active,
                            timer_enabled=enabled), tuple(ours))


AVAILABLE_AFTER_UPDATE = ("git", "zsh", "git-crypt", "tmux", "htop")
"""What the planner cases' apt sources hold: an ``apt-get update`` makes apt know them."""
