"""The sample roster through `pulumi preview / up / refresh` on the real guest, as an admin runs it."""
from __future__ import annotations

import json

import pytest

from roster import RosterContext, load_roster
from tests.harness.engine import REPO
from tests.harness.engine_stack import stack_config

pytestmark = pytest.mark.guest
DYNAMIC = "pulumi-python:dynamic/"
SECRET_SIG, SECRET_VALUE = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"


def sample_resources() -> set[str]:
    """Every host resource the sample roster asks for on one host named ``guest``."""
    roster = load_roster(REPO / "roster" / "roster.yaml", RosterContext(min_uid=1000, hosts=["guest"]))
    names = set()
    for p in roster.people.values():
        names |= {f"{p.username}-guest-home", f"{p.username}-guest-account"}
        if p.state.value == "active":
            names.add(f"{p.username}-guest-delegation")
    return names


def test_sample_preview_up_refresh_and_drift(guest, workspace):
    ws = workspace
    ws.write_stack("dev", stack_config(guest, str(REPO / "roster" / "roster.yaml")))
    ws.init("dev")

    preview = ws.preview("dev")
    assert preview.ops(DYNAMIC) == {n: "create" for n in sample_resources()}, preview.output[-3000:]
    assert not guest.ssh("getent passwd alice", check=False).stdout, "a preview must not touch the host"

    up = ws.up("dev")
    assert up.changed(DYNAMIC) == {n: "create" for n in sample_resources()}
    assert guest.ssh("zfs get -H -o value quota rpool/crypt/home/alice").stdout.strip() == "200G"

    # the hash is in the state only as a secret, inputs and outputs alike
    bob_hash = load_roster(REPO / "roster" / "roster.yaml", RosterContext(min_uid=1000)).people["bob"].password_hash
    state = ws.export("dev")
    assert bob_hash and bob_hash not in json.dumps(state)
    bob = next(r for r in state["deployment"]["resources"] if r["urn"].endswith("::bob-guest-account"))
    for side in ("inputs", "outputs"):
        assert bob[side]["password_hash"].get(SECRET_SIG) == SECRET_VALUE and "ciphertext" in bob[side]["password_hash"]

    again = ws.preview("dev")
    assert again.changed() == {}, again.output[-3000:]

    quiet = ws.refresh("dev")
    assert quiet.drift() == {}, quiet.output[-3000:]

    guest.ssh("zfs set quota=1G rpool/crypt/home/alice && usermod -s /bin/sh carol")
    drift = ws.refresh("dev")
    assert set(drift.drift()) == {"alice-guest-home", "carol-guest-account"}, drift.output[-3000:]
    fix = ws.up("dev")
    assert fix.changed(DYNAMIC) == {"alice-guest-home": "update", "carol-guest-account": "update"}
    assert guest.ssh("zfs get -H -o value quota rpool/crypt/home/alice").stdout.strip() == "200G"
    assert guest.ssh("getent passwd carol").stdout.strip().endswith(":/bin/bash")
    assert ws.preview("dev").changed() == {}
