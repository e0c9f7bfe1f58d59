"""Keystone's Authentik resources against the schema-held Authentik server: adoption, membership,
the edge gate, and every failure an admin meets (a wrong token, no server, 5xx, rate limits) as one
message naming the URL and the call — never the token."""
from __future__ import annotations

import socket

import pytest

from providers.authentik.client import AuthentikClient, set_token
from providers.authentik.model import AuthentikError, default_policy_name, gate_expression
from providers.authentik.resources import GROUPS, GateProvider, GroupProvider, MemberProvider


@pytest.fixture
def ak(authentik_server):
    set_token(authentik_server.token)
    yield authentik_server
    set_token(None)


def group_props(ak, **over):
    return {"api_url": ak.url, "name": "keystone", **over}


def member_props(ak, group_pk, username, pk):
    return {"api_url": ak.url, "group": "keystone", "group_pk": group_pk, "person": username, "username": username,
            "user_pk": pk}


def test_an_existing_gate_group_is_adopted_with_its_members_and_attributes(ak):
    outsider = ak.add_user("outsider")
    alice = ak.add_user("alice")
    pk = ak.add_group("keystone", [outsider], {"team": "ops"})
    created = GroupProvider().create(group_props(ak, known_members=[alice]))
    assert created.id == pk and created.outs["adopted"] is True
    assert created.outs["unmanaged_members"] == [{"pk": outsider, "username": "outsider"}]
    assert ak.group_named("keystone")["attributes"] == {"team": "ops"} and ak.members("keystone") == {"outsider"}
    assert not [r for r in ak.requests if r[0] != "GET"], "adopting writes nothing"


def test_a_missing_gate_group_is_created_and_deleted_only_when_the_stack_says_so(ak):
    provider = GroupProvider()
    created = provider.create(group_props(ak))
    assert created.outs["adopted"] is False
    assert ak.group_named("keystone")["attributes"] == {"managed-by": "keystone"}
    provider.delete(created.id, created.outs)
    assert ak.group_named("keystone"), "the group stays by default"
    provider.delete(created.id, {**created.outs, "delete_on_destroy": True})
    assert not [g for g in ak.groups.values() if g["name"] == "keystone"]


def test_an_adopted_group_is_never_deleted(ak):
    pk = ak.add_group("keystone")
    GroupProvider().delete(pk, {**group_props(ak, delete_on_destroy=True), "adopted": True})
    assert ak.group_named("keystone")


def test_membership_is_added_read_and_removed_per_person(ak):
    alice, bob = ak.add_user("alice"), ak.add_user("bob")
    pk = ak.add_group("keystone", [bob])
    provider = MemberProvider()
    made = provider.create(member_props(ak, pk, "alice", alice))
    assert made.id == f"{pk}/alice" and ak.members("keystone") == {"alice", "bob"}
    again = provider.create(member_props(ak, pk, "alice", alice))  # a member already: 204 again
    assert again.outs["member"] and ak.members("keystone") == {"alice", "bob"}
    assert provider.read(made.id, made.outs).id == made.id
    ak.set_members("keystone", {"bob"})  # removed by hand in Authentik's UI
    GROUPS.invalidate((ak.url, pk))  # the next refresh is a new provider process
    assert provider.read(made.id, made.outs).id == "", "a removed member drops from state: refresh reports it"
    provider.create(member_props(ak, pk, "alice", alice))
    provider.delete(made.id, made.outs)
    assert ak.members("keystone") == {"bob"}, "only the person leaves"


def test_exclusive_members_are_reported_by_refresh_and_removed_by_the_update(ak):
    alice, mallory = ak.add_user("alice"), ak.add_user("mallory")
    pk = ak.add_group("keystone", [alice, mallory])
    provider = GroupProvider()
    props = {**group_props(ak, known_members=[alice], exclusive=True), "adopted": True}
    read = provider.read(pk, props)
    assert read.inputs["strays"] == [mallory]
    assert read.outs["unmanaged_members"] == [{"pk": mallory, "username": "mallory"}]
    diff = provider.diff(pk, read.outs, group_props(ak, known_members=[alice], exclusive=True))
    assert diff.changes and not diff.replaces
    provider.update(pk, read.outs, group_props(ak, known_members=[alice], exclusive=True))
    assert ak.members("keystone") == {"alice"}
    kept = provider.read(pk, {**group_props(ak, known_members=[]), "adopted": True})
    assert kept.inputs["strays"] == [] and kept.outs["unmanaged_members"][0]["username"] == "alice"


def test_a_renamed_gate_group_is_an_error_not_a_new_group(ak):
    pk = ak.add_group("keystone")
    ak.group_named("keystone")["name"] = "staff"
    with pytest.raises(AuthentikError, match="is now named 'staff'.*never renames"):
        GroupProvider().read(pk, group_props(ak))


def gate_props(ak, **over):
    return {"api_url": ak.url, "application": "workstation", "group": "keystone",
            "policy_name": default_policy_name("keystone"), **over}


def test_the_edge_gate_binds_the_group_policy_and_leaves_other_bindings_alone(ak):
    app = ak.add_application("workstation")
    other = AuthentikClient(ak.url).create_expression_policy("mfa", "return True")
    AuthentikClient(ak.url).create_binding(other, app, 5)
    provider = GateProvider()
    made = provider.create(gate_props(ak))
    (policy,) = [p for p in ak.policies.values() if p["name"] == "keystone-gate-keystone"]
    assert policy["expression"] == gate_expression("keystone")
    assert policy["expression"] == 'return ak_is_group_member(request.user, name="keystone")'
    assert {(b["policy"], b["target"]) for b in ak.bindings.values()} == {(other, app), (policy["pk"], app)}
    assert provider.read(made.id, made.outs).id == made.id
    provider.delete(made.id, made.outs)
    assert [(b["policy"], b["order"]) for b in ak.bindings.values()] == [(other, 5)]
    assert [p["name"] for p in ak.policies.values()] == ["mfa"]


def test_the_edge_gate_adopts_an_existing_binding_and_keeps_it(ak):
    app = ak.add_application("workstation")
    c = AuthentikClient(ak.url)
    policy = c.create_expression_policy("keystone-gate-keystone", gate_expression("keystone"))
    binding = c.create_binding(policy, app, 0)
    made = GateProvider().create(gate_props(ak))
    assert made.id == binding.pk and not made.outs["created_binding"] and not made.outs["created_policy"]
    GateProvider().delete(made.id, made.outs)
    assert binding.pk in ak.bindings and policy in ak.policies


def test_the_edge_gate_refuses_a_policy_of_that_name_that_says_something_else(ak):
    ak.add_application("workstation")
    AuthentikClient(ak.url).create_expression_policy("keystone-gate-keystone", "return True")
    with pytest.raises(AuthentikError, match="exists with another expression"):
        GateProvider().create(gate_props(ak))
    assert not ak.bindings


def test_the_edge_gate_needs_the_application(ak):
    with pytest.raises(AuthentikError, match="no application with slug 'workstation'"):
        GateProvider().create(gate_props(ak))


def test_the_edge_gate_removed_by_hand_is_reported_by_refresh(ak):
    ak.add_application("workstation")
    made = GateProvider().create(gate_props(ak))
    ak.bindings.clear()
    assert GateProvider().read(made.id, made.outs).id == ""


def test_a_refresh_reads_the_group_once_for_all_its_memberships(ak):
    users = {name: ak.add_user(name) for name in ("alice", "bob", "carol")}
    pk = ak.add_group("keystone", list(users.values()))
    provider = MemberProvider()
    props = {name: {**member_props(ak, pk, name, u), "member": True} for name, u in users.items()}
    before = len(ak.requests)
    assert all(provider.read(f"{pk}/{n}", p).id for n, p in props.items())
    assert [r[1] for r in ak.requests[before:]] == [f"/api/v3/core/groups/{pk}/?include_users=true"]
    provider.delete(f"{pk}/carol", props["carol"])  # a write: the next read asks again
    assert provider.read(f"{pk}/carol", props["carol"]).id == ""
    assert ak.members("keystone") == {"alice", "bob"}


# -- what an admin sees when something is wrong ------------------------------------------------------
def test_a_wrong_token_is_one_message_naming_url_and_call_never_the_token(ak):
    set_token("s3cr3t-wrong-token")
    with pytest.raises(AuthentikError) as e:
        AuthentikClient(ak.url).user_pk("alice")
    message = str(e.value)
    assert f"Authentik at {ak.url}: GET /core/users/ (username=alice)" in message
    assert "HTTP 403" in message and "keystone:authentikToken" in message
    assert "s3cr3t-wrong-token" not in message and ak.token not in message


def test_an_unreachable_server_names_the_url(ak):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(AuthentikError, match=rf"Authentik at http://127.0.0.1:{port}: .* no answer .*authentik.url"):
        AuthentikClient(f"http://127.0.0.1:{port}").user_pk("alice")


@pytest.mark.parametrize("status", [503, 429])
def test_server_errors_and_rate_limits_are_retried_then_reported(ak, status):
    ak.add_user("alice")
    ak.fail_next(2, status)
    assert AuthentikClient(ak.url).user_pk("alice") == 1, "two failures are retried"
    ak.fail_next(4, status)  # the first try and its three retries
    with pytest.raises(AuthentikError, match=rf"GET /core/users/ \(username=alice\) page 1 failed: HTTP {status}"):
        AuthentikClient(ak.url).user_pk("alice")
    assert AuthentikClient(ak.url).user_pk("alice") == 1


def test_an_unknown_user_for_add_user_is_authentiks_404(ak):
    pk = ak.add_group("keystone")
    with pytest.raises(AuthentikError, match=r"add_user/ \(pk=99\) failed: HTTP 404 No User matches"):
        AuthentikClient(ak.url).add_user(pk, 99)


def test_the_server_refuses_what_is_outside_the_schema(authentik_server):
    """The double's validation can fail: a body the schema does not allow is a recorded violation."""
    import json
    import urllib.request

    req = urllib.request.Request(f"{authentik_server.url}/api/v3/core/groups/", method="POST",
                                 data=json.dumps({"name": 5}).encode(),
                                 headers={"Authorization": f"Bearer {authentik_server.token}",
                                          "Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 500
    assert authentik_server.violations and "POST /api/v3/core/groups/" in authentik_server.violations[0]
    authentik_server.violations.clear()
