"""The roster's data model: who has an account (``Person``) and who peers with us (``Peer``).

Pydantic v2 models, frozen, ``extra="forbid"`` everywhere.  Every field type is an ``Annotated``
alias whose validator is a small pure function, so the same rule serves the models, the JSON
schema and the loader's cross-entry checks (``cross_check``).  Every validator raises a
``PydanticCustomError`` with a message that names the bad value (never a password hash) and a
hint (``ctx["hint"]``) that says how to fix it.

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
import re
import unicodedata
from enum import StrEnum
from typing import Annotated, Any, Hashable, Iterable, Iterator, Mapping, NamedTuple, NoReturn

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import InitErrorDetails, PydanticCustomError

from validators import Invalid, peering, ssh_key, text, zfs
from validators.peering import PeerState

# --------------------------------------------------------------------------------------------
# Limits and allow-lists (documented in the JSON schema and the README).
# --------------------------------------------------------------------------------------------

MAX_UID = 60000
"""Highest uid the roster accepts: Debian's ``UID_MAX`` (login.defs).  Above it live 65534
(nobody) and the 16-bit boundary that old tools and NFS still mishandle."""
DEFAULT_MIN_UID = 1000
MAX_FULL_NAME = 64
MAX_PEER_NAME = 64
MAX_SSH_KEY = ssh_key.MAX_KEY_LINE
MAX_PREFIX_LIMIT = 2_000_000
MAX_PREFIX_LIMIT_V6 = 500_000  # the full IPv6 table is ~220k routes; the route servers' BIRD model caps here

USERNAME_PATTERN = r"^[a-z_][a-z0-9_-]{0,31}$"
RESERVED_USERNAMES = frozenset(
    """root daemon bin sys sync games man lp mail news uucp proxy www-data backup list irc gnats
    nobody nogroup _apt messagebus sshd bird bird2 polkitd avahi dnsmasq tss uuidd tcpdump
    adm sudo wheel staff users disk kmem dialout cdrom floppy audio video plugdev netdev tty
    shadow utmp operator src voice tape input kvm render sgx docker lxd libvirt crontab ssh
    _ssh admin administrator zfs keystone""".split()
)
"""Names that belong to the system (Debian base users and groups, daemons Keystone relies on).
A person named like an existing group would also break ``useradd``'s user-private group."""

SSH_KEY_TYPES = ssh_key.KEY_TYPES
MIN_RSA_BITS = ssh_key.MIN_RSA_BITS

SHELL_PATTERN = r"^/(usr/)?s?bin/[a-z0-9_-][a-z0-9_.-]*$"
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
HOST_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
AUTHENTIK_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._@+-]{0,149}$"
KUBERNETES_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._@:+-]{0,252}$"
PEER_NAME_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9 .,&()_+-]{0,62}[A-Za-z0-9.)])?$"
EMAIL_PATTERN = (
    r"^[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@"
    r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
ZEROTIER_MEMBER_PATTERN = peering.ZEROTIER_MEMBER_PATTERN
AS_SET_PATTERN = peering.AS_SET_PATTERN
SHA512_CRYPT_PATTERN = r"^\$6\$(rounds=([0-9]{1,9})\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{86}$"
YESCRYPT_PATTERN = r"^\$y\$[./0-9A-Za-z]{1,64}\$[./0-9A-Za-z]{1,86}\$[./0-9A-Za-z]{43}$"

ASN_MAX = peering.ASN_MAX

CONTEXT_KEY = "roster_context"
"""Key of the ``RosterContext`` in a pydantic validation context."""
SKIP_CROSS_CHECKS_KEY = "roster_skip_cross_checks"
"""Validation-context flag: the loader runs ``cross_check`` itself (on partly invalid data too)."""


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _fail(message: str, hint: str | None = None) -> NoReturn:
    """Raise a roster validation error; the hint travels in the error's ``ctx``."""
    raise PydanticCustomError("roster", message, {"hint": hint} if hint else None)


def show(value: Any, limit: int = 60) -> str:
    """A safe, short rendering of a user value: ``repr`` escapes newlines and control characters."""
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + "..."
    text = repr(value)
    return text if len(text) <= limit + 2 else text[: limit + 2] + "..."


def _checked(check: Any) -> Any:
    """A ``validators`` check as a roster field validator (``Invalid`` -> the roster's error)."""

    def validate(value: Any) -> Any:
        try:
            return check(value)
        except Invalid as e:
            _fail(e.message, e.hint)

    return validate


def _need_str(value: Any, what: str) -> str:
    try:
        return text(value, what)
    except Invalid as e:
        _fail(e.message, e.hint)


def duplicates(items: Iterable[tuple[Any, Hashable | None]]) -> Iterator[tuple[Any, Hashable, Any]]:
    """``(position, value, first position)`` for every value seen before (``None`` values skipped)."""
    first: dict[Hashable, Any] = {}
    for position, value in items:
        if value is None:
            continue
        if value in first:
            yield position, value, first[value]
        else:
            first[value] = position


def _duplicate_item(what: str, value: Any) -> tuple[str, str]:
    shown = ssh_key_fingerprint(value) if what == "SSH key" else show(value)
    return f"duplicate {what} {shown}", "list each value once"


class RosterContext(BaseModel):
    """What the stack says about *where*, used to check the roster's stack-dependent fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_uid: int = Field(DEFAULT_MIN_UID, ge=1, le=MAX_UID, description="Lowest uid a person may have.")
    hosts: list[str] | None = Field(None, description="Host names of the stack; None: do not check `hosts`.")
    peering_lans: list[str] | None = Field(
        None, description="Peering LANs (CIDR); peer addresses must lie inside one. None: do not check."
    )
    allow_private_asns: bool = Field(
        False, description="Accept private (RFC 6996) and documentation (RFC 5398) ASNs (lab stacks)."
    )

    @field_validator("peering_lans")
    @classmethod
    def _networks(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        return [str(ipaddress.ip_network(v, strict=True)) for v in value]

    @property
    def networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """The peering LANs as network objects ([] when unchecked)."""
        return [ipaddress.ip_network(n) for n in self.peering_lans or []]


def context_of(info: ValidationInfo | None) -> RosterContext:
    """The ``RosterContext`` of a validation run, or the defaults."""
    ctx = (info.context or {}).get(CONTEXT_KEY) if info is not None else None
    return ctx if isinstance(ctx, RosterContext) else RosterContext()


def validation_context(ctx: RosterContext | None = None, *, cross_checks: bool = True) -> dict[str, Any]:
    """The pydantic validation context carrying ``ctx`` (``model_validate(data, context=...)``)."""
    return {CONTEXT_KEY: ctx or RosterContext(), SKIP_CROSS_CHECKS_KEY: not cross_checks}


# --------------------------------------------------------------------------------------------
# People: identity fields
# --------------------------------------------------------------------------------------------


def is_valid_username(value: Any) -> bool:
    """True if ``value`` is an acceptable OS username (pattern and not reserved)."""
    return (isinstance(value, str) and re.fullmatch(USERNAME_PATTERN[1:-1], value) is not None
            and value not in RESERVED_USERNAMES and not value.startswith("systemd-"))


def _username(value: Any) -> str:
    value = _need_str(value, "a username")
    if not re.fullmatch(USERNAME_PATTERN[1:-1], value):
        if len(value) > 32:
            hint = "at most 32 characters"
        elif value.lower() != value and re.fullmatch(USERNAME_PATTERN[1:-1], value.lower()):
            hint = f"usernames are lowercase: {value.lower()!r}"
        else:
            hint = "lowercase ASCII letters, digits, '_' and '-', starting with a letter or '_'"
        _fail(f"invalid username {show(value)}", hint)
    if value in RESERVED_USERNAMES or value.startswith("systemd-"):
        _fail(f"username {value!r} is reserved for the system", "choose a personal name, e.g. 'jdoe'")
    return value


def _group(value: Any) -> str:
    value = _need_str(value, "a group name")
    if not re.fullmatch(USERNAME_PATTERN[1:-1], value):
        _fail(f"invalid group name {show(value)}",
              "lowercase ASCII letters, digits, '_' and '-', starting with a letter or '_'")
    if value == "root":
        _fail("membership of group 'root' is not allowed", "grant access with a dedicated group")
    return value


_FULL_NAME_PUNCTUATION = frozenset(" .'-")


def _full_name(value: Any) -> str:
    value = _need_str(value, "the full name")
    if not value or value != value.strip() or "  " in value:
        _fail(f"full name {show(value)} is empty or has stray spaces", "single spaces between words")
    if len(value) > MAX_FULL_NAME:
        _fail(f"full name is {len(value)} characters long", f"at most {MAX_FULL_NAME}")
    if unicodedata.normalize("NFC", value) != value:
        _fail(f"full name {show(value)} is not in Unicode NFC form", "retype it or normalise it to NFC")
    for ch in value:
        if ch not in _FULL_NAME_PUNCTUATION and unicodedata.category(ch)[0] not in "LMN":
            _fail(f"full name {show(value)} contains {show(ch)}",
                  "use letters, digits, spaces and . ' - only: the name becomes the GECOS field")
    return value


def _uid(value: int, info: ValidationInfo) -> int:
    ctx = context_of(info)
    if value == 0:
        _fail("uid 0 is root", f"use a uid between {ctx.min_uid} and {MAX_UID}")
    if value < ctx.min_uid:
        _fail(f"uid {value} is below this stack's minimum {ctx.min_uid}",
              f"use a uid between {ctx.min_uid} and {MAX_UID}")
    if value > MAX_UID:
        _fail(f"uid {value} is above {MAX_UID}", f"use a uid between {ctx.min_uid} and {MAX_UID}")
    return value


def _authentik(value: Any) -> str:
    value = _need_str(value, "the Authentik username")
    if not re.fullmatch(AUTHENTIK_PATTERN[1:-1], value):
        _fail(f"invalid Authentik username {show(value)}",
              "ASCII letters, digits and . _ @ + -, at most 150 characters; set `authentik:` explicitly")
    return value


def _kubernetes(value: Any) -> str:
    value = _need_str(value, "the Kubernetes subject")
    if not re.fullmatch(KUBERNETES_PATTERN[1:-1], value):
        _fail(f"invalid Kubernetes subject {show(value)}",
              "ASCII letters, digits and . _ @ : + -, at most 253 characters")
    if value.lower().startswith("system:"):
        _fail(f"Kubernetes subject {value!r} uses the reserved 'system:' prefix",
              "subjects starting with system: belong to Kubernetes itself")
    return value


def _shell(value: Any) -> str:
    value = _need_str(value, "the shell")
    if not re.fullmatch(SHELL_PATTERN[1:-1], value):
        _fail(f"shell {show(value)} is not an allowed path",
              "an absolute path in /bin, /sbin, /usr/bin or /usr/sbin, e.g. /bin/bash or /usr/bin/zsh")
    return value


def _namespace(value: Any) -> str:
    value = _need_str(value, "a namespace")
    if not re.fullmatch(DNS_LABEL_PATTERN[1:-1], value):
        _fail(f"invalid namespace {show(value)}",
              "a DNS-1123 label: lowercase letters, digits and '-', at most 63 characters")
    if value.startswith("kube-"):
        _fail(f"namespace {value!r} belongs to Kubernetes itself", "owning kube-* namespaces is cluster-admin")
    return value


def _host(value: Any, info: ValidationInfo) -> str:
    value = _need_str(value, "a host name")
    if not re.fullmatch(HOST_PATTERN[1:-1], value) or len(value) > 253:
        _fail(f"invalid host name {show(value)}", "lowercase letters, digits, '-' and '.'")
    known = context_of(info).hosts
    if known is not None and value not in known:
        _fail(f"host {value!r} is not a host of this stack",
              f"known hosts: {', '.join(sorted(known)) or '(none)'}; use null for every host")
    return value


# --------------------------------------------------------------------------------------------
# People: credentials
# --------------------------------------------------------------------------------------------


ssh_key_blob = ssh_key.blob
ssh_key_fingerprint = ssh_key.fingerprint


def _password_hash(value: Any) -> str:
    """Accept only crypt(5) SHA-512 (``$6$``) or yescrypt (``$y$``) hashes; never echo the value."""
    if not isinstance(value, str):
        _fail("the password hash must be a string", "put the hash in quotes, or use null")
    if not value.startswith("$"):
        if value[:1] in ("!", "*"):
            _fail("a locked-password marker is not a hash", "use null: passwords are locked by default")
        _fail("this looks like a plaintext password, which must never be in the roster",
              "store a hash made with `mkpasswd -m yescrypt` or `openssl passwd -6`, and change the exposed password")
    scheme = value.split("$")[1] if value.count("$") >= 2 else ""
    if scheme not in ("6", "y"):
        names = {"1": "MD5-crypt", "2a": "bcrypt", "2b": "bcrypt", "2y": "bcrypt", "5": "SHA-256-crypt",
                 "7": "scrypt", "gy": "gost-yescrypt", "sha1": "SHA-1-crypt"}
        label = names.get(scheme, "unknown")
        _fail(f"password hash scheme ${scheme}$ ({label}) is not accepted",
              "only yescrypt ($y$) or SHA-512-crypt ($6$): mkpasswd -m yescrypt")
    pattern = SHA512_CRYPT_PATTERN if scheme == "6" else YESCRYPT_PATTERN
    match = re.fullmatch(pattern[1:-1], value)
    if not match:
        _fail(f"malformed ${scheme}$ password hash", "copy the complete hash, e.g. from mkpasswd")
    if scheme == "6" and match.group(2) and not 1000 <= int(match.group(2)) <= 999999999:
        _fail("SHA-512-crypt rounds must be between 1000 and 999999999", "regenerate the hash")
    return value


# --------------------------------------------------------------------------------------------
# ZFS properties
# --------------------------------------------------------------------------------------------

parse_zfs_size = zfs.parse_size
format_zfs_size = zfs.format_size


# --------------------------------------------------------------------------------------------
# Peers
# --------------------------------------------------------------------------------------------


def _asn(value: Any, info: ValidationInfo) -> int:
    try:
        return peering.asn(value, allow_private=context_of(info).allow_private_asns)
    except Invalid as e:
        _fail(e.message, e.hint)


def _peer_name(value: Any) -> str:
    value = _need_str(value, "the peer name")
    if len(value) > MAX_PEER_NAME or not re.fullmatch(PEER_NAME_PATTERN[1:-1], value) or "  " in value:
        _fail(f"invalid peer name {show(value)}",
              "use ASCII letters, digits, spaces and . , & ( ) _ + - only, at most 64 characters: "
              "the name is written into the route servers' configuration")
    return value


def _email(value: Any) -> str:
    value = _need_str(value, "the contact")
    if len(value) > 254 or not re.fullmatch(EMAIL_PATTERN[1:-1], value):
        _fail(f"invalid e-mail address {show(value)}", "e.g. noc@example.net")
    local, domain = value.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def _address(value: Any, info: ValidationInfo) -> str:
    try:
        return peering.peering_address(value, context_of(info).peering_lans)
    except Invalid as e:
        _fail(e.message, e.hint)


# --------------------------------------------------------------------------------------------
# Field types
# --------------------------------------------------------------------------------------------


def _schema(**extra: Any) -> Any:
    """Attach JSON-schema keywords for editors without enforcing them twice."""
    return Field(json_schema_extra=extra)


Username = Annotated[str, BeforeValidator(_username), _schema(pattern=USERNAME_PATTERN)]
GroupName = Annotated[str, BeforeValidator(_group), _schema(pattern=USERNAME_PATTERN)]
FullName = Annotated[str, BeforeValidator(_full_name), _schema(minLength=1, maxLength=MAX_FULL_NAME)]
Uid = Annotated[int, Field(strict=True), AfterValidator(_uid), _schema(minimum=1, maximum=MAX_UID)]
AuthentikName = Annotated[str, BeforeValidator(_authentik), _schema(pattern=AUTHENTIK_PATTERN)]
KubernetesSubject = Annotated[str, BeforeValidator(_kubernetes), _schema(pattern=KUBERNETES_PATTERN)]
Shell = Annotated[str, BeforeValidator(_shell), _schema(pattern=SHELL_PATTERN)]
SshKey = Annotated[str, BeforeValidator(_checked(ssh_key.public_key)), _schema(pattern=ssh_key.PATTERN)]
PasswordHash = Annotated[str, BeforeValidator(_password_hash), _schema(pattern=r"^\$(6|y)\$")]
Namespace = Annotated[str, BeforeValidator(_namespace), _schema(pattern=DNS_LABEL_PATTERN)]
HostName = Annotated[str, BeforeValidator(_host), _schema(pattern=HOST_PATTERN)]
Asn = Annotated[int, BeforeValidator(_asn), _schema(minimum=1, maximum=ASN_MAX - 1)]
PeerName = Annotated[str, BeforeValidator(_peer_name), _schema(pattern=PEER_NAME_PATTERN)]
Email = Annotated[str, BeforeValidator(_email), _schema(format="email")]
ZeroTierMember = Annotated[str, BeforeValidator(_checked(peering.zerotier_member_id)), _schema(pattern=ZEROTIER_MEMBER_PATTERN)]
PeeringAddress = Annotated[str, BeforeValidator(_address)]
Prefix = Annotated[str, BeforeValidator(_checked(peering.prefix))]
AsSet = Annotated[str, BeforeValidator(_checked(peering.as_set)), _schema(pattern=AS_SET_PATTERN)]
ZfsSize = Annotated[str, BeforeValidator(_checked(zfs.quota)), _schema(type=["string", "integer"])]
Recordsize = Annotated[str, BeforeValidator(_checked(zfs.recordsize)), _schema(type=["string", "integer"])]
Compression = Annotated[
    str, BeforeValidator(_checked(zfs.compression)),
    _schema(type=["string", "boolean"], enum=[*zfs.COMPRESSION_VALUES, True, False]),
]
OnOff = Annotated[str, BeforeValidator(_checked(zfs.atime)), _schema(type=["string", "boolean"], enum=["on", "off", True, False])]
PrefixLimit = Annotated[int, Field(strict=True, gt=0, le=MAX_PREFIX_LIMIT)]
PrefixLimitV6 = Annotated[int, Field(strict=True, gt=0, le=MAX_PREFIX_LIMIT_V6)]


def _set_of(what: str, key: Any = None, order: Any = None) -> AfterValidator:
    """A list that is a set: duplicates are errors on the later items; the result is sorted."""

    def check(items: list[Any]) -> list[Any]:
        errors = [
            _error((index,), *_duplicate_item(what, value))
            for index, value, _ in duplicates((i, key(v) if key else v) for i, v in enumerate(items))
        ]
        if errors:
            raise ValidationError.from_exception_data("list", errors)
        return sorted(items, key=order or key)

    return AfterValidator(check)


GroupList = Annotated[list[GroupName], _set_of("group")]
SshKeyList = Annotated[list[SshKey], _set_of("SSH key", ssh_key_blob)]
NamespaceList = Annotated[list[Namespace], _set_of("namespace")]
HostList = Annotated[list[HostName], _set_of("host")]
AddressList = Annotated[list[PeeringAddress], Field(min_length=1), _set_of("address", order=peering.address_sort_key)]
PrefixList = Annotated[list[Prefix], _set_of("prefix", order=peering.prefix_sort_key)]

_LIST_ITEMS: dict[str, tuple[tuple[str, TypeAdapter[Any], str, Any], ...]] = {
    "people": (
        ("groups", TypeAdapter(GroupName), "group", None),
        ("ssh_keys", TypeAdapter(SshKey), "SSH key", ssh_key_blob),
        ("namespaces", TypeAdapter(Namespace), "namespace", None),
        ("hosts", TypeAdapter(HostName), "host", None),
    ),
    "peers": (
        ("addresses", TypeAdapter(PeeringAddress), "address", None),
        ("prefixes", TypeAdapter(Prefix), "prefix", None),
    ),
}
"""Set-like list fields, checked for duplicates item by item even when other items are invalid."""


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------


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


class MaxPrefixes(_Model):
    """Per-family import limits of a peer's sessions (the route servers' import/receive limit)."""

    ipv4: PrefixLimit = Field(description="Maximum IPv4 prefixes accepted from the peer (1..2000000).")
    ipv6: PrefixLimitV6 = Field(description="Maximum IPv6 prefixes accepted from the peer (1..500000).")


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
        None,  # type: ignore[arg-type]  # filled in with the username by _identity_defaults
        description="Authentik username. Default: the OS username.",
    )
    kubernetes: KubernetesSubject = Field(
        None,  # type: ignore[arg-type]  # filled in with the username by _identity_defaults
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
        description="People, keyed by OS username (lowercase, ^[a-z_][a-z0-9_-]{0,31}$).",
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
        for key, peer in self.peers.items():
            if key != peer.asn:
                errors.append(_error(("peers", key), f"entry {key!r} holds peer AS{peer.asn}"))
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


def _error(path: tuple[Any, ...], message: str, hint: str | None = None) -> InitErrorDetails:
    return InitErrorDetails(
        type=PydanticCustomError("roster", message, {"hint": hint} if hint else None), loc=path, input=None
    )


# --------------------------------------------------------------------------------------------
# Cross-entry checks
# --------------------------------------------------------------------------------------------


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
        *_cross(first_of_each("people", "ssh_keys", _SSH_KEY, ssh_key_blob), "SSH key",
                "a key identifies one person: each person needs their own key", ssh_key_fingerprint),
        *_cross(field("peers", "zerotier_member", _ZT), "ZeroTier member", "each peer joins with its own node"),
        *_cross(first_of_each("peers", "addresses", _ADDRESS), "peering address",
                "two sessions with one neighbor address: BIRD keeps the second one Idle forever"),
    ]
