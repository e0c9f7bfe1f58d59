"""Keystone's roster: the single source of truth for *who* (people with accounts, peers with sessions).

    from roster import load_roster, RosterContext
    roster = load_roster("roster/roster.yaml", RosterContext(min_uid=1000, hosts=["guest"]))

``load_roster``/``parse_roster_text`` return a validated, frozen ``Roster`` or raise ``RosterError``
listing every problem of the file with ``file:line:col: path: message (hint)``.

Modules, one job each: ``loader`` (YAML with line/column marks -> errors at once), ``model`` (the
pydantic models: schema shaping), ``fields`` (one rule per field; shared domain values come from
``validators``), ``cross`` (uniqueness across entries), ``context`` (what the stack says),
``schema`` (the JSON schema), ``diff`` (reviews), ``errors``.  Reports that read live systems
(``peers-report``, ``people-report``) are operator commands: the ``ops`` package.
"""
from .errors import Issue, RosterError
from .loader import load_roster, locate, parse_roster_text
from .context import RosterContext
from .fields import format_zfs_size, parse_zfs_size, ssh_key_fingerprint
from .model import Budget, MaxPrefixes, Peer, PeerState, Person, PersonState, Roster, Tier, ZfsProperties

__all__ = [
    "Budget",
    "Issue",
    "MaxPrefixes",
    "Peer",
    "PeerState",
    "Person",
    "PersonState",
    "Roster",
    "RosterContext",
    "RosterError",
    "Tier",
    "ZfsProperties",
    "format_zfs_size",
    "load_roster",
    "locate",
    "parse_roster_text",
    "parse_zfs_size",
    "ssh_key_fingerprint",
]
