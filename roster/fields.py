"""The roster's field rules: one small pure validator per field, and the ``Annotated`` field types
that carry it (with JSON-schema hints for editors).

Every validator raises a ``PydanticCustomError`` with a message that names the bad value (never a
password hash) and a hint (``ctx["hint"]``) that says how to fix it.  Domain values shared with the
stack settings, the providers and the policy pack (SSH keys, ZFS properties, ASNs, AS-SETs,
prefixes, addresses, ZeroTier ids) are checked by ``validators``; this module adapts their
``Invalid`` to the roster's error with ``marked_issues.check_with`` (the adapter the settings use
too).  Stack-dependent rules read the ``RosterContext`` (``context``).

Normalisation (so that equal rosters have equal digests): lists that are sets (groups, namespaces,
hosts, addresses, prefixes, ssh keys) are sorted; addresses are in compressed form; ZFS sizes are
re-rendered exactly (``1.5G`` -> ``1536M``); ZeroTier ids and AS-SETs are case-folded.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any
from collections.abc import Hashable, Iterable, Iterator

from pydantic import AfterValidator, BeforeValidator, Field, TypeAdapter, ValidationError, ValidationInfo

import marked_issues
from validators import budget, names, passes, password, peering, show, ssh_key, text, zfs

from .context import MAX_UID, context_of

# --------------------------------------------------------------------------------------------
# Limits and allow-lists (documented in the JSON schema and the README).
# --------------------------------------------------------------------------------------------

MAX_FULL_NAME = names.GECOS_MAX
"""A full name becomes the account's GECOS field (`validators.gecos`)."""
MAX_PEER_NAME = 64
MAX_SSH_KEY = ssh_key.MAX_KEY_LINE

USERNAME_PATTERN = rf"^{names.POSIX_NAME.pattern}$"
"""The user and group name rule (``validators.names.posix_name``) as a JSON-schema pattern, for editors."""

SSH_KEY_TYPES = ssh_key.KEY_TYPES
MIN_RSA_BITS = ssh_key.MIN_RSA_BITS

SHELL_PATTERN = r"^/(usr/)?s?bin/[a-z0-9_-][a-z0-9_.-]*$"
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
HOST_PATTERN = rf"^{names.HOST_NAME.pattern}$"
"""A stack host's name (``validators.names.host_name``: one DNS label, as ``hosts[].name`` in the stack file)."""
AUTHENTIK_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._@+-]{0,149}$"
KUBERNETES_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._@:+-]{0,252}$"
PEER_NAME_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9 .,&()_+-]{0,62}[A-Za-z0-9.)])?$"
EMAIL_PATTERN = (
    r"^[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@"
    r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
ZEROTIER_MEMBER_PATTERN = peering.ZEROTIER_MEMBER_PATTERN
AS_SET_PATTERN = peering.AS_SET_PATTERN

ASN_MAX = peering.ASN_MAX


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


_fail = marked_issues.fail
"""Raise a roster validation error; the hint travels in the error's ``ctx``."""
_checked = marked_issues.check_with
"""A ``validators`` check as a roster field validator (``Invalid`` -> the roster's error)."""


def _need_str(value: Any, what: str) -> str:
    return _checked(text, what)(value)


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


_error = marked_issues.error_at


# --------------------------------------------------------------------------------------------
# People: identity fields
# --------------------------------------------------------------------------------------------


def is_valid_username(value: Any) -> bool:
    """True if ``value`` is an acceptable OS username (``validators.names.person_name``)."""
    return passes(names.person_name, value)


def _matching(value: Any, what: str, pattern: str, invalid: str, hint: str) -> str:
    """``value`` as a string that matches ``pattern`` (a JSON-schema ``^...$`` pattern); otherwise the
    error ``invalid`` (``{}`` stands for the value) with ``hint``."""
    value = _need_str(value, what)
    if not re.fullmatch(pattern[1:-1], value):
        _fail(invalid.format(show(value)), hint)
    return value


def _group(value: Any) -> str:
    value = _checked(names.posix_name, "group name")(value)
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
    return _matching(value, "the Authentik username", AUTHENTIK_PATTERN, "invalid Authentik username {}",
                     "ASCII letters, digits and . _ @ + -, at most 150 characters; set `authentik:` explicitly")


def _unreserved(value: str, prefix: str, invalid: str, hint: str) -> str:
    """``value`` unless it starts with ``prefix`` (any case), which Kubernetes keeps for itself; then
    the error ``invalid`` (``{}`` stands for the value's repr) with ``hint``."""
    if value.lower().startswith(prefix):
        _fail(invalid.format(repr(value)), hint)
    return value


def _kubernetes(value: Any) -> str:
    value = _matching(value, "the Kubernetes subject", KUBERNETES_PATTERN, "invalid Kubernetes subject {}",
                      "ASCII letters, digits and . _ @ : + -, at most 253 characters")
    return _unreserved(value, "system:", "Kubernetes subject {} uses the reserved 'system:' prefix",
                       "subjects starting with system: belong to Kubernetes itself")


def _shell(value: Any) -> str:
    return _matching(value, "the shell", SHELL_PATTERN, "shell {} is not an allowed path",
                     "an absolute path in /bin, /sbin, /usr/bin or /usr/sbin, e.g. /bin/bash or /usr/bin/zsh")


def _namespace(value: Any) -> str:
    value = _matching(value, "a namespace", DNS_LABEL_PATTERN, "invalid namespace {}",
                      "a DNS-1123 label: lowercase letters, digits and '-', at most 63 characters")
    return _unreserved(value, "kube-", "namespace {} belongs to Kubernetes itself",
                       "owning kube-* namespaces is cluster-admin")


def _host(value: Any, info: ValidationInfo) -> str:
    value = _checked(names.host_name)(value)
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


# --------------------------------------------------------------------------------------------
# ZFS properties
# --------------------------------------------------------------------------------------------

parse_zfs_size = zfs.parse_size
format_zfs_size = zfs.format_size


# --------------------------------------------------------------------------------------------
# Peers
# --------------------------------------------------------------------------------------------


def _asn(value: Any, info: ValidationInfo) -> int:
    return _checked(peering.asn, allow_private=context_of(info).allow_private_asns)(value)


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
    return _checked(peering.peering_address, context_of(info).peering_lans)(value)


# --------------------------------------------------------------------------------------------
# Field types
# --------------------------------------------------------------------------------------------


def _schema(**extra: Any) -> Any:
    """Attach JSON-schema keywords for editors without enforcing them twice."""
    return Field(json_schema_extra=extra)


Username = Annotated[str, BeforeValidator(_checked(names.person_name)), _schema(pattern=USERNAME_PATTERN)]
GroupName = Annotated[str, BeforeValidator(_group), _schema(pattern=USERNAME_PATTERN)]
FullName = Annotated[str, BeforeValidator(_full_name), _schema(minLength=1, maxLength=MAX_FULL_NAME)]
Uid = Annotated[int, Field(strict=True), AfterValidator(_uid), _schema(minimum=1, maximum=MAX_UID)]
AuthentikName = Annotated[str, BeforeValidator(_authentik), _schema(pattern=AUTHENTIK_PATTERN)]
KubernetesSubject = Annotated[str, BeforeValidator(_kubernetes), _schema(pattern=KUBERNETES_PATTERN)]
Shell = Annotated[str, BeforeValidator(_shell), _schema(pattern=SHELL_PATTERN)]
SshKey = Annotated[str, BeforeValidator(_checked(ssh_key.public_key)), _schema(pattern=ssh_key.PATTERN)]
PasswordHash = Annotated[str, BeforeValidator(_checked(password.password_hash)), _schema(pattern=r"^\$(6|y)\$")]
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
MemoryMax = Annotated[str, BeforeValidator(_checked(budget.memory_max)), _schema(type=["string", "integer"])]
CpuWeight = Annotated[int, BeforeValidator(_checked(budget.cpu_weight)), _schema(minimum=1, maximum=budget.CPU_WEIGHT_MAX)]
TasksMax = Annotated[str, BeforeValidator(_checked(budget.tasks_max)), _schema(type=["string", "integer"])]
PrefixLimit = Annotated[int, Field(strict=True, gt=0, le=peering.MAX_PREFIXES[4])]
PrefixLimitV6 = Annotated[int, Field(strict=True, gt=0, le=peering.MAX_PREFIXES[6])]


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
