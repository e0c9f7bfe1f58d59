"""The accounts' facet of a host's state (pure: nothing here runs a command): what it reads
(``AccountsScope``), what part of the state it is (``AccountsState``), the command it adds to the
host's one read (``read.sh``: one ``sh`` running ``getent passwd|group|shadow`` once each and printing
each user's authorized_keys with builtins, no ``cat`` per user) and the parser of its answer.
``providers.hoststate`` composes it with the other facets."""
from __future__ import annotations

from dataclasses import dataclass, field

from providers.accounts.facts import (
    GroupEntry,
    ParseError,
    PasswdEntry,
    ShadowEntry,
    parse_authorized_keys_dump,
    parse_group,
    parse_passwd,
    parse_shadow,
)
from providers.host import Command
from providers.output import quote
from providers.scripts import script

READ = script(__file__, "read.sh")  # every account, or those named: sections per getent database


@dataclass(frozen=True)
class AccountsScope:
    users: tuple[str, ...] | None = ()  # those accounts (None: every account)


def covers(have: AccountsScope, want: AccountsScope) -> bool:
    """Whether the accounts ``have`` read answer ``want``."""
    if want.users is None:
        return have.users is None
    return have.users is None or set(want.users) <= set(have.users)


def union(a: AccountsScope, b: AccountsScope) -> AccountsScope:
    return AccountsScope(None if a.users is None or b.users is None else tuple(sorted(set(a.users) | set(b.users))))


@dataclass
class AccountsState:
    """The accounts read: passwd, group and shadow entries by name, each user's authorized keys."""

    passwd: dict[str, PasswdEntry] = field(default_factory=dict)
    groups: dict[str, GroupEntry] = field(default_factory=dict)
    shadow: dict[str, ShadowEntry] = field(default_factory=dict)
    keys: dict[str, list[str]] = field(default_factory=dict)

    def groups_of(self, user: str) -> set[str]:
        return {g.name for g in self.groups.values() if user in g.members}


def read_command(scope: AccountsScope) -> Command | None:
    """The read of ``scope.users`` (None: every account; empty: no read)."""
    if scope.users is not None and not scope.users:
        return None
    return Command.of("sh", "-c", READ, "keystone-accounts", *(scope.users or ()), check=False)


def answers(argv: tuple[str, ...]) -> bool:
    """Whether a command of the round trip is this facet's read."""
    return argv[:3] == ("sh", "-c", READ)


def parse(text: str, state: AccountsState, host: str | None = None) -> None:
    """The read's sections into ``state`` (the keys section is last: it may hold anything);
    ``ParseError`` naming ``host`` on unexpected output."""
    lines = text.split("\n")
    marks = {}
    for i, line in enumerate(lines):
        if line in ("@@passwd", "@@group", "@@shadow", "@@keys") and line not in marks:
            marks[line] = i
            if line == "@@keys":
                break
    order = ["@@passwd", "@@group", "@@shadow", "@@keys"]
    if any(m not in marks for m in order):
        raise ParseError("getent passwd|group|shadow", f"sections {', '.join(m for m in order if m not in marks)} "
                         f"missing from {quote(text)}", host)

    def part(name: str) -> str:
        start = marks[name] + 1
        nxt = order.index(name) + 1
        end = marks[order[nxt]] if nxt < len(order) else len(lines)
        return "\n".join(lines[start:end])

    state.passwd = parse_passwd(part("@@passwd"), host)
    state.groups = parse_group(part("@@group"), host)
    state.shadow = parse_shadow(part("@@shadow"), host)
    state.keys = parse_authorized_keys_dump(part("@@keys"))
