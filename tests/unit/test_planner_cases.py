"""Every planner case (``tests/unit/cases/<planner>/*.yaml``): host state in, exactly these commands
out (or this refusal); no secret in a command's argv or its display; and the planner, re-run on the
state its commands leave behind, plans nothing (pyinfra's idempotence check)."""
from __future__ import annotations

import pathlib

import pytest

from providers.hostbase.facts import BaseFacts
from providers.hoststate import HostState
from providers.host import Command
from providers.workstation.facts import WorkstationFacts
from providers.zfs.facts import Grants
from tests.harness import transitions
from tests.harness.planner_cases import PLANNERS, cases, load

ALL = [pytest.param(name, path, id=f"{name}/{path.stem}") for name in PLANNERS for path in cases(name)]


@pytest.mark.parametrize("name, path", ALL)
def test_planner_case(name: str, path: pathlib.Path) -> None:
    planner, case = PLANNERS[name], load(path)
    desired = planner.inputs(case[planner.given])
    state = planner.state(case.get("state") or {})
    if "error" in case:
        with pytest.raises(planner.refusal) as refused:
            planner.plan(desired, state, case)
        expected = case["error"] if isinstance(case["error"], list) else [case["error"]]
        problems = getattr(refused.value, "problems", None)
        if problems is None:  # one message: it holds every expected text
            assert all(e in str(refused.value) for e in expected), str(refused.value)
        else:  # all problems at once: exactly these, in order
            assert len(problems) == len(expected), problems
            assert all(e in p for e, p in zip(expected, problems)), problems
        return
    step = planner.plan(desired, state, case)
    assert planner.show(step, desired, state) == case["commands"]
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
    lambda cmds: transitions.apply_bird(transitions.RouteServer({}, {}), "/etc/bird/bird.conf", cmds),
    lambda cmds: transitions.apply_base(transitions.BaseHost(BaseFacts()), cmds, []),
], ids=["accounts", "datasets", "delegations", "files", "instances", "bird", "base"])
def test_a_transition_refuses_a_command_it_does_not_know(apply) -> None:
    with pytest.raises(transitions.UnknownCommand, match="no state transition for `chmod 777 /`"):
        apply([Command.of("chmod", "777", "/")])
