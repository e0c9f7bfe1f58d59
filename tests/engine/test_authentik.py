"""Authentik through the real engine, against the schema-held Authentik server: a stack like staging
(Authentik on, no host needed for this plane) runs the whole life of a gate group — adopted with a
member nobody told Keystone about, a member removed by hand and restored, a stranger added by hand
and kept, offboarding, re-activation, ``destroy`` — and the policy pack runs on it."""
from __future__ import annotations

import json

import pytest

from tests.harness.engine_stack import FakeGuest, stack_config

pytestmark = pytest.mark.engine
DYN = "pulumi-python:dynamic/authentik:"

ROSTER = """\
people:
  alice:
    name: Alice Example
    uid: 20001
    tier: admin
    authentik: alice.a
  bob:
    name: Bob Example
    uid: 20002
    tier: power-user
  carol:
    name: Carol Example
    uid: 20003
    tier: power-user
    state: {carol}
"""


def authentik_stack(ws, ak, carol: str = "active"):
    roster = ws.write_roster(ROSTER.format(carol=carol))
    ws.write_stack("staging", {**stack_config(FakeGuest(), str(roster), hosts=[]),
                               "authentik": {"enabled": True, "url": ak.url, "application": "workstation"}})


@pytest.fixture
def ak(authentik_server):
    for name in ("alice.a", "bob", "carol", "outsider", "mallory"):
        authentik_server.add_user(name)
    outsider = authentik_server.users and [pk for pk, u in authentik_server.users.items() if u["username"] == "outsider"]
    authentik_server.add_group("keystone", outsider, {"owner": "terraform"})  # made before Keystone arrived
    authentik_server.add_application("workstation")
    return authentik_server


def test_the_gate_group_lifecycle_through_the_engine(workspace, ak):
    ws = workspace
    authentik_stack(ws, ak)
    ws.init("staging")
    ws.set_secret("staging", "authentikToken", ak.token)

    preview = ws.preview("staging", "--policy-pack", str(ws.project / "policy"))
    assert preview.changed(DYN) == {"gate-group": "create", "edge-gate": "create", "alice-authentik": "create",
                                    "bob-authentik": "create", "carol-authentik": "create"}, preview.output[-3000:]
    assert "has members the roster does not name: outsider" in preview.output
    assert not [v for v in preview.policy_violations() if "authentik" in json.dumps(v)], preview.policy_violations()
    assert ak.members("keystone") == {"outsider"}, "a preview changes nothing"

    ws.up("staging")
    group = ak.group_named("keystone")
    assert ak.members("keystone") == {"alice.a", "bob", "carol", "outsider"}
    assert group["attributes"] == {"owner": "terraform"}, "adopted: attributes Keystone does not manage are kept"
    (policy,) = ak.policies.values()
    assert policy["expression"] == 'return ak_is_group_member(request.user, name="keystone")'
    (binding,) = ak.bindings.values()
    assert binding["policy"] == policy["pk"] and binding["target"] == ak.applications["workstation"]["pk"]
    state = json.dumps(ws.export("staging"))
    assert ak.token not in state, "the token is never in the state in clear"
    assert ws.preview("staging").changed() == {}, "no changes after up"

    ak.set_members("keystone", {"alice.a", "carol", "outsider"})  # bob removed by hand
    refresh = ws.refresh("staging")
    assert refresh.drift().get("bob-authentik") == "delete", refresh.output[-3000:]
    assert ws.preview("staging").changed(DYN) == {"bob-authentik": "create"}
    ws.up("staging")
    assert ak.members("keystone") == {"alice.a", "bob", "carol", "outsider"}

    ak.set_members("keystone", {"alice.a", "bob", "carol", "outsider", "mallory"})  # a stranger added by hand
    ws.refresh("staging")
    (gate,) = [r for r in ws.export("staging")["deployment"]["resources"] if r["urn"].endswith("::gate-group")]
    assert {m["username"] for m in gate["outputs"]["unmanaged_members"]} == {"outsider", "mallory"}
    kept = ws.preview("staging")
    assert "outsider" in kept.output and "mallory" in kept.output and kept.changed(DYN) == {}
    ws.up("staging")
    assert "mallory" in ak.members("keystone"), "reported, never dropped"

    authentik_stack(ws, ak, carol="offboarded")
    off = ws.up("staging")
    assert off.changed(DYN) == {"carol-authentik": "delete"}
    assert ak.members("keystone") == {"alice.a", "bob", "outsider", "mallory"}, "only carol leaves"

    authentik_stack(ws, ak, carol="active")
    ws.up("staging")
    assert ak.members("keystone") == {"alice.a", "bob", "carol", "outsider", "mallory"}

    ws.destroy("staging")
    assert ak.members("keystone") == {"outsider", "mallory"}, "destroy leaves the group and its other members"
    assert ak.group_named("keystone")["pk"] == group["pk"]
    assert not ak.bindings and not ak.policies, "the gate Keystone made is gone with the stack"


def test_an_unknown_authentik_user_fails_the_preview_at_its_roster_line(workspace, ak):
    ws = workspace
    authentik_stack(ws, ak)
    (ws.project / "rosters" / "roster.yaml").write_text(ROSTER.format(carol="active").replace("alice.a", "alice.x"))
    ws.init("staging")
    ws.set_secret("staging", "authentikToken", ak.token)
    preview = ws.preview("staging", check=False)
    assert preview.rc != 0
    line = ROSTER.splitlines().index("    authentik: alice.a") + 1
    assert f"roster.yaml:{line}:5: people.alice.authentik: Authentik user 'alice.x' does not exist" in preview.output, \
        preview.output[-3000:]
    assert preview.ops(DYN) == {} and ak.members("keystone") == {"outsider"}


def test_a_wrong_token_is_one_clear_error_without_the_token(workspace, ak):
    ws = workspace
    authentik_stack(ws, ak)
    ws.init("staging")
    ws.set_secret("staging", "authentikToken", "not-the-token-4711")
    preview = ws.preview("staging", check=False)
    assert preview.rc != 0
    assert f"authentik: nothing was applied: Authentik at {ak.url}: GET /core/" in preview.output \
        and "HTTP 403" in preview.output, preview.output[-3000:]
    assert "Traceback" not in preview.output, "the client's message is the whole report"
    assert "not-the-token-4711" not in preview.output
