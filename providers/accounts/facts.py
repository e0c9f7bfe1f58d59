"""Pure parsers of ``getent passwd|group|shadow`` and authorized_keys dumps."""
from __future__ import annotations

from dataclasses import dataclass


class ParseError(ValueError):
    pass


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


def _fields(text: str, n: int, what: str) -> list[list[str]]:
    rows = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(":")
        if len(parts) != n:
            raise ParseError(f"getent {what} line {lineno}: expected {n} fields, got {len(parts)}: {line[:80]!r}")
        rows.append(parts)
    return rows


def parse_passwd(text: str) -> dict[str, PasswdEntry]:
    out = {}
    for name, _pw, uid, gid, gecos, home, shell in _fields(text, 7, "passwd"):
        try:
            out[name] = PasswdEntry(name, int(uid), int(gid), gecos, home, shell)
        except ValueError:
            raise ParseError(f"getent passwd: bad uid/gid for {name!r}: {uid!r}/{gid!r}") from None
    return out


def parse_group(text: str) -> dict[str, GroupEntry]:
    out = {}
    for name, _pw, gid, members in _fields(text, 4, "group"):
        try:
            out[name] = GroupEntry(name, int(gid), frozenset(m for m in members.split(",") if m))
        except ValueError:
            raise ParseError(f"getent group: bad gid for {name!r}: {gid!r}") from None
    return out


def parse_shadow(text: str) -> dict[str, ShadowEntry]:
    return {row[0]: ShadowEntry(row[0], row[1], row[7]) for row in _fields(text, 9, "shadow")}


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
