"""The whole program under mocks: the resource graph for a sample roster."""
from __future__ import annotations

import dataclasses

import pulumi
import pytest

from program.gate import GateError
from providers.authentik.model import AuthentikError
from program.mocks import RecordingMocks, run_program
from tests.harness import sample

DYN = "pulumi-python:dynamic/"


@pytest.fixture(scope="module")
def run():
    return run_program(sample.inputs(), RecordingMocks(authentik_users=sample.AUTHENTIK))


def test_every_person_gets_every_resource_on_their_hosts(run):
    datasets = {r.name for r in run.of_type("zfs:Dataset")}
    accounts = {r.name for r in run.of_type("os:Account")}
    assert datasets == {"alice-ws1-home", "alice-ws2-home", "bob-ws1-home", "bob-ws2-home", "carol-ws1-home",
                        "dave-ws1-home", "dave-ws2-home", "erin-ws1-home", "erin-ws2-home"}
    assert accounts == {n.replace("-home", "-account") for n in datasets}
    delegations = {r.name for r in run.of_type("zfs:Delegation")}
    assert delegations == {"alice-ws1-delegation", "alice-ws2-delegation", "bob-ws1-delegation",
                           "bob-ws2-delegation", "carol-ws1-delegation"}
    components = [r for r in run.mocks.resources if r.type == "keystone:users:WorkstationUser"]
    assert sorted(c.name for c in components) == ["alice", "bob", "carol", "dave", "erin"]
    acc = run.named("alice-ws2-account").inputs
    assert acc["host"]["address"] == "ws2.example.org" and acc["uid"] == 20001 and acc["home"] == "/home/alice"
    ds = run.named("alice-ws1-home")
    assert ds.inputs["dataset"] == "rpool/crypt/home/alice" and ds.inputs["properties"]["quota"] == "200G"
    assert ds.options["retain_on_delete"] and not ds.options["protect"]  # see docs/engine.md
    assert run.named("alice-ws1-delegation").inputs["descendent_permissions"] == ["destroy"]
    assert run.named("alice-ws1-home").options["parent"] == "alice"


def test_tiers_map_to_exactly_the_right_bindings(run):
    crb = {r.name: r.inputs for r in run.of_type("ClusterRoleBinding")}
    rb = {r.name: r.inputs for r in run.of_type(":RoleBinding") if "ClusterRoleBinding" not in r.type}
    assert set(crb) == {"alice-k8s", "bob-k8s"}
    assert crb["alice-k8s"]["roleRef"]["name"] == "cluster-admin"
    assert crb["alice-k8s"]["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                                             "name": "oidc:alice@example.org"}]
    assert crb["bob-k8s"]["roleRef"]["name"] == "keystone-power-user-readonly"
    assert set(rb) == {"carol-k8s-team-a", "carol-k8s-team-b"}
    assert rb["carol-k8s-team-a"]["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                                 "name": "admin"}
    assert rb["carol-k8s-team-b"]["metadata"]["namespace"] == "team-b"


def test_power_user_role_is_read_only_and_never_touches_secrets(run):
    (role,) = run.of_type("ClusterRole")
    for rule in role.inputs["rules"]:
        assert set(rule["verbs"]) <= {"get", "list", "watch"}
        assert "*" not in rule["resources"] and "*" not in rule["apiGroups"]
        assert "secrets" not in rule["resources"]


def test_a_tier_change_replaces_the_binding(run):
    for r in run.of_type("RoleBinding"):
        assert r.options["replace_on_changes"] == ["roleRef"] and r.options["delete_before_replace"] is True
    promoted = sample.ROSTER.replace("tier: power-user\n    ssh_keys: [\"" + sample.keys.BOB,
                                     "tier: admin\n    ssh_keys: [\"" + sample.keys.BOB)
    assert promoted != sample.ROSTER
    again = run_program(sample.inputs(promoted), RecordingMocks(authentik_users=sample.AUTHENTIK))
    before = run.named("bob-k8s").inputs
    after = again.named("bob-k8s").inputs
    # a new roleRef is a new object (the API server refuses to change roleRef, even in a dry run)
    assert (before["metadata"]["name"], after["metadata"]["name"]) == ("keystone-bob-power-user", "keystone-bob-admin")
    assert before["roleRef"]["name"] != after["roleRef"]["name"]


def test_offboarded_person_is_locked_with_no_membership_binding_or_delegation(run):
    assert not [r for r in run.mocks.resources if r.name.startswith("dave-") and "Delegation" in r.type]
    assert not [r for r in run.mocks.resources if r.name.startswith("dave-k8s")]
    acc = run.named("dave-ws1-account").inputs
    assert acc["locked"] and acc["expired"] and acc["ensure"] == "present"
    assert run.named("dave-ws1-home").inputs["ensure"] == "present"
    (group,) = run.of_type("authentik:Group")
    assert group.inputs["name"] == "keystone" and group.inputs["known_members"] == [11, 12, 13]
    members = {r.inputs["person"]: (r.inputs["username"], r.inputs["user_pk"]) for r in run.of_type("authentik:GroupMember")}
    assert members == {"alice": ("alice.a", 11), "bob": ("bob", 12), "carol": ("carol", 13)}  # dave: offboarded


def test_purged_person_is_archived_not_destroyed(run):
    ds = run.named("erin-ws1-home")
    assert ds.inputs["ensure"] == "archived" and ds.inputs["archive_parent"] == "rpool/crypt/archive"
    assert ds.options["retain_on_delete"] and ds.options["protect"] is False
    assert run.named("erin-ws1-account").inputs["ensure"] == "absent"
    allowed = run_program(sample.inputs(offboarding={"allowDestroy": True}),
                          RecordingMocks(authentik_users=sample.AUTHENTIK))
    assert allowed.named("erin-ws1-home").inputs["ensure"] == "destroyed"


def test_password_hash_is_a_secret_output(run):
    assert run.named("alice-ws1-account").options["additional_secret_outputs"] == ["password_hash"]


def test_unknown_authentik_user_registers_nothing_and_names_the_roster_line(tmp_path):
    roster_file = tmp_path / "roster.yaml"
    roster_file.write_text(sample.ROSTER)
    mocks = RecordingMocks(authentik_users={"alice.a": 11, "bob": 12})
    with pytest.raises(GateError) as e:
        run_program(dataclasses.replace(sample.inputs(), roster_file=roster_file), mocks)
    line = sample.ROSTER.splitlines().index("  carol:") + 1  # carol's Authentik name is the default
    assert (f"{roster_file}:{line}:3: people.carol.authentik: Authentik user 'carol' does not exist in Authentik"
            in str(e.value)), str(e.value)
    assert not [r for r in mocks.resources if r.type.startswith(DYN) or "rbac" in r.type]
    with pytest.raises(GateError) as e:  # a name written in the roster: its own line
        run_program(dataclasses.replace(sample.inputs(), roster_file=roster_file), RecordingMocks(
            authentik_users={"bob": 12, "carol": 13}))
    line = sample.ROSTER.splitlines().index("    authentik: alice.a") + 1
    assert f"{roster_file}:{line}:5: people.alice.authentik: Authentik user 'alice.a'" in str(e.value)


def test_person_deleted_while_active_is_refused_unless_the_stack_opts_in():
    deployed = {"dev": {"people": {"zoe": {"state": "active"}, "yan": {"state": "offboarded"}}}}
    mocks = RecordingMocks(stack_outputs=deployed, authentik_users=sample.AUTHENTIK)
    with pytest.raises(GateError) as e:
        run_program(sample.inputs(), mocks)
    assert "person 'zoe' was removed while active: set `state: offboarded` first" in str(e.value)
    assert "yan" not in str(e.value)
    assert not [r for r in mocks.resources if r.type.startswith(DYN)]
    ok = run_program(sample.inputs(offboarding={"allowDeleteWithoutOffboarding": True}),
                     RecordingMocks(stack_outputs=deployed, authentik_users=sample.AUTHENTIK))
    assert ok.of_type("os:Account")


def test_promotion_guard():
    digest = sample.inputs().roster.digest()
    good = RecordingMocks(stack_outputs={"dev": {"rosterDigest": digest}}, authentik_users=sample.AUTHENTIK)
    run = run_program(sample.inputs(stack="staging", promotion={"after": "dev"}), good)
    assert run.outputs["rosterDigest"] == digest and run.of_type("os:Account")
    bad = RecordingMocks(stack_outputs={"dev": {"rosterDigest": "0" * 64}}, authentik_users=sample.AUTHENTIK)
    with pytest.raises(GateError) as e:
        run_program(sample.inputs(stack="staging", promotion={"after": "dev"}), bad)
    assert "is not the one deployed on 'dev'" in str(e.value)
    assert not [r for r in bad.resources if r.type.startswith(DYN)]
    never = RecordingMocks(authentik_users=sample.AUTHENTIK)
    with pytest.raises(GateError, match="has no deployed roster digest yet"):
        run_program(sample.inputs(stack="staging", promotion={"after": "dev"}), never)


def test_kubernetes_and_authentik_off_for_the_dev_stack():
    run = run_program(sample.inputs(authentik={"enabled": False}, kubernetes={"enabled": False}), RecordingMocks())
    assert not run.of_type("Group") and not run.of_type("RoleBinding") and not run.of_type("ClusterRole")
    assert run.mocks.calls == []
    assert len(run.of_type("os:Account")) == 9


def test_dropping_the_peering_block_with_peers_deployed_is_refused():
    deployed = {"dev": {"peers": {"213001": {"state": "active"}}}}
    mocks = RecordingMocks(stack_outputs=deployed, authentik_users=sample.AUTHENTIK)
    with pytest.raises(GateError, match="1 peer\\(s\\) deployed but no keystone:peering any more"):
        run_program(sample.inputs(), mocks)
    assert not [r for r in mocks.resources if r.type.startswith(DYN)]


def test_per_person_summary_export(run):
    people = run.outputs["people"]
    assert set(people) == {"alice", "bob", "carol", "dave", "erin"}
    ws1 = people["alice"]["hosts"]["ws1"]
    assert ws1["uid"] == 20001 and ws1["home"] == "rpool/crypt/home/alice" and ws1["account"] == "active"
    assert ws1["delegated"]["descendent"] == ["destroy"] and "destroy" not in ws1["delegated"]["local+descendent"]
    assert people["dave"]["hosts"]["ws1"]["delegated"] is None and people["dave"]["hosts"]["ws1"]["account"] == "locked"
    assert people["erin"]["hosts"]["ws1"]["ensure"] == "archived"
    assert people["alice"]["kubernetes"] == "oidc:alice@example.org" and people["alice"]["authentik"] == "alice.a"
    assert len(run.outputs["rosterDigest"]) == 64


def test_authentik_users_in_the_gate_group_are_named_by_its_one_read():
    """Members are known from the group's answer; only the roster's other names are looked up."""
    mocks = RecordingMocks(authentik_users=sample.AUTHENTIK, authentik_members={11: "alice.a", 12: "bob", 99: "mallory"})
    run = run_program(sample.inputs(), mocks)
    assert "alice.a" not in mocks.directory.asked and "bob" not in mocks.directory.asked
    assert "carol" in mocks.directory.asked
    (group,) = run.of_type("authentik:Group")
    assert group.inputs["known_members"] == [11, 12, 13]


def test_an_authentik_that_refuses_the_look_up_is_one_message_and_registers_nothing():
    class Refusing:
        def members(self, group):
            raise AuthentikError("Authentik at http://ak: GET /core/groups/ (name=keystone) page 1 failed: HTTP 403")

        def user_pks(self, usernames):
            raise AssertionError("the group's answer comes first")

    mocks = RecordingMocks(authentik_users=sample.AUTHENTIK)
    with pytest.raises(pulumi.RunError) as e:
        run_program(dataclasses.replace(sample.inputs(), authentik_directory=Refusing()), mocks)
    assert str(e.value).startswith("authentik: nothing was applied: Authentik at http://ak: GET /core/groups/")
    assert e.value.__cause__ is None and e.value.__suppress_context__
    assert not [r for r in mocks.resources if r.type.startswith(DYN) or "rbac" in r.type]
