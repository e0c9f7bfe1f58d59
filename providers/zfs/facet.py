"""The ZFS facet of a host's state (pure: nothing here runs a command): what it reads (``ZfsScope``),
what part of the state it is (``ZfsState``), the commands it adds to the host's one read and the parser of their answers.
``providers.hoststate`` composes it with the other facets.

The read is one ``sh`` (``read.sh``) running one ``zfs get`` for named datasets and one ``zfs get -d 1``
for the trees (each tree is a parent and its children: a person's own datasets below their home are
not read), mount points from ``/proc/self/mounts`` (builtins) and one ``stat`` for all of them, and
one ``zfs allow`` per dataset whose delegations are asked for (it takes one dataset per process);
a read of delegations alone is ``zfs allow`` itself, with no shell around it.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from providers.host import Command
from providers.output import quote
from providers.scripts import script
from providers.zfs.facts import READ_PROPERTIES, AllowState, DatasetState, ParseError, parse_zfs_allow, parse_zfs_get

READ = script(__file__, "read.sh")  # named datasets, trees, mounts, owners, delegations


def script_properties(text: str) -> tuple[str, ...]:
    """The properties a ZFS read script asks ``zfs get`` for (its own ``props=`` line)."""
    m = re.search(r"^props=([a-z,]+)$", text, re.M)
    if m is None:
        raise RuntimeError("providers/zfs/read.sh: no props= line")
    return tuple(m.group(1).split(","))


if script_properties(READ) != READ_PROPERTIES:  # the parser reads what the script asks for, no more, no less
    raise RuntimeError(f"providers/zfs/read.sh reads {script_properties(READ)}, the parser expects {READ_PROPERTIES}")


@dataclass
class ZfsState:
    """The datasets read: their properties, the owners of their mount points, their delegations."""

    datasets: dict[str, DatasetState] = field(default_factory=dict)
    owners: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    allows: AllowState = field(default_factory=AllowState)
    existing: set[str] = field(default_factory=set)  # dataset names (of any type) found
    roots: dict[str, str] = field(default_factory=dict)  # mount dir -> dataset mounted there (mount_dirs)
    mountpoints: dict[str, str] = field(default_factory=dict)  # dataset -> where it is mounted


@dataclass(frozen=True)
class ZfsScope:
    """What of ZFS is read:

    * ``datasets``: named datasets (existence, properties, mountpoint owner);
    * ``zfs_roots``: whole trees, each a dataset and its children;
    * ``mount_dirs``: the tree of the dataset mounted on each directory (found on the host, so an
      account's ``Read`` can ask for its home's tree without knowing the dataset's name);
    * ``allows``: ``zfs allow`` of named datasets; ``tree_allows``: of every child of the trees."""

    datasets: tuple[str, ...] = ()
    zfs_roots: tuple[str, ...] = ()
    mount_dirs: tuple[str, ...] = ()
    allows: tuple[str, ...] = ()
    tree_allows: bool = False


def covers(have: ZfsScope, want: ZfsScope, state: ZfsState, declared_roots: set[str]) -> bool:
    """Whether what ``have`` read (into ``state``) answers ``want``; ``declared_roots``: the trees read
    with their delegations by another facet's read (the declared home tree)."""
    have_roots = set(have.zfs_roots) | {state.roots[d] for d in have.mount_dirs if d in state.roots} | declared_roots
    mounted_at = {mp: ds for ds, mp in state.mountpoints.items()}
    if not all(d in have.mount_dirs or mounted_at.get(d) in have_roots for d in want.mount_dirs):
        return False
    if not set(want.zfs_roots) <= have_roots:
        return False
    if not all(d in have.datasets or posixpath.dirname(d) in have_roots or d in have_roots for d in want.datasets):
        return False
    if want.tree_allows and not (have.tree_allows or declared_roots):
        return False
    return all(a in have.allows or (have.tree_allows and posixpath.dirname(a) in have_roots) for a in want.allows)


def union(a: ZfsScope, b: ZfsScope) -> ZfsScope:
    def merge(x: tuple[str, ...], y: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(set(x) | set(y)))

    return ZfsScope(merge(a.datasets, b.datasets), merge(a.zfs_roots, b.zfs_roots), merge(a.mount_dirs, b.mount_dirs),
                    merge(a.allows, b.allows), a.tree_allows or b.tree_allows)


def read_commands(scope: ZfsScope) -> list[Command]:
    """The read of ``scope``; empty when it asks for nothing."""
    if scope.allows and not (scope.datasets or scope.zfs_roots or scope.mount_dirs or scope.tree_allows):
        # delegations only (a delegation's read-back): `zfs allow` itself, no shell around it
        return [Command.of("zfs", "allow", name, check=False) for name in scope.allows]
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
    return [Command.of("sh", "-c", READ, "keystone-zfs", *args, check=False)] if args else []


def answers(argv: tuple[str, ...]) -> bool:
    """Whether a command of the round trip is one of this facet's reads."""
    return argv[:3] == ("sh", "-c", READ) or (argv[:2] == ("zfs", "allow") and len(argv) == 3)


def parse_result(argv: tuple[str, ...], text: str, state: ZfsState, host: str | None = None) -> None:
    """One of this facet's reads (``answers(argv)``) into ``state``."""
    if argv[:2] == ("zfs", "allow"):
        for name, grants in parse_zfs_allow(text, host).datasets.items():
            state.allows.datasets.setdefault(name, {}).update(grants)
    else:
        parse(text, state, host)


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


def parse(text: str, state: ZfsState, host: str | None = None) -> None:
    """``read.sh``'s sections into ``state`` (``ParseError`` naming ``host`` on unexpected output)."""
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
                raise ParseError("stat", f"expected uid:gid:mode, got {quote(line)}", host)
            owner_of_path[path] = (int(uid), int(gid), mode)
    state.mountpoints = mounts
    state.owners = {ds: owner_of_path[mp] for ds, mp in mounts.items() if mp in owner_of_path}
    state.allows = parse_zfs_allow("\n".join(s.get("@@allow", [])), host)
