"""Pure parsers of ``getent passwd|group|shadow`` and authorized_keys dumps.

Any text may come back from a host: what does not have ``getent``'s shape raises ``ParseError``
(naming the host when the caller passes ``host``, the command and the line), never anything else.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from providers.output import UnexpectedOutput, quote

_ID = re.compile(r"[0-9]{1,10}")
"""A uid or gid as getent prints it (ASCII digits; at most 10: 2**32 - 1)."""
_DAY = re.compile(r"-?[0-9]{1,10}")
"""A shadow day count (``-1``, written by some tools, means never, as an empty field does)."""


class ParseError(UnexpectedOutput):
    """``getent`` output of an unexpected shape."""


@dataclass(frozen=True)
class PasswdEntry:
    name: str
    uid: int
    gid: int
    gecos: str
    home: str
    shell: str


@dataclass(frozen=True)
class GroupEntry:
    name: str
    gid: int
    members: frozenset[str]


@dataclass(frozen=True)
class ShadowEntry:
    name: str
    password: str
    expire: str  # days since epoch, "" for never

    @property
    def locked(self) -> bool:
        return self.password.startswith("!") or self.password in ("*", "")

    @property
    def hash(self) -> str | None:
        """The crypt hash inside the field (lock marks removed), or None when there is none."""
        h = self.password.lstrip("!")
        return h if h.startswith("$") else None

    @property
    def expired(self) -> bool:
        return self.expire not in ("",) and int(self.expire) <= 1


def _fields(text: str, n: int, what: str, host: str | None) -> list[tuple[int, list[str]]]:
    rows = []
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        parts = line.split(":")
        if len(parts) != n:
            raise ParseError(f"getent {what}", f"expected {n} fields, got {len(parts)}: {quote(line)}", host, lineno)
        rows.append((lineno, parts))
    return rows


def _number(value: str, what: str, name: str, command: str, host: str | None, lineno: int,
            pattern: re.Pattern[str] = _ID) -> int:
    if not pattern.fullmatch(value):
        raise ParseError(command, f"bad {what} for {quote(name, 40)}: {quote(value, 40)}", host, lineno)
    return int(value)


def parse_passwd(text: str, host: str | None = None) -> dict[str, PasswdEntry]:
    out = {}
    for lineno, (name, _pw, uid, gid, gecos, home, shell) in _fields(text, 7, "passwd", host):
        out[name] = PasswdEntry(name, _number(uid, "uid", name, "getent passwd", host, lineno),
                                _number(gid, "gid", name, "getent passwd", host, lineno), gecos, home, shell)
    return out


def parse_group(text: str, host: str | None = None) -> dict[str, GroupEntry]:
    out = {}
    for lineno, (name, _pw, gid, members) in _fields(text, 4, "group", host):
        out[name] = GroupEntry(name, _number(gid, "gid", name, "getent group", host, lineno),
                               frozenset(m for m in members.split(",") if m))
    return out


def parse_shadow(text: str, host: str | None = None) -> dict[str, ShadowEntry]:
    out = {}
    for lineno, row in _fields(text, 9, "shadow", host):
        if row[7]:
            _number(row[7], "expiry day", row[0], "getent shadow", host, lineno, _DAY)
        out[row[0]] = ShadowEntry(row[0], row[1], row[7])
    return out


def parse_authorized_keys_dump(text: str) -> dict[str, list[str]]:
    """``@@keys USER`` headers, each followed by that user's authorized_keys lines."""
    out: dict[str, list[str]] = {}
    user = None
    for line in text.splitlines():
        if line.startswith("@@keys "):
            user = line[len("@@keys "):].strip()
            out[user] = []
        elif user is not None and line.strip() and not line.lstrip().startswith("#"):
            out[user].append(line.strip())
    return out
