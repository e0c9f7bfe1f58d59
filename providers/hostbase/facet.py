"""The host base's facet of a host's state (pure: nothing here runs a command): what it reads
(``BaseScope``: the base gather's arguments, the declaration), what part of the state it is
(``BaseState``: the base gather's facts and arguments, the declaration and its home tree), the
commands it adds to the host's one read and the parsers of their answers.  ``providers.hoststate``
composes it with the other facets.

* the base gather (``gather.sh``) with its arguments (kubelogin, the backup timer, the home and backup
  parents, the packages);
* the declared reads (``declared.sh``, ``providers/hostbase/declaration.py``): one ``sh`` reading the
  declaration with builtins, then the ZFS read of the home tree (when no other command of the round
  trip reads ZFS: ``providers.zfs.facet``), one file read of the declared files and the budget
  drop-ins by their glob (``providers.hostfile.facet``) and the base gather.  Its answer fills those
  facets' parts of the state too.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from providers.host import Command
from providers.hostbase import declaration
from providers.hostbase.facts import GATHER, BaseFacts, parse_gather
from providers.hostfile import facet as files_facet
from providers.hostfile.plan import READ as FILE_READ
from providers.output import quote
from providers.zfs import facet as zfs_facet


@dataclass
class BaseState:
    base: BaseFacts | None = None  # the base gather's facts
    base_args: tuple[str, ...] | None = None  # the arguments they were gathered with
    declared_roots: set[str] = field(default_factory=set)  # the declared home tree, read with its delegations
    declaration: declaration.Declaration | None = None  # the host's base declaration, when read


@dataclass(frozen=True)
class BaseScope:
    """What of the base is read:

    * ``base``: the base gather's arguments (``gather.sh``; None: not read);
    * ``declared``: what the host's base declaration names (``declaration.py``): the home tree with
      its delegations, every root-owned managed file of the host, the budget drop-ins by their glob
      and the base gather — so whichever ``Read`` of a refresh comes first, its gather answers the
      others."""

    base: tuple[str, ...] | None = None
    declared: bool = False


def covers(have: BaseScope, want: BaseScope, state: BaseState) -> bool:
    """Whether what ``have`` read (into ``state``) answers ``want``."""
    if want.declared and not have.declared:
        return False
    return want.base is None or gather_covers(state.base_args, want.base)


def union(a: BaseScope, b: BaseScope) -> BaseScope:
    return BaseScope(merge_gathers(a.base, b.base), a.declared or b.declared)


def gather_command(args: tuple[str, ...]) -> Command:
    """The base gather with ``args`` (``Declaration.gather_args``)."""
    return Command.of("sh", "-c", GATHER, "keystone-base", *args, check=False)


def gather_covers(have: tuple[str, ...] | None, want: tuple[str, ...]) -> bool:
    """A base gather read with ``have`` answers one asked with ``want``: the same kubelogin, timer and
    parents, and every package asked for looked at."""
    return have is not None and have[:4] == want[:4] and set(want[4:]) <= set(have[4:])


def merge_gathers(a: tuple[str, ...] | None, b: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """One gather's arguments for two wants (one base per host: the newer, ``b``, unless they agree)."""
    if a is None or b is None or a[:4] != b[:4]:
        return b if b is not None else a  # one base per host: the newer want
    return a[:4] + tuple(dict.fromkeys(a[4:] + b[4:]))


def declared_command(reads_zfs: bool) -> Command:
    """The declared reads; the home tree is read here unless another command of the round trip reads
    ZFS (``reads_zfs``)."""
    return declaration.declared_command(None if reads_zfs else zfs_facet.READ, FILE_READ, GATHER)


def answers_declared(argv: tuple[str, ...]) -> bool:
    return argv[:3] == ("sh", "-c", declaration.DECLARED)


def answers_gather(argv: tuple[str, ...]) -> bool:
    return argv[:4] == ("sh", "-c", GATHER, "keystone-base")


def parse_gather_result(argv: tuple[str, ...], text: str, state: BaseState, host: str | None = None) -> None:
    """The base gather's answer (``answers_gather(argv)``) into ``state``, with the arguments it was read with."""
    state.base, state.base_args = parse_gather(text, host), tuple(argv[4:])


def parse_declared(argv: tuple[str, ...], text: str, state: BaseState, zfs: zfs_facet.ZfsState,
                   files: files_facet.FilesState, host: str | None = None) -> None:
    """``declared.sh``'s parts (``answers_declared(argv)``) into the base's, ZFS's and files' parts of
    the state: what the declaration named is recorded as read (so the resources it answers are served
    from it); a cut or garbled answer raises naming ``host``."""
    glob, zfs_asked = argv[5], argv[6] != "-"
    parts = declaration.split_parts(text, host)
    decl = state.declaration = declaration.parse_declaration(parts["declaration"], host)
    if decl is not None and decl.tree and zfs_asked:
        zfs_facet.parse(parts["zfs"], zfs, host)
        state.declared_roots.add(decl.tree)
    elif parts["zfs"]:
        raise declaration.DeclarationError(f"a ZFS read nobody asked for: {quote(parts['zfs'])}", host)
    paths = decl.files if decl is not None else ()
    files_facet.parse(parts["files"], paths, files, host)
    files.globs_read.add(glob)
    if decl is not None:
        state.base, state.base_args = parse_gather(parts["base"], host), decl.gather_args()
    elif parts["base"]:
        raise declaration.DeclarationError(f"a base gather without a declaration: {quote(parts['base'])}", host)
