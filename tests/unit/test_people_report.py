"""The people report's view (ops/people.py, pure): a stack export and its history in, per person and
host the state, account, home, delegation, services, bindings and the update that last touched them.
The report on a real stack is the engine tier's (tests/engine/test_try.py)."""
from __future__ import annotations

import json

import pytest

from engine.events import describe
from engine.history import backend_numbers, numbered
from ops.people import ReportError, human_size, parse_history, parse_used, people_view, render_json, render_markdown, \
    update_at

STACK_URN = "urn:pulumi:dev::keystone::pulumi:pulumi:Stack::keystone-dev"
HOST = {"name": "guest", "address": "127.0.0.1", "port": 2222, "user": "root"}


def component(user: str) -> dict:
    return {"urn": f"urn:pulumi:dev::keystone::keystone:users:WorkstationUser::{user}",
            "type": "keystone:users:WorkstationUser", "parent": STACK_URN,
            "created": "2026-12-07T01:00:01.123456789Z", "modified": "2026-12-07T01:00:01Z"}


def child(user: str, kind: str, part: str, outputs: dict, modified: str) -> dict:
    parent = f"urn:pulumi:dev::keystone::keystone:users:WorkstationUser::{user}"
    return {"urn": f"{parent}$pulumi-python:dynamic/{kind}::{user}-guest-{part}", "type": f"pulumi-python:dynamic/{kind}",
            "parent": parent, "outputs": {"host": HOST, **outputs}, "created": "2026-12-07T01:00:02Z",
            "modified": modified}


def deployment() -> dict:
    people = {"ana": {"uid": 23001, "tier": "admin", "state": "active", "authentik": "ana", "kubernetes": None},
              "ben": {"uid": 23002, "tier": "power-user", "state": "offboarded", "authentik": "ben", "kubernetes": None}}
    resources = [
        {"urn": STACK_URN, "type": "pulumi:pulumi:Stack", "outputs": {"people": people}},
        component("ana"), component("ben"),
        child("ana", "os:Account", "account", {"uid": 23001, "groups": ["users", "video"], "shell": "/bin/bash",
                                               "locked": False, "ensure": "present",
                                               "password_hash": {"ciphertext": "v1:abc"}}, "2026-12-07T01:00:03Z"),
        child("ana", "zfs:Dataset", "home", {"dataset": "rpool/crypt/home/ana", "ensure": "present",
                                             "observed": {"quota": "2G"}}, "2026-12-07T02:00:05Z"),
        child("ana", "zfs:Delegation", "delegation", {"dataset": "rpool/crypt/home/ana", "user": "ana"},
              "2026-12-07T01:00:03Z"),
        child("ana", "workstation:ServiceInstance", "svc-code", {"service": "code", "unit": "code-server", "port": 8101,
                                                                 "enabled": True}, "2026-12-07T01:00:04Z"),
        child("ben", "os:Account", "account", {"uid": 23002, "groups": [], "shell": "/bin/sh", "locked": True,
                                               "ensure": "present"}, "2026-12-07T01:00:03Z"),
        child("ben", "zfs:Dataset", "home", {"dataset": "rpool/crypt/home/ben", "ensure": "present",
                                             "observed": {"quota": "1G"}}, "2026-12-07T01:00:03Z"),
    ]
    return {"resources": resources}


def with_kubernetes_and_authentik(d: dict) -> dict:
    """ana bound cluster-admin and in the gate group (a staging-like stack); ben, offboarded, in neither."""
    parent = "urn:pulumi:dev::keystone::keystone:users:WorkstationUser::ana"
    kind = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
    d["resources"][0]["outputs"]["people"]["ana"]["kubernetes"] = "oidc:ana@example.org"
    d["resources"] += [
        {"urn": f"{parent}${kind}::ana-k8s", "type": kind, "parent": parent,
         "outputs": {"metadata": {"name": "keystone-ana-admin"}, "roleRef": {"name": "cluster-admin"}},
         "created": "2026-12-07T01:00:02Z", "modified": "2026-12-07T01:00:02Z"},
        {"urn": "urn:pulumi:dev::keystone::pulumi-python:dynamic/authentik:Group::gate-group",
         "type": "pulumi-python:dynamic/authentik:Group", "parent": STACK_URN, "outputs": {"name": "keystone"}},
        {"urn": f"{parent}$pulumi-python:dynamic/authentik:GroupMember::ana-authentik",
         "type": "pulumi-python:dynamic/authentik:GroupMember", "parent": parent,
         "outputs": {"person": "ana", "username": "ana", "user_pk": 7, "member": True},
         "created": "2026-12-07T01:00:02Z", "modified": "2026-12-07T01:00:02Z"},
    ]
    return d


HISTORY = [
    {"version": 2, "kind": "update", "startTime": "2026-12-07T02:00:00Z", "endTime": "2026-12-07T02:00:09Z",
     "result": "succeeded"},
    {"version": 1, "kind": "update", "startTime": "2026-12-07T01:00:00Z", "endTime": "2026-12-07T01:00:09Z",
     "result": "succeeded"},
]


def test_each_person_and_host_from_the_state():
    view = people_view("dev", deployment(), HISTORY, {("guest", "rpool/crypt/home/ana"): 3 * 1024**2})
    ana = view["people"]["ana"]
    assert (ana["state"], ana["tier"], ana["uid"]) == ("active", "admin", 23001)
    h = ana["hosts"]["guest"]
    assert h["account"] == {"uid": 23001, "groups": ["users", "video"], "shell": "/bin/bash", "locked": False,
                            "expired": False, "present": True}
    assert h["home"] == {"dataset": "rpool/crypt/home/ana", "ensure": "present", "quota": "2G", "used": 3 * 1024**2}
    assert h["delegation"] == {"dataset": "rpool/crypt/home/ana", "user": "ana"}
    assert h["services"] == [{"service": "code", "unit": "code-server", "port": 8101, "enabled": True}]
    assert h["lastChange"] == {"update": 2, "kind": "update", "time": "2026-12-07T02:00:05Z"}
    ben = view["people"]["ben"]["hosts"]["guest"]
    assert ben["account"]["locked"] and ben["delegation"] is None and ben["home"]["used"] is None
    assert ben["lastChange"]["update"] == 1
    assert view["lastUpdate"] == {"update": 2, "kind": "update", "result": "succeeded", "time": "2026-12-07T02:00:00Z"}
    assert view["people"]["ana"]["authentik"] is None, "no gate group in the state: Authentik is off"


def test_markdown_and_json_never_carry_a_secret():
    view = people_view("dev", deployment(), HISTORY)
    md, js = render_markdown(view), render_json(view)
    assert "ciphertext" not in md + js and "v1:abc" not in md + js
    assert json.loads(js) == view
    row = next(line for line in md.splitlines() if line.startswith("| ana |"))
    assert row == ("| ana | admin | active | guest | uid 23001, users,video, /bin/bash, unlocked | "
                   "rpool/crypt/home/ana: ? / 2G | yes | code:8101 | — | — | update 2 (update), 2026-12-07T02:00:05Z |")
    assert "| ben | power-user | offboarded | guest | uid 23002, no groups, /bin/sh, locked |" in md


def test_kubernetes_bindings_and_authentik_membership():
    view = people_view("staging", with_kubernetes_and_authentik(deployment()), HISTORY)
    ana, ben = view["people"]["ana"], view["people"]["ben"]
    assert ana["kubernetes"] == {"subject": "oidc:ana@example.org", "bindings": [
        {"kind": "ClusterRoleBinding", "name": "keystone-ana-admin", "namespace": None, "role": "cluster-admin"}]}
    assert ana["authentik"] == {"username": "ana", "gateMember": True}
    assert ben["authentik"] == {"username": "ben", "gateMember": False} and ben["kubernetes"] is None
    md = render_markdown(view)
    assert "| ClusterRoleBinding keystone-ana-admin → cluster-admin | ana: member |" in md
    assert "| — | ben: not a member |" in md


def test_an_empty_stack_and_bad_history():
    assert "Nobody: the stack holds no person." in render_markdown(people_view("dev", {}, []))
    with pytest.raises(ReportError):
        people_view("dev", {}, [{"kind": "update"}])
    with pytest.raises(ReportError):
        people_view("dev", {}, {"not": "a list"})


def test_update_at_picks_the_update_running_then():
    updates = parse_history(HISTORY)
    assert update_at(updates, parse_history([{"version": 9, "startTime": "2026-12-07T01:30:00Z"}])[0].start).version == 1
    assert update_at(updates, None) is None


def test_used_parses_zfs_list_and_sizes_read_as_people_write_them():
    assert parse_used("rpool/crypt/home\t98304\nrpool/crypt/home/ana\t3145728\ngarbage\n") == {
        "rpool/crypt/home": 98304, "rpool/crypt/home/ana": 3145728}
    assert [human_size(n) for n in (0, 1536, 3 * 1024**2, 200 * 1024**3, None)] == ["0B", "1.5K", "3.0M", "200G", "?"]


def test_a_diy_backend_s_updates_are_numbered_by_their_place_in_the_history():
    """file://, s3://, postgres:// backends leave version 0 in every entry, newest first."""
    diy = [{"version": 0, "kind": "refresh", "startTime": "2026-12-07T03:00:00Z"},
           {"version": 0, "kind": "update", "startTime": "2026-12-07T02:00:00Z"},
           {"version": 0, "kind": "update", "startTime": "2026-12-07T01:00:00Z"}]
    assert [(u.version, u.kind) for u in parse_history(diy)] == [(1, "update"), (2, "update"), (3, "refresh")]
    assert numbered([]) == [] and backend_numbers([]) is None
    assert backend_numbers(diy[:1]) is None and backend_numbers(HISTORY[:1]) == 2


def test_events_describe_counts_each_kind_of_step():
    assert describe({}) == "no changes"
    assert describe({"a": "create", "b": "create", "c": "update"}) == "create 2, update 1"


def test_the_report_reads_every_update_of_the_history(monkeypatch, capsys):
    """One CLI call for the state, one for the whole history (``--page-size 0``: the CLI's default is
    the newest 10, which would renumber a DIY backend's updates)."""
    from ops import people_report

    calls = []

    def fake_pulumi(*args, cwd=None):
        calls.append(args)
        return json.dumps({"deployment": deployment()} if args[:2] == ("stack", "export") else HISTORY)

    monkeypatch.setattr(people_report, "pulumi", fake_pulumi)
    assert people_report.run("dev", "json", hosts=False, cwd="/p") == 0
    assert json.loads(capsys.readouterr().out)["lastUpdate"]["update"] == 2
    assert calls == [("stack", "export", "--stack", "dev"),
                     ("stack", "history", "--json", "--page-size", "0", "--stack", "dev")]
