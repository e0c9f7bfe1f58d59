"""Checks across roster entries: values that must be unique across people or peers, and items that
must be unique inside a set-like list.  They run on raw (partly invalid) data in the loader and on
validated data in ``Roster``; a value that is itself invalid is left to its own field rule."""
from __future__ import annotations

from typing import Any, NamedTuple
from collections.abc import Hashable, Iterable, Iterator, Mapping

from pydantic import TypeAdapter, ValidationError

from validators import ssh_key

from .context import RosterContext, validation_context
from .fields import (
    _LIST_ITEMS,
    AuthentikName,
    KubernetesSubject,
    PeeringAddress,
    SshKey,
    Uid,
    ZeroTierMember,
    _duplicate_item,
    duplicates,
    is_valid_username,
    show,
)


class CrossIssue(NamedTuple):
    """A conflict between entries: ``path`` is the later entry's field."""

    path: tuple[Any, ...]
    message: str
    hint: str | None = None


def _valid(adapter: TypeAdapter[Any], value: Any, ctx: RosterContext) -> Any:
    """``value`` normalised by ``adapter``, or None if it is invalid (reported elsewhere)."""
    try:
        return adapter.validate_python(value, context=validation_context(ctx))
    except ValidationError:
        return None


_UID, _AUTHENTIK, _K8S = TypeAdapter(Uid), TypeAdapter(AuthentikName), TypeAdapter(KubernetesSubject)
_SSH_KEY, _ZT, _ADDRESS = TypeAdapter(SshKey), TypeAdapter(ZeroTierMember), TypeAdapter(PeeringAddress)


def _entries(section: Any) -> Iterator[tuple[Any, Mapping[str, Any]]]:
    if isinstance(section, Mapping):
        for key, entry in section.items():
            if isinstance(entry, Mapping):
                yield key, entry


def _items(entry: Mapping[str, Any], field: str) -> list[tuple[Any, Any]]:
    value = entry.get(field)
    return list(enumerate(value)) if isinstance(value, list) else []


def _cross(values: Iterable[tuple[tuple[Any, ...], Hashable | None]], what: str, hint: str,
           label: Any = show) -> list[CrossIssue]:
    return [
        CrossIssue(path, f"{what} {label(value)} is already used by {first[0]}.{first[1]}", hint)
        for path, value, first in duplicates(values)
    ]


def cross_check(people: Any, peers: Any, ctx: RosterContext | None = None) -> list[CrossIssue]:
    """Conflicts between and inside entries, on raw (partly invalid) or validated data alike.

    Unique across people: uid, Authentik username, Kubernetes subject, SSH key (without comment).
    Unique across peers: ZeroTier member, peering address.  Unique inside an entry: the items of
    every set-like list.  A value that is itself invalid is skipped (its own validator reports it).
    """
    ctx = ctx or RosterContext()
    sections = {"people": list(_entries(people)), "peers": list(_entries(peers))}

    def field(section: str, name: str, adapter: TypeAdapter[Any], default_key: bool = False
              ) -> Iterator[tuple[tuple[Any, ...], Any]]:
        for key, entry in sections[section]:
            raw = entry.get(name)
            if raw is None and default_key:
                raw = key if is_valid_username(key) else None
            yield (section, key, name), (_valid(adapter, raw, ctx) if raw is not None else None)

    def items(section: str, name: str, adapter: TypeAdapter[Any], key: Any = None
              ) -> Iterator[tuple[Any, list[tuple[tuple[Any, ...], Any]]]]:
        for entry_key, entry in sections[section]:
            values = []
            for index, raw in _items(entry, name):
                value = _valid(adapter, raw, ctx)
                values.append(((section, entry_key, name, index), key(value) if key and value else value))
            yield entry_key, values

    issues: list[CrossIssue] = []
    for section, lists in _LIST_ITEMS.items():
        for name, adapter, what, key in lists:
            for _, values in items(section, name, adapter, key):
                issues += [CrossIssue(path, *_duplicate_item(what, value)) for path, value, _ in duplicates(values)]

    def first_of_each(section: str, name: str, adapter: TypeAdapter[Any], key: Any = None
                      ) -> Iterator[tuple[tuple[Any, ...], Any]]:
        for _, values in items(section, name, adapter, key):
            seen: set[Any] = set()
            for path, value in values:
                if value not in seen:
                    seen.add(value)
                    yield path, value

    return [
        *issues,
        *_cross(field("people", "uid", _UID), "uid",
                "uids are never reused, not even after offboarding: pick the next free uid"),
        *_cross(field("people", "authentik", _AUTHENTIK, True), "Authentik username",
                "each person needs their own Authentik account"),
        *_cross(field("people", "kubernetes", _K8S, True), "Kubernetes subject",
                "each person needs their own Kubernetes identity"),
        *_cross(first_of_each("people", "ssh_keys", _SSH_KEY, ssh_key.blob), "SSH key",
                "a key identifies one person: each person needs their own key", ssh_key.fingerprint),
        *_cross(field("peers", "zerotier_member", _ZT), "ZeroTier member", "each peer joins with its own node"),
        *_cross(first_of_each("peers", "addresses", _ADDRESS), "peering address",
                "two sessions with one neighbor address: BIRD keeps the second one Idle forever"),
    ]
