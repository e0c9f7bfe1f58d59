"""``zerotier:Member`` through the real dynamic-provider gRPC host, against the controller double.

Every call goes the way ``pulumi up`` sends it: ``python -m pulumi.dynamic`` started as the engine
starts it, ``Configure`` with stack config (the token), the provider pickled by reference, and
Check/Create/Read/Diff/Update/Delete as protobuf messages.  Both API modes run the same lifecycle.
"""
from __future__ import annotations

from typing import Any
from collections.abc import Callable, Iterator

import pytest

from providers.zerotier.member import ZeroTierMemberProvider
from tests.harness.provider_host import DynamicProviderHost, ProviderError, ResourceClient
from tests.harness.zerotier_controller import DEFAULT_NETWORK as NWID
from tests.harness.zerotier_controller import (
    DEFAULT_TOKEN,
    FakeZeroTierController,
    controller_factory,  # noqa: F401  (fixture)
)

MID = "a1b2c3d4e5"
WRONG_TOKEN = "wrong-token-5f1e0c7d"
FAST = {"keystone:zerotierTimeout": "1", "keystone:zerotierRetries": "3"}


@pytest.fixture(scope="module")
def host() -> Iterator[DynamicProviderHost]:
    with DynamicProviderHost(config={"keystone:zerotierToken": DEFAULT_TOKEN, **FAST}) as h:
        yield h


@pytest.fixture(scope="module")
def bad_token_host() -> Iterator[DynamicProviderHost]:
    with DynamicProviderHost(config={"keystone:zerotierToken": WRONG_TOKEN, **FAST}) as h:
        yield h


@pytest.fixture(params=["self_hosted", "central"])
def ctl(request, controller_factory: Callable[..., FakeZeroTierController]) -> FakeZeroTierController:  # noqa: F811
    return controller_factory(request.param)


@pytest.fixture
def member(host: DynamicProviderHost) -> ResourceClient:
    return host.resource(ZeroTierMemberProvider(), "urn:pulumi:test::keystone::keystone:peering:PeerAsn$"
                                                   "pulumi-python:dynamic/zerotier:Member::as64501-zt")


def news(ctl: FakeZeroTierController, **over: Any) -> dict[str, Any]:
    return {"network_id": NWID, "member_id": MID, "ip_assignments": ["10.99.0.2", "fd00:99::2"],
            "name": "AS64501 peer-one", "asn": 64501, "api_mode": ctl.mode, "api_url": ctl.url, **over}


def checked(res: ResourceClient, props: dict[str, Any], olds: dict[str, Any] | None = None) -> dict[str, Any]:
    inputs, failures = res.check(props, olds)
    assert failures == []
    return inputs


def stored(ctl: FakeZeroTierController, mid: str = MID) -> dict[str, Any] | None:
    return ctl.member(NWID, mid)


def test_lifecycle(ctl: FakeZeroTierController, member: ResourceClient) -> None:
    inputs = checked(member, news(ctl))
    id_, outs = member.create(inputs)
    assert id_ == f"{NWID}-{MID}"
    m = stored(ctl)
    assert (m["authorized"], m["ipAssignments"], m["name"]) == (True, ["10.99.0.2", "fd00:99::2"], "AS64501 peer-one")
    assert m["noAutoAssignIps"] is True
    if ctl.mode == "central":
        assert m["description"] == "AS64501"
    assert outs["revision"] == m["revision"]
    assert {k: outs[k] for k in inputs} == inputs

    # refresh: nothing changed out of band
    rid, routs, rinputs = member.read(id_, outs)
    assert (rid, routs, rinputs) == (id_, outs, inputs)
    assert member.diff(id_, outs, inputs).changes is False

    # a second `up` with the same inputs writes nothing
    writes = len(ctl.writes())
    assert member.up(news(ctl), (id_, outs)) == (id_, outs)
    assert len(ctl.writes()) == writes

    # change an address: update in place
    changed = checked(member, news(ctl, ip_assignments=["10.99.0.20", "fd00:99::2"]), outs)
    d = member.diff(id_, outs, changed)
    assert (d.changes, d.replaces) == (True, [])
    outs = member.update(id_, outs, changed)
    assert stored(ctl)["ipAssignments"] == ["10.99.0.20", "fd00:99::2"]
    assert outs["ip_assignments"] == ["10.99.0.20", "fd00:99::2"] and outs["revision"] == stored(ctl)["revision"]
    _, routs, rinputs = member.read(id_, outs)
    assert rinputs["ip_assignments"] == ["10.99.0.20", "fd00:99::2"] and routs == outs

    # someone deauthorizes the member in the controller UI: refresh shows it, the next up repairs it
    ctl.set_member(NWID, MID, authorized=False)
    _, routs, rinputs = member.read(id_, outs)
    assert rinputs["authorized"] is False and routs["revision"] == stored(ctl)["revision"]
    d = member.diff(id_, routs, changed)
    assert d.changes is True and d.replaces == []
    outs = member.update(id_, routs, changed)
    assert stored(ctl)["authorized"] is True and outs["authorized"] is True

    # delete: deauthorized, no addresses, the record (and its name) stays
    member.delete(id_, outs)
    m = stored(ctl)
    assert (m["authorized"], m["ipAssignments"], m["name"]) == (False, [], "AS64501 peer-one")
    member.delete(id_, outs)  # again: still fine
    assert ctl.member_ids(NWID) == [MID]


def test_delete_on_remove_deletes_the_record(ctl: FakeZeroTierController, member: ResourceClient) -> None:
    id_, outs = member.create(checked(member, news(ctl, delete_on_remove=True)))
    member.delete(id_, outs)
    assert stored(ctl) is None
    deauth_then_delete = [(r.method, r.body) for r in ctl.writes()][-2:]
    assert deauth_then_delete[1][0] == "DELETE"
    body = deauth_then_delete[0][1]
    assert (body if ctl.mode == "self_hosted" else body["config"])["authorized"] is False
    member.delete(id_, outs)  # already gone: nothing to do


def test_uppercase_member_id_lands_on_the_lowercase_member(ctl: FakeZeroTierController, member: ResourceClient) -> None:
    inputs = checked(member, news(ctl, member_id="A1B2C3D4E5"))
    assert inputs["member_id"] == MID
    id_, _ = member.create(inputs)
    assert id_ == f"{NWID}-{MID}"
    assert ctl.member_ids(NWID) == [MID]
    assert all(MID in r.path for r in ctl.requests if "/member/" in r.path)


def test_5xx_twice_then_success_converges(ctl: FakeZeroTierController, member: ResourceClient) -> None:
    ctl.fail_next(2, 503)
    id_, outs = member.create(checked(member, news(ctl)))
    assert stored(ctl)["authorized"] is True
    assert [r.status for r in ctl.requests[:3]] == [503, 503, 404]


def test_timeout_then_success_converges(ctl: FakeZeroTierController, member: ResourceClient) -> None:
    inputs = checked(member, news(ctl))
    ctl.delay_next(1, 2.5)  # the first GET outlives the 1 s read timeout
    id_, outs = member.create(inputs)
    assert stored(ctl)["authorized"] is True and outs["ip_assignments"] == ["10.99.0.2", "fd00:99::2"]
    assert ctl.requests[0].path == ctl.requests[1].path


def test_update_retries_a_failing_write(ctl: FakeZeroTierController, member: ResourceClient) -> None:
    id_, outs = member.create(checked(member, news(ctl)))
    ctl.fail_next(2, 502)
    outs = member.update(id_, outs, checked(member, news(ctl, name="renamed"), outs))
    assert stored(ctl)["name"] == "renamed" == outs["name"]


def test_401_is_clear_has_no_secret_and_records_nothing(ctl: FakeZeroTierController,
                                                        bad_token_host: DynamicProviderHost) -> None:
    res = bad_token_host.resource(ZeroTierMemberProvider())
    inputs, failures = res.check(news(ctl))
    assert failures == []
    with pytest.raises(ProviderError) as err:
        res.create(inputs)
    text = err.value.details
    assert "401" in text and "zerotier token secret" in text and f"member {MID}" in text and ctl.url in text
    assert WRONG_TOKEN not in text and DEFAULT_TOKEN not in text
    assert ctl.member_ids(NWID) == [] and ctl.writes() == []


def test_controller_coercion_is_a_verification_error_and_rolled_back(ctl: FakeZeroTierController,
                                                                     member: ResourceClient) -> None:
    ctl.drop_addresses.add("fd00:99::2")
    with pytest.raises(ProviderError) as err:
        member.create(checked(member, news(ctl)))
    text = err.value.details
    assert "silently changed" in text and "ipAssignments" in text and "missing ['fd00:99::2']" in text
    assert "Rolled back" in text
    assert stored(ctl) is None


def test_rollback_never_sends_a_value_the_controller_rewrote(ctl: FakeZeroTierController,
                                                             member: ResourceClient) -> None:
    """A pending member holding ``0.0.0.0`` (what the controller stores for ``10.99.0.999``) cannot be
    restored by a write Keystone would make: the rollback says so instead of sending it."""
    ctl.set_member(NWID, MID, authorized=False, ipAssignments=["10.99.0.999"])
    assert stored(ctl)["ipAssignments"] == ["0.0.0.0"]
    ctl.drop_addresses.add("fd00:99::2")
    with pytest.raises(ProviderError) as err:
        member.create(checked(member, news(ctl)))
    text = err.value.details
    assert "silently changed" in text and "Rolling back failed too" in text and "'0.0.0.0'" in text
    assert all(r.body is None or "0.0.0.0" not in str(r.body) for r in ctl.writes())


def test_coercion_on_update_keeps_state_and_reports(ctl: FakeZeroTierController, member: ResourceClient) -> None:
    id_, outs = member.create(checked(member, news(ctl)))
    ctl.drop_addresses.add("10.99.0.30")
    with pytest.raises(ProviderError, match=r"silently changed.*missing \['10.99.0.30'\]"):
        member.update(id_, outs, checked(member, news(ctl, ip_assignments=["10.99.0.30"]), outs))


def assert_refresh_is_quiet(ctl: FakeZeroTierController, member: ResourceClient, id_: str,
                            outs: dict[str, Any]) -> dict[str, Any]:
    """``pulumi refresh`` then ``pulumi up`` with the same program: no diff, no write.  The refreshed
    outputs are returned (``revision`` follows the controller)."""
    rid, routs, rinputs = member.read(id_, outs)
    assert rid == id_ and rinputs == {k: outs[k] for k in rinputs}
    assert routs == {**outs, "revision": stored(ctl)["revision"]}
    assert member.diff(id_, routs, checked(member, news(ctl), routs)).changes is False
    writes = len(ctl.writes())
    assert member.up(news(ctl), (id_, routs)) == (id_, routs)
    assert len(ctl.writes()) == writes
    return routs


@pytest.mark.parametrize("how", ["join", "nameless_post"])
def test_adopts_a_pending_join_request(ctl: FakeZeroTierController, member: ResourceClient, how: str) -> None:
    """The peer's node joined before Keystone ran (the usual order): its member record has no name."""
    if how == "join":
        ctl.join(NWID, MID)  # the node asked to join: an unauthorized record with its identity
    else:
        ctl.set_member(NWID, MID, authorized=False)  # any write that gives no name
    pending = stored(ctl)
    assert "name" not in pending and pending["authorized"] is False
    id_, outs = member.create(checked(member, news(ctl)))
    m = stored(ctl)
    assert (m["authorized"], m["ipAssignments"], m["name"]) == (True, ["10.99.0.2", "fd00:99::2"], "AS64501 peer-one")
    assert m.get("identity") == pending.get("identity") and m["creationTime"] == pending["creationTime"]
    assert (id_, outs["revision"]) == (f"{NWID}-{MID}", m["revision"])
    outs = assert_refresh_is_quiet(ctl, member, id_, outs)
    # the node asks again once authorized: the record learns its version, nothing else changes
    joined = ctl.join(NWID, MID)
    assert (joined["revision"], joined["vMajor"], joined["name"]) == (outs["revision"] + 1, 1, "AS64501 peer-one")
    assert_refresh_is_quiet(ctl, member, id_, outs)


def test_adopts_a_member_written_in_another_spelling(ctl: FakeZeroTierController, member: ResourceClient) -> None:
    """``A1B2C3D4E5`` and ``a1b2c3d4e5`` are one member; it answers in the spelling of its last write."""
    ctl.set_member(NWID, MID.upper(), authorized=False, ipAssignments=["10.99.0.2"])
    assert ctl.member_ids(NWID) == [MID.upper()]
    id_, outs = member.create(checked(member, news(ctl)))
    assert id_ == f"{NWID}-{MID}" and ctl.member_ids(NWID) == [MID]  # Keystone's write spells it lowercase
    assert stored(ctl)["authorized"] is True
    assert_refresh_is_quiet(ctl, member, id_, outs)


def test_refresh_after_a_write_in_another_spelling(ctl: FakeZeroTierController, member: ResourceClient) -> None:
    """Someone changes the member through the other spelling: refresh shows the change (not an error
    about a different member), ``up`` repairs it, and the next refresh is quiet."""
    id_, outs = member.create(checked(member, news(ctl)))
    ctl.set_member(NWID, MID.upper(), authorized=False)
    assert ctl.member_ids(NWID) == [MID.upper()]
    rid, routs, rinputs = member.read(id_, outs)
    assert (rid, rinputs["member_id"], rinputs["authorized"]) == (id_, MID, False)
    assert routs["revision"] == stored(ctl)["revision"]
    d = member.diff(id_, routs, checked(member, news(ctl), routs))
    assert (d.changes, d.replaces) == (True, [])
    id_, outs = member.up(news(ctl), (id_, routs))
    assert stored(ctl)["authorized"] is True and ctl.member_ids(NWID) == [MID]
    assert_refresh_is_quiet(ctl, member, id_, outs)
    # a spelling-only rewrite (same values) bumps the controller's revision, and is no drift
    ctl.set_member(NWID, MID.upper())
    assert_refresh_is_quiet(ctl, member, id_, outs)


def test_refresh_of_an_address_the_controller_writes_another_way(ctl: FakeZeroTierController,
                                                                 member: ResourceClient) -> None:
    """``::ffff:10.0.0.1`` stays dotted in the controller; Python writes ``::ffff:a00:1``: no drift."""
    id_, outs = member.create(checked(member, news(ctl, ip_assignments=["10.99.0.2", "::ffff:10.99.0.3"])))
    assert stored(ctl)["ipAssignments"] == ["10.99.0.2", "::ffff:10.99.0.3"]
    assert outs["ip_assignments"] == ["10.99.0.2", "::ffff:a63:3"]
    rid, routs, rinputs = member.read(id_, outs)
    assert (rid, routs) == (id_, outs)
    assert member.diff(id_, routs, checked(member, news(ctl, ip_assignments=["10.99.0.2", "::ffff:10.99.0.3"]),
                                           routs)).changes is False


def test_adopts_an_identical_member_without_changing_it(ctl: FakeZeroTierController, member: ResourceClient) -> None:
    ctl.set_member(NWID, MID, authorized=True, ipAssignments=["10.99.0.2", "fd00:99::2"], name="AS64501 peer-one",
                   noAutoAssignIps=True, **({"description": "AS64501"} if ctl.mode == "central" else {}))
    revision = stored(ctl)["revision"]
    member.create(checked(member, news(ctl)))
    assert stored(ctl)["revision"] == revision


def test_refuses_to_take_over_a_different_authorized_member(ctl: FakeZeroTierController,
                                                            member: ResourceClient) -> None:
    ctl.set_member(NWID, MID, authorized=True, ipAssignments=["10.99.0.77"], name="someone else")
    with pytest.raises(ProviderError, match="does not take over.*deauthorize the member"):
        member.create(checked(member, news(ctl)))
    m = stored(ctl)
    assert (m["authorized"], m["ipAssignments"], m["name"]) == (True, ["10.99.0.77"], "someone else")


def test_read_of_a_vanished_member_drops_it(ctl: FakeZeroTierController, member: ResourceClient) -> None:
    id_, outs = member.create(checked(member, news(ctl)))
    ctl.remove_member(NWID, MID)  # deleted out of band
    rid, routs, _ = member.read(id_, outs)
    assert (rid, routs) == ("", {})


def test_read_refuses_to_drop_state_when_the_network_is_unknown(ctl: FakeZeroTierController,
                                                                member: ResourceClient) -> None:
    id_, outs = member.create(checked(member, news(ctl)))
    ctl.remove_network(NWID)
    with pytest.raises(ProviderError, match=f"does not know network {NWID}: refusing to drop member {MID}"):
        member.read(id_, outs)


def test_suspend_and_remove_via_peer_state(ctl: FakeZeroTierController, member: ResourceClient) -> None:
    id_, outs = member.create(checked(member, news(ctl)))
    outs = member.update(id_, outs, checked(member, news(ctl, peer_state="suspended"), outs))
    m = stored(ctl)
    assert (m["authorized"], m["ipAssignments"]) == (False, ["10.99.0.2", "fd00:99::2"])
    outs = member.update(id_, outs, checked(member, news(ctl, peer_state="removed"), outs))
    m = stored(ctl)
    assert (m["authorized"], m["ipAssignments"]) == (False, [])
    assert member.read(id_, outs)[2]["peer_state"] == "removed"


def test_member_id_change_is_a_replacement_new_member_first(ctl: FakeZeroTierController,
                                                            member: ResourceClient) -> None:
    id_, outs = member.create(checked(member, news(ctl)))
    d = member.diff(id_, outs, checked(member, news(ctl, member_id="b2c3d4e5f6"), outs))
    assert (d.changes, d.replaces, d.delete_before_replace) == (True, ["member_id"], False)
    new_id, _ = member.up(news(ctl, member_id="b2c3d4e5f6"), (id_, outs))
    assert new_id == f"{NWID}-b2c3d4e5f6"
    assert stored(ctl, "b2c3d4e5f6")["authorized"] is True and stored(ctl)["authorized"] is False


@pytest.mark.parametrize("over,props,fragments", [
    ({"member_id": "xyz"}, {"member_id"}, ["10 hex digits", "'xyz'"]),
    ({"ip_assignments": ["10.99.0.2/24"]}, {"ip_assignments"}, ["prefix length"]),
    ({"network_id": "8056c2e21c"}, {"network_id"}, ["16 hex digits"]),
    ({"member_id": "0000000000", "ip_assignments": ["fd00::2/64", "10.99.0.2"], "authorized": "yes"},
     {"member_id", "ip_assignments", "authorized"}, ["never stores", "prefix length"]),
    ({"api_mode": "cloud"}, {"api_mode"}, ["central", "self_hosted"]),
    ({"api_url": "https://admin:pw@zt.example"}, {"api_url"}, ["credentials"]),
    ({"peer_state": "gone"}, {"peer_state"}, ["active"]),
])
def test_check_failures_name_the_property(controller_factory, member: ResourceClient, over: dict[str, Any],  # noqa: F811
                                          props: set[str], fragments: list[str]) -> None:
    ctl = controller_factory("self_hosted")
    props_in = news(ctl, **over)
    if over.get("api_url"):
        props_in["api_url"] = over["api_url"]
    _, failures = member.check(props_in)
    assert {p for p, _ in failures} == props
    reasons = " ".join(r for _, r in failures)
    for fragment in fragments:
        assert fragment in reasons
    assert ctl.request_count == 0


def test_token_from_environment_when_config_has_none(controller_factory) -> None:  # noqa: F811
    ctl = controller_factory("self_hosted")
    with DynamicProviderHost(config=FAST, env={"KEYSTONE_ZEROTIER_TOKEN": DEFAULT_TOKEN}) as h:
        res = h.resource(ZeroTierMemberProvider())
        res.create(checked(res, news(ctl)))
    assert stored(ctl)["authorized"] is True


def test_no_token_anywhere_is_a_clear_error(controller_factory, monkeypatch) -> None:  # noqa: F811
    monkeypatch.delenv("KEYSTONE_ZEROTIER_TOKEN", raising=False)  # the provider host inherits this environment
    ctl = controller_factory("self_hosted")
    with DynamicProviderHost(config=FAST) as h:
        res = h.resource(ZeroTierMemberProvider())
        with pytest.raises(ProviderError, match="no ZeroTier API token.*keystone:zerotierToken.*KEYSTONE_ZEROTIER_TOKEN"):
            res.create(checked(res, news(ctl)))
    assert ctl.request_count == 0


def test_provider_pickle_holds_no_token() -> None:
    import base64

    from pulumi.dynamic.dynamic import serialize_provider

    blob = base64.b64decode(serialize_provider(ZeroTierMemberProvider()))
    assert DEFAULT_TOKEN.encode() not in blob and len(blob) < 200
    assert b"providers.zerotier.member" in blob and b"ZeroTierMemberProvider" in blob


def test_preview_with_unknown_values(ctl: FakeZeroTierController, member: ResourceClient) -> None:
    from pulumi.runtime.rpc import UNKNOWN

    id_, outs = member.create(checked(member, news(ctl)))
    inputs, failures = member.check(news(ctl, name=UNKNOWN, member_id="xyz"))
    assert [p for p, _ in failures] == ["member_id"]  # known values are still checked
    inputs, failures = member.check(news(ctl, name=UNKNOWN, member_id="A1B2C3D4E5"))
    assert failures == []
    d = member.diff(id_, outs, inputs)
    assert (d.changes, d.replaces) == (True, [])
    d = member.diff(id_, outs, news(ctl, member_id=UNKNOWN))
    assert (d.changes, d.replaces) == (True, ["member_id"])
    assert ctl.request_count == 3  # the create's GET, POST, GET; a preview calls nothing
