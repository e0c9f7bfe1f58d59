"""Pure parsers of ZFS command output (captured text in, typed state out).

Any text may come back from a host: what does not have the shape of ``zfs get``/``zfs allow``
output raises ``ParseError`` (naming the host when the caller passes ``host``, the command and the
line), never anything else.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from providers.output import UnexpectedOutput, quote
from validators import Invalid
from validators import zfs as zfs_values

MANAGED_PROPERTIES = ("quota", "compression", "recordsize", "atime")
READ_PROPERTIES = ("type", "mountpoint", "readonly", "encryption", *MANAGED_PROPERTIES)
SIZE_PROPERTIES = frozenset({"quota", "recordsize", "refquota"})


class ParseError(UnexpectedOutput):
    """Output that does not have the shape the parser expects; the message quotes the line."""

    def __init__(self, command: str, detail: str | None = None, host: str | None = None, line: int | None = None):
        if detail is None:  # a value, not a command's output (``size_bytes`` on an input)
            command, detail = "", command
        super().__init__(command, detail, host, line)


def size_bytes(value: str) -> int | None:
    """A size as ``zfs get -p`` prints it -> bytes (``validators.zfs.parse_size``, the one rule);
    ``none``/``0``/``-`` -> None (no limit: ZFS prints an unset quota as 0)."""
    v = value.strip()
    if v in ("-", ""):
        return None
    try:
        return zfs_values.limit(zfs_values.parse_size(v))
    except Invalid as e:
        raise ParseError(f"not a ZFS size: {quote(value, 40)} ({e.message})") from None


def normalize(prop: str, value: str) -> str:
    """A comparable form of a property value: sizes in bytes (``none`` for no limit), others lower-case."""
    if prop in SIZE_PROPERTIES:
        b = size_bytes(value)
        return "none" if b is None else str(b)
    return value.strip().lower()


@dataclass(frozen=True)
class PropertyValue:
    value: str
    source: str  # "local", "default", "inherited from X", "-", "received", "temporary"

    @property
    def is_local(self) -> bool:
        return self.source in ("local", "received")


@dataclass
class DatasetState:
    name: str
    properties: dict[str, PropertyValue] = field(default_factory=dict)

    def value(self, prop: str) -> str | None:
        pv = self.properties.get(prop)
        return pv.value if pv else None


def parse_zfs_get(text: str, host: str | None = None) -> dict[str, DatasetState]:
    """Parse ``zfs get -H -p -o name,property,value,source PROPS DATASETS`` (tab separated)."""
    out: dict[str, DatasetState] = {}
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 4:
            raise ParseError("zfs get", f"expected 4 tab-separated fields, got {quote(line)}", host, lineno)
        name, prop, value, source = parts
        out.setdefault(name, DatasetState(name)).properties[prop] = PropertyValue(value, source)
    return out


def parse_zfs_list_names(text: str) -> list[str]:
    return [line.split("\t")[0] for line in text.splitlines() if line.strip()]


# --- zfs allow ------------------------------------------------------------------------------

SCOPES = ("local", "descendent", "local+descendent")
_HEADER = re.compile(r"^---- Permissions on (\S+) -+$")
_SECTION = {
    "Local permissions:": "local",
    "Descendent permissions:": "descendent",
    "Local+Descendent permissions:": "local+descendent",
    "Create time permissions:": "create-time",
}
_ENTRY = re.compile(r"^\t(user|group|everyone)(?: (\S+))? (\S+)$")


@dataclass
class Grants:
    """One principal's permissions on one dataset, by scope."""

    local: set[str] = field(default_factory=set)
    descendent: set[str] = field(default_factory=set)

    @property
    def local_and_descendent(self) -> set[str]:
        return self.local & self.descendent

    def is_empty(self) -> bool:
        return not self.local and not self.descendent


@dataclass
class AllowState:
    """``zfs allow DATASET``: per dataset shown, principal ``("user", "alice")`` -> Grants."""

    datasets: dict[str, dict[tuple[str, str], Grants]] = field(default_factory=dict)

    def grants(self, dataset: str, user: str) -> Grants:
        return self.datasets.get(dataset, {}).get(("user", user), Grants())


def parse_zfs_allow(text: str, host: str | None = None) -> AllowState:
    """Parse the output of one or more ``zfs allow DATASET`` runs.

    A run prints a block per dataset whose permissions apply (the dataset itself and ancestors
    that delegate to descendants); each block has sections of ``\\tuser NAME perm,perm`` lines.
    """
    state = AllowState()
    dataset: str | None = None
    section: str | None = None
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        if m := _HEADER.match(line):
            dataset = m.group(1)
            state.datasets.setdefault(dataset, {})
            section = None
            continue
        if line in _SECTION:
            section = _SECTION[line]
            continue
        if line.startswith("Permission sets:"):
            section = "sets"
            continue
        if dataset is None or section is None:
            raise ParseError("zfs allow", f"unexpected {quote(line)}", host, lineno)
        if section in ("create-time", "sets"):
            continue
        m = _ENTRY.match(line)
        if not m:
            raise ParseError("zfs allow", f"unexpected entry {quote(line)}", host, lineno)
        kind, name, perms = m.groups()
        grants = state.datasets[dataset].setdefault((kind, name or ""), Grants())
        for perm in perms.split(","):
            if section in ("local", "local+descendent"):
                grants.local.add(perm)
            if section in ("descendent", "local+descendent"):
                grants.descendent.add(perm)
    return state
