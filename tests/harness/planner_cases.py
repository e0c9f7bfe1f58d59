"""Planner cases as data: one YAML file per case under ``tests/unit/cases/<planner>/``, host state in,
commands out, run by one generic runner (``tests/unit/test_planner_cases.py``).

A case holds ``desired`` (the resource's inputs, without ``host``), the host's ``state`` in the
planner's own shape (below), and either ``commands`` (each an argv list, or ``{argv, stdin}`` when
the command reads stdin; a script run as ``sh -c SCRIPT NAME`` is written ``<NAME>``) or ``error``
(text the refusal must contain, or a list of such texts).  The runner then applies the commands to the state with the
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
* ``instances``: ``sessions: {user: n | [session]}`` (``n`` sessions that report no idle time, or each
  ``{idle_minutes, tty, error}``: input that many minutes before the host's clock ``now``, default
  ``NOW``), ``sessions_error`` (logind could not be asked), ``established: {port: n}`` or
  ``established_error``, ``env: {path: content}``, ``units: {unit: {active, enabled}}``,
  ``listeners: [{port, uid, process, pid}]``, ``pending`` (the last run deferred a restart);
* ``base`` (``providers/hostbase/plan.py``): ``installed: [packages]``, ``known: [packages apt has a
  candidate for]`` (an ``apt-get update`` adds the sources' packages), ``lists: current | stale | none``,
  ``swap_kib``, ``timer: [ActiveState, UnitFileState]``, ``ours: [packages Keystone installed]``;
  reports ``installed`` (Keystone's, after the run) and ``dropped``;
* ``bird`` (one safe apply of ``providers/bird/plan.py``): the inputs are ``change`` instead of ``desired``
  — ``kind: peer`` with ``peer`` (a key of ``tests/harness/bird_samples.py``) or ``kind: server``;
  ``content`` (default: the sample's rendered text; ``null``: the file must not exist), ``adopt``,
  ``take_over``, ``seeds`` (each a peer key, or ``{path, content}``) and ``rs: {field: value}`` (overrides of the sample route
  server: ``bird_user: null``, ``allow_empty_peer_set: true``).  The state is the route server as
  ``gather_commands`` reads it: ``files: {path: text}`` (main config, peer files; the neighbors come
  from the text, through the same ``grep`` and ``observe``), ``protocols: {name: proto}`` (default:
  what the files on disk declare), ``birdc_error`` (what ``birdc`` prints when it cannot connect),
  ``pending_undo`` (seconds), ``peers_dir_exists`` (default true).  A text written ``<server>`` or
  ``<peer KEY>`` is the sample rendered.  The planning step is ``fit_seeds``, ``check`` (its problems:
  the refusal), ``is_noop`` (no commands), else ``apply_steps`` then ``confirm_commands``; a command is
  written ``{STEP: argv}`` (``CONFIRM`` for the confirmation), with ``check: false`` when its failure
  does not stop the apply, and ``stdin`` checked in full but written short: ``<server>``/``<peer KEY>``,
  or ``{replacing_include: [lines]}`` for a check config (the main config whose include line gave way
  to these lines, every other line as it is), else the text itself.  ``error`` may list several
  problems: a refusal that carries ``problems`` must have exactly those, in order (all problems at once).
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
from providers.bird import plan as bird_plan
from providers.bird.render import include_line
from providers.hostbase.facts import BaseFacts
from providers.hostbase.plan import BaseInputs, BaseRefused, plan_base
from providers.hostfile.plan import FileConflict, FileInputs, PathState, plan_file, sha256
from providers.hoststate import HostState
from providers.host import HostTarget
from providers.workstation.facts import Listener, Session, UnitState, WorkstationFacts
from providers.workstation.plan import InstanceInputs, PortConflict, plan_instance
from providers.zfs.facts import DatasetState, Grants, PropertyValue
from providers.zfs.plan import ConflictError, DatasetInputs, DelegationInputs, plan_dataset, plan_delegation
from tests.harness import bird_samples, transitions

HOST = HostTarget(name="h", address="local")
CASES = pathlib.Path(__file__).resolve().parents[1] / "unit" / "cases"


@dataclass(frozen=True)
class Step:
    """What a planner returned: its commands, and the other values it reports (by name)."""

    commands: list[Any]
    report: dict[str, Any] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)  # the step each command belongs to, where a planner names them


@dataclass(frozen=True)
class Planner:
    """How the runner drives one planner: ``plan(desired, state, case)`` → :class:`Step`,
    ``apply(state, step, desired)`` → the state after its commands (a pure transition);
    ``reports``: the names of the values a step reports, with their defaults in a case;
    ``given``: the case's key for the inputs; ``show(step, inputs, state)``: the step's commands as
    a case writes them."""

    inputs: Callable[[dict[str, Any]], Any]
    state: Callable[[dict[str, Any]], Any]
    plan: Callable[[Any, Any, dict[str, Any]], Step]
    apply: Callable[[Any, Step, Any], Any]
    refusal: type[Exception]
    reports: dict[str, Any] = field(default_factory=dict)
    given: str = "desired"
    show: Callable[[Step, Any, Any], list[Any]] = lambda step, desired, state: [shown(c) for c in step.commands]


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


NOW = 1_800_000_000
"""The host's clock in an instance case (seconds since the epoch)."""


def _sessions(d: dict[str, Any], now: int | None) -> dict[str, list[Session]]:
    out = {}
    for user, given in (d.get("sessions") or {}).items():
        items = [{}] * given if isinstance(given, int) else given
        out[user] = [Session(f"{user}{i}", user, None if "idle_minutes" not in s else (now or NOW) - 60 * s["idle_minutes"],
                             s.get("tty", ""), s.get("state", "active"), s.get("error"))
                     for i, s in enumerate(items)]
    return out


def _instance_host(d: dict[str, Any]) -> transitions.InstanceHost:
    now = d.get("now", NOW)
    established = d.get("established") or {}
    facts = WorkstationFacts(
        sessions=_sessions(d, now), sessions_error=d.get("sessions_error"), now=now,
        established=None if "established_error" in d else {int(p): n for p, n in established.items()},
        established_error=d.get("established_error"),
        env_digests={p: sha256(c) for p, c in (d.get("env") or {}).items()},
        units={u: UnitState(s.get("active", "inactive"), s.get("enabled", ""))
               for u, s in (d.get("units") or {}).items()},
        listeners={ln["port"]: [Listener(ln["port"], ln.get("uid", 0), ln.get("process", ""), ln.get("pid", 0))]
                   for ln in d.get("listeners") or []})
    return transitions.InstanceHost(facts, bool(d.get("pending", False)))


def _plan_instance(desired: InstanceInputs, host: transitions.InstanceHost, case: dict[str, Any]) -> Step:
    planned = plan_instance(desired, host.facts, host.pending)
    return Step(planned.commands, {"pending_restart": planned.pending_restart, "pending_reason": planned.reason})


def _base_host(d: dict[str, Any]) -> transitions.BaseHost:
    unknown = set(d) - {"installed", "known", "lists", "swap_kib", "timer", "ours"}
    assert not unknown, f"state: unknown keys {sorted(unknown)}"
    lists = d.get("lists", "current")
    facts = BaseFacts(
        now=1000, swap_kib=d.get("swap_kib", 0), installed=frozenset(d.get("installed") or ()),
        candidates={p: "1.0" for p in d.get("known") or ()},
        lists_mtime={"current": 900, "stale": 100, "none": 0}[lists], sources_mtime=500,
        timer_active=(d.get("timer") or ["inactive", "disabled"])[0],
        timer_enabled=(d.get("timer") or ["inactive", "disabled"])[1])
    return transitions.BaseHost(facts, tuple(d.get("ours") or ()))


def _plan_base(desired: BaseInputs, host: transitions.BaseHost, case: dict[str, Any]) -> Step:
    planned = plan_base(desired, host.facts, list(host.installed_by_keystone))
    return Step(planned.commands, {"installed": planned.installed, "dropped": planned.dropped})


# --- BIRD: one safe apply of a route server's file ---------------------------------------------------

#: the texts a BIRD case names instead of writing them out (rendered from the samples)
BIRD_TEXTS = {"<server>": bird_samples.rendered()["server_static.conf"],
              **{f"<peer {key}>": bird_samples.rendered()[f"{key}.conf"] for key in bird_samples.PEERS}}


def _bird_text(text: str | None) -> str | None:
    return BIRD_TEXTS.get(text, text) if text is not None else None


class Refused(bird_plan.PlanError):
    """``check`` found problems: the change is not applied (``problems``: each one, in order)."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def _bird_change(d: dict[str, Any]) -> bird_plan.Change:
    unknown = set(d) - {"kind", "peer", "content", "adopt", "take_over", "seeds", "rs"}
    assert not unknown, f"change: unknown keys {sorted(unknown)}"
    rs = bird_samples.RS.model_copy(update=d.get("rs") or {})
    seeds = tuple(bird_plan.Seed(rs.peer_file(bird_samples.PEERS[k].asn), BIRD_TEXTS[f"<peer {k}>"])
                  if isinstance(k, str) else bird_plan.Seed(k["path"], _bird_text(k["content"]) or "")
                  for k in d.get("seeds") or ())
    flags = {"adopt": d.get("adopt", False), "take_over": d.get("take_over", False), "seed": seeds}
    if d["kind"] == "server":
        return bird_plan.Change(kind="server", rs=rs, resource=f"bird:ServerConfig {rs.name}", live=rs.config_file,
                                content=_bird_text(d.get("content", "<server>")),
                                marker=("bird:ServerConfig", rs.name), **flags)
    asn = bird_samples.PEERS[d["peer"]].asn
    return bird_plan.Change(kind="peer", rs=rs, resource=f"bird:PeerFile {rs.name}/{asn}", live=rs.peer_file(asn),
                            content=_bird_text(d.get("content", f"<peer {d['peer']}>")),
                            marker=("bird:PeerFile", f"{rs.name}/{asn}"), **flags)


def _route_server(d: dict[str, Any]) -> transitions.RouteServer:
    unknown = set(d) - {"files", "protocols", "birdc_error", "pending_undo", "peers_dir_exists"}
    assert not unknown, f"state: unknown keys {sorted(unknown)}"
    rs = bird_samples.RS
    files = {path: _bird_text(text) or "" for path, text in (d.get("files") or {}).items()}
    absent = frozenset() if d.get("peers_dir_exists", True) else frozenset({rs.peers_dir})
    protocols = d.get("protocols")
    if protocols is None:  # the daemon runs the config on disk, as it does from its start
        protocols = transitions.RouteServer(files, {}).host(rs.config_file).loaded() or {}
    pending = d.get("pending_undo")
    return transitions.RouteServer(files, dict(protocols), absent, d.get("birdc_error"),
                                   None if pending is None else float(pending))


def _plan_bird(change: bird_plan.Change, server: transitions.RouteServer, case: dict[str, Any]) -> Step:
    """As ``providers/bird/apply.py`` runs it: gather, ``decide`` (problems: refused; applied
    already: nothing to do), else the staged apply and its confirmation."""
    seen = transitions.observe_bird(server, change)
    decision = bird_plan.decide(change, seen)
    change = decision.change
    if decision.problems:
        raise Refused(decision.problems)
    if decision.noop:
        return Step([])
    steps = bird_plan.apply_steps(change, seen)
    confirm = bird_plan.confirm_commands(change, seen)
    return Step([c for _, c in steps] + confirm, labels=[s.name for s, _ in steps] + ["CONFIRM"] * len(confirm))


def _show_bird(step: Step, change: bird_plan.Change, server: transitions.RouteServer) -> list[Any]:
    """``{STEP: argv}``, with ``stdin`` (a named text, the main config with its include line replaced,
    or the text itself) and ``check: false`` for a command whose failure does not stop the apply."""
    main = change.content if change.kind == "server" else server.files.get(change.rs.config_file)
    out = []
    for label, c in zip(step.labels, step.commands, strict=True):
        form: dict[str, Any] = {label: list(c.argv)}
        if c.stdin is not None:
            form["stdin"] = _bird_stdin(c.stdin, main, include_line(change.rs))
        if not c.check:
            form["check"] = False
        out.append(form)
    return out


def _bird_stdin(text: str, main: str | None, include: str) -> Any:
    """A staged text as a case writes it: ``<server>``/``<peer KEY>``; ``{replacing_include: [lines]}``
    for the main config whose include line gave way to these lines (the lines around it unchanged)."""
    named = [name for name, t in BIRD_TEXTS.items() if t == text]
    if named:
        return named[0]
    at = (main or "").find(f"\n{include}\n")
    if main is not None and at >= 0:
        head, tail = main[:at + 1], main[at + len(include) + 2:]
        if text.startswith(head) and text.endswith(tail) and len(text) >= len(head) + len(tail):
            return {"replacing_include": text[len(head):len(text) - len(tail)].splitlines()}
    return text


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
        reports={"pending_restart": False, "pending_reason": None}),
    "base": Planner(
        inputs=lambda d: BaseInputs(host=HOST, **d),
        state=_base_host,
        plan=_plan_base,
        apply=lambda host, step, desired: transitions.apply_base(host, step.commands, step.report["installed"]),
        refusal=BaseRefused,
        reports={"installed": [], "dropped": []}),
    "bird": Planner(
        inputs=_bird_change,
        state=_route_server,
        plan=_plan_bird,
        apply=lambda server, step, change: transitions.apply_bird(server, change.rs.config_file, step.commands),
        refusal=Refused,
        given="change",
        show=_show_bird),
}


def cases(planner: str) -> list[pathlib.Path]:
    found = sorted((CASES / planner).glob("*.yaml"))
    assert found, f"no cases for {planner} under {CASES / planner}"
    return found


def load(path: pathlib.Path) -> dict[str, Any]:
    case = yaml.safe_load(path.read_text())
    keys = {"desired", "change", "state", "commands", "error", "stamp", "ensure", "after"}
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
