"""Every planner case (``tests/unit/cases/<planner>/*.yaml``): host state in, exactly these commands
out (or this refusal); no secret in a command's argv or its display; and the planner, re-run on the
state its commands leave behind, plans nothing (pyinfra's idempotence check)."""
from __future__ import annotations

import pathlib

import pytest

from providers.hoststate import HostState
from providers.transport import Command
from providers.workstation.facts import WorkstationFacts
from providers.zfs.facts import Grants
from tests.harness import transitions
from tests.harness.planner_cases import PLANNERS, cases, load, shown

ALL = [pytest.param(name, path, id=f"{name}/{path.stem}") for name in PLANNERS for path in cases(name)]


@pytest.mark.parametrize("name, path", ALL)
def test_planner_case(name: str, path: pathlib.Path) -> None:
    planner, case = PLANNERS[name], load(path)
    desired = planner.inputs(case["desired"])
    state = planner.state(case.get("state") or {})
    if "error" in case:
        with pytest.raises(planner.refusal) as refused:
            planner.plan(desired, state, case)
        assert case["error"] in str(refused.value)
        return
    step = planner.plan(desired, state, case)
    assert [shown(c) for c in step.commands] == case["commands"]
    for key, default in planner.reports.items():
        assert step.report[key] == case.get(key, default), key
    for c in step.commands:
        for secret in c.secrets:
            assert secret not in c.display() and all(secret not in a for a in c.argv)
    after = planner.apply(state, step, desired)
    if "after" in case:
        assert after == planner.state(case["after"]), f"{path.name}: the commands leave another state"
    again = planner.plan(desired, after, case)
    assert again.commands == [], f"{path.name}: not idempotent"
    for key in planner.reports:
        assert again.report[key] == case.get(f"after_{key}", step.report[key]), key


@pytest.mark.parametrize("apply", [
    lambda cmds: transitions.apply_accounts(HostState(), cmds),
    lambda cmds: transitions.apply_datasets(HostState(), cmds),
    lambda cmds: transitions.apply_grants(Grants(), "alice", cmds),
    lambda cmds: transitions.apply_files({}, cmds),
    lambda cmds: transitions.apply_instance(transitions.InstanceHost(WorkstationFacts()), cmds, False),
], ids=["accounts", "datasets", "delegations", "files", "instances"])
def test_a_transition_refuses_a_command_it_does_not_know(apply) -> None:
    with pytest.raises(transitions.UnknownCommand, match="no state transition for `chmod 777 /`"):
        apply([Command.of("chmod", "777", "/")])
