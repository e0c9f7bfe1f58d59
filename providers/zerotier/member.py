"""``zerotier:Member`` — one peer's membership of a ZeroTier network.  Resource id: ``<network-id>-<member-id>``.

The endpoint comes from inputs (``api_mode``, ``api_url``); the API token never does: it is read
in ``configure`` from stack config ``keystone:zerotierToken`` (set it with
``pulumi config set --secret keystone:zerotierToken …``), else from env ``KEYSTONE_ZEROTIER_TOKEN``,
and kept in a module-level dict — never on the provider instance, which is pickled into state.
Optional stack config: ``keystone:zerotierTimeout`` (read timeout, seconds, default 20) and
``keystone:zerotierRetries`` (retries on 5xx/timeouts, default 4).

* create: read the member; an existing member that is authorized with other addresses is refused
  (see :func:`takeover_conflict`), anything else is adopted — a pending join request (a node that
  joined before Keystone ran: no name yet), a member written under another spelling of its id, a
  matching member; then upsert, verify the answer, read back and verify again.  If verification
  fails the write is rolled back (a member Keystone created is deleted, an adopted one restored)
  so nothing unrecorded stays.
* read (refresh): the member as it is, returned as inputs too, so an out-of-band change (say, a
  deauthorization in the controller UI) shows in the next preview and ``up`` puts it back.  Ids
  compare by value: the controller answers in the spelling of the member's last write.  A member
  that has vanished returns an empty id — Pulumi drops it from state and the next ``up`` recreates
  it — but only when the network itself still answers; a missing network (wrong URL, wrong
  controller) is an error, so a misconfiguration never silently forgets every member.
* update: upsert, read back, verify.
* delete: deauthorize (``authorized: false``, no addresses) and verify; the member record stays
  (history, name) unless ``delete_on_remove``, which then DELETEs it.  Already gone: nothing to do.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any, ClassVar
from collections.abc import Callable, Sequence

import pulumi
from pulumi.dynamic import ConfigureRequest, CreateResult, ReadResult, Resource, UpdateResult

from providers.base import KeystoneProvider, resource_props
from providers.zerotier.client import RetryPolicy, Timeouts, ZeroTierClient
from providers.zerotier.model import (
    DesiredMember,
    MemberInputs,
    MemberState,
    ZeroTierError,
    ZeroTierResponseError,
    ZeroTierVerificationError,
    build_member_body,
    deauthorized,
    desired_from_inputs,
    inputs_from_observed,
    parse_member,
    resource_id,
    takeover_conflict,
    verify,
)

TOKEN_CONFIG_KEY = "keystone:zerotierToken"
TIMEOUT_CONFIG_KEY = "keystone:zerotierTimeout"
RETRIES_CONFIG_KEY = "keystone:zerotierRetries"
TOKEN_ENV = "KEYSTONE_ZEROTIER_TOKEN"
OUTPUT_ONLY = ("revision",)

# Process-wide settings from stack config (one dynamic-provider process serves one stack).
_SETTINGS: dict[str, Any] = {}
_SETTINGS_LOCK = threading.Lock()


def _number(key: str, value: Any, kind: Callable[[Any], Any], low: float, high: float) -> Any:
    try:
        n = kind(value)
    except (TypeError, ValueError):
        raise ZeroTierError(f"stack config {key} must be a number, got {value!r}") from None
    if not low <= n <= high:
        raise ZeroTierError(f"stack config {key} must be between {low} and {high}, got {value!r}")
    return n


def configure_settings(get: Callable[[str], Any]) -> None:
    """Read the token and HTTP settings from stack config (``get`` is ``ConfigureRequest.config.get``)."""
    token = get(TOKEN_CONFIG_KEY)
    timeout, retries = get(TIMEOUT_CONFIG_KEY), get(RETRIES_CONFIG_KEY)
    read = _number(TIMEOUT_CONFIG_KEY, timeout, float, 0.1, 600) if timeout not in (None, "") else Timeouts().read
    policy = RetryPolicy(retries=_number(RETRIES_CONFIG_KEY, retries, int, 0, 20)) if retries not in (None, "") \
        else RetryPolicy()
    with _SETTINGS_LOCK:
        _SETTINGS.clear()
        _SETTINGS.update(
            token=str(token) if token else None,
            timeouts=Timeouts(connect=min(Timeouts().connect, read), read=read),
            policy=policy,
        )


def client_for(inputs: MemberInputs) -> ZeroTierClient:
    token = _SETTINGS.get("token") or os.environ.get(TOKEN_ENV)
    assert inputs.api_url is not None  # filled in by MemberInputs
    return ZeroTierClient(inputs.api_mode, inputs.api_url, token or "",
                          timeouts=_SETTINGS.get("timeouts", Timeouts()), policy=_SETTINGS.get("policy", RetryPolicy()))


def _label(mode: str) -> str:
    return "ZeroTier Central" if mode == "central" else "self-hosted ZeroTier controller"


def _write_and_verify(client: ZeroTierClient, desired: DesiredMember) -> MemberState:
    """Upsert, then check both the write's answer and a fresh read against what was asked for: the
    controller rewrites values instead of refusing them, so trust nothing unread."""
    nwid, mid, mode = desired.network_id, desired.member_id, client.mode
    written = parse_member(mode, client.upsert_member(nwid, mid, build_member_body(mode, desired)))
    raw = client.get_member(nwid, mid)
    if raw is None:
        raise ZeroTierVerificationError(
            f"{_label(mode)} at {client.base_url} accepted the write of member {mid} on network {nwid} "
            "but does not have it when read back")
    observed = parse_member(mode, raw)
    problems = verify(desired, written) or verify(desired, observed)
    if problems:
        raise ZeroTierVerificationError(
            f"{_label(mode)} at {client.base_url} silently changed what Keystone wrote for member {mid} on network "
            f"{nwid}: {'; '.join(problems)}. The controller coerces values it does not accept instead of refusing "
            "them; check the addresses are valid for the network and the controller version.")
    return observed


def _rollback(client: ZeroTierClient, desired: DesiredMember, before: MemberState | None) -> str:
    nwid, mid = desired.network_id, desired.member_id
    try:
        if before is None:
            client.delete_member(nwid, mid)
            return "Rolled back: the member Keystone had just created was deleted again."
        restore = DesiredMember(network_id=nwid, member_id=mid, authorized=before.authorized,
                                ip_assignments=before.ip_assignments, name=before.name)
        client.upsert_member(nwid, mid, build_member_body(client.mode, restore))
        return (f"Rolled back: the member was restored to authorized={str(before.authorized).lower()}, "
                f"ipAssignments={list(before.ip_assignments)}.")
    except (ZeroTierError, ValueError) as e:  # ValueError: the member held values Keystone never sends
        return f"Rolling back failed too ({e}); check member {mid} on network {nwid} by hand."


def _outputs(inputs: MemberInputs, observed: MemberState) -> dict[str, Any]:
    return {**inputs.model_dump(mode="json"), "revision": observed.revision}


class ZeroTierMemberProvider(KeystoneProvider):
    Inputs = MemberInputs
    IDENTITY = ("network_id", "member_id")
    # Two different members never collide: bring the new one up before the old one is deauthorized.
    DELETE_BEFORE_REPLACE: ClassVar[bool] = False
    OUTPUTS = OUTPUT_ONLY

    def configure(self, req: ConfigureRequest) -> None:
        configure_settings(req.config.get)

    def _state_inputs(self, id_: str, props: dict[str, Any]) -> MemberInputs:
        try:
            return self.inputs(props)
        except Exception as e:  # noqa: BLE001 - report which state is unusable
            raise ZeroTierError(f"state of ZeroTier member {id_} does not hold usable inputs: {e}") from None

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = self.inputs(props)
        client = client_for(inputs)
        desired = desired_from_inputs(inputs)
        raw = client.get_member(inputs.network_id, inputs.member_id)
        before = parse_member(client.mode, raw) if raw is not None else None
        if before is not None:
            conflict = takeover_conflict(desired, before)
            if conflict:
                raise ZeroTierError(conflict)
        try:
            observed = _write_and_verify(client, desired)
        except ZeroTierVerificationError as e:
            raise ZeroTierVerificationError(f"{e} {_rollback(client, desired, before)}") from None
        return CreateResult(resource_id(inputs.network_id, inputs.member_id), _outputs(inputs, observed))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = self._state_inputs(id_, props)
        client = client_for(inputs)
        raw = client.get_member(inputs.network_id, inputs.member_id)
        if raw is None:
            if not client.network_exists(inputs.network_id):
                raise ZeroTierError(
                    f"{_label(client.mode)} at {client.base_url} does not know network {inputs.network_id}: refusing "
                    f"to drop member {inputs.member_id} from state. Check api_url/api_mode and the network id.")
            return ReadResult("", {})
        observed = parse_member(client.mode, raw)
        if (observed.network_id, observed.member_id) != (inputs.network_id, inputs.member_id):
            raise ZeroTierResponseError(
                f"{_label(client.mode)} at {client.base_url} answered member {observed.network_id}/"
                f"{observed.member_id} when asked for {inputs.network_id}/{inputs.member_id}")
        refreshed = inputs_from_observed(inputs, observed).model_dump(mode="json")
        return ReadResult(id_, {**refreshed, "revision": observed.revision}, refreshed)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs = self.inputs(news)
        observed = _write_and_verify(client_for(inputs), desired_from_inputs(inputs))
        return UpdateResult(_outputs(inputs, observed))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        inputs = self._state_inputs(id_, props)
        client = client_for(inputs)
        if client.get_member(inputs.network_id, inputs.member_id) is None:
            return
        _write_and_verify(client, deauthorized(inputs.network_id, inputs.member_id))
        if inputs.delete_on_remove:
            client.delete_member(inputs.network_id, inputs.member_id)


@dataclass
class ZeroTierMemberArgs:
    """Inputs of :class:`ZeroTierMember` (validated by the provider's ``check``)."""

    network_id: pulumi.Input[str]
    """ZeroTier network id, 16 hex digits."""
    member_id: pulumi.Input[str]
    """The peer's ZeroTier node address, 10 hex digits (any case; stored lowercase)."""
    api_mode: pulumi.Input[str]
    """``"central"`` (ZeroTier Central v1) or ``"self_hosted"`` (a controller's ``/controller`` API)."""
    api_url: pulumi.Input[str] | None = None
    """API base URL; default ``https://api.zerotier.com`` (central) or ``http://127.0.0.1:9993``."""
    authorized: pulumi.Input[bool] = True
    """Authorize the member while ``peer_state`` is ``active``."""
    ip_assignments: pulumi.Input[Sequence[pulumi.Input[str]]] = field(default_factory=list)
    """Bare IPv4/IPv6 addresses on the peering LAN (no prefix length)."""
    name: pulumi.Input[str] = ""
    """Member name shown in the controller."""
    asn: pulumi.Input[int] | None = None
    """The peer's AS number (recorded; Central's member description becomes ``AS<asn>``)."""
    peer_state: pulumi.Input[str] = "active"
    """``active``; ``suspended`` (deauthorized, addresses kept); ``removed`` (deauthorized, none)."""
    delete_on_remove: pulumi.Input[bool] = False
    """When the resource is deleted, DELETE the member after deauthorizing it (default: keep the record)."""


class ZeroTierMember(Resource, module="zerotier", name="Member"):
    """A ZeroTier network member (``pulumi-python:dynamic/zerotier:Member``), id ``<network-id>-<member-id>``."""

    network_id: pulumi.Output[str]
    member_id: pulumi.Output[str]
    api_mode: pulumi.Output[str]
    api_url: pulumi.Output[str]
    authorized: pulumi.Output[bool]
    ip_assignments: pulumi.Output[list[str]]
    name: pulumi.Output[str]
    asn: pulumi.Output[int | None]
    peer_state: pulumi.Output[str]
    delete_on_remove: pulumi.Output[bool]
    revision: pulumi.Output[int | None]
    """The controller's revision counter of the member after the last write or refresh."""

    def __init__(self, resource_name: str, args: ZeroTierMemberArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(ZeroTierMemberProvider(), resource_name, resource_props(args, OUTPUT_ONLY), opts)
