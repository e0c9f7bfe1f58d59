"""The host base in the program under mocks: machine-wide files on every host, each active person's
slice budget (tier, then roster override), and the gate's check (maxActivePeople)."""
from __future__ import annotations

import pytest
import yaml

from program.gate import GateError
from program.mocks import RecordingMocks, run_program
from tests.harness import sample

BASE = {
    "fileDirs": ["/etc/profile.d", "/etc/skel"],
    "files": [{"path": "/etc/profile.d/keystone.sh", "source": "workstation/base/profile.sh"},
              {"path": "/etc/skel/.keystone", "template": "stack={{ stack }} host={{ host }}\n", "mode": "0600"}],
    "budgets": {"default": {"memoryMax": "8G", "cpuWeight": 100, "tasksMax": 4096},
                "tiers": {"admin": {"memoryMax": "16G", "cpuWeight": 200}}, "maxActivePeople": 3},
}
OFF = {"authentik": {"enabled": False}, "kubernetes": {"enabled": False}}


def run(roster=sample.ROSTER, **over):
    return run_program(sample.inputs(roster, **OFF, base={**BASE, **over}), RecordingMocks())


@pytest.fixture(scope="module")
def first():
    return run()


def test_base_files_on_every_host(first):
    files = {r.name: r.inputs for r in first.of_type("host:ManagedFile")}
    assert files["ws1-base-etc-profile-d-keystone-sh"]["content"].startswith("# Keystone: every login shell")
    skel = files["ws2-base-etc-skel--keystone"]
    assert skel["path"] == "/etc/skel/.keystone" and skel["content"] == "stack=dev host=ws2\n"
    assert skel["mode"] == "0600" and skel["owner"] == 0 and not skel["seed"] and not skel["as_owner"]


def test_budget_per_active_person_and_host(first):
    budgets = {r.name: r.inputs for r in first.of_type("host:ManagedFile") if r.name.endswith("-budget")}
    # alice, bob on ws1+ws2, carol on ws1; dave (offboarded) and erin (purged) get none
    assert set(budgets) == {"alice-ws1-budget", "alice-ws2-budget", "bob-ws1-budget", "bob-ws2-budget",
                            "carol-ws1-budget"}
    a = budgets["alice-ws1-budget"]
    assert a["path"] == "/etc/systemd/system/user-20001.slice.d/keystone.conf" and a["reload"] == "systemd"
    assert a["content"].splitlines()[1:] == ["[Slice]", "MemoryMax=16G", "CPUWeight=200", "TasksMax=4096"]
    assert budgets["bob-ws1-budget"]["content"].splitlines()[2:] == ["MemoryMax=8G", "CPUWeight=100", "TasksMax=4096"]
    assert first.outputs["people"]["alice"]["hosts"]["ws1"]["budget"] == a["path"]


def test_a_roster_override_wins_over_the_tier():
    doc = yaml.safe_load(sample.ROSTER)
    doc["people"]["bob"]["budget"] = {"memory_max": "2G", "tasks_max": "infinity"}
    r = run(yaml.safe_dump(doc))
    assert r.named("bob-ws2-budget").inputs["content"].splitlines()[2:] == [
        "MemoryMax=2G", "CPUWeight=100", "TasksMax=infinity"]


def test_too_many_active_people_on_a_host_stop_the_run():
    """(A ``source`` missing from the repository is a settings error at its line: the hostile corpus.)"""
    with pytest.raises(GateError) as e:
        run(budgets={**BASE["budgets"], "maxActivePeople": 2})
    text = str(e.value)
    assert "host ws1: 3 active people, more than keystone:base.budgets.maxActivePeople (2)" in text
    assert "host ws2" not in text  # two active people there: alice and bob


def test_no_budgets_no_drop_ins():
    r = run(budgets=None)
    assert not [x for x in r.of_type("host:ManagedFile") if x.name.endswith("-budget")]


def test_host_base_packages_and_backups_on_every_host():
    r = run(packages=["git", "zsh"], kubelogin="/usr/local/bin/kubectl-oidc_login",
            backups={"schedule": "*:0/15", "keep": 12, "backupParent": "rpool/crypt/backup"})
    base = r.named("ws2-base").inputs
    assert base["packages"] == ["git", "zsh"] and base["timer"] == "keystone-backup.timer"
    assert base["package_sources"]["zsh"].endswith("keystone:base.packages.1")
    assert base["backup"] == {"home_parent": "rpool/crypt/home", "backup_parent": "rpool/crypt/backup",
                              "max_age_hours": 3, "people": ["alice", "bob"]}
    assert r.named("ws1-base").inputs["backup"]["people"] == ["alice", "bob", "carol"]
    service = r.named("ws1-backup-service").inputs
    assert "ExecStart=/bin/sh /usr/local/lib/keystone/backup.sh rpool/crypt/home rpool/crypt/backup 12" in \
        service["content"] and service["reload"] == "systemd"
    assert "OnCalendar=*:0/15\n" in r.named("ws1-backup-timer").inputs["content"]
    assert r.named("ws1-backup-script").inputs["mode"] == "0755"


def test_warnings_from_the_last_reading():
    from program.base import host_warnings

    assert host_warnings("ws1", 3, "/k", ["bob"], False) == [
        "host ws1: no snapshot newer than 3 h of the home of bob (keystone:base.backups.maxAgeHours): "
        "is keystone-backup.timer running?",
        "host ws1: kubelogin is missing at /k (keystone:base.kubelogin): people's kubeconfig cannot log in until "
        "the admin installs it there"]
    assert host_warnings("ws1", 3, None, [], None) == []


def test_the_base_policies_pass_on_what_the_program_registers():
    """The program and the policy pack agree on where a budget is (``policy/contract.py`` mirrors
    ``providers/hostbase/budget.py``) and whom a host's backup names."""
    from policy.evaluation import evaluate
    from policy.rules import base as base_rules

    r = run(backups={"backupParent": "rpool/crypt/backup"})
    records = [dict(type=x.type, name=x.name, props=x.inputs) for x in r.mocks.resources
               if not x.type.startswith("keystone:")]
    assert r.of_type("host:Base") and [x for x in r.of_type("host:ManagedFile") if x.name.endswith("-budget")]
    assert evaluate(records, policies=base_rules.POLICIES) == []
