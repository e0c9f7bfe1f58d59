"""What a roster change does, for reviewers: ``diff_rosters(old, new)`` and ``render_markdown(diff)``.

Pure functions.  People are classified as added, changed (which fields), offboarded, re-activated,
purged, deleted (an offboarded/purged entry dropped) and deleted without offboarding (an active
entry dropped: a mistake, since offboarding is how access is revoked and history kept).  Peers are
added, changed, suspended, resumed, removed (``state: removed``) or deleted (entry dropped).
Things that deserve a second look are collected in ``RosterDiff.warnings``.

Secrets never appear: a password hash change renders as "set", "changed" or "removed", SSH keys as
their fingerprints.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .fields import ssh_key_fingerprint
from .model import Peer, PeerState, Person, PersonState, Roster, Tier

_SECRET_FIELDS = frozenset({"password_hash"})


@dataclass(frozen=True)
class FieldChange:
    """One field that differs; ``old``/``new`` are JSON-like values (``None`` when unset)."""

    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class EntryChange:
    """An entry present in both rosters whose fields (other than a classified state move) differ."""

    key: str | int
    changes: tuple[FieldChange, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(c.field for c in self.changes)


@dataclass(frozen=True)
class RosterDiff:
    """Every difference between two rosters, classified.  Keys are usernames and ASNs, sorted."""

    people_added: tuple[str, ...] = ()
    people_changed: tuple[EntryChange, ...] = ()
    people_offboarded: tuple[str, ...] = ()
    people_reactivated: tuple[str, ...] = ()
    people_purged: tuple[str, ...] = ()
    people_deleted: tuple[str, ...] = ()
    people_deleted_without_offboarding: tuple[str, ...] = ()
    peers_added: tuple[int, ...] = ()
    peers_changed: tuple[EntryChange, ...] = ()
    peers_suspended: tuple[int, ...] = ()
    peers_resumed: tuple[int, ...] = ()
    peers_removed: tuple[int, ...] = ()
    peers_deleted: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()
    old_digest: str = ""
    new_digest: str = ""
    new: Roster | None = field(default=None, repr=False, compare=False)
    """The new roster, so renderers can describe added entries."""

    @property
    def is_empty(self) -> bool:
        """True when the rosters are equivalent (same digest)."""
        return self.old_digest == self.new_digest


def _field_changes(old: Person | Peer, new: Person | Peer, skip: set[str]) -> tuple[FieldChange, ...]:
    before, after = old.model_dump(mode="json"), new.model_dump(mode="json")
    changes = []
    for name in type(old).model_fields:
        if name in skip or before[name] == after[name]:
            continue
        if isinstance(before[name], dict) and isinstance(after[name], dict):
            changes += [
                FieldChange(f"{name}.{sub}", before[name][sub], after[name][sub])
                for sub in before[name] if before[name][sub] != after[name].get(sub)
            ]
        else:
            changes.append(FieldChange(name, before[name], after[name]))
    return tuple(changes)


def _person_move(old: PersonState, new: PersonState) -> str | None:
    if old == new:
        return None
    if new == PersonState.PURGED:
        return "purged"
    if new == PersonState.OFFBOARDED and old == PersonState.ACTIVE:
        return "offboarded"
    if new == PersonState.ACTIVE:
        return "reactivated"
    return None  # purged -> offboarded: shown as a plain state change


def _peer_move(old: PeerState, new: PeerState) -> str | None:
    if old == new:
        return None
    return {PeerState.SUSPENDED: "suspended", PeerState.REMOVED: "removed", PeerState.ACTIVE: "resumed"}[new]


Key = TypeVar("Key", str, int)
Entry = TypeVar("Entry", Person, Peer)


def _entries(old: Mapping[Key, Entry], new: Mapping[Key, Entry], buckets: dict[str, list[Any]]
             ) -> Iterator[tuple[Key, Entry, Entry | None]]:
    """Each key of ``old`` or ``new`` in order with its old and new entry (``None``: deleted); an
    added key goes to ``buckets["added"]`` and is not yielded."""
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key), new.get(key)
        if before is None:
            buckets["added"].append(key)
            continue
        yield key, before, after


def _record(key: str | int, before: Person | Peer, after: Person | Peer, move: str | None, buckets: dict[str, list[Any]]) -> None:
    """An entry in both rosters: its lifecycle move (if any) and its other changed fields."""
    if move:
        buckets[move].append(key)
    changes = _field_changes(before, after, {"state"} if move else set())
    if changes:
        buckets["changed"].append(EntryChange(key, changes))


def diff_rosters(old: Roster, new: Roster) -> RosterDiff:
    """Classify every difference between ``old`` and ``new`` (pure; neither roster is modified)."""
    people: dict[str, list[Any]] = {k: [] for k in
                                    ("added", "changed", "offboarded", "reactivated", "purged", "deleted", "dropped")}
    warnings: list[str] = []
    for name, before, after in _entries(old.people, new.people, people):
        if after is None:
            if before.state == PersonState.ACTIVE:
                people["dropped"].append(name)
                warnings.append(f"`{name}` was deleted while active: set `state: offboarded` instead, so access "
                                "is revoked deliberately and the uid is never reused")
            else:
                people["deleted"].append(name)
                warnings.append(f"`{name}` ({before.state.value}) was deleted: uid {before.uid} could be reused; "
                                "keep the entry as a tombstone")
            continue
        move = _person_move(before.state, after.state)
        _record(name, before, after, move, people)
        if move == "purged":
            warnings.append(f"`{name}` is purged: the home dataset may be destroyed")
        if move == "reactivated" and before.state == PersonState.PURGED:
            warnings.append(f"`{name}` is re-activated after a purge: the old home data is gone")
        if before.uid != after.uid:
            warnings.append(f"`{name}`: uid {before.uid} -> {after.uid} changes the owner of every file they own")
        if before.tier != after.tier and after.tier == Tier.ADMIN:
            warnings.append(f"`{name}` becomes admin")

    peers: dict[str, list[Any]] = {k: [] for k in ("added", "changed", "suspended", "resumed", "removed", "deleted")}
    for asn, was, now in _entries(old.peers, new.peers, peers):
        if now is None:
            peers["deleted"].append(asn)
            if was.state == PeerState.ACTIVE:
                warnings.append(f"AS{asn} was deleted while active: its sessions go down at once "
                                "(set `state: suspended` or `removed` to make it explicit)")
            continue
        _record(asn, was, now, _peer_move(was.state, now.state), peers)

    return RosterDiff(
        people_added=tuple(people["added"]), people_changed=tuple(people["changed"]),
        people_offboarded=tuple(people["offboarded"]), people_reactivated=tuple(people["reactivated"]),
        people_purged=tuple(people["purged"]), people_deleted=tuple(people["deleted"]),
        people_deleted_without_offboarding=tuple(people["dropped"]),
        peers_added=tuple(peers["added"]), peers_changed=tuple(peers["changed"]),
        peers_suspended=tuple(peers["suspended"]), peers_resumed=tuple(peers["resumed"]),
        peers_removed=tuple(peers["removed"]), peers_deleted=tuple(peers["deleted"]),
        warnings=tuple(warnings), old_digest=old.digest(), new_digest=new.digest(), new=new,
    )


# --------------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------------


def _code(value: Any) -> str:
    text = "null" if value is None else str(value)
    return "`" + text.replace("`", "'").replace("\n", " ") + "`"


def _describe_change(change: FieldChange) -> str:
    name, old, new = change.field, change.old, change.new
    if name in _SECRET_FIELDS:
        verb = "set" if old is None else "removed" if new is None else "changed"
        return f"{name} {verb}"
    if name == "ssh_keys":
        old_fp = {ssh_key_fingerprint(k) for k in old}
        new_fp = {ssh_key_fingerprint(k) for k in new}
        parts = [f"+{_code(f)}" for f in sorted(new_fp - old_fp)] + [f"−{_code(f)}" for f in sorted(old_fp - new_fp)]
        return f"ssh_keys {' '.join(parts) or '(comments changed)'}"
    if isinstance(old, list) and isinstance(new, list):
        parts = [f"+{_code(v)}" for v in new if v not in old] + [f"−{_code(v)}" for v in old if v not in new]
        return f"{name} {' '.join(parts)}"
    if name == "hosts":
        old = "every host" if old is None else ", ".join(old) or "none"
        new = "every host" if new is None else ", ".join(new) or "none"
    return f"{name} {_code(old)} → {_code(new)}"


def _person_summary(person: Person) -> str:
    parts = [person.tier.value, f"uid {person.uid}"]
    if person.namespaces:
        parts.append("namespaces " + ", ".join(_code(n) for n in person.namespaces))
    if person.state != PersonState.ACTIVE:
        parts.append(person.state.value)
    return ", ".join(parts)


def _peer_summary(peer: Peer) -> str:
    parts = [_code(peer.name), ", ".join(_code(a) for a in peer.addresses)]
    if peer.state != PeerState.ACTIVE:
        parts.append(peer.state.value)
    return ", ".join(parts)


def render_markdown(diff: RosterDiff) -> str:
    """The diff as Markdown for a pull-request comment (headings, bullets, warnings first)."""
    lines = ["## Roster changes", ""]
    if diff.is_empty:
        return "\n".join([*lines, "No changes: the rosters are equivalent.", ""])
    if diff.warnings:
        lines += ["> [!WARNING]", *(f"> - {w}" for w in diff.warnings), ""]
    new_people = diff.new.people if diff.new else {}
    new_peers = diff.new.peers if diff.new else {}

    people: list[str] = []
    people += [f"- **added** {_code(u)}: {_person_summary(new_people[u])}" if u in new_people
               else f"- **added** {_code(u)}" for u in diff.people_added]
    people += [f"- **offboarded** {_code(u)}" for u in diff.people_offboarded]
    people += [f"- **re-activated** {_code(u)}" for u in diff.people_reactivated]
    people += [f"- **purged** {_code(u)}" for u in diff.people_purged]
    people += [f"- **deleted** {_code(u)}" for u in diff.people_deleted]
    people += [f"- **deleted without offboarding** {_code(u)}" for u in diff.people_deleted_without_offboarding]
    people += [f"- **changed** {_code(c.key)}: " + "; ".join(map(_describe_change, c.changes))
               for c in diff.people_changed]

    peers: list[str] = []
    peers += [f"- **added** AS{a}: {_peer_summary(new_peers[a])}" if a in new_peers else f"- **added** AS{a}"
              for a in diff.peers_added]
    peers += [f"- **suspended** AS{a}" for a in diff.peers_suspended]
    peers += [f"- **resumed** AS{a}" for a in diff.peers_resumed]
    peers += [f"- **removed** AS{a}" for a in diff.peers_removed]
    peers += [f"- **deleted** AS{a}" for a in diff.peers_deleted]
    peers += [f"- **changed** AS{c.key}: " + "; ".join(map(_describe_change, c.changes)) for c in diff.peers_changed]

    if people:
        lines += ["### People", "", *people, ""]
    if peers:
        lines += ["### Peers", "", *peers, ""]
    lines.append(f"<sub>roster digest {diff.old_digest[:12]} → {diff.new_digest[:12]}</sub>")
    return "\n".join(lines) + "\n"
