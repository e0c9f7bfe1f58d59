"""ZeroTier members as data: validation, request bodies, answer parsing and verification.

Pure functions only (no HTTP): everything here is tested from saved controller answers.

Facts this module encodes (observed on a ZeroTierOne 1.14.1 controller; see ``docs/zerotier.md``):

* network ids are 16 hex digits, member (node) ids 10 hex digits, and the controller keys both by
  their numeric value: ``ABCDEF0123`` and ``abcdef0123`` are one member, whose ``id`` takes the
  spelling of the last write.  Keystone lowercases every id before it reaches a URL (the spelling a
  node's own join request writes) and compares the ids of an answer by value;
* ``0000000000`` answers 200 but is never stored, and ZeroTier reserves addresses starting ``ff``:
  both are refused;
* a member created by a node's join request (or by any write without a name) has no ``name`` key:
  it parses as the empty name;
* ``ipAssignments`` are bare addresses (no prefix length); the controller never refuses a value but
  rewrites it (``10.99.0.2/24`` becomes ``10.99.0.2``, ``10.99.0.999`` becomes ``0.0.0.0``,
  ``"authorized": "yes"`` deauthorizes), so every field is validated before it is sent
  (:class:`DesiredMember` cannot hold a bad value) and :func:`verify` compares what came back with
  what was asked for.
"""
from __future__ import annotations

import ipaddress
import json
import re
from typing import Annotated, Any, Literal

import pydantic
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, ValidationInfo, field_validator

import validators
from validators import Invalid, peering
from validators.peering import PeerState

Mode = Literal["central", "self_hosted"]

MODES: tuple[str, ...] = ("central", "self_hosted")
DEFAULT_API_URL: dict[str, str] = {
    "central": "https://api.zerotier.com",
    "self_hosted": "http://127.0.0.1:9993",
}
CENTRAL_API_PREFIX = "/api/v1"

_QUOTE_LIMIT = 400


# --- errors ---------------------------------------------------------------------------------------
class ZeroTierError(RuntimeError):
    """Anything that went wrong talking to ZeroTier; the message carries every detail the admin needs."""


class ZeroTierResponseError(ZeroTierError):
    """The API answered, but not with what a member looks like."""


class ZeroTierVerificationError(ZeroTierError):
    """The controller accepted a write but holds something else than what was asked for."""


def clip(text: str, limit: int = _QUOTE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters for an error message."""
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def quote_answer(data: Any, limit: int = _QUOTE_LIMIT) -> str:
    """A short JSON rendering of a decoded API answer for error messages."""
    try:
        text = json.dumps(data, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(data)
    return clip(text, limit)


# --- identifiers and addresses -------------------------------------------------------------------
def normalize_member_id(value: str) -> str:
    """10 hex digits, returned lowercase; ``0000000000`` and reserved ``ff…`` addresses are refused
    (``validators.peering.zerotier_member_id``, the rule the roster uses too)."""
    try:
        return peering.zerotier_member_id(value)
    except Invalid as e:
        raise ValueError(str(e)) from None


def normalize_network_id(value: str) -> str:
    """16 hex digits (controller node address + 6 hex), returned lowercase."""
    try:
        return peering.zerotier_network_id(value)
    except Invalid as e:
        raise ValueError(str(e)) from None


def normalize_ip(value: str) -> str:
    """A bare IPv4 or IPv6 address in canonical form; a prefix length is refused."""
    if not isinstance(value, str):
        raise ValueError(f"an IP address must be a string, got {value!r}")
    if "/" in value:
        raise ValueError(
            f"{value!r} has a prefix length: ZeroTier ipAssignments are bare addresses "
            "(the network's routes carry the prefix), e.g. '10.0.0.5' or 'fd00::5'"
        )
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a valid IPv4 or IPv6 address") from None
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        raise ValueError(f"{value!r} has a zone index (%...): ZeroTier ipAssignments are global addresses")
    if ip.is_unspecified or ip.is_multicast or ip.is_loopback:
        raise ValueError(f"{value!r} is not a unicast host address (the controller writes {ip} for a value it "
                         "cannot parse)" if ip.is_unspecified else f"{value!r} is not a unicast host address")
    return str(ip)


def normalize_ips(values: list[str]) -> list[str]:
    """Every address validated and canonical; duplicates refused (order kept)."""
    out: list[str] = []
    for value in values:
        ip = normalize_ip(value)
        if ip in out:
            raise ValueError(f"address {ip} is listed twice")
        out.append(ip)
    return out


def _canonical_or_raw(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return value


def answer_id(value: str, digits: int) -> str:
    """An id as a controller answered it, lowercased: the controller keys ids by number and writes
    them back in whatever spelling the last request used."""
    if not re.fullmatch(f"[0-9a-fA-F]{{{digits}}}", value):
        raise ValueError(f"expected {digits} hex digits, got {value!r}")
    return value.lower()


def normalize_api_url(mode: str, url: str | None) -> str:
    """The API base URL without a trailing slash (and, for Central, without ``/api/v1``).

    Credentials in the URL are refused: inputs are stored in plain state.
    """
    if url is None or url == "":
        return DEFAULT_API_URL[mode]
    try:
        validators.http_url(url, "ZeroTier API URL")  # no credentials (never echoed), no query
    except Invalid as e:
        raise ValueError(str(e)) from None
    url = url.rstrip("/")
    if mode == "central" and url.endswith(CENTRAL_API_PREFIX):
        url = url[: -len(CENTRAL_API_PREFIX)]
    return url


def check_name(value: str) -> str:
    """A member name or description: any text without control characters."""
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("name must not contain control characters")
    return value


def resource_id(network_id: str, member_id: str) -> str:
    """The Pulumi resource id: ``<network-id>-<member-id>``."""
    return f"{network_id}-{member_id}"


#: What Keystone sends, validated and normalised the same way wherever it is held (the resource's
#: inputs, the member it asks the controller to hold).
NetworkId = Annotated[str, AfterValidator(normalize_network_id)]
MemberId = Annotated[str, AfterValidator(normalize_member_id)]
IpAssignments = Annotated[list[str], AfterValidator(normalize_ips)]
MemberText = Annotated[str, AfterValidator(check_name)]


# --- inputs ---------------------------------------------------------------------------------------
class ZeroTierNetwork(BaseModel):
    """The network a member joins and how Keystone reaches its controller: the part of every
    member's inputs the stack sets once (``keystone:peering.zerotier``, read with the settings' keys
    ``mode`` and ``url``: ``settings/peering.py``)."""

    model_config = ConfigDict(extra="forbid")

    network_id: NetworkId = Field(description="ZeroTier network id, 16 hex digits (lowercased).")
    delete_on_remove: StrictBool = Field(
        default=False, description="On resource delete, DELETE the member after deauthorizing it (default: keep it)."
    )
    api_mode: Mode = Field(description='"central" (ZeroTier Central v1) or "self_hosted" (a controller\'s /controller API).')
    api_url: str | None = Field(
        default=None, validate_default=True,
        description="API base URL; default https://api.zerotier.com (central) or http://127.0.0.1:9993 (self_hosted). "
        "No credentials: the token is keystone:zerotierToken.",
    )

    @field_validator("api_url")
    @classmethod
    def _url(cls, v: str | None, info: ValidationInfo) -> str:
        # api_mode is declared first, so it is validated already (absent from info.data if invalid)
        return normalize_api_url(info.data.get("api_mode", "self_hosted"), v)


class MemberInputs(ZeroTierNetwork):
    """The inputs of ``zerotier:Member`` (validated and normalised in ``check``)."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)  # peer_state stays a plain string in state

    member_id: MemberId = Field(description="The peer's ZeroTier node address, 10 hex digits (lowercased).")
    authorized: StrictBool = Field(default=True, description="Authorize the member (only while peer_state is active).")
    ip_assignments: IpAssignments = Field(default_factory=list, description="Bare IPv4/IPv6 addresses, no prefix length.")
    name: MemberText = Field(default="", description="Member name shown in the controller.")
    asn: int | None = Field(default=None, ge=1, le=4294967295, description="The peer's AS number (Central description).")
    peer_state: PeerState = Field(
        default="active",
        description="active: as given; suspended: deauthorized, addresses kept; removed: deauthorized, no addresses.",
    )


# --- desired and observed member ------------------------------------------------------------------
class DesiredMember(BaseModel):
    """What Keystone asks the controller to hold.  ``name=None`` leaves the name alone.

    Validated on construction with the same rules as :class:`MemberInputs`, so nothing the
    controller would silently rewrite can reach a request body (the rollback builds one from what
    the controller held)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    network_id: NetworkId
    member_id: MemberId
    authorized: StrictBool
    ip_assignments: Annotated[tuple[str, ...], AfterValidator(lambda v: tuple(normalize_ips(list(v))))]
    name: MemberText | None = None
    description: MemberText | None = None


class MemberState(BaseModel):
    """A member as the controller answered it (both modes parse to this); ids lowercased, a missing
    name empty."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    network_id: str
    member_id: str
    authorized: bool
    ip_assignments: tuple[str, ...]
    name: str
    revision: int | None = None


def desired_from_inputs(inputs: MemberInputs) -> DesiredMember:
    """``peer_state`` decides: suspended keeps the addresses reserved, removed releases them."""
    authorized = inputs.authorized and inputs.peer_state == "active"
    ips = () if inputs.peer_state == "removed" else tuple(inputs.ip_assignments)
    return DesiredMember(
        network_id=inputs.network_id,
        member_id=inputs.member_id,
        authorized=authorized,
        ip_assignments=ips,
        name=inputs.name,
        description=f"AS{inputs.asn}" if inputs.asn is not None else None,
    )


def deauthorized(network_id: str, member_id: str) -> DesiredMember:
    """What a deleted resource leaves behind: deauthorized, no addresses, name untouched."""
    return DesiredMember(network_id=network_id, member_id=member_id, authorized=False, ip_assignments=())


def build_member_body(mode: str, desired: DesiredMember) -> dict[str, Any]:
    """The JSON body of the create-or-update call.

    ``noAutoAssignIps`` is always set: a peering LAN needs exactly the addresses in the roster, and
    an address auto-assigned from a pool on join would show up as drift (and could collide).
    """
    config: dict[str, Any] = {
        "authorized": bool(desired.authorized),
        "ipAssignments": list(desired.ip_assignments),
        "noAutoAssignIps": True,
    }
    if mode == "self_hosted":
        body = dict(config)
        if desired.name is not None:
            body["name"] = desired.name
        return body
    if mode == "central":
        body = {"config": config}
        if desired.name is not None:
            body["name"] = desired.name
        if desired.description is not None:
            body["description"] = desired.description
        return body
    raise ValueError(f"unknown ZeroTier API mode {mode!r} (expected one of {', '.join(MODES)})")


# --- parsing answers ------------------------------------------------------------------------------
def _member_id(v: str) -> str:
    return answer_id(v, 10)


def _network_id(v: str) -> str:
    return answer_id(v, 16)


AnsweredMemberId = Annotated[str, AfterValidator(_member_id)]
AnsweredNetworkId = Annotated[str, AfterValidator(_network_id)]


class _SelfHostedAnswer(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    id: AnsweredMemberId
    nwid: AnsweredNetworkId
    authorized: bool
    ipAssignments: list[str]
    name: str = ""  # absent until a write gives one (a node's join request does not)
    revision: int
    objtype: Literal["member"]


class _CentralConfig(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    authorized: bool
    ipAssignments: list[str]
    revision: int | None = None


class _CentralAnswer(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    id: str
    networkId: AnsweredNetworkId
    nodeId: AnsweredMemberId
    name: str | None = None
    config: _CentralConfig


def _problems(err: pydantic.ValidationError) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "(answer)"
        parts.append(f"{loc}: {e['msg'].lower()}" + ("" if e["type"] == "missing" else f" (got {e.get('input')!r:.60})"))
    return "; ".join(parts)


def parse_member(mode: str, data: Any) -> MemberState:
    """Validate one member answer; anything unexpected raises :class:`ZeroTierResponseError` quoting it."""
    if not isinstance(data, dict):
        raise ZeroTierResponseError(
            f"ZeroTier {mode} API answered a {type(data).__name__} where a member object was expected; got: {quote_answer(data)}"
        )
    try:
        if mode == "self_hosted":
            sh = _SelfHostedAnswer.model_validate(data)
            return MemberState(
                network_id=sh.nwid, member_id=sh.id, authorized=sh.authorized,
                ip_assignments=tuple(_canonical_or_raw(ip) for ip in sh.ipAssignments),
                name=sh.name, revision=sh.revision,
            )
        if mode == "central":
            c = _CentralAnswer.model_validate(data)
            return MemberState(
                network_id=c.networkId, member_id=c.nodeId, authorized=c.config.authorized,
                ip_assignments=tuple(_canonical_or_raw(ip) for ip in c.config.ipAssignments),
                name=c.name or "", revision=c.config.revision,
            )
    except pydantic.ValidationError as e:
        raise ZeroTierResponseError(
            f"ZeroTier {mode} API answered a member that does not look like one ({_problems(e)}); got: {quote_answer(data)}"
        ) from None
    raise ValueError(f"unknown ZeroTier API mode {mode!r} (expected one of {', '.join(MODES)})")


# --- verification and drift -----------------------------------------------------------------------
def verify(desired: DesiredMember, observed: MemberState) -> list[str]:
    """Every difference between what was asked for and what the controller holds (empty: converged).

    Addresses compare as sets of canonical forms (the controller may reorder or re-format them).
    """
    problems: list[str] = []
    if (observed.network_id, observed.member_id) != (desired.network_id, desired.member_id):
        problems.append(
            f"member: asked for {desired.network_id}/{desired.member_id}, "
            f"controller answered {observed.network_id}/{observed.member_id}"
        )
    if observed.authorized is not desired.authorized:
        problems.append(f"authorized: asked for {str(desired.authorized).lower()}, controller has "
                        f"{str(observed.authorized).lower()}")
    want, have = set(desired.ip_assignments), set(observed.ip_assignments)
    if want != have:
        detail = []
        if want - have:
            detail.append(f"missing {sorted(want - have)}")
        if have - want:
            detail.append(f"unexpected {sorted(have - want)}")
        problems.append(f"ipAssignments: asked for {sorted(want)}, controller has {sorted(have)} ({', '.join(detail)})")
    if desired.name is not None and observed.name != desired.name:
        problems.append(f"name: asked for {desired.name!r}, controller has {observed.name!r}")
    return problems


def takeover_conflict(desired: DesiredMember, existing: MemberState) -> str | None:
    """Why an existing member must not be adopted on create, or ``None``.

    A member that is not authorized is a pending join request (or a leftover deauthorized member):
    configuring it is what Keystone is for.  An *authorized* member with other addresses is in use by
    someone else (or another stack): refuse, and say how to resolve it.
    """
    if not existing.authorized or set(existing.ip_assignments) == set(desired.ip_assignments):
        return None
    return (
        f"ZeroTier member {existing.member_id} on network {existing.network_id} already exists, is authorized "
        f"and has addresses {sorted(existing.ip_assignments)} (name {existing.name!r}), while the roster asks for "
        f"{sorted(desired.ip_assignments)}; Keystone does not take over a member configured differently. "
        "To resolve: deauthorize the member in the controller (or make the roster's ip_assignments match) "
        "and run `pulumi up` again."
    )


def inputs_from_observed(inputs: MemberInputs, observed: MemberState) -> MemberInputs:
    """The inputs that would produce ``observed`` — what ``read`` (refresh) records, so drift shows
    in the next preview as a change back to the program's inputs.

    Already-converged inputs come back unchanged.
    """
    data = inputs.model_dump()
    data["name"] = observed.name
    ips = list(observed.ip_assignments)
    if observed.authorized:
        data.update(peer_state="active", authorized=True, ip_assignments=ips)
    elif inputs.peer_state == "active":
        data.update(authorized=False, ip_assignments=ips)
    elif inputs.peer_state == "suspended" or ips:
        data.update(peer_state="suspended", ip_assignments=ips)
    # removed and still without addresses: unchanged
    try:
        return MemberInputs.model_validate(data)
    except pydantic.ValidationError as e:
        raise ZeroTierResponseError(
            f"ZeroTier member {observed.network_id}/{observed.member_id} holds values Keystone cannot represent "
            f"({_problems(e)}): authorized={observed.authorized}, ipAssignments={list(observed.ip_assignments)}, "
            f"name={observed.name!r}"
        ) from None
