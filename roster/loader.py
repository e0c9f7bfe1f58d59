"""Read ``roster.yaml`` into a ``Roster``, reporting every problem at once with file:line:col.

Steps, each collecting issues rather than stopping at the first:

1. bytes -> text: strictly UTF-8 (a leading BOM is tolerated), not empty, at most ``MAX_BYTES``;
2. text -> YAML node tree with PyYAML's ``SafeLoader`` (``_MarkedLoader``), refusing anchors,
   aliases and explicit tags;
3. node tree -> plain data plus the mark of every key and value (``_Walker``), refusing duplicate
   keys (PyYAML would silently keep the last one), non-scalar keys and merge keys (``<<``);
4. data -> ``Roster`` with pydantic (every field error, each mapped back to its line via the marks);
5. cross-entry checks (unique uids, identities, keys, ZeroTier members, addresses), run on the
   raw data so they are reported even when other fields are invalid.

Only when nothing was found is the ``Roster`` returned; otherwise ``RosterError`` lists every issue.
"""
from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Iterable

import yaml
from pydantic import BaseModel, ValidationError
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import Issue, PathElement, RosterError
from .model import MaxPrefixes, Peer, Person, Roster, RosterContext, ZfsProperties, cross_check, show, validation_context

MAX_BYTES = 4 * 1024 * 1024
"""Largest roster file accepted (a roster of thousands of people is well under 1 MiB)."""
MAX_DEPTH = 16
"""Deepest nesting accepted (the format needs 4)."""

_STANDARD_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")
)
_MERGE_TAG = "tag:yaml.org,2002:merge"
_INJECTED = {"people": "username", "peers": "asn"}
"""Fields the file gives as the entry's key; ``Roster`` injects them into each entry."""

Marks = dict[tuple[PathElement, ...], tuple[yaml.Mark | None, yaml.Mark]]
"""Path -> (mark of its key, or None for list items and the root; mark of its value)."""


class _Problems:
    """Collects issues for one file, turning 0-based PyYAML marks into 1-based positions."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.issues: list[Issue] = []

    def add(self, line0: int, col0: int, path: Iterable[PathElement], message: str, hint: str | None = None) -> None:
        self.issues.append(Issue(self.filename, line0 + 1, col0 + 1, tuple(path), message, hint))

    def at(self, mark: yaml.Mark | None, path: Iterable[PathElement], message: str, hint: str | None = None) -> None:
        self.add(mark.line if mark else 0, mark.column if mark else 0, path, message, hint)

    def fail(self) -> None:
        if self.issues:
            raise RosterError(self.issues)


class _MarkedLoader(yaml.SafeLoader):
    """``SafeLoader`` that records anchors, aliases and explicit tags as problems.

    An alias is replaced by an empty scalar, so an alias bomb ("billion laughs") never expands.
    """

    def __init__(self, stream: str, problems: _Problems) -> None:
        super().__init__(stream)
        self.problems = problems

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if self.check_event(AliasEvent):
            event = self.get_event()
            self.problems.at(event.start_mark, (), f"YAML alias *{event.anchor} is not allowed",
                             "write the value out in full: anchors and aliases are not supported")
            return ScalarNode("tag:yaml.org,2002:null", "", event.start_mark, event.end_mark)
        event = self.peek_event()
        if getattr(event, "anchor", None) is not None:
            self.problems.at(event.start_mark, (), f"YAML anchor &{event.anchor} is not allowed",
                             "write each value out in full: anchors and aliases are not supported")
        tag = getattr(event, "tag", None)
        if tag not in (None, "!"):
            self.problems.at(event.start_mark, (), f"YAML tag {show(tag)} is not allowed",
                             "remove the tag; quote the value if it should be a string")
        return super().compose_node(parent, index)


class _Walker:
    """Turns a node tree into plain data, recording marks and structural problems."""

    def __init__(self, loader: _MarkedLoader, problems: _Problems) -> None:
        self.loader, self.problems, self.marks = loader, problems, Marks()

    def value(self, node: Node, path: tuple[PathElement, ...], key_mark: yaml.Mark | None = None) -> Any:
        self.marks[path] = (key_mark, node.start_mark)
        if len(path) > MAX_DEPTH:
            self.problems.at(node.start_mark, path, "the value is nested too deeply")
            return None
        if isinstance(node, MappingNode):
            return self.mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.value(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.scalar(node, path)

    def scalar(self, node: Node, path: tuple[PathElement, ...]) -> Any:
        if node.tag not in _STANDARD_TAGS:
            return node.value  # an explicit tag: already reported
        try:
            return self.loader.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError) as e:
            self.problems.at(node.start_mark, path, f"cannot read {show(node.value)}: {e}", "quote the value")
            return node.value

    def mapping(self, node: MappingNode, path: tuple[PathElement, ...]) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                self.problems.at(key_node.start_mark, path, "YAML merge keys (<<) are not allowed",
                                 "write each entry out in full")
                continue
            if not isinstance(key_node, ScalarNode):
                self.problems.at(key_node.start_mark, path, "a key must be a plain name or number")
                continue
            key = self.scalar(key_node, path)
            name = str(key)  # 213001, "213001" and 0x34009 are one ASN: one key
            if name in first_line:
                self.problems.at(key_node.start_mark, (*path, name),
                                 f"duplicate key {show(key)} (first on line {first_line[name]})",
                                 "PyYAML would silently keep only the last one: remove or rename one")
                continue
            first_line[name] = key_node.start_mark.line + 1
            result[key] = self.value(value_node, (*path, name), key_node.start_mark)
        return result


def _decode(raw: bytes, problems: _Problems) -> str | None:
    if len(raw) > MAX_BYTES:
        problems.add(0, 0, (), f"the file is {len(raw)} bytes, more than {MAX_BYTES}", "is this really a roster?")
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start)
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1)
        problems.add(line, col, (), f"the file is not valid UTF-8 (byte 0x{raw[e.start]:02x})", "save it as UTF-8")
        return None
    return text.removeprefix("\ufeff")


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index)
    return line, index - (text.rfind("\n", 0, index) + 1)


def _read_yaml(text: str, problems: _Problems) -> tuple[Any, Marks] | None:
    """Parse ``text``; None if it cannot be read at all (the reason is in ``problems``)."""
    loader: _MarkedLoader | None = None
    try:
        loader = _MarkedLoader(text, problems)
        node = loader.get_single_node()
        if node is None:
            problems.add(0, 0, (), "the roster is empty", "it needs at least `people: {}`")
            return None
        walker = _Walker(loader, problems)
        return walker.value(node, ()), walker.marks
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problems.at(mark, (), f"YAML syntax error: {e.problem or e.context}",
                    str(e.context) if e.context and e.problem else None)
    except yaml.reader.ReaderError as e:
        problems.add(*_position(text, e.position), (), f"character U+{e.character:04X} is not allowed in YAML"
                     if isinstance(e.character, int) else f"unreadable character: {e.reason}", "remove it")
    except RecursionError:
        problems.add(0, 0, (), "the YAML is nested too deeply")
    finally:
        if loader is not None:
            loader.dispose()
    return None


# --------------------------------------------------------------------------------------------
# Mapping pydantic errors back to the file
# --------------------------------------------------------------------------------------------


def _model_at(path: tuple[PathElement, ...]) -> type[BaseModel] | None:
    """The model that validates the mapping at ``path`` (to list its fields in hints)."""
    shapes: dict[tuple[str, ...], type[BaseModel]] = {
        (): Roster, ("people", "*"): Person, ("people", "*", "zfs"): ZfsProperties,
        ("peers", "*"): Peer, ("peers", "*", "max_prefixes"): MaxPrefixes,
    }
    shape = tuple("*" if i == 1 else str(p) for i, p in enumerate(path))
    return shapes.get(shape)


def _fields_of(path: tuple[PathElement, ...]) -> list[str]:
    model = _model_at(path)
    injected = _INJECTED.get(str(path[0])) if len(path) == 2 else None
    return [f for f in model.model_fields if f != injected] if model else []


def _resolve(loc: tuple[Any, ...], data: Any) -> tuple[tuple[PathElement, ...], tuple[Any, ...]]:
    """Follow ``loc`` through ``data``: (the path that exists in the file, the rest of ``loc``)."""
    path: list[PathElement] = []
    node = data
    for i, element in enumerate(loc):
        if isinstance(node, dict):
            key = next((k for k in node if _same_key(k, element)), _MISSING)
            if key is _MISSING:
                return tuple(path), loc[i:]
            path.append(str(key))
            node = node[key]
        elif isinstance(node, list) and isinstance(element, int) and 0 <= element < len(node):
            path.append(element)
            node = node[element]
        else:
            return tuple(path), loc[i:]
    return tuple(path), ()


_MISSING = object()


def _same_key(key: Any, element: Any) -> bool:
    """Does a pydantic ``loc`` element name this mapping key? (pydantic may turn True into 1.)"""
    return bool(key == element) or str(key) == str(element)


def _describe(error: dict[str, Any], path: tuple[PathElement, ...], rest: tuple[Any, ...]) -> tuple[str, str | None]:
    """Message and hint for one pydantic error."""
    kind, value = error["type"], error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "roster":
        return error["msg"], ctx.get("hint")
    if kind == "missing":
        return f"required field {rest[0]!r} is missing", f"add `{rest[0]}:` to this entry"
    if kind == "extra_forbidden":
        allowed = _fields_of(path[:-1])
        close = difflib.get_close_matches(str(path[-1]), allowed, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"allowed fields: {', '.join(allowed)}"
        return f"unknown field {str(path[-1])!r}", hint
    if kind == "enum":
        return f"unknown value {show(value)}", f"expected {ctx.get('expected')}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping of fields, got {show(value)}", "indent the fields under this key"
    if kind == "list_type":
        return f"expected a list, got {show(value)}", "write a YAML list, e.g. [a, b]"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        hint = "write a whole number without quotes" if isinstance(value, (str, float)) else None
        return f"expected a whole number, got {show(value)}", hint
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {show(value)}", None
    if kind == "too_short":
        return "must not be empty", "list at least one value"
    if kind in ("greater_than", "less_than_equal"):
        bound = f"greater than {ctx.get('gt')}" if kind == "greater_than" else f"at most {ctx.get('le')}"
        return f"must be {bound}, got {show(value)}", None
    if kind == "string_type":
        hint = "put the value in quotes" if isinstance(value, (bool, int, float)) or value is None else None
        return f"expected a string, got {show(value)}", hint
    message = error["msg"].removeprefix("Value error, ")
    if value is not None and not isinstance(value, (dict, list)) and "password_hash" not in path:
        message += f", got {show(value)}"
    return message, None


def _report(errors: Iterable[dict[str, Any]], data: Any, marks: Marks, problems: _Problems) -> None:
    for error in errors:
        loc = tuple(error["loc"])
        path, rest = _resolve(loc, data)
        if rest[:1] == ("[key]",) and isinstance(_at(data, path), dict):
            continue  # an invalid entry key: reported through the injected username/asn field
        if len(path) == 2 and rest[:1] == (_INJECTED.get(str(path[0])),):
            rest = ()  # the injected field is the entry's key
        key_mark, value_mark = marks.get(path, (None, marks[()][1]))
        node = _at(data, path)
        if rest or error["type"] == "extra_forbidden" or isinstance(node, (dict, list)):
            mark = key_mark or value_mark  # missing field / whole entry: the entry's key line
        else:
            mark = value_mark
        shown = path + tuple(r for r in rest if isinstance(r, (str, int)) and "[" not in str(r))
        message, hint = _describe(error, path, rest)
        problems.at(mark, shown, message, hint)


def _at(data: Any, path: tuple[PathElement, ...]) -> Any:
    node = data
    for element in path:
        node = node[next(k for k in node if _same_key(k, element))] if isinstance(node, dict) else node[element]
    return node


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
        decoded = _decode(text, problems)
        if decoded is None:
            problems.fail()
        text = decoded or ""
    elif len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        problems.add(0, 0, (), f"the roster is larger than {MAX_BYTES} bytes")
        problems.fail()
    parsed = _read_yaml(text.removeprefix("\ufeff"), problems)
    if parsed is None:
        problems.fail()
        raise AssertionError("unreachable")  # pragma: no cover
    data, marks = parsed
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
        _report([{"type": "roster", "loc": issue.path, "msg": issue.message,
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
