"""YAML read into plain data plus the position of every key and value: the one reader of
Keystone's files (the roster and the stack settings).

``read(text)`` returns a ``Document``: the data, the marks (``path -> (key position or None,
value position)``, positions 1-based) and the problems found, all of them rather than the first:

* duplicate keys are problems (PyYAML would silently keep the last one; Pulumi's own reader
  refuses them).  Keys are compared by their string form, so ``213001``, ``'213001'`` and
  ``0x34009`` are one key;
* a key that is not a scalar, a scalar that cannot be constructed (``2026-13-45`` as a
  timestamp), nesting deeper than ``max_depth`` and YAML syntax errors are problems at their line;
* ``strict=True`` (the roster) also refuses anchors, aliases, explicit tags and merge keys
  (``<<``): an alias is replaced by null, so an alias bomb never expands.  ``strict=False`` (the
  stack file, which Pulumi reads with the full YAML language) follows aliases and merge keys —
  once the document is known to expand to at most ``MAX_VALUES`` values: the expanded size is
  counted on the composed node graph (each shared node once, so counting takes time linear in the
  text), and a "billion laughs" file — or an alias inside the value it stands for (``&a [*a]``),
  which expands without end — is a problem at the alias that expands most, before anything is
  expanded.

Pure: no file access, nothing but PyYAML.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from validators import show

Path = tuple[str | int, ...]
"""Mapping keys (as strings) and list indices from the document's root."""
Position = tuple[int, int]
"""1-based (line, column)."""

_STANDARD_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")
)
_MERGE_TAG = "tag:yaml.org,2002:merge"
MAX_VALUES = 100_000
"""The most values (scalars, lists, mappings) a document may expand to through its aliases."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the YAML itself, at a 1-based position."""

    line: int
    col: int
    path: Path
    message: str
    hint: str | None = None


@dataclass
class Document:
    """What ``read`` found.  ``data`` is None when the text cannot be read at all, or is empty."""

    data: Any = None
    marks: dict[Path, tuple[Position | None, Position]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    empty: bool = False
    """The text holds no document (only comments or whitespace)."""

    def position(self, path: Path, *, key: bool = False) -> Position:
        """Where the value at ``path`` (or at its nearest ancestor present in the file) starts; with
        ``key``, where its key is (the value's position for list items and the root)."""
        while path and path not in self.marks:
            path = path[:-1]
        key_pos, value_pos = self.marks.get(path, (None, (1, 1)))
        return (key and key_pos) or value_pos


def _pos(mark: yaml.Mark | None) -> Position:
    return (mark.line + 1, mark.column + 1) if mark else (1, 1)


class _Loader(yaml.SafeLoader):
    """``SafeLoader`` that, when strict, records anchors, aliases and explicit tags as problems."""

    def __init__(self, stream: str, doc: Document, strict: bool) -> None:
        super().__init__(stream)
        self.doc, self.strict = doc, strict
        self.aliases: list[tuple[yaml.Mark, Node]] = []
        """Where each alias is, and the node it stands for (full mode)."""

    def problem(self, mark: yaml.Mark | None, path: Path, message: str, hint: str | None = None) -> None:
        self.doc.problems.append(Problem(*_pos(mark), path, message, hint))

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if not self.strict:
            mark = self.peek_event().start_mark if self.check_event(AliasEvent) else None
            node = super().compose_node(parent, index)
            if mark is not None and node is not None:
                self.aliases.append((mark, node))
            return node
        if self.check_event(AliasEvent):
            event = self.get_event()
            self.problem(event.start_mark, (), f"YAML alias *{event.anchor} is not allowed",
                         "write the value out in full: anchors and aliases are not supported")
            return ScalarNode("tag:yaml.org,2002:null", "", event.start_mark, event.end_mark)
        event = self.peek_event()
        if getattr(event, "anchor", None) is not None:
            self.problem(event.start_mark, (), f"YAML anchor &{event.anchor} is not allowed",
                         "write each value out in full: anchors and aliases are not supported")
        tag = getattr(event, "tag", None)
        if tag not in (None, "!"):
            self.problem(event.start_mark, (), f"YAML tag {show(tag)} is not allowed",
                         "remove the tag; quote the value if it should be a string")
        return super().compose_node(parent, index)


class _Walker:
    """A node tree into plain data, recording marks and structural problems."""

    def __init__(self, loader: _Loader, max_depth: int, duplicate_hint: str) -> None:
        self.loader, self.max_depth, self.duplicate_hint = loader, max_depth, duplicate_hint
        self.marks = loader.doc.marks

    def value(self, node: Node, path: Path, key_mark: yaml.Mark | None = None) -> Any:
        self.marks[path] = (_pos(key_mark) if key_mark else None, _pos(node.start_mark))
        if len(path) > self.max_depth:
            self.loader.problem(node.start_mark, path, "the value is nested too deeply")
            return None
        if isinstance(node, MappingNode):
            return self.mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.value(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.scalar(node, path)

    def scalar(self, node: Node, path: Path) -> Any:
        if node.tag not in _STANDARD_TAGS:
            if self.loader.strict:
                return node.value  # an explicit tag: already reported
        try:
            return self.loader.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError) as e:
            self.loader.problem(node.start_mark, path, f"cannot read {show(node.value)}: {e}", "quote the value")
            return node.value

    def mapping(self, node: MappingNode, path: Path) -> dict[Any, Any]:
        if not self.loader.strict:
            self.loader.flatten_mapping(node)  # merge keys, as the full YAML language has them
        result: dict[Any, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                self.loader.problem(key_node.start_mark, path, "YAML merge keys (<<) are not allowed",
                                    "write each entry out in full")
                continue
            if not isinstance(key_node, ScalarNode):
                self.loader.problem(key_node.start_mark, path, "a key must be a plain name or number")
                continue
            key = self.scalar(key_node, path)
            name = str(key)
            if name in first_line:
                self.loader.problem(key_node.start_mark, (*path, name),
                                    f"duplicate key {show(key)} (first on line {first_line[name]})",
                                    self.duplicate_hint)
                continue
            first_line[name] = key_node.start_mark.line + 1
            result[key] = self.value(value_node, (*path, name), key_node.start_mark)
        return result


def _expanded_sizes(root: Node) -> dict[int, float]:
    """How many values each node of the graph expands to (by ``id``), each shared node counted once;
    ``math.inf`` for a node that holds an alias to itself (``&a [*a]``: it expands without end)."""
    sizes: dict[int, float] = {}
    open_: set[int] = set()  # the nodes whose values are being counted: the path from the root
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:  # post-order without recursion: a deep document cannot exhaust the stack here
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        children = ([n for pair in node.value for n in pair] if isinstance(node, MappingNode)
                    else list(node.value) if isinstance(node, SequenceNode) else [])
        if children_done:
            open_.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes.get(id(c), 0) for c in children)
        elif id(node) in open_:  # reached again from inside itself
            sizes[id(node)] = math.inf
        else:
            open_.add(id(node))
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes


def _alias_bomb(loader: _Loader, root: Node) -> Problem | None:
    """A problem at the alias that expands most when the document expands beyond ``MAX_VALUES``
    (or without end)."""
    if not loader.aliases:
        return None
    sizes = _expanded_sizes(root)
    if sizes[id(root)] <= MAX_VALUES:
        return None
    mark, node = max(loader.aliases, key=lambda a: sizes.get(id(a[1]), 0))
    if sizes[id(root)] == math.inf:
        return Problem(*_pos(mark), (), "the YAML's aliases expand without end (this alias is inside the value "
                       "it stands for)", "write the values out; an alias cannot name the value it is in")
    return Problem(*_pos(mark), (), f"the YAML's aliases expand to {sizes[id(root)]:,} values, more than "
                   f"{MAX_VALUES:,} (this alias alone to {sizes.get(id(node), 0):,})",
                   "write the values out, or use fewer nested aliases")


def _offset_position(text: str, index: int) -> Position:
    line = text.count("\n", 0, index)
    return line + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def read(text: str, *, strict: bool = True, max_depth: int = 16,
         duplicate_hint: str = "only one would count: remove or rename one") -> Document:
    """Parse one YAML document; every problem is in ``Document.problems`` (nothing is raised)."""
    doc = Document()
    loader: _Loader | None = None
    try:
        loader = _Loader(text.removeprefix("\ufeff"), doc, strict)
        node = loader.get_single_node()
        if node is None:
            doc.empty = True
            return doc
        bomb = _alias_bomb(loader, node)
        if bomb is not None:
            doc.problems.append(bomb)
            return doc
        doc.data = _Walker(loader, max_depth, duplicate_hint).value(node, ())
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        doc.problems.append(Problem(*_pos(mark), (), f"YAML syntax error: {e.problem or e.context}",
                                    str(e.context) if e.context and e.problem else None))
    except yaml.reader.ReaderError as e:
        message = (f"character U+{e.character:04X} is not allowed in YAML" if isinstance(e.character, int)
                   else f"unreadable character: {e.reason}")
        doc.problems.append(Problem(*_offset_position(text, e.position), (), message, "remove it"))
    except RecursionError:
        doc.problems.append(Problem(1, 1, (), "the YAML is nested too deeply"))
    finally:
        if loader is not None:
            loader.dispose()
    return doc


def decode(raw: bytes, max_bytes: int) -> tuple[str | None, Problem | None]:
    """Bytes as strict UTF-8 text (a leading BOM dropped), or None and the problem at its position."""
    if len(raw) > max_bytes:
        return None, Problem(1, 1, (), f"the file is {len(raw)} bytes, more than {max_bytes}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start)
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1)
        return None, Problem(line + 1, col + 1, (), f"the file is not valid UTF-8 (byte 0x{raw[e.start]:02x})",
                             "save it as UTF-8")
    return text.removeprefix("\ufeff"), None
