"""State backends: ``.venv/bin/python -m bench.backends [--people 10] [--asns 20] [--only people|peering]``
(root: the peering graph uses network namespaces and bird2; the people graph the test guest).

Keystone's ``pulumi up`` from empty through the real CLI (``python -m engine``, fresh processes) on the
file backend and on the team backend (PostgreSQL, a throw-away cluster: tests/harness/postgres.py), for
two graphs — N people on the test guest, and N ASNs on two route servers (bird2 in network namespaces)
with their ZeroTier members — each beside the engine's own floor for the same graph: the resources of
that very ``up`` (its ``pulumi stack export``) registered again by ``bench/engine_floor`` with a
provider that does nothing, on the same backend.

The state-checkpoint cost per step is the floor's ``up`` with a checkpoint per step (what every
backend does by default) minus the floor's ``up`` with ``PULUMI_SKIP_CHECKPOINTS=true`` (one save at
the end), per step.  The goal: Keystone's ``up`` from empty within 1.5× the floor on the faster
backend.  A benchmark prints; it does not assert times.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from bench.engine import FLOOR
from tests.harness import postgres as pg
from tests.harness.engine import Workspace

BACKENDS = ("file", "postgres")
GOAL = 1.5
HEADER = ("graph", "backend", "keystone up", "floor up", "floor, one save", "checkpoint/step", "keystone ÷ floor",
          "state: keystone / floor")


def log(msg: str) -> None:
    print(f"[bench.backends {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def timed_up(ws: Workspace) -> tuple[float, int]:
    """Seconds of `pulumi up` from the command's start to its end, and the steps it took."""
    started = time.perf_counter()
    outcome = ws.run("up", "--yes", "--skip-preview", stack="bench", log_events=True, check=True, timeout=3600)
    return time.perf_counter() - started, len(outcome.steps())


class Backends:
    """A fresh backend URL per workspace: a file backend under the workspace, or a new database of
    one PostgreSQL cluster."""

    def __init__(self, cluster: pg.Cluster):
        self.cluster = cluster

    def workspace(self, backend: str, root: pathlib.Path, **kw: Any) -> Workspace:
        return Workspace(root, **kw) if backend == "file" else self.cluster.workspace(root, **kw)


def state_kb(ws: Workspace) -> float:
    """The size of the stack's state as the backend stores it (every save writes all of it)."""
    return len(ws.run("stack", "export", stack="bench", check=True).stdout) / 1024


def floor_row(backends: Backends, backend: str, work: pathlib.Path, graph: list[dict]) -> dict[str, float]:
    """The floor's `up` from empty of ``graph`` on ``backend``: a checkpoint per step, then one save."""
    work.mkdir(parents=True, exist_ok=True)
    path = work / "graph.json"
    path.write_text(json.dumps(graph))
    out: dict[str, float] = {}
    for label, env in (("floor_s", {}), ("one_save_s", {"PULUMI_SKIP_CHECKPOINTS": "true"})):
        ws = backends.workspace(backend, work / label, program=FLOOR)
        ws.write_stack("bench", {"graph": str(path)})
        ws.init("bench")
        ws.environ.update(env)  # every command from here on: the `up` (and the export after it, which only reads)
        out[label], out["steps"] = timed_up(ws)
    out["state_kb"] = state_kb(ws)
    return out


def measure(name: str, key: str, backends: Backends, work: pathlib.Path,
            keystone_up: Callable[[Workspace], tuple[float, list[dict]]]) -> list[dict[str, Any]]:
    """Per backend: Keystone's `up` from empty (``keystone_up`` sets up a fresh target, runs it and
    returns its seconds and exported resources), then the floor for that graph on that backend."""
    rows = []
    for backend in BACKENDS:
        ws = backends.workspace(backend, work / f"{key}-{backend}")
        log(f"{name}: keystone up from empty on the {backend} backend")
        seconds, graph = keystone_up(ws)
        keystone_kb = state_kb(ws)
        log(f"{name}: the engine's floor for the same {len(graph)} resources on the {backend} backend")
        floor = floor_row(backends, backend, work / f"{key}-{backend}-floor", graph)
        steps = max(int(floor["steps"]), 1)
        rows.append({"graph": name, "backend": backend, "keystone_s": seconds, "floor_s": floor["floor_s"],
                     "one_save_s": floor["one_save_s"], "steps": steps,
                     "checkpoint_ms_per_step": 1000 * (floor["floor_s"] - floor["one_save_s"]) / steps,
                     "ratio": seconds / floor["floor_s"], "state_kb": keystone_kb,
                     "floor_state_kb": floor["state_kb"]})
    return rows


def people_up(n: int) -> Callable[[Workspace], tuple[float, list[dict]]]:
    from bench.__main__ import Guest
    from bench.engine import roster_yaml, stack
    from bench.people import people

    def run(ws: Workspace) -> tuple[float, list[dict]]:
        with Guest() as g:
            ws.write_stack("bench", stack(g.target, ws.write_roster(roster_yaml(people(n)))))
            ws.init("bench")
            seconds, _ = timed_up(ws)
        return seconds, ws.export("bench")["deployment"]["resources"]

    return run


def peering_up(asns: int) -> Callable[[Workspace], tuple[float, list[dict]]]:
    from bench import peering as bp
    from tests.harness.peering_lab import peering_lab
    from tests.harness.zerotier_controller import FakeZeroTierController

    def run(ws: Workspace) -> tuple[float, list[dict]]:
        with peering_lab(2) as lab, FakeZeroTierController("self_hosted").start() as ctl:
            bp.init_stack(ws, asns, bp.lab_peering(lab, ctl))
            seconds, _ = timed_up(ws)
        return seconds, ws.export("bench")["deployment"]["resources"]

    return run


def table(rows: list[dict[str, Any]]) -> list[str]:
    cells = [HEADER] + [(r["graph"], r["backend"], f"{r['keystone_s']:.2f} s", f"{r['floor_s']:.2f} s",
                         f"{r['one_save_s']:.2f} s", f"{r['checkpoint_ms_per_step']:.1f} ms × {r['steps']}",
                         f"{r['ratio']:.2f}×", f"{r['state_kb']:.0f} / {r['floor_state_kb']:.0f} KiB") for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADER))]
    lines = ["  ".join(x.ljust(w) for x, w in zip(c, widths)).rstrip() for c in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for graph in dict.fromkeys(r["graph"] for r in rows):
        best = min((r for r in rows if r["graph"] == graph), key=lambda r: r["keystone_s"])
        lines.append(f"{graph}: up from empty on the faster backend ({best['backend']}) is {best['ratio']:.2f}× "
                     f"the engine's floor (goal ≤ {GOAL}×: {'met' if best['ratio'] <= GOAL else 'NOT met'})")
    return lines


def run(people: int, asns: int, only: set[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with pg.cluster() as cluster, tempfile.TemporaryDirectory(prefix="keystone-bench-backends-") as tmp:
        backends = Backends(cluster)
        if "people" in only:
            rows += measure(f"{people} people × 1 host", "people", backends, pathlib.Path(tmp), people_up(people))
        if "peering" in only:
            rows += measure(f"{asns} ASNs × 2 RS", "peering", backends, pathlib.Path(tmp), peering_up(asns))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.backends", description=__doc__.split("\n\n")[0])
    ap.add_argument("--people", type=int, default=10, help="people on the test guest (default %(default)s)")
    ap.add_argument("--asns", type=int, default=20, help="ASNs on two route servers (default %(default)s)")
    ap.add_argument("--only", choices=["people", "peering"], action="append")
    a = ap.parse_args(argv)
    rows = run(a.people, a.asns, set(a.only or ["people", "peering"]))
    print("\n".join(table(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
