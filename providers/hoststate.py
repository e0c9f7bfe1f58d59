"""A host's state as Keystone sees it, read in ONE round trip (pure: nothing here runs a command).

``read_commands(scope)`` builds the read, ``parse_host_state`` turns the captured output into a
typed ``HostState``.  The scope is either narrow (one user / named datasets: what the slow paths of
``create`` and ``update`` need) or whole (every account, and a home tree: what ``pulumi refresh``
needs).  Running the read, and sharing it between the ``Read`` calls of a provider process, is
``providers.hostcache``'s job.

The reads cost the host as few processes as they can, because under emulation a process is the
unit of cost (≈30–60 ms for ``getent``/``stat``, ≈120–150 ms for ``zfs``):

* accounts: one ``sh`` running ``getent passwd|group|shadow`` once each and printing each user's
  authorized_keys with builtins (no ``cat`` per user);
* ZFS: one ``sh`` running one ``zfs get`` for named datasets and one ``zfs get -d 1`` for the trees
  (each tree is a parent and its children: a person's own datasets below their home are not read),
  mount points from ``/proc/self/mounts`` (builtins) and one ``stat`` for all of them, and one
  ``zfs allow`` per dataset whose delegations are asked for (it takes one dataset per process).
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from providers.accounts.facts import (
    GroupEntry,
    PasswdEntry,
    ShadowEntry,
    parse_authorized_keys_dump,
    parse_group,
    parse_passwd,
    parse_shadow,
)
from providers.accounts.facts import ParseError as AccountsParseError
from providers.output import quote
from providers.scripts import script
from providers.host import Command, Result
from providers.workstation.facts import GATHER, WorkstationFacts, parse_gather
from providers.zfs.facts import READ_PROPERTIES, AllowState, DatasetState, parse_zfs_allow, parse_zfs_get
from providers.zfs.facts import ParseError as ZfsParseError

_ACCOUNTS = script(__file__, "accounts/read.sh")  # every account, or those named: sections per getent database
_ZFS = script(__file__, "zfs/read.sh")  # named datasets, trees, mounts, owners, delegations


def script_properties(text: str) -> tuple[str, ...]:
    """The properties a ZFS read script asks ``zfs get`` for (its own ``props=`` line)."""
    m = re.search(r"^props=([a-z,]+)$", text, re.M)
    if m is None:
        raise RuntimeError("providers/zfs/read.sh: no props= line")
    return tuple(m.group(1).split(","))


if script_properties(_ZFS) != READ_PROPERTIES:  # the parser reads what the script asks for, no more, no less
    raise RuntimeError(f"providers/zfs/read.sh reads {script_properties(_ZFS)}, the parser expects {READ_PROPERTIES}")


@dataclass(frozen=True)
class Scope:
    """What to read.

    * ``users``: those accounts (``None``: every account);
    * ``datasets``: named datasets (existence, properties, mountpoint owner);
    * ``zfs_roots``: whole trees, each a dataset and its children;
    * ``mount_dirs``: the tree of the dataset mounted on each directory (found on the host, so an
      account's ``Read`` can ask for its home's tree without knowing the dataset's name);
    * ``allows``: ``zfs allow`` of named datasets; ``tree_allows``: of every child of the trees;
    * ``workstation``: the workstation facts (login sessions, service instances, their environment
      files, listening sockets: ``providers/workstation/gather.sh``).
    """

    users: tuple[str, ...] | None = ()
    datasets: tuple[str, ...] = ()
    zfs_roots: tuple[str, ...] = ()
    mount_dirs: tuple[str, ...] = ()
    allows: tuple[str, ...] = ()
    tree_allows: bool = False
    workstation: bool = False

    def covers(self, other: Scope, state: HostState) -> bool:
        """Whether what this scope read (into ``state``) answers ``other``."""
        have_roots = set(self.zfs_roots) | {state.roots[d] for d in self.mount_dirs if d in state.roots}
        have_named = set(self.datasets)
        if other.users is None:
            if self.users is not None:
                return False
        elif self.users is not None and not set(other.users) <= set(self.users):
            return False
        mounted_at = {mp: ds for ds, mp in state.mountpoints.items()}
        if not all(d in self.mount_dirs or mounted_at.get(d) in have_roots for d in other.mount_dirs):
            return False
        if not set(other.zfs_roots) <= have_roots:
            return False
        if not all(d in have_named or posixpath.dirname(d) in have_roots or d in have_roots for d in other.datasets):
            return False
        if other.tree_allows and not self.tree_allows:
            return False
        if other.workstation and not self.workstation:
            return False
        return all(a in self.allows or (self.tree_allows and posixpath.dirname(a) in have_roots) for a in other.allows)

    def union(self, other: Scope) -> Scope:
        def merge(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(sorted(set(a) | set(b)))

        users = None if self.users is None or other.users is None else merge(self.users, other.users)
        return Scope(users, merge(self.datasets, other.datasets), merge(self.zfs_roots, other.zfs_roots),
                     merge(self.mount_dirs, other.mount_dirs), merge(self.allows, other.allows),
                     self.tree_allows or other.tree_allows, self.workstation or other.workstation)


@dataclass
class HostState:
    passwd: dict[str, PasswdEntry] = field(default_factory=dict)
    groups: dict[str, GroupEntry] = field(default_factory=dict)
    shadow: dict[str, ShadowEntry] = field(default_factory=dict)
    keys: dict[str, list[str]] = field(default_factory=dict)
    datasets: dict[str, DatasetState] = field(default_factory=dict)
    owners: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    allows: AllowState = field(default_factory=AllowState)
    existing: set[str] = field(default_factory=set)  # dataset names (of any type) found
    roots: dict[str, str] = field(default_factory=dict)  # mount dir -> dataset mounted there (mount_dirs)
    mountpoints: dict[str, str] = field(default_factory=dict)  # dataset -> where it is mounted
    workstation: WorkstationFacts | None = None  # read when the scope asks for it

    def groups_of(self, user: str) -> set[str]:
        return {g.name for g in self.groups.values() if user in g.members}


def read_commands(scope: Scope) -> list[Command]:
    cmds: list[Command] = []
    if scope.workstation:
        cmds.append(Command.of("sh", "-c", GATHER, "keystone-workstation", check=False))
    if scope.users is None or scope.users:
        users = list(scope.users or ())
        cmds.append(Command.of("sh", "-c", _ACCOUNTS, "keystone-accounts", *users, check=False))
    if scope.allows and not (scope.datasets or scope.zfs_roots or scope.mount_dirs or scope.tree_allows):
        # delegations only (a delegation's read-back): `zfs allow` itself, no shell around it
        return cmds + [Command.of("zfs", "allow", name, check=False) for name in scope.allows]
    args: list[str] = []
    for name in scope.datasets:
        args += ["-n", name]
    for root in scope.zfs_roots:
        args += ["-r", root]
    for d in scope.mount_dirs:
        args += ["-m", d]
    for name in scope.allows:
        args += ["-a", name]
    if scope.tree_allows:
        args.append("-A")
    if args:
        cmds.append(Command.of("sh", "-c", _ZFS, "keystone-zfs", *args, check=False))
    return cmds


def _sections(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"@@root": []}
    current = None
    for line in text.split("\n"):  # not splitlines(): a path may hold \x1c, \x85 or U+2028
        if line.startswith("@@root "):
            out["@@root"].append(line[len("@@root "):])
        elif line in ("@@get", "@@mounts", "@@stat", "@@allow"):
            current = line
            out[current] = []
        elif current is not None:
            out[current].append(line)
    return out


def parse_zfs_read(text: str, state: HostState, host: str | None = None) -> None:
    """The ZFS script's sections into ``state`` (``ZfsParseError`` naming ``host`` on unexpected output)."""
    s = _sections(text)
    for line in s["@@root"]:
        d, _, ds = line.rpartition(" ")
        state.roots[d] = ds
    state.datasets = parse_zfs_get("\n".join(line for line in s.get("@@get", []) if line.strip()), host)
    state.existing = set(state.datasets)
    mounts = {}
    for line in s.get("@@mounts", []):
        ds, _, mp = line.partition("\t")
        if ds and mp and ds not in mounts:
            mounts[ds] = mp
    owner_of_path = {}
    for line in s.get("@@stat", []):
        own, _, path = line.partition("\t")
        if own.count(":") == 2:
            uid, gid, mode = own.split(":")
            if not (uid.isascii() and uid.isdigit() and gid.isascii() and gid.isdigit() and len(uid + gid) <= 20):
                raise ZfsParseError("stat", f"expected uid:gid:mode, got {quote(line)}", host)
            owner_of_path[path] = (int(uid), int(gid), mode)
    state.mountpoints = mounts
    state.owners = {ds: owner_of_path[mp] for ds, mp in mounts.items() if mp in owner_of_path}
    state.allows = parse_zfs_allow("\n".join(s.get("@@allow", [])), host)


def parse_accounts_read(text: str, state: HostState, host: str | None = None) -> None:
    """The accounts script's sections into ``state`` (the keys section is last: it may hold anything);
    ``AccountsParseError`` naming ``host`` on unexpected output."""
    lines = text.split("\n")
    marks = {}
    for i, line in enumerate(lines):
        if line in ("@@passwd", "@@group", "@@shadow", "@@keys") and line not in marks:
            marks[line] = i
            if line == "@@keys":
                break
    order = ["@@passwd", "@@group", "@@shadow", "@@keys"]
    if any(m not in marks for m in order):
        raise AccountsParseError("getent passwd|group|shadow", f"sections {', '.join(m for m in order if m not in marks)} "
                                 f"missing from {quote(text)}", host)

    def part(name: str) -> str:
        start = marks[name] + 1
        nxt = order.index(name) + 1
        end = marks[order[nxt]] if nxt < len(order) else len(lines)
        return "\n".join(lines[start:end])

    state.passwd = parse_passwd(part("@@passwd"), host)
    state.groups = parse_group(part("@@group"), host)
    state.shadow = parse_shadow(part("@@shadow"), host)
    state.keys = parse_authorized_keys_dump(part("@@keys"))


def parse_host_state(results: list[Result], host: str | None = None) -> HostState:
    """The reads' outputs into one ``HostState``; unexpected output raises the parser's error naming ``host``."""
    state = HostState()
    for r in results:
        argv = r.command.argv
        if argv[:3] == ("sh", "-c", GATHER):
            state.workstation = parse_gather(r.stdout)
        elif argv[:3] == ("sh", "-c", _ACCOUNTS):
            parse_accounts_read(r.stdout, state, host)
        elif argv[:3] == ("sh", "-c", _ZFS):
            parse_zfs_read(r.stdout, state, host)
        elif argv[:2] == ("zfs", "allow") and len(argv) == 3:
            for name, grants in parse_zfs_allow(r.stdout, host).datasets.items():
                state.allows.datasets.setdefault(name, {}).update(grants)
    return state


def gather_scope(users: bool = True, roots: tuple[str, ...] = (), mount_dirs: tuple[str, ...] = ()) -> Scope:
    """What a ``Read`` asks the cache for: every account and whole home trees with their delegations."""
    return Scope(users=None if users else (), zfs_roots=roots, mount_dirs=mount_dirs, tree_allows=True)



def patched(base: HostState, after: HostState, scope: Scope) -> HostState:
    """``base`` with the parts ``scope`` read replaced by ``after`` (a write's read-back of ``scope``):
    what a provider process knows of a host after writing part of it, without reading the rest again.

    Named users: their passwd, shadow and keys entries (every account when ``users`` is None); the
    group database whenever accounts were read (the script reads it whole).  Named datasets and trees:
    their properties, mount points, owners and existence (a tree: its root and children).  Named
    delegations: those datasets' ``zfs allow``.  The workstation facts when they were read."""
    out = HostState(dict(base.passwd), dict(base.groups), dict(base.shadow), dict(base.keys), dict(base.datasets),
                    dict(base.owners), AllowState(dict(base.allows.datasets)), set(base.existing), dict(base.roots),
                    dict(base.mountpoints), base.workstation)
    if scope.users is None:
        out.passwd, out.groups, out.shadow, out.keys = (dict(after.passwd), dict(after.groups), dict(after.shadow),
                                                        dict(after.keys))
    elif scope.users:
        named = set(scope.users)
        out.passwd = {u: v for u, v in out.passwd.items() if u not in named}
        out.passwd.update({u: v for u, v in after.passwd.items() if u in named})
        out.shadow = {u: v for u, v in out.shadow.items() if u not in named}
        out.shadow.update({u: v for u, v in after.shadow.items() if u in named})
        out.keys = {u: v for u, v in out.keys.items() if u not in named}
        out.keys.update({u: v for u, v in after.keys.items() if u in named})
        # a user named by uid (the create path asks for the uid too) is found under its name
        for u, v in after.passwd.items():
            if str(v.uid) in scope.users:
                out.passwd[u] = v
        out.groups = dict(after.groups)
    roots = set(scope.zfs_roots) | {after.roots[d] for d in scope.mount_dirs if d in after.roots}
    out.roots.update(after.roots)

    def read_here(name: str) -> bool:
        return name in scope.datasets or name in roots or posixpath.dirname(name) in roots

    for name in [n for n in out.existing | set(out.datasets) | set(out.mountpoints) if read_here(n)]:
        out.existing.discard(name)
        out.datasets.pop(name, None)
        out.mountpoints.pop(name, None)
        out.owners.pop(name, None)
    out.existing |= {n for n in after.existing if read_here(n)}
    out.datasets.update({n: v for n, v in after.datasets.items() if read_here(n)})
    out.mountpoints.update({n: v for n, v in after.mountpoints.items() if read_here(n)})
    out.owners.update({n: v for n, v in after.owners.items() if read_here(n)})
    allowed = set(scope.allows) | ({n for n in after.existing if posixpath.dirname(n) in roots}
                                   if scope.tree_allows else set())
    for name in allowed:
        out.allows.datasets.pop(name, None)
    out.allows.datasets.update({n: v for n, v in after.allows.datasets.items() if n in allowed})
    if scope.workstation:
        out.workstation = after.workstation
    return out
