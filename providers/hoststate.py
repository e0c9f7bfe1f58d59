"""A host's state as Keystone sees it, read in ONE round trip (pure: nothing here runs a command).

Each area owns its facet of the state — the part of ``HostState`` it fills, the command it adds to the
round trip and the parser of its answer: ``providers/accounts/facet.py`` (every account or those named),
``providers/zfs/facet.py`` (datasets, trees, mount points, delegations), ``providers/workstation/facet.py``
(the workstation gather), ``providers/hostfile/facet.py`` (root-owned files) and
``providers/hostbase/facet.py`` (the base gather and the declared reads).  This module only composes
them: ``Scope`` (what to read, and whether one read answers another), ``HostState`` (the facets'
parts in one object), ``read_commands(scope)`` (the round trip's commands, in a fixed order),
``parse_host_state`` (each answer to its facet's parser) and ``patched`` (a write's read-back laid over
a cached read).  The facets import nothing of it.

The scope is either narrow (one user / named datasets: what the slow paths of ``create`` and
``update`` need) or whole (every account, a home tree, and what the host's base declaration names —
its root-owned files, the budget drop-ins, the base gather: what ``pulumi refresh`` needs,
``providers/hostbase/declaration.py``).  Running the read, and sharing it between the ``Read`` calls
of a provider process, is ``providers.hostcache``'s job.

The reads cost the host as few processes as they can, because under emulation a process is the
unit of cost (≈30–60 ms for ``getent``/``stat``, ≈120–150 ms for ``zfs``): each facet's docstring
says how its read keeps to that.
"""
from __future__ import annotations

import dataclasses
import posixpath
from dataclasses import dataclass

from providers.accounts import facet as accounts_facet
from providers.host import Command, Result
from providers.hostbase import facet as base_facet
from providers.hostfile import facet as files_facet
from providers.workstation import facet as workstation_facet
from providers.zfs import facet as zfs_facet
from providers.zfs.facts import AllowState


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
        if other.base is not None and not base_facet.gather_covers(state.base_args, other.base):
            return False
        return all(a in self.allows or (self.tree_allows and posixpath.dirname(a) in have_roots) for a in other.allows)

    def union(self, other: Scope) -> Scope:
        def merge(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(sorted(set(a) | set(b)))

        users = None if self.users is None or other.users is None else merge(self.users, other.users)
        return Scope(users, merge(self.datasets, other.datasets), merge(self.zfs_roots, other.zfs_roots),
                     merge(self.mount_dirs, other.mount_dirs), merge(self.allows, other.allows),
                     self.tree_allows or other.tree_allows, self.workstation or other.workstation,
                     merge(self.root_files, other.root_files), base_facet.merge_gathers(self.base, other.base),
                     self.declared or other.declared)


@dataclass
class HostState(accounts_facet.AccountsState, zfs_facet.ZfsState, workstation_facet.WorkstationState,
                files_facet.FilesState, base_facet.BaseState):
    """Every facet's part of a host's state in one object (each field is one facet's: see its module)."""


def read_commands(scope: Scope) -> list[Command]:
    """The round trip's reads of ``scope``, in this order: the declared reads, root files, the base
    gather, the workstation gather, accounts, ZFS."""
    zfs_reads = zfs_facet.read_commands(scope.datasets, scope.zfs_roots, scope.mount_dirs, scope.allows, scope.tree_allows)
    cmds: list[Command] = []
    if scope.declared:  # the declared home tree is read there unless the scope reads ZFS itself
        cmds.append(base_facet.declared_command(reads_zfs=bool(zfs_reads)))
    if scope.root_files:
        cmds.append(files_facet.read_command(scope.root_files))
    if scope.base is not None:
        cmds.append(base_facet.gather_command(scope.base))
    if scope.workstation:
        cmds.append(workstation_facet.read_command())
    accounts_read = accounts_facet.read_command(scope.users)
    if accounts_read is not None:
        cmds.append(accounts_read)
    return cmds + zfs_reads


def parse_host_state(results: list[Result], host: str | None = None) -> HostState:
    """The reads' outputs into one ``HostState``, each by its facet's parser; unexpected output raises
    the parser's error naming ``host``.  What was asked by name (root files, the base gather) overrides
    what the declaration gave."""
    state = HostState()
    for r in sorted(results, key=lambda r: not base_facet.answers_declared(r.command.argv)):
        argv = r.command.argv
        if base_facet.answers_declared(argv):
            base_facet.parse_declared(argv, r.stdout, state, state, state, host)
        elif files_facet.answers(argv):
            files_facet.parse(r.stdout, argv[4:], state, host)
        elif base_facet.answers_gather(argv):
            base_facet.parse_gather_result(argv, r.stdout, state, host)
        elif workstation_facet.answers(argv):
            workstation_facet.parse(r.stdout, state)
        elif accounts_facet.answers(argv):
            accounts_facet.parse(r.stdout, state, host)
        elif zfs_facet.answers(argv):
            zfs_facet.parse_result(argv, r.stdout, state, host)
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
