"""A host's state as Keystone sees it, read in ONE round trip (pure: nothing here runs a command).

Each area owns its facet of the host's state — the part of ``Scope`` it reads (and when one read of
it answers another), the part of ``HostState`` it fills, the command it adds to the round trip and the
parser of its answer: ``providers/accounts/facet.py`` (every account or those named),
``providers/zfs/facet.py`` (datasets, trees, mount points, delegations),
``providers/workstation/facet.py`` (the workstation gather), ``providers/hostfile/facet.py``
(root-owned files) and ``providers/hostbase/facet.py`` (the base gather and the declared reads).
This module only composes them: ``Scope`` and ``HostState`` (the facets' parts in one object each),
``read_commands(scope)`` (the round trip's commands, in a fixed order), ``parse_host_state`` (each
answer to its facet's parser) and ``patched`` (a write's read-back laid over a cached read).  The
facets import nothing of it, and neither do the plans (each takes its own facet's part of the state).

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
from typing import Any

from providers.accounts import facet as accounts_facet
from providers.host import Command, Result
from providers.hostbase import facet as base_facet
from providers.hostfile import facet as files_facet
from providers.workstation import facet as workstation_facet
from providers.zfs import facet as zfs_facet
from providers.zfs.facts import AllowState


def _fields(part: Any) -> dict[str, Any]:
    """A facet's part of the scope as keywords of ``Scope``."""
    return {f.name: getattr(part, f.name) for f in dataclasses.fields(part)}


@dataclass(frozen=True)
class Scope(accounts_facet.AccountsScope, zfs_facet.ZfsScope, workstation_facet.WorkstationScope,
            files_facet.FilesScope, base_facet.BaseScope):
    """What to read: every facet's part of the scope in one (each field is one facet's: see its
    module).  Built with keywords: ``Scope(users=None, zfs_roots=(...), declared=True)``."""

    def covers(self, other: Scope, state: HostState) -> bool:
        """Whether what this scope read (into ``state``) answers ``other``."""
        return (accounts_facet.covers(self, other) and zfs_facet.covers(self, other, state, state.declared_roots)
                and workstation_facet.covers(self, other) and files_facet.covers(other, state)
                and base_facet.covers(self, other, state))

    def union(self, other: Scope) -> Scope:
        return Scope(**_fields(accounts_facet.union(self, other)), **_fields(zfs_facet.union(self, other)),
                     **_fields(workstation_facet.union(self, other)), **_fields(files_facet.union(self, other)),
                     **_fields(base_facet.union(self, other)))


@dataclass
class HostState(accounts_facet.AccountsState, zfs_facet.ZfsState, workstation_facet.WorkstationState,
                files_facet.FilesState, base_facet.BaseState):
    """Every facet's part of a host's state in one object (each field is one facet's: see its module)."""


def read_commands(scope: Scope) -> list[Command]:
    """The round trip's reads of ``scope``, in this order: the declared reads, root files, the base
    gather, the workstation gather, accounts, ZFS."""
    zfs_reads = zfs_facet.read_commands(scope)
    cmds: list[Command] = []
    if scope.declared:  # the declared home tree is read there unless the scope reads ZFS itself
        cmds.append(base_facet.declared_command(reads_zfs=bool(zfs_reads)))
    if scope.root_files:
        cmds.append(files_facet.read_command(scope.root_files))
    if scope.base is not None:
        cmds.append(base_facet.gather_command(scope.base))
    if scope.workstation:
        cmds.append(workstation_facet.read_command())
    accounts_read = accounts_facet.read_command(scope)
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
