"""Planner cases as data: one YAML file per case under ``tests/unit/cases/<planner>/``, host state in,
commands out, run by one generic runner (``tests/unit/test_planner_cases.py``).

A case holds ``desired`` (the resource's inputs, without ``host``), the host's ``state`` in the
planner's own shape (below), and either ``commands`` (each an argv list, or ``{argv, stdin}`` when
the command reads stdin; a script run as ``sh -c SCRIPT NAME`` is written ``<NAME>``) or ``error``
(text the refusal must contain).  The runner then applies the commands to the state with the
planner's transition (``tests/harness/transitions.py``) and plans again: nothing may be left to do.

State shapes:

* ``accounts``: ``passwd: {user: [uid, gid, gecos, home, shell]}``, ``groups: {group: [gid, [members]]}``,
  ``shadow: {user: [password field, expire]}``, ``keys: {user: [lines]}``;
* ``datasets``: ``existing: [names]``, ``datasets: {name: {prop: [value, source]}}``,
  ``owners: {name: [uid, gid, mode]}``; the case also names the archive ``stamp``;
* ``delegations``: ``grants: {local: [perms], descendent: [perms]}`` (the user's entry on the dataset).
"""
from __future__ import annotations

import pathlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from providers.accounts.facts import GroupEntry, PasswdEntry, ShadowEntry
from providers.accounts.plan import AccountConflict, AccountInputs
from providers.accounts.plan import plan as plan_account
from providers.hoststate import HostState
from providers.transport import HostTarget
from providers.zfs.facts import DatasetState, Grants, PropertyValue
from providers.zfs.plan import ConflictError, DatasetInputs, DelegationInputs, plan_dataset, plan_delegation
from tests.harness import transitions

HOST = HostTarget(name="h", address="local")
CASES = pathlib.Path(__file__).resolve().parents[1] / "unit" / "cases"


@dataclass(frozen=True)
class Planner:
    """How the runner drives one planner: ``plan(desired, state, case)`` → commands,
    ``apply(state, commands, desired)`` → the state after them (a pure transition)."""

    inputs: Callable[[dict[str, Any]], Any]
    state: Callable[[dict[str, Any]], Any]
    plan: Callable[[Any, Any, dict[str, Any]], list[Any]]
    apply: Callable[[Any, list[Any], Any], Any]
    refusal: type[Exception]


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


PLANNERS: dict[str, Planner] = {
    "accounts": Planner(
        inputs=lambda d: AccountInputs(host=HOST, **d),
        state=_accounts_state,
        plan=lambda desired, state, case: plan_account(desired, state, "h"),
        apply=lambda state, commands, desired: transitions.apply_accounts(state, commands),
        refusal=AccountConflict),
    "datasets": Planner(
        inputs=lambda d: DatasetInputs(host=HOST, **d),
        state=_datasets_state,
        plan=lambda desired, state, case: plan_dataset(desired, state, "h", case.get("stamp", "T")),
        apply=lambda state, commands, desired: transitions.apply_datasets(state, commands),
        refusal=ConflictError),
    "delegations": Planner(
        inputs=lambda d: DelegationInputs(host=HOST, **d),
        state=_grants,
        plan=lambda desired, grants, case: plan_delegation(desired, grants),
        apply=lambda grants, commands, desired: transitions.apply_grants(grants, desired.user, commands),
        refusal=RuntimeError),
}


def cases(planner: str) -> list[pathlib.Path]:
    found = sorted((CASES / planner).glob("*.yaml"))
    assert found, f"no cases for {planner} under {CASES / planner}"
    return found


def load(path: pathlib.Path) -> dict[str, Any]:
    case = yaml.safe_load(path.read_text())
    unknown = set(case) - {"desired", "state", "commands", "error", "stamp"}
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
