"""Read ``roster.yaml`` into a ``Roster``, reporting every problem at once with file:line:col.

Steps, each collecting issues rather than stopping at the first:

1. bytes -> text: strictly UTF-8 (a leading BOM is tolerated), not empty, at most ``MAX_BYTES``;
2. text -> plain data plus the position of every key and value (``marked_yaml.read``, strict:
   anchors, aliases, explicit tags and merge keys refused; duplicate keys reported, where PyYAML
   would silently keep the last one);
3. the entry's own key written as a field (``username:``/``asn:``) reported;
4. data -> ``Roster`` with pydantic (every field error, each mapped back to its line via the marks);
5. cross-entry checks (unique uids, identities, keys, ZeroTier members, addresses), run on the
   raw data so they are reported even when other fields are invalid.

Only when nothing was found is the ``Roster`` returned; otherwise ``RosterError`` lists every issue.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any
from collections.abc import Iterable

from pydantic import BaseModel, ValidationError

import marked_issues
import marked_yaml
from marked_yaml import Position

from .context import RosterContext, validation_context
from .cross import cross_check
from .errors import Issue, PathElement, RosterError
from .fields import show
from .model import MaxPrefixes, Peer, Person, Roster, ZfsProperties

MAX_BYTES = 4 * 1024 * 1024
"""Largest roster file accepted (a roster of thousands of people is well under 1 MiB)."""
MAX_DEPTH = 16
"""Deepest nesting accepted (the format needs 4)."""

_INJECTED = {"people": "username", "peers": "asn"}
"""Fields the file gives as the entry's key; ``Roster`` injects them into each entry."""

Marks = dict[tuple[PathElement, ...], tuple[Position | None, Position]]
"""Path -> (position of its key, or None for list items and the root; position of its value)."""


class _Problems:
    """Collects issues for one file (positions are 1-based)."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.issues: list[Issue] = []

    def at(self, pos: Position | None, path: Iterable[PathElement], message: str, hint: str | None = None) -> None:
        line, col = pos or (1, 1)
        self.issues.append(Issue(self.filename, line, col, tuple(path), message, hint))

    def extend(self, problems: Iterable[marked_yaml.Problem]) -> None:
        for p in problems:
            self.at((p.line, p.col), p.path, p.message, p.hint)

    def fail(self) -> None:
        if self.issues:
            raise RosterError(self.issues)


# --------------------------------------------------------------------------------------------
# Mapping pydantic errors back to the file
# --------------------------------------------------------------------------------------------


_MODELS: dict[tuple[str, ...], type[BaseModel]] = {
    (): Roster, ("people", "*"): Person, ("people", "*", "zfs"): ZfsProperties,
    ("peers", "*"): Peer, ("peers", "*", "max_prefixes"): MaxPrefixes,
}
"""The model that validates the mapping at each path (an entry's key as ``*``), to list its fields in hints."""


def _fields_of(path: tuple[PathElement, ...]) -> list[str]:
    model = _MODELS.get(tuple("*" if i == 1 else str(p) for i, p in enumerate(path)))
    injected = _INJECTED.get(str(path[0])) if len(path) == 2 else None
    return [f for f in model.model_fields if f != injected] if model else []


def _whole_hint(value: Any) -> str | None:
    return "write a whole number without quotes" if isinstance(value, (str, float)) else None


def _string_hint(value: Any) -> str | None:
    return "put the value in quotes" if isinstance(value, (bool, int, float)) or value is None else None


WORDING = marked_issues.Wording(
    show=show,
    missing=("required field {name!r} is missing", "add `{name}:` to this entry"),
    unknown=("unknown field {name!r}", "allowed fields: {names}"),
    mapping=("expected a mapping of fields, got {value}", "indent the fields under this key"),
    list=("expected a list, got {value}", "write a YAML list, e.g. [a, b]"),
    bounds={"greater_than": "greater than {gt}", "less_than_equal": "at most {le}"},
    whole_hint=_whole_hint,
    string_hint=_string_hint,
    special={
        "enum": lambda e, show: (f"unknown value {show(e.get('input'))}", f"expected {(e.get('ctx') or {}).get('expected')}"),
        "too_short": lambda e, show: ("must not be empty", "list at least one value"),
    },
    got_in_default=lambda path, value: "password_hash" not in path,
)
"""How the roster words pydantic's errors."""


def _describe(error: dict[str, Any], path: tuple[PathElement, ...], rest: tuple[Any, ...]) -> tuple[str, str | None]:
    """Message and hint for one pydantic error."""
    if error["type"] == "extra_forbidden":
        return marked_issues.describe(error, path, path[-1], _fields_of(path[:-1]), WORDING)
    return marked_issues.describe(error, path, rest[0] if rest else None, [], WORDING)


def _report(errors: Iterable[Any], data: Any, marks: Marks, problems: _Problems) -> None:
    for error in errors:
        loc = tuple(error["loc"])
        path, rest = marked_issues.resolve(loc, data)
        if rest[:1] == ("[key]",) and isinstance(marked_issues.value_at(data, path), dict):
            continue  # an invalid entry key: reported through the injected username/asn field
        if len(path) == 2 and rest[:1] == (_INJECTED.get(str(path[0])),):
            rest = ()  # the injected field is the entry's key
        key_mark, value_mark = marks.get(path, (None, marks[()][1]))
        node = marked_issues.value_at(data, path)
        if rest or error["type"] == "extra_forbidden" or isinstance(node, (dict, list)):
            mark = key_mark or value_mark  # missing field / whole entry: the entry's key line
        else:
            mark = value_mark
        shown = path + tuple(r for r in rest if isinstance(r, (str, int)) and "[" not in str(r))
        message, hint = _describe(error, path, rest)
        problems.at(mark, shown, message, hint)


def _strip_explicit_keys(data: dict[Any, Any], marks: Marks, problems: _Problems) -> None:
    """Report and drop ``username:``/``asn:`` written inside an entry (the entry's key is that)."""
    for section, field in _INJECTED.items():
        entries = data.get(section)
        if not isinstance(entries, dict):
            continue
        for key, entry in entries.items():
            if isinstance(entry, dict) and field in entry:
                path = (section, str(key), field)
                problems.at(marks[path][0], path, f"{field!r} is not a field: the entry's key is the {field}",
                            f"remove the `{field}:` line")
                del entry[field]


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------


def parse_roster_text(
    text: str | bytes, ctx: RosterContext | None = None, filename: str = "roster.yaml"
) -> Roster:
    """Validate roster YAML given as text (or raw bytes); ``filename`` names it in issues.

    Returns the ``Roster`` or raises ``RosterError`` listing every problem.
    """
    problems = _Problems(filename)
    if isinstance(text, bytes):
        decoded, problem = marked_yaml.decode(text, MAX_BYTES)
        if problem:
            problems.extend([problem])
            problems.fail()
        text = decoded or ""
    elif len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        problems.at(None, (), f"the roster is larger than {MAX_BYTES} bytes")
        problems.fail()
    doc = marked_yaml.read(
        text, strict=True, max_depth=MAX_DEPTH,
        duplicate_hint="PyYAML would silently keep only the last one: remove or rename one")
    problems.extend(doc.problems)
    if doc.empty:
        problems.at(None, (), "the roster is empty", "it needs at least `people: {}`")
    if doc.data is None and (doc.empty or problems.issues):
        problems.fail()
    data, marks = doc.data, doc.marks
    if not isinstance(data, dict):
        problems.at(marks[()][1], (), f"the roster must be a mapping with `people:` and `peers:`, got {show(data)}",
                    "start the file with `people:`")
        problems.fail()
    _strip_explicit_keys(data, marks, problems)
    ctx = ctx or RosterContext()
    roster: Roster | None = None
    try:
        roster = Roster.model_validate(data, context=validation_context(ctx, cross_checks=False))
    except ValidationError as e:
        _report(e.errors(include_url=False), data, marks, problems)
    for issue in cross_check(data.get("people"), data.get("peers"), ctx):
        _report([{"type": marked_issues.ERROR_TYPE, "loc": issue.path, "msg": issue.message,
                  "ctx": {"hint": issue.hint} if issue.hint else None}], data, marks, problems)
    problems.fail()
    assert roster is not None
    return roster


def load_roster(path: str | Path, ctx: RosterContext | None = None) -> Roster:
    """Load and validate the roster file at ``path`` for a stack described by ``ctx``.

    Returns the ``Roster`` or raises ``RosterError`` listing every problem with file:line:col.
    """
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise RosterError([Issue(name, 1, 1, (), f"cannot read the roster: {e.strerror or e}")]) from None
    return parse_roster_text(raw, ctx, filename=name)


def locate(path: str | Path, fields: Iterable[tuple[PathElement, ...]]) -> dict[tuple[PathElement, ...], str]:
    """``file:line:col`` of each field of a roster already loaded (for problems found after loading, such
    as an Authentik user that does not exist); a field the file leaves to its default is located at
    its nearest parent that is written."""
    text = Path(path).read_text(encoding="utf-8")
    doc = marked_yaml.read(text, strict=False, max_depth=MAX_DEPTH)
    out = {}
    for f in fields:
        line, col = doc.position(f, key=True)
        out[f] = f"{path}:{line}:{col}"
    return out
