"""Peering through the real engine: every ASN up on two route servers (bird2 in network
namespaces) and its ZeroTier member; one route server down under `pulumi up --continue-on-error`:
the other is applied, the down one's files fail naming it, and the next `up` converges.  The
ZeroTier token is only ever a secret in the state."""
from __future__ import annotations

import json

import pytest

from tests.harness import peering_sample as ps
from tests.harness.engine_stack import FakeGuest, stack_config
from tests.harness.zerotier_controller import DEFAULT_TOKEN

pytestmark = [pytest.mark.netns, pytest.mark.engine]
DYNAMIC = "pulumi-python:dynamic/"


def test_peers_on_two_route_servers_and_one_down(workspace, lab, controller):
    ws = workspace
    peering = ps.peering([s.settings() for s in lab.servers], url=controller.url)
    roster = ws.write_roster(ps.roster_text(3))
    ws.write_stack("dev", stack_config(FakeGuest(), str(roster), hosts=[], peering=peering))
    ws.init("dev")
    ws.set_secret("dev", "zerotierToken", DEFAULT_TOKEN)

    first = ws.up("dev")
    created = first.changed(DYNAMIC)
    assert set(created.values()) == {"create"} and len(created) == 2 + 3 + 6, created
    for rs in ("rs1", "rs2"):
        protos = set(lab[rs].bird.protocols())
        assert ps.sessions(210001, 0) | ps.sessions(210002, 1) | ps.sessions(210003, 2) <= protos
    assert all(controller.member(ps.NETWORK_ID, ps.member_id(i))["authorized"] for i in range(3))
    assert ws.preview("dev").changed() == {}
    state = json.dumps(ws.export("dev"))
    assert DEFAULT_TOKEN not in state

    # rs2's daemon goes down; the roster adds AS210004 and lowers AS210001's IPv4 limit
    lab["rs2"].bird.stop()
    try:
        ws.write_roster(ps.roster_text(4, changes={0: {"max_prefixes": "{ipv4: 10, ipv6: 50}"}}))
        second = ws.up("dev", "--continue-on-error", check=False)
        assert second.rc != 0
        done = second.changed(DYNAMIC)
        assert done.get("as210004-zt") == "create" and done.get("as210004-bird-rs1") == "create", done
        assert done.get("as210001-bird-rs1") == "update", done
        assert ps.sessions(210004, 3) <= set(lab["rs1"].bird.protocols())
        assert "import limit 10 action restart;" in (lab["rs1"].peers_dir / "as210001.conf").read_text()
        assert f"cannot talk to BIRD on {lab['rs2'].bird.socket}" in second.output, second.output[-3000:]
        assert not (lab["rs2"].peers_dir / "as210004.conf").exists()  # nothing half-done on the down one
    finally:
        lab["rs2"].bird.start(user="bird")

    third = ws.up("dev")
    changed = third.changed(DYNAMIC)
    assert changed == {"as210004-bird-rs2": "create", "as210001-bird-rs2": "update"}, changed
    assert ps.sessions(210004, 3) <= set(lab["rs2"].bird.protocols())
    assert ws.preview("dev").changed() == {}
    assert ws.refresh("dev").drift() == {}

    # rs1's peer files move to another directory: the preview says what `up` would do — the server
    # config is replaced (its new id is not known yet) and so is each peer file on rs1, not updated
    moved = [lab["rs1"].settings(peersDir=str(lab["rs1"].dir / "peers-moved.d")), lab["rs2"].settings()]
    ws.write_stack("dev", stack_config(FakeGuest(), str(roster), hosts=[], peering=ps.peering(moved, url=controller.url)))
    ws.set_secret("dev", "zerotierToken", DEFAULT_TOKEN)  # the stack file was written anew
    plan = ws.preview("dev").changed(DYNAMIC)
    assert plan == {"bird-rs1": "replace", **{f"as21000{i}-bird-rs1": "replace" for i in range(1, 5)}}, plan
