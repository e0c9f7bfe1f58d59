"""Data-driven plans, one YAML case per file (``cases/<kind>/*.yaml``): host state in, commands out,
then the plan re-run on the case's own result (``after``) must give no commands."""
from __future__ import annotations

import pathlib

import pytest
import yaml

from providers.hostfile.plan import READ, WRITE, FileConflict, FileInputs, PathState, plan_file, sha256
from providers.transport import HostTarget
from providers.workstation.facts import GATHER, Listener, UnitState, WorkstationFacts
from providers.workstation.plan import InstanceInputs, PortConflict, plan_instance
from providers.workstation.ports import Claimant, PortRangeExhausted, ServiceRange, allocate

CASES = pathlib.Path(__file__).parent / "cases"
HOST = HostTarget(name="h", address="local")
SCRIPTS = {WRITE: "<write.sh>", READ: "<read.sh>", GATHER: "<gather.sh>"}


def cases(kind: str) -> list[pathlib.Path]:
    found = sorted((CASES / kind).glob("*.yaml"))
    assert found, kind
    return found


def argv(commands) -> list[list[str]]:
    return [[SCRIPTS.get(a, a) for a in c.argv] for c in commands]


def facts(d: dict | None) -> WorkstationFacts:
    d = d or {}
    return WorkstationFacts(
        sessions=dict(d.get("sessions") or {}),
        env_digests={p: sha256(c) for p, c in (d.get("env") or {}).items()},
        units={u: UnitState(s.get("active", "inactive"), s.get("enabled", "")) for u, s in (d.get("units") or {}).items()},
        listeners={ln["port"]: [Listener(ln["port"], ln.get("uid", 0), ln.get("process", ""), ln.get("pid", 0))]
                   for ln in d.get("listeners") or []})


@pytest.mark.parametrize("path", cases("instance"), ids=lambda p: p.stem)
def test_instance(path):
    case = yaml.safe_load(path.read_text())
    desired = InstanceInputs(host=HOST, **case["desired"])
    if "error" in case:
        with pytest.raises(PortConflict) as e:
            plan_instance(desired, facts(case.get("facts")), case.get("pending", False))
        assert case["error"] in str(e.value)
        return
    step = plan_instance(desired, facts(case.get("facts")), case.get("pending", False))
    assert argv(step.commands) == case["commands"]
    assert step.pending_restart == case.get("pending_restart", False)
    if any(c.stdin is not None for c in step.commands):
        assert [c.stdin for c in step.commands if c.stdin is not None] == [desired.environment]
    again = plan_instance(desired, facts(case["after"]), step.pending_restart)
    assert again.commands == [] and again.pending_restart == case.get("after_pending", step.pending_restart)


def paths(d: dict | None) -> dict[str, PathState]:
    out = {}
    for p, s in (d or {}).items():
        if isinstance(s, str) and s in ("absent", "link", "other"):
            out[p] = PathState(s)
        else:
            out[p] = PathState("file", sha256(s["content"]) if "content" in s else "-", s.get("mode", "644"),
                               s.get("uid", 0), s.get("gid", 0))
    return out


@pytest.mark.parametrize("path", cases("file"), ids=lambda p: p.stem)
def test_file(path):
    case = yaml.safe_load(path.read_text())
    desired = FileInputs(host=HOST, **case["desired"])
    ensure = case.get("ensure", "present")
    if "error" in case:
        with pytest.raises(FileConflict) as e:
            plan_file(desired, paths(case.get("state")), ensure)
        assert case["error"] in str(e.value)
        return
    commands = plan_file(desired, paths(case.get("state")), ensure)
    assert argv(commands) == case["commands"]
    for c in commands:
        if c.argv[-6:-4] == ("-c", WRITE) or WRITE in c.argv:
            assert c.stdin == desired.content
    assert plan_file(desired, paths(case["after"]), ensure) == []


@pytest.mark.parametrize("path", cases("ports"), ids=lambda p: p.stem)
def test_ports(path):
    case = yaml.safe_load(path.read_text())
    people = [Claimant(u, tuple(p.get("hosts", case["hosts"])), tuple(p["services"]))
              for u, p in (case["people"] or {}).items()]
    services = [ServiceRange(n, s["base"], s["range"]) for n, s in case["services"].items()]
    if "error" in case:
        with pytest.raises(PortRangeExhausted) as e:
            allocate(case.get("previous") or {}, people, services, case["hosts"])
        assert case["error"] in str(e.value)
        return
    got = allocate(case.get("previous") or {}, people, services, case["hosts"])
    assert got == case["allocation"]
    assert allocate(got, people, services, case["hosts"]) == got  # re-run on its own result: unchanged
