"""The workstation part of the program under mocks: instances, files, workspace, maps, sticky ports."""
from __future__ import annotations

import pytest
import yaml

from program.gate import GateError
from program.mocks import RecordingMocks, run_program
from tests.harness import sample


def run(roster=sample.ROSTER, previous=None, **ws_over):
    ws = {**sample.WORKSTATION, **ws_over}
    mocks = RecordingMocks(authentik_users={**sample.AUTHENTIK, "aaron": 21, "dave": 22},
                           stack_outputs={"dev": {"people": previous}} if previous else None)
    return run_program(sample.inputs(roster, workstation=ws), mocks)


@pytest.fixture(scope="module")
def first():
    return run()


def test_instances_per_person_host_and_tier(first):
    inst = {r.name: r.inputs for r in first.of_type("workstation:ServiceInstance")}
    # alice, bob: ws1+ws2; carol: ws1; dave (offboarded): disabled; erin (purged): absent
    assert set(inst) == {"alice-ws1-svc-echo", "alice-ws2-svc-echo", "bob-ws1-svc-echo", "bob-ws2-svc-echo",
                         "carol-ws1-svc-echo", "dave-ws1-svc-echo", "dave-ws2-svc-echo", "erin-ws1-svc-echo",
                         "erin-ws2-svc-echo"}
    a = inst["alice-ws1-svc-echo"]
    assert a["unit"] == "keystone-echo" and a["user"] == "alice" and a["port"] == 20000 and a["enabled"]
    assert a["environment"] == "PORT=20000\nGREETING=hello Alice Admin\n" and a["restart"] == "when-idle"
    assert inst["dave-ws1-svc-echo"]["enabled"] is False and inst["dave-ws1-svc-echo"]["ensure"] == "present"
    assert inst["erin-ws1-svc-echo"]["ensure"] == "absent"
    # ports: username order from empty, per host; every roster person holds one
    assert {n: i["port"] for n, i in inst.items() if n.endswith("ws1-svc-echo")} == {
        "alice-ws1-svc-echo": 20000, "bob-ws1-svc-echo": 20001, "carol-ws1-svc-echo": 20002,
        "dave-ws1-svc-echo": 20003, "erin-ws1-svc-echo": 20004}
    assert first.outputs["people"]["alice"]["workstation"]["ports"] == {"ws1": {"echo": 20000}, "ws2": {"echo": 20000}}


def test_seeded_files_and_workspace_only_for_active_people_written_as_them(first):
    files = {r.name: r.inputs for r in first.of_type("host:ManagedFile")}
    seeds = {n: f for n, f in files.items() if f.get("seed")}
    assert set(seeds) == {"alice-ws1-file-0", "alice-ws2-file-0", "bob-ws1-file-0", "bob-ws2-file-0", "carol-ws1-file-0"}
    f = seeds["bob-ws2-file-0"]
    assert f["path"] == "/home/bob/.config/keystone/env.sh" and f["as_owner"] and f["owner"] == 20002
    assert f["content"] == "export WHO=bob\n" and f["mode"] == "0600" and f["private"] is True
    ws = {r.name: r.inputs for r in first.of_type("workstation:Workspace")}
    assert set(ws) == {"alice-ws1-workspace", "alice-ws2-workspace", "bob-ws1-workspace", "bob-ws2-workspace",
                       "carol-ws1-workspace"}
    assert ws["carol-ws1-workspace"]["path"] == "code" and ws["carol-ws1-workspace"]["uid"] == 20003


def test_units_and_maps_on_every_host(first):
    files = {r.name: r.inputs for r in first.of_type("host:ManagedFile")}
    unit = files["ws1-unit-echo"]
    assert unit["path"] == "/etc/systemd/system/keystone-echo@.service" and unit["reload"] == "systemd"
    assert "EnvironmentFile=/etc/keystone/workstation/keystone-echo/%i.env" in unit["content"]
    # only active people are in the map
    assert files["ws1-map-echo"]["content"] == "alice\t20000\nbob\t20001\ncarol\t20002\n"
    assert files["ws2-map-echo"]["content"] == "alice\t20000\nbob\t20001\n"
    inst = first.named("alice-ws1-svc-echo")
    assert inst.options["parent"] == "alice"


def test_tier_groups_are_added_to_the_account(first):
    assert first.named("alice-ws1-account").inputs["groups"] == ["adm", "docker", "sudo"]
    assert first.named("bob-ws1-account").inputs["groups"] == []


def test_ports_are_sticky_as_people_come_and_go(first):
    previous = first.outputs["people"]
    # aaron joins (sorts first), bob is removed after offboarding, dave is re-activated
    doc = yaml.safe_load(sample.ROSTER)
    del doc["people"]["bob"]
    del doc["people"]["dave"]["state"]
    doc["people"]["aaron"] = {"name": "Aaron New", "uid": 20009, "tier": "power-user"}
    roster = yaml.safe_dump(doc)
    previous = {**previous, "bob": {**previous["bob"], "state": "offboarded"}}
    again = run(roster, previous)
    inst = {r.name: r.inputs["port"] for r in again.of_type("workstation:ServiceInstance") if "-ws1-" in r.name}
    assert inst == {"aaron-ws1-svc-echo": 20001,  # bob's freed port, the lowest free one
                    "alice-ws1-svc-echo": 20000, "carol-ws1-svc-echo": 20002, "dave-ws1-svc-echo": 20003,
                    "erin-ws1-svc-echo": 20004}
    assert again.named("dave-ws1-svc-echo").inputs["enabled"] is True
    files = {r.name: r.inputs for r in again.of_type("host:ManagedFile")}
    assert files["ws1-map-echo"]["content"] == "aaron\t20001\nalice\t20000\ncarol\t20002\ndave\t20003\n"


def test_a_full_range_registers_nothing():
    """(A unit file that does not exist is refused when the settings load, at its line: the hostile
    settings corpus.)"""
    svc = {**sample.WORKSTATION["services"][0], "range": 3}
    with pytest.raises(GateError) as e:
        run(services=[svc])
    assert "service echo on host ws1: its range 20000-20002 is full" in str(e.value)


def test_the_program_passes_the_workstation_policies(first):
    from policy import contract as c
    from policy.offline import ResourceRecord, evaluate

    names = {c.P_WS_PORT_UNIQUE, c.P_WS_INSTANCE_ACTIVE, c.P_WS_SEED_PRIVATE}
    records = [ResourceRecord(type=r.type, name=r.name, props=r.inputs) for r in first.mocks.resources
               if r.type in (c.WORKSTATION_INSTANCE, c.HOST_FILE)]
    assert len(records) == 18  # 9 instances, 5 seeded files, 2 units, 2 maps
    assert [v for v in evaluate(records) if v.policy_name in names] == []
    # and a clash the program would never make is caught
    clash = [*records, ResourceRecord(type=c.WORKSTATION_INSTANCE, name="x", props={
        **first.named("bob-ws1-svc-echo").inputs, "user": "zed"})]
    assert [v.policy_name for v in evaluate(clash) if v.policy_name in names] == [c.P_WS_PORT_UNIQUE]


def test_a_stack_without_workstation_settings_gets_nothing_new():
    plain = run_program(sample.inputs(), RecordingMocks(authentik_users=sample.AUTHENTIK))
    assert not [r for r in plain.mocks.resources if r.type.endswith(("workstation:ServiceInstance", "host:ManagedFile",
                                                                     "workstation:Workspace"))]
    alice = plain.outputs["people"]["alice"]
    assert "workstation" not in alice and "workstation" not in alice["hosts"]["ws1"]
