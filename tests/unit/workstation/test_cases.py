"""Data-driven port allocations, one YAML case per file (``cases/ports/*.yaml``): the people and the
previous allocation in, the allocation out; allocating again from the result changes nothing.  The
instance and file planners' cases are with every other planner's, under ``tests/unit/cases/``."""
from __future__ import annotations

import pathlib

import pytest
import yaml

from program.ports import Claimant, PortRangeExhausted, ServiceRange, allocate

CASES = pathlib.Path(__file__).parent / "cases"


def cases(kind: str) -> list[pathlib.Path]:
    found = sorted((CASES / kind).glob("*.yaml"))
    assert found, kind
    return found


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
