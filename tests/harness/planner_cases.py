"""Planner cases as data: one YAML file per case under ``tests/unit/cases/<planner>/``, host state in,
commands out, run by one generic runner (``tests/unit/test_planner_cases.py``).

A case holds ``desired`` (the resource's inputs, without ``host``), the host's ``state`` in the
planner's own shape (below), and either ``commands`` (each an argv list, or ``{argv, stdin}`` when
the command reads stdin; a script run as ``sh -c SCRIPT NAME`` is written ``<NAME>``) or ``error``
(text the refusal must contain).  The runner then applies the commands to the state with the
planner's transition (``tests/harness/transitions.py``) and plans again: nothing may be left to do.
A planner that reports more than commands (an instance's pending restart) names those values in
``reports``: a case gives the expected value under that key, and under ``after_<key>`` the value the
re-run reports.  ``after``, when given, is the state the commands must leave (in the same shape).

State shapes:

* ``accounts``: ``passwd: {user: [uid, gid, gecos, home, shell]}``, ``groups: {group: [gid, [members]]}``,
  ``shadow: {user: [password field, expire]}``, ``keys: {user: [lines]}``;
* ``datasets``: ``existing: [names]``, ``datasets: {name: {prop: [value, source]}}``,
  ``owners: {name: [uid, gid, mode]}``; the case also names the archive ``stamp``;
* ``delegations``: ``grants: {local: [perms], descendent: [perms]}`` (the user's entry on the dataset);
* ``files``: ``{path: absent | link | other | {content, mode, uid, gid}}``; the case may say ``ensure: absent``;
* ``instances``: ``sessions: {user: n}``, ``env: {path: content}``, ``units: {unit: {active, enabled}}``,
  ``listeners: [{port, uid, process, pid}]``, ``pending`` (the last run deferred a restart).
"""
from __future__ import annotations

import pathlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from providers.accounts.facts import GroupEntry, PasswdEntry, ShadowEntry
from providers.accounts.plan import AccountConflict, AccountInputs
from providers.accounts.plan import plan as plan_account
from providers.hostfile.plan import FileConflict, FileInputs, PathState, plan_file, sha256
from providers.hoststate import HostState
from providers.transport import HostTarget
from providers.workstation.facts import Listener, UnitState, WorkstationFacts
from providers.workstation.plan import InstanceInputs, PortConflict, plan_instance
from providers.zfs.facts import DatasetState, Grants, PropertyValue
from providers.zfs.plan import ConflictError, DatasetInputs, DelegationInputs, plan_dataset, plan_delegation
from tests.harness import transitions

HOST = HostTarget(name="h", address="local")
CASES = pathlib.Path(__file__).resolve().parents[1] / "unit" / "cases"


@dataclass(frozen=True)
class Step:
    """What a planner returned: its commands, and the other values it reports (by name)."""

    commands: list[Any]
    report: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Planner:
    """How the runner drives one planner: ``plan(desired, state, case)`` → :class:`Step`,
    ``apply(state, step, desired)`` → the state after its commands (a pure transition);
    ``reports``: the names of the values a step reports, with their defaults in a case."""

    inputs: Callable[[dict[str, Any]], Any]
    state: Callable[[dict[str, Any]], Any]
    plan: Callable[[Any, Any, dict[str, Any]], Step]
    apply: Callable[[Any, Step, Any], Any]
    refusal: type[Exception]
    reports: dict[str, Any] = field(default_factory=dict)


def _accounts_state(d: dict[str, Any]) -> HostState:
    return HostState(
        passwd={u: PasswdEntry(u, *v) for u, v in (d.get("passwd") or {}).items()},
        groups={g: GroupEntry(g, v[0], frozenset(v[1])) for g, v in (d.get("groups") or {}).items()},
        shadow={u: ShadowEntry(u, *v) for u, v in (d.get("shadow") or {}).items()},
        keys={u: list(v) for u, v in (d.get("keys") or {}).items()})


def _datasets_state(d: dict[str, Any]) -> HostState:
    return HostState(
        existing=set(d.get("existing") or ()),
        datasets={n: DatasetState(n, {p: PropertyValue(*v) for p, v in props.items()})
                  for n, props in (d.get("datasets") or {}).items()},
        owners={n: tuple(v) for n, v in (d.get("owners") or {}).items()})


def _grants(d: dict[str, Any]) -> Grants:
    g = d.get("grants") or {}
    return Grants(set(g.get("local") or ()), set(g.get("descendent") or ()))


def _paths(d: dict[str, Any]) -> dict[str, PathState]:
    out = {}
    for p, s in (d or {}).items():
        if isinstance(s, str) and s in ("absent", "link", "other"):
            out[p] = PathState(s)
        else:
            out[p] = PathState("file", sha256(s["content"]) if "content" in s else "-", s.get("mode", "644"),
                               s.get("uid", 0), s.get("gid", 0))
    return out


def _instance_host(d: dict[str, Any]) -> transitions.InstanceHost:
    facts = WorkstationFacts(
        sessions=dict(d.get("sessions") or {}),
        env_digests={p: sha256(c) for p, c in (d.get("env") or {}).items()},
        units={u: UnitState(s.get("active", "inactive"), s.get("enabled", ""))
               for u, s in (d.get("units") or {}).items()},
        listeners={ln["port"]: [Listener(ln["port"], ln.get("uid", 0), ln.get("process", ""), ln.get("pid", 0))]
                   for ln in d.get("listeners") or []})
    return transitions.InstanceHost(facts, bool(d.get("pending", False)))


def _plan_instance(desired: InstanceInputs, host: transitions.InstanceHost, case: dict[str, Any]) -> Step:
    planned = plan_instance(desired, host.facts, host.pending)
    return Step(planned.commands, {"pending_restart": planned.pending_restart})


PLANNERS: dict[str, Planner] = {
    "accounts": Planner(
        inputs=lambda d: AccountInputs(host=HOST, **d),
        state=_accounts_state,
        plan=lambda desired, state, case: Step(plan_account(desired, state, "h")),
        apply=lambda state, step, desired: transitions.apply_accounts(state, step.commands),
        refusal=AccountConflict),
    "datasets": Planner(
        inputs=lambda d: DatasetInputs(host=HOST, **d),
        state=_datasets_state,
        plan=lambda desired, state, case: Step(plan_dataset(desired, state, "h", case.get("stamp", "T"))),
        apply=lambda state, step, desired: transitions.apply_datasets(state, step.commands),
        refusal=ConflictError),
    "delegations": Planner(
        inputs=lambda d: DelegationInputs(host=HOST, **d),
        state=_grants,
        plan=lambda desired, grants, case: Step(plan_delegation(desired, grants)),
        apply=lambda grants, step, desired: transitions.apply_grants(grants, desired.user, step.commands),
        refusal=RuntimeError),
    "files": Planner(
        inputs=lambda d: FileInputs(host=HOST, **d),
        state=_paths,
        plan=lambda desired, paths, case: Step(plan_file(desired, paths, case.get("ensure", "present"))),
        apply=lambda paths, step, desired: transitions.apply_files(paths, step.commands),
        refusal=FileConflict),
    "instances": Planner(
        inputs=lambda d: InstanceInputs(host=HOST, **d),
        state=_instance_host,
        plan=_plan_instance,
        apply=lambda host, step, desired: transitions.apply_instance(host, step.commands,
                                                                     step.report["pending_restart"]),
        refusal=PortConflict,
        reports={"pending_restart": False}),
}


def cases(planner: str) -> list[pathlib.Path]:
    found = sorted((CASES / planner).glob("*.yaml"))
    assert found, f"no cases for {planner} under {CASES / planner}"
    return found


def load(path: pathlib.Path) -> dict[str, Any]:
    case = yaml.safe_load(path.read_text())
    keys = {"desired", "state", "commands", "error", "stamp", "ensure", "after"}
    keys |= {k for p in PLANNERS.values() for r in p.reports for k in (r, f"after_{r}")}
    unknown = set(case) - keys
    assert not unknown, f"{path.name}: unknown keys {sorted(unknown)}"
    assert ("commands" in case) != ("error" in case), f"{path.name}: give commands or error, not both"
    return case


def shown(command: Any) -> Any:
    """A command as a case writes it: its argv (a script by its ``$0`` name), with ``stdin`` when it has one."""
    argv = list(command.argv)
    name = transitions.script_name(argv)
    if name is not None:
        argv[argv.index("-c") + 1] = f"<{name}>"
    return argv if command.stdin is None else {"argv": argv, "stdin": command.stdin}
