"""How the roster reports problems: one ``Issue`` per problem, all of them in one ``RosterError``.

Every issue names the file, the 1-based line and column, the field path inside the file and an
actionable message (with an optional hint).  ``str(RosterError)`` lists every issue, one per line,
in the compiler-style form editors and CI annotators understand::

    roster/roster.yaml:12:10: people.alice.uid: uid 0 is root (use a uid >= 1000)
"""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Iterable

PathElement = str | int
"""A mapping key (always a string, ASNs included) or a list index (an int)."""


def dotted(path: Iterable[PathElement]) -> str:
    """Render a field path: mapping keys joined by dots, list indices in brackets.

    >>> dotted(("people", "alice", "groups", 1))
    'people.alice.groups[1]'
    """
    out = ""
    for element in path:
        if isinstance(element, int):
            out += f"[{element}]"
        else:
            out += f".{element}" if out else element
    return out


@dataclass(frozen=True, order=True)
class Issue:
    """One problem in a roster file."""

    file: str
    """The file as it was named to the loader (e.g. ``roster/roster.yaml``)."""
    line: int
    """1-based line of the offending key or value (the entry's key line for a missing field)."""
    col: int
    """1-based column."""
    path: tuple[PathElement, ...]
    """Field path inside the file, e.g. ``("people", "alice", "ssh_keys", 0)``; ``()`` for the file."""
    message: str
    """What is wrong.  Never contains a secret (password hashes are not echoed)."""
    hint: str | None = None
    """How to fix it, when there is something useful to say."""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}: "
        what = f"{dotted(self.path)}: " if self.path else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}{what}{self.message}{hint}"


class RosterError(Exception):
    """The roster is invalid.  ``issues`` holds every problem found, sorted by position."""

    def __init__(self, issues: Iterable[Issue]) -> None:
        unique = sorted(set(issues), key=lambda i: (i.file, i.line, i.col, dotted(i.path), i.message))
        if not unique:
            raise ValueError("RosterError needs at least one issue")
        self.issues: list[Issue] = unique
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(issue) for issue in self.issues)
