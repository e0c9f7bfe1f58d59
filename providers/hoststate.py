"""A host's state as Keystone sees it, read in ONE round trip (pure: nothing here runs a command).

``read_commands(scope)`` builds the read, ``parse_host_state`` turns the captured output into a
typed ``HostState``.  The scope is either narrow (one user / named datasets: what the slow paths of
``create`` and ``update`` need) or whole (every account, a home tree, and what the host's base
declaration names — its root-owned files, the budget drop-ins, the base gather: what ``pulumi
refresh`` needs, ``providers/hostbase/declaration.py``).  Running the read, and sharing it between the
``Read`` calls of a provider process, is ``providers.hostcache``'s job.

The reads cost the host as few processes as they can, because under emulation a process is the
unit of cost (≈30–60 ms for ``getent``/``stat``, ≈120–150 ms for ``zfs``):

* accounts: one ``sh`` running ``getent passwd|group|shadow`` once each and printing each user's
  authorized_keys with builtins (no ``cat`` per user);
* ZFS: one ``sh`` running one ``zfs get`` for named datasets and one ``zfs get -d 1`` for the trees
  (each tree is a parent and its children: a person's own datasets below their home are not read),
  mount points from ``/proc/self/mounts`` (builtins) and one ``stat`` for all of them, and one
  ``zfs allow`` per dataset whose delegations are asked for (it takes one dataset per process);
* declared reads: one ``sh`` reading the declaration with builtins, then the ZFS read of the home
  tree (when no other command of the round trip reads ZFS), one file read (a ``stat`` and a
  ``sha256sum`` per file) and the base gather.
"""
from __future__ import annotations

import dataclasses
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
from providers.hostbase import declaration
from providers.hostbase.facts import GATHER as BASE_GATHER, BaseFacts
from providers.hostbase.facts import parse_gather as parse_base_gather
from providers.hostfile.plan import READ as FILE_READ, PathState, parse_read, root_read_command
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
      files, listening sockets: ``providers/workstation/gather.sh``);
    * ``root_files``: root-owned files (``providers/hostfile/read.sh`` as root);
    * ``base``: the base gather's arguments (``providers/hostbase/gather.sh``; None: not read);
    * ``declared``: what the host's base declaration names (``providers/hostbase/declaration.py``):
      the home tree with its delegations, every root-owned managed file of the host, the budget
      drop-ins by their glob and the base gather — so whichever ``Read`` of a refresh comes first, its
      gather answers the others.
    """

    users: tuple[str, ...] | None = ()
    datasets: tuple[str, ...] = ()
    zfs_roots: tuple[str, ...] = ()
    mount_dirs: tuple[str, ...] = ()
    allows: tuple[str, ...] = ()
    tree_allows: bool = False
    workstation: bool = False
    root_files: tuple[str, ...] = ()
    base: tuple[str, ...] | None = None
    declared: bool = False

    def covers(self, other: Scope, state: HostState) -> bool:
        """Whether what this scope read (into ``state``) answers ``other``."""
        have_roots = (set(self.zfs_roots) | {state.roots[d] for d in self.mount_dirs if d in state.roots}
                      | state.declared_roots)
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
        if other.tree_allows and not (self.tree_allows or state.declared_roots):
            return False
        if other.workstation and not self.workstation:
            return False
        if other.declared and not self.declared:
            return False
        if not all(state.file_read(p) for p in other.root_files):
            return False
        if other.base is not None and not _base_covers(state.base_args, other.base):
            return False
        return all(a in self.allows or (self.tree_allows and posixpath.dirname(a) in have_roots) for a in other.allows)

    def union(self, other: Scope) -> Scope:
        def merge(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(sorted(set(a) | set(b)))

        users = None if self.users is None or other.users is None else merge(self.users, other.users)
        return Scope(users, merge(self.datasets, other.datasets), merge(self.zfs_roots, other.zfs_roots),
                     merge(self.mount_dirs, other.mount_dirs), merge(self.allows, other.allows),
                     self.tree_allows or other.tree_allows, self.workstation or other.workstation,
                     merge(self.root_files, other.root_files), _merge_base(self.base, other.base),
                     self.declared or other.declared)


def _base_covers(have: tuple[str, ...] | None, want: tuple[str, ...]) -> bool:
    """A base gather read with ``have`` answers one asked with ``want``: the same kubelogin, timer and
    parents, and every package asked for looked at."""
    return have is not None and have[:4] == want[:4] and set(want[4:]) <= set(have[4:])


def _merge_base(a: tuple[str, ...] | None, b: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if a is None or b is None or a[:4] != b[:4]:
        return b if b is not None else a  # one base per host: the newer want
    return a[:4] + tuple(dict.fromkeys(a[4:] + b[4:]))


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
    files: dict[str, PathState] = field(default_factory=dict)  # root-owned files read, by path
    files_read: set[str] = field(default_factory=set)  # the paths asked for (absent ones included)
    globs_read: set[str] = field(default_factory=set)  # patterns whose every match was read
    base: BaseFacts | None = None  # the base gather's facts
    base_args: tuple[str, ...] | None = None  # the arguments they were gathered with
    declared_roots: set[str] = field(default_factory=set)  # the declared home tree, read with its delegations
    declaration: declaration.Declaration | None = None  # the host's base declaration, when read

    def file_read(self, path: str) -> bool:
        """Whether this read answers ``path`` (absent when it is not in ``files``)."""
        return path in self.files_read or any(declaration.glob_matches(g, path) for g in self.globs_read)

    def groups_of(self, user: str) -> set[str]:
        return {g.name for g in self.groups.values() if user in g.members}


def read_commands(scope: Scope) -> list[Command]:
    cmds: list[Command] = []
    if scope.declared:  # the declared home tree is read here unless the scope reads ZFS itself
        reads_zfs = bool(scope.datasets or scope.zfs_roots or scope.mount_dirs or scope.allows or scope.tree_allows)
        cmds.append(declaration.declared_command(None if reads_zfs else _ZFS, FILE_READ, BASE_GATHER))
    if scope.root_files:
        cmds.append(root_read_command(scope.root_files))
    if scope.base is not None:
        cmds.append(Command.of("sh", "-c", BASE_GATHER, "keystone-base", *scope.base, check=False))
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


def parse_declared_read(text: str, glob: str, zfs_asked: bool, state: HostState, host: str | None = None) -> None:
    """``declared.sh``'s parts into ``state``: what the declaration named is recorded as read (so the
    resources it answers are served from it); a cut or garbled answer raises naming ``host``."""
    parts = declaration.split_parts(text, host)
    decl = state.declaration = declaration.parse_declaration(parts["declaration"], host)
    if decl is not None and decl.tree and zfs_asked:
        parse_zfs_read(parts["zfs"], state, host)
        state.declared_roots.add(decl.tree)
    elif parts["zfs"]:
        raise declaration.DeclarationError(f"a ZFS read nobody asked for: {quote(parts['zfs'])}", host)
    paths = decl.files if decl is not None else ()
    state.files.update(parse_read(parts["files"], paths, host))
    state.files_read.update(paths)
    state.globs_read.add(glob)
    if decl is not None:
        state.base, state.base_args = parse_base_gather(parts["base"], host), decl.gather_args()
    elif parts["base"]:
        raise declaration.DeclarationError(f"a base gather without a declaration: {quote(parts['base'])}", host)


def parse_host_state(results: list[Result], host: str | None = None) -> HostState:
    """The reads' outputs into one ``HostState``; unexpected output raises the parser's error naming ``host``.
    What was asked by name (root files, the base gather) overrides what the declaration gave."""
    state = HostState()
    for r in sorted(results, key=lambda r: r.command.argv[:3] != ("sh", "-c", declaration.DECLARED)):
        argv = r.command.argv
        if argv[:3] == ("sh", "-c", declaration.DECLARED):
            parse_declared_read(r.stdout, argv[5], argv[6] != "-", state, host)
        elif argv[:4] == ("sh", "-c", FILE_READ, "keystone-read"):
            state.files.update(parse_read(r.stdout, argv[4:], host))
            state.files_read.update(argv[4:])
        elif argv[:4] == ("sh", "-c", BASE_GATHER, "keystone-base"):
            state.base, state.base_args = parse_base_gather(r.stdout, host), tuple(argv[4:])
        elif argv[:3] == ("sh", "-c", GATHER):
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
    """What a ``Read`` asks the cache for: every account and whole home trees with their delegations,
    and what the host's base declares (so a refresh's first read answers every resource of the host)."""
    return Scope(users=None if users else (), zfs_roots=roots, mount_dirs=mount_dirs, tree_allows=True, declared=True)


def root_file_scope(path: str) -> Scope:
    """A root-owned managed file's ``Read``: the file, every account and what the base declares."""
    return Scope(users=None, root_files=(path,), declared=True)


def base_scope(args: tuple[str, ...]) -> Scope:
    """``host:Base``'s ``Read``: its gather (``args``), every account and what the base declares."""
    return Scope(users=None, base=args, declared=True)



def patched(base: HostState, after: HostState, scope: Scope) -> HostState:
    """``base`` with the parts ``scope`` read replaced by ``after`` (a write's read-back of ``scope``):
    what a provider process knows of a host after writing part of it, without reading the rest again.

    Named users: their passwd, shadow and keys entries (every account when ``users`` is None); the
    group database whenever accounts were read (the script reads it whole).  Named datasets and trees:
    their properties, mount points, owners and existence (a tree: its root and children).  Named
    delegations: those datasets' ``zfs allow``.  The workstation facts when they were read.  Root
    files (by path or by a declared glob), the base gather and the declaration with its home tree:
    the read-back's where it read them, the base's elsewhere (every field of ``HostState`` is carried)."""
    out = dataclasses.replace(
        base, passwd=dict(base.passwd), groups=dict(base.groups), shadow=dict(base.shadow), keys=dict(base.keys),
        datasets=dict(base.datasets), owners=dict(base.owners), allows=AllowState(dict(base.allows.datasets)),
        existing=set(base.existing), roots=dict(base.roots), mountpoints=dict(base.mountpoints),
        files={p: v for p, v in base.files.items() if not after.file_read(p)} | after.files,
        files_read=base.files_read | after.files_read, globs_read=base.globs_read | after.globs_read,
        declared_roots=base.declared_roots | after.declared_roots)
    if after.base is not None:
        out.base, out.base_args = after.base, after.base_args
    if scope.declared:
        out.declaration = after.declaration
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
    roots = (set(scope.zfs_roots) | {after.roots[d] for d in scope.mount_dirs if d in after.roots}
             | after.declared_roots)
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
