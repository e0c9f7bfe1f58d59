"""The root-owned files' facet of a host's state (pure: nothing here runs a command): the paths it
reads (``FilesScope``), what part of the state it is (``FilesState``: the files read, by path, and
which paths and globs the read answers), the command it adds to the host's one read (``read.sh`` as root: a ``stat`` and a
``sha256sum`` per file) and the parser of its answer.  ``providers.hoststate`` composes it with the
other facets; the host base's declared read fills it too (``providers.hostbase.facet``)."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from providers.host import Command
from providers.hostfile.plan import READ, PathState, parse_read


def glob_matches(pattern: str, path: str) -> bool:
    """Whether the shell expands ``pattern`` to ``path``, for patterns like the budget drop-ins'
    (``providers.hostbase.declaration.GLOB``): ``*`` within one name (never a ``/``), not at a name's
    start (where the shell would also skip dot files)."""
    return re.fullmatch("[^/\n]*".join(re.escape(p) for p in pattern.split("*")), path) is not None


@dataclass
class FilesState:
    files: dict[str, PathState] = field(default_factory=dict)  # root-owned files read, by path
    files_read: set[str] = field(default_factory=set)  # the paths asked for (absent ones included)
    globs_read: set[str] = field(default_factory=set)  # patterns whose every match was read

    def file_read(self, path: str) -> bool:
        """Whether this read answers ``path`` (absent when it is not in ``files``)."""
        return path in self.files_read or any(glob_matches(g, path) for g in self.globs_read)


@dataclass(frozen=True)
class FilesScope:
    root_files: tuple[str, ...] = ()  # root-owned files, by path


def covers(want: FilesScope, state: FilesState) -> bool:
    """Whether ``state`` answers every path ``want`` names (read by path, or by a glob that matches it)."""
    return all(state.file_read(p) for p in want.root_files)


def union(a: FilesScope, b: FilesScope) -> FilesScope:
    return FilesScope(tuple(sorted(set(a.root_files) | set(b.root_files))))


def read_command(paths: Iterable[str]) -> Command:
    """``read.sh`` as root of several paths (root-owned files)."""
    return Command.of("sh", "-c", READ, "keystone-read", *paths, check=False)


def answers(argv: tuple[str, ...]) -> bool:
    """Whether a command of the round trip is this facet's read."""
    return argv[:4] == ("sh", "-c", READ, "keystone-read")


def parse(text: str, paths: tuple[str, ...], state: FilesState, host: str | None = None) -> None:
    """The read of ``paths`` into ``state`` (each recorded as read, absent ones included)."""
    state.files.update(parse_read(text, paths, host))
    state.files_read.update(paths)
