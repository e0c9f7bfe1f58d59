"""bird:ServerConfig and bird:PeerFile over SSH: the real gRPC provider host, the real OpenSSH transport,
and the guest's bird2 (Debian's packaged daemon, running as ``bird`` with /etc/bird/bird.conf and the
control socket /run/bird/bird.ctl) — the whole safe apply exactly as in production.

The guest has no BGP neighbour to talk to: sessions sit in ``start`` (Active/Connect/Idle), never
Established; here the test checks that the protocols exist and that every apply was confirmed (no
pending undo).  Established sessions and route filtering are proven by the netns tier (tests/live).
"""
from __future__ import annotations

import time

import pytest

from providers.bird import render
from providers.bird.peer_file import BirdPeerFileProvider
from providers.bird.server_config import BirdServerConfigProvider
from tests.harness import peering_sample as ps
from tests.harness.guest_bird import (
    GUEST_CTL,
    PEERS,
    guest_route_server,
    peer_inputs,
    pending_undo,
    restore_debian_bird,
    show_protocols,
)
from tests.harness.provider_host import DynamicProviderHost, ProviderError

pytestmark = pytest.mark.guest


def test_the_safe_apply_over_ssh(guest, guest_target) -> None:
    restore_debian_bird(guest)
    debian = show_protocols(guest)
    assert debian and "ks_device" not in debian
    rs = guest_route_server(guest_target)
    try:
        with DynamicProviderHost() as grpc:
            server = grpc.resource(BirdServerConfigProvider(), "urn:pulumi:guest::keystone::bird:ServerConfig::bird-rsg")
            base = {"route_server": rs, "rpki": {"static_roas": ps.STATIC_ROAS_SNAKE}}
            # Debian's default config is not Keystone's: refused unless take_over_existing
            with pytest.raises(ProviderError) as refused:
                server.up(base)
            assert "/etc/bird/bird.conf already exists and is not managed by Keystone" in refused.value.details
            assert set(show_protocols(guest)) == set(debian)

            t0 = time.perf_counter()
            server_id, server_outs = server.up({**base, "take_over_existing": True})
            print(f"\nServerConfig over SSH: {time.perf_counter() - t0:.2f} s")
            assert server_id == "rsg"
            assert server_outs["protocols"] == {"ks_device": "up", "ks_roa4_static": "up", "ks_roa6_static": "up"}
            conf = guest.ssh("cat /etc/bird/bird.conf").stdout
            assert conf.startswith("# keystone-resource: bird:ServerConfig rsg") and server_outs["sha256"] == render.sha256(conf)
            assert "protocol kernel" in guest.ssh("cat /etc/bird/bird.conf.keystone-orig").stdout  # Debian's, kept
            assert guest.ssh(f"stat -c %U:%G:%a {PEERS}").stdout.strip() == "root:bird:750"
            assert pending_undo(guest) is None  # confirmed

            peers = {i: grpc.resource(BirdPeerFileProvider(), f"urn:pulumi:guest::keystone::bird:PeerFile::as{ps.FIRST_ASN + i}-bird-rsg")
                     for i in range(3)}
            state = {}
            for i in (0, 1):
                t0 = time.perf_counter()
                state[i] = peers[i].up(peer_inputs(rs, i))
                print(f"PeerFile create over SSH: {time.perf_counter() - t0:.2f} s")
                id_, outs = state[i]
                assert id_ == f"rsg/{ps.FIRST_ASN + i}" and set(outs["sessions"]) == ps.sessions(ps.FIRST_ASN + i, i)
                assert set(outs["sessions"].values()) <= {"Active", "Connect", "Idle", "start"}
            running = show_protocols(guest)
            for i in (0, 1):
                assert ps.sessions(ps.FIRST_ASN + i, i) <= set(running)
                assert all(running[n].proto == "BGP" and running[n].state in ("start", "up") for n in ps.sessions(ps.FIRST_ASN + i, i))
            assert pending_undo(guest) is None
            assert guest.ssh(f"stat -c %U:%G:%a {PEERS}/as210001.conf").stdout.strip() == "root:bird:640"
            assert guest.ssh(f"ls -A {PEERS} /etc/bird | grep keystone-new || true").stdout.strip() == ""
            detail = guest.ssh(f"birdc -s {GUEST_CTL} show protocols all as210001_10_99_1_10").stdout
            assert "Neighbor address: 10.99.1.10" in detail and "Neighbor AS:      210001" in detail

            # refresh reads it back unchanged; a second up changes nothing
            id_, outs = state[0]
            rid, routs, rinputs = peers[0].read(id_, outs)
            assert rid == id_ and routs["sha256"] == outs["sha256"] and peers[0].diff(id_, routs, rinputs).changes is False
            # route counts come with the same read over SSH; no session is up here, so no channel has routes
            assert routs["routes"] == {} and set(routs["sessions"]) == ps.sessions(ps.FIRST_ASN + 0, 0)

            # an update: only that peer's sessions are touched
            since = {n: p.since for n, p in running.items() if n in ps.sessions(ps.FIRST_ASN + 1, 1)}
            state[0] = peers[0].up(peer_inputs(rs, 0, import_limit_v4=7), prior=state[0])
            assert "import limit 7 action restart;" in guest.ssh(f"cat {PEERS}/as210001.conf").stdout
            after = show_protocols(guest)
            assert {n: after[n].since for n in ps.sessions(ps.FIRST_ASN + 1, 1)} == since and pending_undo(guest) is None

            # a refusal over SSH: the neighbor address is already another peer's
            dup = peer_inputs(rs, 2)
            dup["peer"]["addresses"]["ipv4"] = [ps.peer_address(0)[0]]
            with pytest.raises(ProviderError) as e:
                peers[2].up(dup)
            assert f"neighbor {ps.peer_address(0)[0]} is already configured in {PEERS}/as210001.conf" in e.value.details
            assert "bird:PeerFile rsg/210003 (route server rsg, host guest" in e.value.details

            # delete: the file and its sessions go, the other peer stays
            peers[1].delete(*state.pop(1))
            assert not ps.sessions(ps.FIRST_ASN + 1, 1) & set(show_protocols(guest)) and ps.sessions(ps.FIRST_ASN + 0, 0) <= set(show_protocols(guest))
            assert guest.ssh(f"test -e {PEERS}/as210002.conf", check=False).returncode == 1
            assert pending_undo(guest) is None
    finally:
        restore_debian_bird(guest)
    assert set(show_protocols(guest)) == set(debian)
