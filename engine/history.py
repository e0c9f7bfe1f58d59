"""Update numbers from ``pulumi stack history --json`` (pure).

A cloud backend numbers its updates (``version``: 1, 2, …).  A DIY backend (``file://``, ``s3://``,
``postgres://`` …) writes one history file per update and leaves ``version`` at 0 in every entry; the
CLI lists them newest first.  Keystone numbers an update by its place in the history, oldest = 1,
wherever the backend gives no numbers of its own — the number ``python -m engine`` hands the
providers for the hosts' journal (``KEYSTONE_UPDATE``) and the people report's "last change".
"""
from __future__ import annotations

from typing import Any

# ``pulumi stack history`` lists the newest 10 updates unless told otherwise; 0 lists them all (both
# the cloud and the DIY backends read 0 as "no paging").  Numbering by place needs every entry.
WHOLE = ("--page-size", "0")
NEWEST = ("--page-size", "1")


def numbered(entries: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """(number, entry), oldest first.  ``entries``: the whole history, as the CLI lists it (newest first;
    ``pulumi stack history --json --page-size 0``: ``WHOLE``)."""
    versions = [e.get("version") for e in entries]
    if entries and all(isinstance(v, int) and v > 0 for v in versions) and len(set(versions)) == len(versions):
        return sorted(((int(e["version"]), e) for e in entries), key=lambda pair: pair[0])
    return list(enumerate(reversed(entries), start=1))


def backend_numbers(newest: list[dict[str, Any]]) -> int | None:
    """The newest update's own number, from a one-entry page of the history; None when the backend
    does not number updates (then the whole history must be counted)."""
    v = newest[0].get("version") if newest and isinstance(newest[0], dict) else None
    return v if isinstance(v, int) and v > 0 else None
