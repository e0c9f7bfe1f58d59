"""Pure ZeroTier functions from saved controller answers: parsing, validation, bodies, verification."""
from __future__ import annotations

import itertools
import json
import pathlib
from typing import Any

import pytest

from providers.base import check_failures
from providers.zerotier.model import (
    DesiredMember,
    MemberInputs,
    MemberState,
    ZeroTierResponseError,
    build_member_body,
    deauthorized,
    desired_from_inputs,
    inputs_from_observed,
    normalize_api_url,
    normalize_ip,
    normalize_member_id,
    normalize_network_id,
    parse_member,
    resource_id,
    takeover_conflict,
    verify,
)

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
NWID = "8056c2e21c000001"


def answer(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def inputs(**over: Any) -> MemberInputs:
    base: dict[str, Any] = dict(network_id=NWID, member_id="a1b2c3d4e5", ip_assignments=["10.99.0.2", "fd00:99::2"],
                                name="AS64501 peer-one", asn=64501, api_mode="self_hosted")
    return MemberInputs.model_validate({**base, **over})


# --- parsing: one generic runner over parse_cases.json --------------------------------------------
CASES = json.loads((FIXTURES / "parse_cases.json").read_text())


@pytest.mark.parametrize("case", CASES, ids=[f"{c['mode']}:{c['file']}" for c in CASES])
def test_parse_member(case: dict[str, Any]) -> None:
    data = answer(case["file"])
    if "error" in case:
        with pytest.raises(ZeroTierResponseError) as err:
            parse_member(case["mode"], data)
        for fragment in case["error"]:
            assert fragment in str(err.value), str(err.value)
        assert case["mode"] in str(err.value)
    else:
        state = parse_member(case["mode"], data)
        assert state.model_dump(mode="json") == case["expect"]


@pytest.mark.parametrize("data", [None, "", "<html>502 Bad Gateway</html>", 42, ["a1b2c3d4e5"]])
def test_parse_member_rejects_non_objects_and_quotes_them(data: Any) -> None:
    with pytest.raises(ZeroTierResponseError, match="where a member object was expected") as err:
        parse_member("self_hosted", data)
    assert json.dumps(data)[:20] in str(err.value)


def test_parse_member_truncates_long_answers() -> None:
    with pytest.raises(ZeroTierResponseError) as err:
        parse_member("self_hosted", {"junk": "x" * 5000})
    assert len(str(err.value)) < 1000 and "chars)" in str(err.value)


# --- validation -----------------------------------------------------------------------------------
@pytest.mark.parametrize("raw,expected", [
    ("a1b2c3d4e5", "a1b2c3d4e5"), ("A1B2C3D4E5", "a1b2c3d4e5"), ("AbCdEf0123", "abcdef0123"), ("0000000001", "0000000001"),
])
def test_member_id_normalised_lowercase(raw: str, expected: str) -> None:
    assert normalize_member_id(raw) == expected


@pytest.mark.parametrize("raw,fragment", [
    ("xyz", "10 hex digits"), ("a1b2c3d4e", "10 hex digits"), ("a1b2c3d4e5f", "10 hex digits"),
    ("g1b2c3d4e5", "10 hex digits"), ("", "10 hex digits"), (" a1b2c3d4e5", "10 hex digits"),
    ("0000000000", "never stores"), ("ff00000001", "reserved"), ("FF12345678", "reserved"), (1234567890, "10 hex"),
])
def test_member_id_rejected(raw: Any, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        normalize_member_id(raw)


@pytest.mark.parametrize("raw,expected", [("8056c2e21c000001", "8056c2e21c000001"), ("8056C2E21C000001", "8056c2e21c000001")])
def test_network_id(raw: str, expected: str) -> None:
    assert normalize_network_id(raw) == expected


@pytest.mark.parametrize("raw", ["8056c2e21c00001", "8056c2e21c0000011", "8056c2e21c00000z", "", "8056c2e21c-00001"])
def test_network_id_rejected(raw: str) -> None:
    with pytest.raises(ValueError, match="16 hex digits"):
        normalize_network_id(raw)


@pytest.mark.parametrize("raw,expected", [
    ("10.99.0.2", "10.99.0.2"), ("fd00:99::2", "fd00:99::2"), ("FD00:0099:0000:0000:0000:0000:0000:0002", "fd00:99::2"),
    ("2001:db8::1", "2001:db8::1"), ("192.0.2.250", "192.0.2.250"),
])
def test_ip_canonical(raw: str, expected: str) -> None:
    assert normalize_ip(raw) == expected


@pytest.mark.parametrize("raw,fragment", [
    ("10.99.0.2/24", "prefix length"), ("fd00::2/64", "prefix length"), ("10.99.0.2/32", "prefix length"),
    ("10.99.0", "not a valid"), ("300.1.1.1", "not a valid"), ("host.example", "not a valid"), ("", "not a valid"),
    (" 10.99.0.2", "not a valid"), ("fe80::1%eth0", "zone index"), (167903234, "must be a string"),
    ("10.99.0.999", "not a valid"), ("0.0.0.0", "cannot parse"), ("::", "cannot parse"),
    ("224.0.0.5", "not a unicast"), ("ff02::1", "not a unicast"), ("127.0.0.1", "not a unicast"),
])
def test_ip_rejected(raw: Any, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        normalize_ip(raw)


def test_inputs_normalise_ids_ips_and_url() -> None:
    i = inputs(member_id="A1B2C3D4E5", network_id="8056C2E21C000001",
               ip_assignments=["FD00:99:0::2", "10.99.0.2"], api_mode="central", api_url="https://api.zerotier.com/api/v1/")
    assert (i.member_id, i.network_id) == ("a1b2c3d4e5", NWID)
    assert i.ip_assignments == ["fd00:99::2", "10.99.0.2"]
    assert i.api_url == "https://api.zerotier.com"


@pytest.mark.parametrize("mode,url,expected", [
    ("central", None, "https://api.zerotier.com"), ("self_hosted", None, "http://127.0.0.1:9993"),
    ("self_hosted", "http://zt-ctl.internal:9993/", "http://zt-ctl.internal:9993"),
    ("central", "https://api.zerotier.com/api/v1", "https://api.zerotier.com"),
    ("self_hosted", "http://[fd00::1]:9993", "http://[fd00::1]:9993"),
])
def test_api_url(mode: str, url: str | None, expected: str) -> None:
    assert normalize_api_url(mode, url) == expected


@pytest.mark.parametrize("url,fragment", [
    ("https://user:secret@api.zerotier.com", "credentials"), ("ftp://x", "http"), ("api.zerotier.com", "http"),
    ("http://x:9993/?token=1", "no query"),
])
def test_api_url_rejected(url: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        normalize_api_url("self_hosted", url)


def test_check_failures_name_each_property() -> None:
    news = {"network_id": NWID, "member_id": "xyz", "ip_assignments": ["10.99.0.2/24"], "api_mode": "cloud",
            "authorized": "yes", "asn": 0, "peer_state": "gone", "bogus": 1}
    _, failures = check_failures(MemberInputs, news)
    props = {f.property for f in failures}
    assert props == {"member_id", "ip_assignments", "api_mode", "authorized", "asn", "peer_state", "bogus"}
    by_prop = {f.property: f.reason for f in failures}
    assert "10 hex digits" in by_prop["member_id"] and "'xyz'" in by_prop["member_id"]
    assert "prefix length" in by_prop["ip_assignments"]


def test_inputs_refuse_duplicate_addresses_and_control_characters() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        inputs(ip_assignments=["fd00:99::2", "FD00:99:0:0::2"])
    with pytest.raises(ValueError, match="control characters"):
        inputs(name="peer\none")


def test_asn_accepts_the_float_the_engine_sends() -> None:
    assert inputs(asn=64501.0).asn == 64501


# --- desired state and bodies ---------------------------------------------------------------------
@pytest.mark.parametrize("state,authorized,ips", [
    ("active", True, ("10.99.0.2", "fd00:99::2")), ("suspended", False, ("10.99.0.2", "fd00:99::2")),
    ("removed", False, ()),
])
def test_peer_state_decides(state: str, authorized: bool, ips: tuple[str, ...]) -> None:
    d = desired_from_inputs(inputs(peer_state=state))
    assert (d.authorized, d.ip_assignments, d.name, d.description) == (authorized, ips, "AS64501 peer-one", "AS64501")


def test_explicit_deauthorization_while_active() -> None:
    assert desired_from_inputs(inputs(authorized=False)).authorized is False


def test_body_self_hosted() -> None:
    assert build_member_body("self_hosted", desired_from_inputs(inputs())) == {
        "authorized": True, "ipAssignments": ["10.99.0.2", "fd00:99::2"], "noAutoAssignIps": True,
        "name": "AS64501 peer-one",
    }


def test_body_central() -> None:
    assert build_member_body("central", desired_from_inputs(inputs(api_mode="central"))) == {
        "name": "AS64501 peer-one", "description": "AS64501",
        "config": {"authorized": True, "ipAssignments": ["10.99.0.2", "fd00:99::2"], "noAutoAssignIps": True},
    }


@pytest.mark.parametrize("mode", ["self_hosted", "central"])
def test_deauthorize_body_leaves_name_alone(mode: str) -> None:
    body = build_member_body(mode, deauthorized(NWID, "a1b2c3d4e5"))
    assert "name" not in body and "description" not in body
    config = body if mode == "self_hosted" else body["config"]
    assert (config["authorized"], config["ipAssignments"]) == (False, [])


def test_body_unknown_mode() -> None:
    with pytest.raises(ValueError, match="unknown ZeroTier API mode"):
        build_member_body("cloud", deauthorized(NWID, "a1b2c3d4e5"))


def test_resource_id() -> None:
    assert resource_id(NWID, "a1b2c3d4e5") == "8056c2e21c000001-a1b2c3d4e5"


# --- verification (coercion detection) ------------------------------------------------------------
WANT = desired_from_inputs(inputs())


@pytest.mark.parametrize("fixture,mode,problems", [
    ("self_hosted/member_authorized.json", "self_hosted", []),
    ("self_hosted/member_ipv6_long_form.json", "self_hosted", []),
    ("central/member_authorized.json", "central", []),
    ("self_hosted/member_dropped_address.json", "self_hosted", ["ipAssignments", "missing ['fd00:99::2']"]),
    ("self_hosted/member_deauthorized.json", "self_hosted", ["authorized: asked for true, controller has false"]),
    ("self_hosted/member_uppercase_id.json", "self_hosted", []),  # the same member: ids are numbers
    ("self_hosted/member_joined.json", "self_hosted", []),
    ("self_hosted/member_pending.json", "self_hosted", ["member:", "authorized", "ipAssignments", "name:"]),
    ("self_hosted/member_rewritten_addresses.json", "self_hosted",
     ["unexpected ['0.0.0.0', '::', '::ffff:a00:1']", "missing ['fd00:99::2']"]),
])
def test_verify(fixture: str, mode: str, problems: list[str]) -> None:
    found = verify(WANT, parse_member(mode, answer(fixture)))
    if not problems:
        assert found == []
    text = "\n".join(found)
    for fragment in problems:
        assert fragment in text, text


def test_verify_compares_addresses_by_value() -> None:
    """The controller writes ``inet_ntop`` text (``::ffff:10.0.0.1`` dotted), Python another form."""
    d = DesiredMember(network_id=NWID, member_id="A1B2C3D4E5", authorized=True,
                      ip_assignments=("10.99.0.2", "::ffff:10.0.0.1"))
    assert d.ip_assignments == ("10.99.0.2", "::ffff:a00:1") and d.member_id == "a1b2c3d4e5"
    assert verify(d, parse_member("self_hosted", {**answer("self_hosted/member_authorized.json"),
                                                  "ipAssignments": ["::ffff:10.0.0.1", "10.99.0.2"]})) == []


@pytest.mark.parametrize("field,value,fragment", [
    ("member_id", "0000000000", "never stores"), ("network_id", "8056c2e21c", "16 hex digits"),
    ("ip_assignments", ("10.99.0.2/24",), "prefix length"), ("ip_assignments", ("10.99.0.999",), "not a valid"),
    ("ip_assignments", ("0.0.0.0",), "cannot parse"), ("ip_assignments", ("10.0.0.1", "10.0.0.1"), "listed twice"),
    ("authorized", "yes", "valid boolean"), ("name", "a\tb", "control characters"),
    ("description", "AS1\n", "control characters"),
])
def test_desired_member_refuses_what_the_controller_would_rewrite(field: str, value: Any, fragment: str) -> None:
    base: dict[str, Any] = dict(network_id=NWID, member_id="a1b2c3d4e5", authorized=True, ip_assignments=())
    with pytest.raises(ValueError, match=fragment):
        DesiredMember(**{**base, field: value})


def test_verify_skips_name_when_not_asked() -> None:
    observed = parse_member("self_hosted", answer("self_hosted/member_deauthorized.json"))
    d = DesiredMember(network_id=NWID, member_id="a1b2c3d4e5", authorized=False,
                      ip_assignments=("10.99.0.2", "fd00:99::2"))
    assert verify(d, observed) == []


@pytest.mark.parametrize("fixture,conflict", [
    ("self_hosted/member_pending.json", False),          # a join request (no name): configure it
    ("self_hosted/member_uppercase_id.json", False),     # what we want, written in another spelling: adopt
    ("self_hosted/member_deauthorized.json", False),     # a leftover: configure it
    ("self_hosted/member_authorized.json", False),       # already what we want: adopt
    ("self_hosted/member_dropped_address.json", True),   # authorized with other addresses: refuse
])
def test_takeover_conflict(fixture: str, conflict: bool) -> None:
    observed = parse_member("self_hosted", answer(fixture))
    message = takeover_conflict(WANT, observed)
    assert (message is not None) is conflict
    if message:
        assert "deauthorize the member" in message and "a1b2c3d4e5" in message and NWID in message


# --- refresh: observed state back to inputs -------------------------------------------------------
def _state(authorized: bool, ips: tuple[str, ...], name: str = "AS64501 peer-one") -> MemberState:
    return MemberState(network_id=NWID, member_id="a1b2c3d4e5", authorized=authorized, ip_assignments=ips, name=name)


STATES = [_state(a, ips, n) for a, ips, n in itertools.product(
    (True, False), ((), ("10.99.0.2",), ("10.99.0.2", "fd00:99::2")), ("AS64501 peer-one", "renamed"))]
INPUTS = [inputs(peer_state=s, authorized=a) for s, a in itertools.product(("active", "suspended", "removed"), (True, False))]


@pytest.mark.parametrize("i", INPUTS, ids=lambda i: f"{i.peer_state}-{i.authorized}")
@pytest.mark.parametrize("observed", STATES, ids=lambda s: f"{s.authorized}-{len(s.ip_assignments)}-{s.name}")
def test_inputs_from_observed_reproduce_what_is_there(i: MemberInputs, observed: MemberState) -> None:
    refreshed = inputs_from_observed(i, observed)
    assert verify(desired_from_inputs(refreshed), observed) == []
    # everything that is not observed stays as the program set it
    keep = ("network_id", "member_id", "asn", "delete_on_remove", "api_mode", "api_url")
    assert {k: getattr(refreshed, k) for k in keep} == {k: getattr(i, k) for k in keep}


@pytest.mark.parametrize("i", INPUTS, ids=lambda i: f"{i.peer_state}-{i.authorized}")
def test_inputs_from_observed_is_identity_when_converged(i: MemberInputs) -> None:
    d = desired_from_inputs(i)
    observed = _state(d.authorized, d.ip_assignments, d.name or "")
    if not d.authorized and i.peer_state == "active":
        pass  # active + authorized=False is its own fixed point too
    assert desired_from_inputs(inputs_from_observed(i, observed)) == d


def test_out_of_band_deauthorization_shows_as_input_change() -> None:
    i = inputs()
    refreshed = inputs_from_observed(i, parse_member("self_hosted", answer("self_hosted/member_deauthorized.json")))
    assert (refreshed.authorized, refreshed.peer_state) == (False, "active")
    assert refreshed.model_dump() != i.model_dump()
