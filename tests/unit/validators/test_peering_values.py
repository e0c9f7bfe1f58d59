"""Peering values have one home: the roster, the ZeroTier and BIRD providers read the same rules."""
from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from providers.bird import models as bird
from providers.zerotier import model as zt
from roster import PeerState as RosterPeerState
from roster.fields import ZeroTierMember
from validators import Invalid, peering


def test_one_peer_state():
    assert RosterPeerState is peering.PeerState is zt.PeerState
    member = zt.MemberInputs(network_id="8056c2e21c000001", member_id="a1b2c3d4e5", peer_state="suspended",
                             api_mode="central")
    assert member.peer_state == "suspended" and type(member.peer_state) is str  # plain text in the state


@pytest.mark.parametrize("value", ["a1b2c3d4e5", "A1B2C3D4E5", "0000000000", "ff00000001", "a1b2c3d4", "zzzzzzzzzz",
                                   1234567890, "", " a1b2c3d4e5", "fe00000001"])
def test_roster_and_provider_agree_on_member_ids(value):
    try:
        roster = TypeAdapter(ZeroTierMember).validate_python(value)
    except ValidationError:
        roster = None
    try:
        provider = zt.normalize_member_id(value)
    except ValueError:
        provider = None
    assert roster == provider


@pytest.mark.parametrize(("value", "ok"), [(0, False), (1, True), (23456, False), (65535, False), (64512, True),
                                           (4294967294, True), (4294967295, False), (4294967296, False)])
def test_session_asns(value, ok):
    assert peering.is_session_asn(value) is ok
    assert (bird.check_asn(value) == value) if ok else pytest.raises(ValueError, bird.check_asn, value)


def test_bird_never_sees_what_the_roster_never_accepts():
    assert bird.RESERVED_ASNS == set(peering.ASN_NEVER)
    for value in peering.ASN_NEVER:
        with pytest.raises(Invalid):
            peering.asn(value, allow_private=True)


@pytest.mark.parametrize(("value", "allow", "message"), [
    (64512, False, "private ASN"), (64500, False, "documentation ASN"), (100000, True, "reserved by IANA"),
    ("AS213001", True, "without 'AS'"),
])
def test_asn_ranges(value, allow, message):
    with pytest.raises(Invalid) as e:
        peering.asn(value, allow_private=allow)
    assert message in str(e.value)
    assert peering.asn(64512, allow_private=True) == 64512 and peering.asn("213001") == 213001
