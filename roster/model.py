"""The roster's data model: who has an account (``Person``) and who peers with us (``Peer``).

Pydantic v2 models, frozen, ``extra="forbid"`` everywhere: this module shapes the schema (entry
keys become ``username``/``asn``, identity defaults, descriptions for the JSON schema).  Every field
type is an ``Annotated`` alias from ``roster.fields`` whose validator is a small pure function, so
the same rule serves the models, the JSON schema and the cross-entry checks (``roster.cross``).

Stack-dependent rules (minimum uid, known hosts, peering LANs, private ASNs) read a
``RosterContext`` from the validation context: ``Roster.model_validate(data,
context=validation_context(ctx))``.  Without one, ``RosterContext()`` defaults apply.

Normalisation (so that equal rosters have equal digests): lists that are sets (groups, namespaces,
hosts, addresses, prefixes, ssh keys) are sorted; addresses are in compressed form; ZFS sizes are
re-rendered exactly (``1.5G`` -> ``1536M``); ZeroTier ids and AS-SETs are case-folded.
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
from enum import StrEnum
from typing import Any
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import InitErrorDetails

from validators import peering
from validators.peering import PeerState

from .context import DEFAULT_MIN_UID, MAX_UID, SKIP_CROSS_CHECKS_KEY, context_of
from .cross import cross_check
from .fields import (
    MIN_RSA_BITS,
    SSH_KEY_TYPES,
    USERNAME_PATTERN,
    AddressList,
    Asn,
    AsSet,
    AuthentikName,
    Compression,
    CpuWeight,
    Email,
    FullName,
    GroupList,
    HostList,
    KubernetesSubject,
    MemoryMax,
    NamespaceList,
    OnOff,
    PasswordHash,
    PeerName,
    PrefixLimit,
    PrefixLimitV6,
    PrefixList,
    Recordsize,
    Shell,
    SshKeyList,
    TasksMax,
    Uid,
    Username,
    ZeroTierMember,
    ZfsSize,
    _error,
    _fail,
    is_valid_username,
)


def _hide_identity_defaults(schema: dict[str, Any]) -> None:
    """``authentik``/``kubernetes`` default to the username: hide their placeholder ``null`` default."""
    for field in ("authentik", "kubernetes"):
        schema["properties"][field].pop("default", None)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=False)


class Tier(StrEnum):
    """Access tier of a person: admin, power-user or namespace-owner."""

    ADMIN = "admin"
    POWER_USER = "power-user"
    NAMESPACE_OWNER = "namespace-owner"


class PersonState(StrEnum):
    """Lifecycle of a person: active, offboarded (locked, data kept), purged (data destroyed)."""

    ACTIVE = "active"
    OFFBOARDED = "offboarded"
    PURGED = "purged"


class ZfsProperties(_Model):
    """Properties of a person's home dataset."""

    quota: ZfsSize = Field(
        "100G",
        description="Quota of the home dataset: a size such as 50G (K/M/G/T/P, 1024-based) or none. "
        "Normalised to the largest exact suffix (1.5G -> 1536M).",
    )
    compression: Compression = Field(
        "lz4",
        description="ZFS compression: on, off, lz4, gzip, gzip-1..gzip-9, zle, lzjb, zstd, zstd-1..zstd-19, "
        "zstd-fast. Unquoted on/off (YAML booleans) are accepted.",
    )
    recordsize: Recordsize = Field(
        "128K", description="ZFS recordsize: a power of two from 512 to 16M, e.g. 16K, 128K, 1M."
    )
    atime: OnOff = Field("off", description="ZFS atime: on or off (unquoted YAML booleans are accepted).")


class Budget(_Model):
    """Overrides of the person's budget on every host (their ``user-<uid>.slice``); unset values come
    from the stack's tier budget (``keystone:base.budgets``)."""

    memory_max: MemoryMax | None = Field(None, description="systemd MemoryMax: e.g. 8G, 25%, infinity.")
    cpu_weight: CpuWeight | None = Field(None, description="systemd CPUWeight: 1..10000 (100 is systemd's default).")
    tasks_max: TasksMax | None = Field(None, description="systemd TasksMax: a number, a percentage, or infinity.")


class MaxPrefixes(_Model):
    """Per-family import limits of a peer's sessions (the route servers' import/receive limit)."""

    ipv4: PrefixLimit = Field(description=f"Maximum IPv4 prefixes accepted from the peer (1..{peering.MAX_PREFIXES[4]}).")
    ipv6: PrefixLimitV6 = Field(description=f"Maximum IPv6 prefixes accepted from the peer (1..{peering.MAX_PREFIXES[6]}).")


class Person(_Model):
    """A person with an account on the stack's hosts, in Authentik and in Kubernetes."""

    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra=_hide_identity_defaults)

    username: SkipJsonSchema[Username] = Field(
        description="OS username; in the file it is the entry's key, never a field."
    )
    name: FullName = Field(
        description="Full name (GECOS): letters, digits, spaces and . ' - only, at most 64 characters."
    )
    uid: Uid = Field(
        description=f"Explicit numeric uid, unique across the roster (offboarded and purged people included "
        f"so uids are never reused); at least the stack's minimum (default {DEFAULT_MIN_UID}), at most {MAX_UID}."
    )
    tier: Tier = Field(
        description="Access tier: admin, power-user, or namespace-owner (administers only its `namespaces`). "
        "What each tier grants on hosts and in Kubernetes is decided by the stack's components."
    )
    authentik: AuthentikName = Field(
        None,  # type: ignore[assignment]  # filled in with the username by _identity_defaults
        description="Authentik username. Default: the OS username.",
    )
    kubernetes: KubernetesSubject = Field(
        None,  # type: ignore[assignment]  # filled in with the username by _identity_defaults
        description="Kubernetes OIDC subject (user name) for RBAC bindings; 'system:' is reserved. "
        "Default: the OS username.",
    )
    groups: GroupList = Field(
        default_factory=list,
        description="Extra Unix groups (existing on the hosts), each listed once. Group 'root' is refused.",
    )
    exclusive_groups: bool = Field(
        False, strict=True,
        description="true: remove the person from every supplementary group not listed; false: only add.",
    )
    shell: Shell = Field("/bin/bash", description="Login shell: an absolute path in /bin, /sbin, /usr/bin or /usr/sbin.")
    ssh_keys: SshKeyList = Field(
        default_factory=list,
        description="OpenSSH public keys, one line each, without options (command=, from=, no-pty...). "
        f"Types: {', '.join(SSH_KEY_TYPES)}; RSA keys need {MIN_RSA_BITS} bits.",
    )
    password_hash: PasswordHash | None = Field(
        None, repr=False,
        description="Optional crypt(5) hash for console/sudo: yescrypt ($y$...) or SHA-512 ($6$...), e.g. from "
        "`mkpasswd -m yescrypt`. null (default): password locked, login by SSH key / SSO. Never plaintext.",
    )
    namespaces: NamespaceList = Field(
        default_factory=list, validate_default=True,
        description="Kubernetes namespaces the person owns (DNS-1123 labels, not kube-*). Required and non-empty "
        "for namespace-owner; must be empty for the other tiers.",
    )
    hosts: HostList | None = Field(
        None,
        description="Hosts where the person gets an account and home dataset. null (default): every host of "
        "the stack; [] : none (Authentik/Kubernetes only).",
    )
    zfs: ZfsProperties = Field(default_factory=ZfsProperties, description="Home dataset properties.")
    budget: Budget | None = Field(
        None, description="Overrides of the tier's budget (keystone:base.budgets): memory_max, cpu_weight, tasks_max.")
    state: PersonState = Field(
        PersonState.ACTIVE,
        description="active; offboarded: account locked and access revoked, home kept; purged: home may be "
        "destroyed (keep the entry as a tombstone so the uid is never reused).",
    )

    @model_validator(mode="before")
    @classmethod
    def _identity_defaults(cls, data: Any) -> Any:
        """``authentik``/``kubernetes`` default to the username (only when that username is valid)."""
        if isinstance(data, Mapping):
            data = dict(data)
            for field in ("authentik", "kubernetes"):
                if data.get(field) is None:
                    data.pop(field, None)
                    if is_valid_username(data.get("username")):
                        data[field] = data["username"]
        return data

    @field_validator("namespaces")
    @classmethod
    def _namespaces_match_tier(cls, value: list[str], info: ValidationInfo) -> list[str]:
        tier = info.data.get("tier")
        if tier == Tier.NAMESPACE_OWNER and not value:
            _fail("a namespace-owner needs at least one namespace", "add `namespaces: [team-a]`")
        if tier is not None and tier != Tier.NAMESPACE_OWNER and value:
            _fail(f"namespaces only apply to namespace-owner, not {tier.value}",
                  "remove `namespaces`, or change the tier")
        return value

    @property
    def is_active(self) -> bool:
        return self.state == PersonState.ACTIVE

    def on_host(self, host: str) -> bool:
        """True if the person has an account on ``host`` (``hosts`` is null or lists it)."""
        return self.hosts is None or host in self.hosts


class Peer(_Model):
    """A network peering with the route servers over ZeroTier."""

    asn: SkipJsonSchema[Asn] = Field(description="The peer's ASN; in the file it is the entry's key.")
    name: PeerName = Field(
        description="Peer name: ASCII letters, digits, spaces and . , & ( ) _ + -, at most 64 characters "
        "(no quotes, braces, semicolons: it is written into BIRD configuration)."
    )
    contact: Email = Field(description="NOC e-mail address.")
    zerotier_member: ZeroTierMember = Field(
        description="ZeroTier node id of the peer's router: 10 hex digits, quoted (normalised to lowercase)."
    )
    addresses: AddressList = Field(
        description="The peer's router addresses on the peering LAN (IPv4 and/or IPv6), unique across all "
        "peers and inside the stack's peering LANs."
    )
    max_prefixes: MaxPrefixes = Field(description="Import limits per address family.")
    as_set: AsSet | None = Field(
        None, description="IRR AS-SET (or aut-num) used to build the import filter, e.g. AS-EXAMPLE or RIPE::AS-EXAMPLE."
    )
    prefixes: PrefixList = Field(
        default_factory=list,
        description="Explicit prefixes the peer may announce (IPv4 up to /24, IPv6 up to /48), in CIDR form.",
    )
    state: PeerState = Field(
        PeerState.ACTIVE,
        description="active; suspended: sessions shut down, entry kept for later; removed: the peer's "
        "sessions and ZeroTier membership are torn down.",
    )

    @property
    def ipv4_addresses(self) -> list[str]:
        return [a for a in self.addresses if ipaddress.ip_address(a).version == 4]

    @property
    def ipv6_addresses(self) -> list[str]:
        return [a for a in self.addresses if ipaddress.ip_address(a).version == 6]


class Roster(_Model):
    """Keystone roster: the single source of truth for who has accounts and who peers with us."""

    people: dict[str, Person] = Field(
        default_factory=dict,
        description=f"People, keyed by OS username (lowercase, {USERNAME_PATTERN}).",
        json_schema_extra={"propertyNames": {"pattern": USERNAME_PATTERN}},
    )
    peers: dict[int, Peer] = Field(
        default_factory=dict,
        description="Peers, keyed by ASN (a number; private/documentation ASNs only on stacks that allow them).",
        json_schema_extra={"propertyNames": {"pattern": "^[1-9][0-9]{0,9}$"}},
    )

    @model_validator(mode="before")
    @classmethod
    def _keys_into_entries(cls, data: Any) -> Any:
        """Each entry's key becomes its ``username``/``asn`` field."""
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        for section, field in (("people", "username"), ("peers", "asn")):
            entries = data.get(section)
            if isinstance(entries, Mapping):
                data[section] = {
                    key: ({field: key, **entry} if isinstance(entry, Mapping) else entry)
                    for key, entry in entries.items()
                }
        return data

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Roster:
        errors: list[InitErrorDetails] = []
        for key, person in self.people.items():
            if key != person.username:
                errors.append(_error(("people", key), f"entry {key!r} holds person {person.username!r}"))
        for asn, peer in self.peers.items():
            if asn != peer.asn:
                errors.append(_error(("peers", asn), f"entry {asn!r} holds peer AS{peer.asn}"))
        if not (info.context or {}).get(SKIP_CROSS_CHECKS_KEY):
            dump = self.model_dump()
            for issue in cross_check(dump["people"], dump["peers"], context_of(info)):
                errors.append(_error(issue.path, issue.message, issue.hint))
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

    def canonical_json(self) -> str:
        """The roster as canonical JSON: sorted keys, no whitespace, UTF-8 (what ``digest`` hashes)."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def digest(self) -> str:
        """SHA-256 (hex) of ``canonical_json``: equal for rosters that differ only in key order,
        formatting, comments, list order of set-like fields, or defaults written out."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()
