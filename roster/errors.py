"""How the roster reports problems: one ``Issue`` per problem (``marked_issues.Issue``, the type the
stack settings use too), all of them in one ``RosterError``.

Every issue names the file, the 1-based line and column, the field path inside the file and an
actionable message (with an optional hint).  ``str(RosterError)`` lists every issue, one per line,
in the compiler-style form editors and CI annotators understand::

    roster/roster.yaml:12:10: people.alice.uid: uid 0 is root (use a uid >= 1000)
"""
from __future__ import annotations

from collections.abc import Iterable

from marked_issues import Issue, PathElement, dotted

__all__ = ["Issue", "PathElement", "RosterError", "dotted"]


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
