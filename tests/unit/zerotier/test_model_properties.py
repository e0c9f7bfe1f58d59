"""Property tests of the ZeroTier answer model: a body Keystone builds, stored by the controller
double (which follows the real controller's storage and coercion), parses back to exactly what was
asked for; and *any* JSON answer raises nothing but ``ZeroTierResponseError`` naming the API.
"""
from __future__ import annotations

import ipaddress
import json

import pydantic
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from providers.zerotier import model as zt
from tests.harness.zerotier_controller import DEFAULT_NETWORK, DEFAULT_TOKEN, FakeZeroTierController

FAST = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
HEADERS = {"self_hosted": {"X-ZT1-Auth": DEFAULT_TOKEN}, "central": {"Authorization": f"token {DEFAULT_TOKEN}"}}
PATH = {"self_hosted": "/controller/network/{n}/member/{m}", "central": "/api/v1/network/{n}/member/{m}"}

member_id = st.text("0123456789abcdef", min_size=10, max_size=10).filter(
    lambda m: m != "0000000000" and not m.startswith("ff"))
address = st.one_of(st.integers(1, 2**32 - 2).map(lambda i: str(ipaddress.IPv4Address(i))),
                    st.integers(1, 2**128 - 1).map(lambda i: str(ipaddress.IPv6Address(i)))).filter(
    lambda a: not (ipaddress.ip_address(a).is_multicast or ipaddress.ip_address(a).is_loopback))
name = st.text(st.characters(min_codepoint=32, blacklist_categories=("Cs",)).filter(lambda c: c != "\x7f"), max_size=30)


@FAST
@given(st.sampled_from(["self_hosted", "central"]), member_id, st.booleans(), st.lists(address, max_size=4, unique=True),
       name, st.one_of(st.none(), st.integers(1, 4294967294)))
def test_a_body_stored_by_the_controller_parses_back_to_what_was_asked(mode, mid, authorized, ips, nm, asn):
    try:  # what the model would not send (e.g. a loopback address) is not a desire to round-trip
        desired = zt.DesiredMember(network_id=DEFAULT_NETWORK, member_id=mid, authorized=authorized,
                                   ip_assignments=tuple(ips), name=nm, description=f"AS{asn}" if asn else None)
        [zt.normalize_ip(ip) for ip in ips]
    except (pydantic.ValidationError, ValueError):
        assume(False)
    ctl = FakeZeroTierController(mode=mode)  # not started: its request handler is called directly
    ctl.add_network(DEFAULT_NETWORK)
    status, answer = ctl.handle("POST", PATH[mode].format(n=DEFAULT_NETWORK, m=mid), HEADERS[mode],
                                json.dumps(zt.build_member_body(mode, desired)).encode())
    assert status == 200
    observed = zt.parse_member(mode, json.loads(json.dumps(answer)))
    assert zt.verify(desired, observed) == []


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=20)
near_member = st.fixed_dictionaries({}, optional={
    "id": json_values | member_id, "nwid": json_values | st.just(DEFAULT_NETWORK), "networkId": json_values,
    "nodeId": json_values | member_id, "authorized": json_values, "ipAssignments": json_values | st.lists(address),
    "name": json_values | name, "revision": json_values, "objtype": st.sampled_from(["member", "network", 1]),
    "config": json_values | st.fixed_dictionaries({}, optional={"authorized": json_values, "ipAssignments": json_values,
                                                              "revision": json_values})})


@FAST
@given(st.sampled_from(["self_hosted", "central"]), st.one_of(json_values, near_member))
def test_any_answer_raises_only_the_models_error(mode, data):
    try:
        state = zt.parse_member(mode, data)
    except zt.ZeroTierResponseError as e:
        assert str(e).startswith(f"ZeroTier {mode} API answered "), str(e)
        assert len(str(e)) < 2000
    else:
        assert isinstance(state, zt.MemberState)
