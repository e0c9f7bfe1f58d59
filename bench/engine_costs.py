"""The engine's own floor for every graph, and scale: ``.venv/bin/python -m bench.engine_costs
[--only floors-peering|floors-people|scale-people|scale-peering]`` (also ``python -m bench --only …``;
root for the peering graphs: network namespaces and bird2; the people graph uses the test guest).

**floors-peering, floors-people**: Keystone's ``pulumi up`` through the real CLI (``python -m engine``,
fresh processes, file backend) from empty and for a change — one ASN's IPv4 limit on N ASNs × 2 route
servers; every person's quota on N people × 1 host (the test guest is one host) — each beside

* the **engine floor**: the resources of that very run (its ``pulumi stack export`` before and after the
  change) registered again by ``bench/engine_floor`` with a provider that does nothing: ``up`` from
  empty, then ``up`` of the changed graph (the same URNs, the changed inputs), with a checkpoint per
  step and with ``PULUMI_SKIP_CHECKPOINTS=true`` (one save at the end);
* the **host floor**: peering — ``bench.peering.floor``, the rendered files copied into place and one
  plain ``birdc configure`` per route server (for the change: the changed files only); people —
  ``bench/floor.py``'s one script for everyone (floor (c)), on a fresh guest;

and prints Keystone ÷ (engine floor + host floor) against the goal (≤ 1.5×).  End states: peering, the
files on the route servers (Keystone's vs the host floor's, by content); people, the canonical dump.

**scale-people, scale-peering**: ``preview`` and a one-person (one-ASN) change at N people × 3 hosts and
N ASNs × 4 route servers, time and peak RSS of the whole process tree (``bench.engine.run_measured``),
with the round trips the providers made (``KEYSTONE_TRANSPORT_LOG``), at two sizes so the growth shows.
People: Keystone's ``preview`` from empty against three hosts no SSH reaches (``bench.program_eval.HOSTS``:
preview calls Check, never Read, so it must make 0 round trips); the one-person change on the engine
floor only (Keystone's would need N accounts on each of 3 real hosts).  Peering: Keystone on N ASNs × 4
local route servers (state set up with ``PULUMI_SKIP_CHECKPOINTS=true``), then the preview and the ``up``
of a one-ASN change (a checkpoint per step, as admins run it), beside the engine floor for the same graph.

A benchmark prints; it does not assert times.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import shutil
import sys
import tempfile
import time
from typing import Any

from bench.engine import FLOOR, run_measured
from tests.harness.engine import Workspace

GOAL = 1.5            # Keystone ÷ (engine floor + host floor), issue #23 item 3
LINEAR_SLACK = 1.25   # per-unit cost at the larger size ≤ 1.25× the smaller: linear
SKIP = {"PULUMI_SKIP_CHECKPOINTS": "true"}
CHOICES = ("floors-peering", "floors-people", "scale-people", "scale-peering")
ONE_ASN = {0: {"max_prefixes": "{ipv4: 10, ipv6: 50}"}}


def log(msg: str) -> None:
    print(f"[bench.engine_costs {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --- pure: ratios, verdicts, tables -------------------------------------------------------------------

def against_floors(keystone_s: float | None, engine_s: float, host_s: float | None, goal: float = GOAL) -> dict:
    """Keystone's seconds against the sum of its two floors: what the engine costs with nothing to do,
    plus what the hosts cost with no engine.  ``met`` is None when either side was not measured."""
    if keystone_s is None or host_s is None:
        return {"floors_s": None if host_s is None else engine_s + host_s, "ratio": None, "met": None}
    total = engine_s + host_s
    ratio = keystone_s / total if total > 0 else float("inf")
    return {"floors_s": total, "ratio": ratio, "met": ratio <= goal}


def checkpoint_share(per_step_s: float, one_save_s: float) -> float:
    """The share of the engine floor's time that is its per-step checkpoints (0 when within noise)."""
    if per_step_s <= 0:
        return 0.0
    return min(max((per_step_s - one_save_s) / per_step_s, 0.0), 1.0)


def growth(small: tuple[int, float], large: tuple[int, float], slack: float = LINEAR_SLACK) -> tuple[float, bool]:
    """(units, seconds) at two sizes: the per-unit cost at the larger ÷ at the smaller, and whether that
    is linear (≤ ``slack``)."""
    (n0, s0), (n1, s1) = small, large
    if n0 <= 0 or n1 <= 0 or s0 <= 0:
        return float("inf"), False
    x = (s1 / n1) / (s0 / n0)
    return x, x <= slack


def verdict(met: bool | None) -> str:
    return "n/a" if met is None else "met" if met else "NOT met"


def _secs(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f} s"


def _grid(header: tuple[str, ...], cells: list[tuple[str, ...]]) -> list[str]:
    rows = [header, *cells]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(x.ljust(w) for x, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


FLOORS_HEADER = ("graph", "phase", "checkpoints", "keystone", "round trips", "engine floor", "host floor",
                 "keystone ÷ (engine + host)", "goal ≤ 1.5×", "keystone ÷ host", "ckpt share of engine floor",
                 "changed k / f", "peak MB k / f")


def floors_table(rows: list[dict[str, Any]]) -> list[str]:
    """One line per graph, phase and checkpoint mode (rows from ``floors_row``)."""
    cells = []
    for r in rows:
        a = against_floors(r["keystone_s"], r["engine_s"], r["host_s"])
        share = r.get("checkpoint_share")
        trips = r.get("keystone_round_trips")
        alone = None if r["keystone_s"] is None or not r["host_s"] else r["keystone_s"] / r["host_s"]
        cells.append((r["graph"], r["phase"], r["checkpoints"], _secs(r["keystone_s"]),
                      "—" if trips is None else str(trips), _secs(r["engine_s"]),
                      _secs(r["host_s"]), "—" if a["ratio"] is None else f"{a['ratio']:.2f}×", verdict(a["met"]),
                      "—" if alone is None else f"{alone:.2f}×",
                      "" if share is None else f"{100 * share:.0f} %",
                      f"{'—' if r.get('keystone_changed') is None else r['keystone_changed']} / {r['engine_changed']}",
                      f"{'—' if r.get('keystone_peak_mb') is None else format(r['keystone_peak_mb'], '.0f')} / "
                      f"{r['engine_peak_mb']:.0f}"))
    return _grid(FLOORS_HEADER, cells)


def floors_row(graph: str, phase: str, checkpoints: str, keystone: dict | None, engine: dict, host_s: float | None,
               share: float | None = None) -> dict[str, Any]:
    return {"graph": graph, "phase": phase, "checkpoints": checkpoints,
            "keystone_s": None if keystone is None else keystone["s"], "engine_s": engine["s"], "host_s": host_s,
            "keystone_peak_mb": None if keystone is None else keystone["peak_mb"], "engine_peak_mb": engine["peak_mb"],
            "keystone_changed": None if keystone is None else keystone["changed"], "engine_changed": engine["changed"],
            "keystone_round_trips": None if keystone is None else keystone.get("round_trips"),
            "checkpoint_share": share}


SCALE_HEADER = ("graph", "size", "resources", "command", "contender", "seconds", "peak MB (tree)", "round trips",
                "changed")


def scale_table(rows: list[dict[str, Any]]) -> list[str]:
    """The scale rows, then per (graph, command, contender) measured at two sizes: the growth."""
    cells = [(r["graph"], r["size"], str(r["resources"]), r["command"], r["contender"], f"{r['s']:.2f}",
              f"{r['peak_mb']:.0f}", "" if r.get("round_trips") is None else str(r["round_trips"]), str(r["changed"]))
             for r in rows]
    lines = _grid(SCALE_HEADER, cells)
    keys = dict.fromkeys((r["graph"], r["command"], r["contender"]) for r in rows)
    for graph, command, contender in keys:
        pts = sorted((r for r in rows if (r["graph"], r["command"], r["contender"]) == (graph, command, contender)),
                     key=lambda r: r["resources"])
        if len(pts) < 2:
            continue
        small, large = pts[0], pts[-1]
        t, t_ok = growth((small["resources"], small["s"]), (large["resources"], large["s"]))
        m, m_ok = growth((small["resources"], small["peak_mb"]), (large["resources"], large["peak_mb"]))
        dn = large["resources"] - small["resources"]
        marginal = (f"; each further 1,000 resources +{1000 * (large['s'] - small['s']) / dn:.1f} s, "
                    f"+{1000 * (large['peak_mb'] - small['peak_mb']) / dn:.0f} MB" if dn > 0 else "")
        lines.append(f"{graph}, {command}, {contender}: {small['size']} → {large['size']}: per resource, time "
                     f"{t:.2f}× ({'linear' if t_ok else 'NOT linear'}), memory {m:.2f}× "
                     f"({'linear' if m_ok else 'NOT linear'}){marginal}")
    return lines


# --- measuring ------------------------------------------------------------------------------------------

def _lines(path: pathlib.Path) -> int:
    return sum(1 for _ in path.open()) if path.exists() else 0


def measured(ws: Workspace, *args: str) -> dict[str, Any]:
    """One command from its start to its end: seconds, peak RSS of its whole process tree, steps, changed
    resources and (when the workspace logs them) the providers' round trips."""
    trips = ws.environ.get("KEYSTONE_TRANSPORT_LOG")
    before = _lines(pathlib.Path(trips)) if trips else 0
    seconds, peak_kb, o = run_measured(ws, *args, stack="bench")
    return {"s": seconds, "peak_mb": peak_kb / 1024, "steps": len(o.steps()), "changed": len(o.changed()),
            "changed_names": sorted(o.changed()),
            "round_trips": _lines(pathlib.Path(trips)) - before if trips else None,
            "resources": sum(o.summary().values())}


def up(ws: Workspace) -> dict[str, Any]:
    return measured(ws, "up", "--yes", "--skip-preview")


def logged(ws: Workspace) -> Workspace:
    ws.environ["KEYSTONE_TRANSPORT_LOG"] = str(ws.root / "transport.jsonl")
    return ws


def as_changed(before: list[dict], after: list[dict], names: list[str] | set[str]) -> list[dict]:
    """The graph the engine floor changes to: ``after``'s resource where Keystone changed it (by name),
    ``before``'s elsewhere — an input Keystone's provider diffs as no change (a route server's seed
    peers) must not make the floor update what Keystone did not."""
    was = {r["urn"]: r for r in before}
    names = set(names)
    return [r if r["urn"].rsplit("::", 1)[-1] in names or r["urn"] not in was else was[r["urn"]] for r in after]


def engine_floor(work: pathlib.Path, graphs: dict[str, list[dict]], skip: bool) -> dict[str, dict]:
    """The engine floor's ``up`` of each graph in turn (the first from empty), keyed as ``graphs``."""
    ws = Workspace(work, program=FLOOR, environ=SKIP if skip else None)
    graph = work / "graph.json"
    ws.write_stack("bench", {"graph": str(graph)})
    ws.init("bench")  # (the program reads the graph when it runs, not here)
    runs = {}
    for phase, resources in graphs.items():
        graph.write_text(json.dumps(resources))
        runs[phase] = up(ws)
    return runs


def _resources(ws: Workspace) -> list[dict]:
    return ws.export("bench")["deployment"]["resources"]


def floor_rows(graph: str, phases: dict[str, str], keystone: dict[str, dict | None], host: dict[str, float | None],
               engine: dict[str, dict[str, dict]]) -> list[dict[str, Any]]:
    """``phases``: key -> label ("up" first); ``keystone``/``host`` keyed by phase ("up", "change", …, and
    "<phase>/one save"); ``engine`` keyed by checkpoint mode ("per step", "one save"), then by phase."""
    rows = []
    for phase, label in phases.items():
        share = checkpoint_share(engine["per step"][phase]["s"], engine["one save"][phase]["s"])
        rows.append(floors_row(graph, label, "per step", keystone.get(phase), engine["per step"][phase],
                               host.get(phase), share))
        rows.append(floors_row(graph, label, "one save", keystone.get(f"{phase}/one save"), engine["one save"][phase],
                               host.get(phase)))
    return rows


def peering_floors(asns: int, work: pathlib.Path) -> tuple[list[dict], list[str]]:
    """N ASNs × 2 route servers: Keystone (a checkpoint per step, then one save, each on fresh route
    servers), the host floor, the engine floor both ways.  Returns the rows and the end-state checks."""
    from bench import peering as bp
    from tests.harness import peering_sample as ps
    from tests.harness.peering_lab import peering_lab, plan
    from tests.harness.zerotier_controller import FakeZeroTierController

    keystone: dict[str, dict | None] = {}
    host: dict[str, float | None] = {}
    exported: dict[str, list[dict]] = {}
    checks = []
    for skip in (False, True):
        tag = "one save" if skip else "per step"
        with peering_lab(2) as lab, FakeZeroTierController("self_hosted").start() as ctl:
            value = bp.lab_peering(lab, ctl)
            floor_files: dict[str, dict] = {}
            if not skip:
                log(f"peering {asns} ASNs × 2 RS: the host floor, from empty and for one ASN changed")
                files = bp.rendered_files(plan(ps.inputs(asns, peering_value=value), kinds=("bird:",)))
                host["up"], _ = bp.floor(files)
                new = bp.rendered_files(plan(ps.inputs(asns, peering_value=value, changes=ONE_ASN), kinds=("bird:",)))
                delta = {rs: (target, {p: t for p, t in fs.items() if files[rs][1].get(p) != t})
                         for rs, (target, fs) in new.items()}
                host["change"], _ = bp.floor(delta)
                floor_files = {p: sha for p, (_, sha) in bp.snapshot(lab).items()}
                for s in lab.servers:
                    s.reset()
            log(f"peering {asns} ASNs × 2 RS: Keystone's pulumi up from empty, then one ASN changed ({tag})")
            ws = logged(Workspace(work / f"peering-keystone-{tag.replace(' ', '-')}", environ=SKIP if skip else None))
            bp.init_stack(ws, asns, value)
            suffix = "/one save" if skip else ""
            keystone["up" + suffix] = up(ws)
            before = _resources(ws)
            ws.write_roster(ps.roster_text(asns, changes=ONE_ASN))
            keystone["change" + suffix] = up(ws)
            for s in lab.servers:
                assert len(s.bird.protocols()) == 3 + 2 * asns, f"{s.name} runs {len(s.bird.protocols())} protocols"
            if not skip:
                exported = {"before": before,
                            "after": as_changed(before, _resources(ws), keystone["change"]["changed_names"])}
                mine = {p: sha for p, (_, sha) in bp.snapshot(lab).items()}
                same = mine == floor_files
                checks.append(f"peering {asns} ASNs × 2 RS: route servers' files after the change, Keystone vs the "
                              f"host floor: {'same' if same else 'DIFFERENT'} ({len(mine)} files)")
    engine = {}
    for skip in (False, True):
        tag = "one save" if skip else "per step"
        log(f"peering {asns} ASNs × 2 RS: the engine floor ({len(exported['before'])} resources), {tag}")
        engine[tag] = engine_floor(work / f"peering-floor-{tag.replace(' ', '-')}",
                                   {"up": exported["before"], "change": exported["after"]}, skip)
    return floor_rows(f"{asns} ASNs × 2 RS", {"up": "up from empty", "change": "one ASN changed"}, keystone, host,
                      engine), checks


PEOPLE_PHASES = {"up": "up from empty", "change": "everyone's quota changed",
                 "group": "everyone added to a group"}


def people_floors(n: int, work: pathlib.Path) -> tuple[list[dict], list[str]]:
    """N people × 1 host (the test guest): Keystone with a checkpoint per step (as admins run it) from
    empty, a quota change of everyone, then everyone added to one group (the group made first,
    untimed); floor (c) the same on a fresh guest; the engine floor of each graph both ways."""
    from bench import floor as hf
    from bench import state
    from bench.__main__ import Guest
    from bench.engine import roster_yaml, stack
    from bench.people import bigger, joined, people

    rosters = {"up": people(n)}
    rosters["change"] = [bigger(p) for p in rosters["up"]]
    rosters["group"] = [joined(p) for p in rosters["change"]]
    dumps: dict[str, list[str]] = {}
    keystone: dict[str, dict | None] = {}
    host: dict[str, float | None] = {}
    graphs: dict[str, list[dict]] = {}
    log(f"people {n} × 1 host: Keystone's pulumi up from empty, everyone's quota changed, everyone in a group")
    with Guest() as g:
        ws = logged(Workspace(work / "people-keystone"))
        ws.write_stack("bench", stack(g.target, ws.write_roster(roster_yaml(rosters["up"]))))
        ws.init("bench")
        previous = None
        for phase, roster in rosters.items():
            if phase == "group":
                g.ssh(hf.add_team())
            if previous is not None:
                ws.write_roster(roster_yaml(roster))
            keystone[phase] = up(ws)
            dumps[f"keystone/{phase}"] = g.dump(roster)
            graphs[phase] = _resources(ws) if previous is None else as_changed(
                graphs[previous], _resources(ws), keystone[phase]["changed_names"])
            previous = phase
    log(f"people {n} × 1 host: the host floor (one script for everyone) on a fresh guest")
    commands = {"up": hf.create_commands, "change": hf.change_commands, "group": hf.group_change_commands}
    with Guest() as g:
        control = tempfile.mkdtemp(prefix="ks-ctl-", dir="/tmp")  # a socket's path must be short
        ssh = hf.Ssh(g.target, control)
        try:
            ssh.run("true\n")
            for phase, roster in rosters.items():
                if phase == "group":
                    ssh.run(hf.add_team())
                host[phase], _ = hf.timed(lambda r=roster, c=commands[phase]: hf.everyone(ssh, r, c))
                dumps[f"floor/{phase}"] = g.dump(roster)
        finally:
            ssh.close()
            shutil.rmtree(control, ignore_errors=True)
    checks = [f"people {n} × 1 host, {PEOPLE_PHASES[phase]}: canonical dump, Keystone vs floor (c): "
              f"{'same' if not state.diff(dumps['keystone/' + phase], dumps['floor/' + phase]) else 'DIFFERENT'}"
              for phase in rosters]
    engine = {}
    for skip in (False, True):
        tag = "one save" if skip else "per step"
        log(f"people {n} × 1 host: the engine floor ({len(graphs['up'])} resources), {tag}")
        engine[tag] = engine_floor(work / f"people-floor-{tag.replace(' ', '-')}", graphs, skip)
    return floor_rows(f"{n} people × 1 host", PEOPLE_PHASES, keystone, host, engine), checks


def scale_row(graph: str, size: str, command: str, contender: str, m: dict[str, Any],
              resources: int) -> dict[str, Any]:
    r = {"graph": graph, "size": size, "command": command, "contender": contender, **m, "resources": resources}
    del r["changed_names"]
    log(f"  {size} {command} {contender}: {m['s']:.2f} s, peak {m['peak_mb']:.0f} MB, round trips {m['round_trips']}, "
        f"changed {m['changed']}")
    return r


def scale_people(sizes: list[int], work: pathlib.Path) -> list[dict]:
    from bench.program_eval import HOSTS, _registered_shapes, roster_text

    shapes = work / "shapes.json"
    work.mkdir(parents=True, exist_ok=True)
    shapes.write_text(json.dumps(_registered_shapes()))
    rows = []
    for n in sizes:
        size, resources = f"{n} people × 3 hosts", n * (1 + 3 * 3)  # a component + 3 resources per host
        log(f"scale: {size}")
        ws = logged(Workspace(work / f"people-keystone-{n}"))
        ws.write_stack("bench", {"roster": str(ws.write_roster(roster_text(n))), "minUid": 1000, "hosts": HOSTS,
                                 "authentik": {"enabled": False}, "kubernetes": {"enabled": False}})
        ws.init("bench")
        rows.append(scale_row("people", size, "preview from empty", "keystone", measured(ws, "preview"), resources))
        fl = logged(Workspace(work / f"people-floor-{n}", program=FLOOR))
        fl.write_stack("bench", {"people": n, "shapes": str(shapes)})
        fl.init("bench")
        rows.append(scale_row("people", size, "preview from empty", "engine floor", measured(fl, "preview"),
                              resources))
        fl.environ.update(SKIP)
        rows.append(scale_row("people", size, "up from empty (one save)", "engine floor", up(fl), resources))
        del fl.environ["PULUMI_SKIP_CHECKPOINTS"]
        fl.write_stack("bench", {"people": n, "shapes": str(shapes), "changed": n // 2})
        rows.append(scale_row("people", size, "preview, one person changed", "engine floor", measured(fl, "preview"),
                              resources))
        rows.append(scale_row("people", size, "up, one person changed", "engine floor", up(fl), resources))
    return rows


def scale_peering(sizes: list[int], route_servers: int, work: pathlib.Path) -> list[dict]:
    from bench import peering as bp
    from tests.harness import peering_sample as ps
    from tests.harness.peering_lab import peering_lab
    from tests.harness.zerotier_controller import FakeZeroTierController

    rows = []
    for asns in sizes:
        size = f"{asns} ASNs × {route_servers} RS"
        log(f"scale: {size}")
        with peering_lab(route_servers) as lab, FakeZeroTierController("self_hosted").start() as ctl:
            ws = logged(Workspace(work / f"peering-keystone-{asns}", environ=dict(SKIP)))
            bp.init_stack(ws, asns, bp.lab_peering(lab, ctl))
            first = up(ws)
            resources = first["resources"]
            rows.append(scale_row("peering", size, "up from empty (one save)", "keystone", first, resources))
            del ws.environ["PULUMI_SKIP_CHECKPOINTS"]
            before = _resources(ws)
            ws.write_roster(ps.roster_text(asns, changes=ONE_ASN))
            rows.append(scale_row("peering", size, "preview, one ASN changed", "keystone", measured(ws, "preview"),
                                  resources))
            change = up(ws)
            rows.append(scale_row("peering", size, "up, one ASN changed", "keystone", change, resources))
            after = as_changed(before, _resources(ws), change["changed_names"])
            for s in lab.servers:
                assert len(s.bird.protocols()) == 3 + 2 * asns, f"{s.name} runs {len(s.bird.protocols())} protocols"
        fl = Workspace(work / f"peering-floor-{asns}", program=FLOOR, environ=dict(SKIP))
        graph = fl.root / "graph.json"
        graph.write_text(json.dumps(before))
        fl.write_stack("bench", {"graph": str(graph)})
        fl.init("bench")
        rows.append(scale_row("peering", size, "up from empty (one save)", "engine floor", up(fl), resources))
        del fl.environ["PULUMI_SKIP_CHECKPOINTS"]
        graph.write_text(json.dumps(after))
        rows.append(scale_row("peering", size, "preview, one ASN changed", "engine floor", measured(fl, "preview"),
                              resources))
        rows.append(scale_row("peering", size, "up, one ASN changed", "engine floor", up(fl), resources))
    return rows


def run(only: set[str], asns: int, people: int, scale_people_sizes: list[int], scale_asns: list[int],
        route_servers: int) -> tuple[list[str], dict[str, Any]]:
    """Each part in turn, its table printed as soon as it is done; a part that fails is reported and the
    others still run."""
    floors: list[dict] = []
    scale: list[dict] = []
    checks: list[str] = []
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="keystone-bench-costs-") as tmp:
        work = pathlib.Path(tmp)
        parts = [("floors-peering", lambda: peering_floors(asns, work / "floors-peering")),
                 ("floors-people", lambda: people_floors(people, work / "floors-people")),
                 ("scale-people", lambda: (scale_people(scale_people_sizes, work / "scale-people"), [])),
                 ("scale-peering", lambda: (scale_peering(scale_asns, route_servers, work / "scale-peering"), []))]
        for name, part in parts:
            if name not in only:
                continue
            try:
                rows, c = part()
            except Exception as e:  # noqa: BLE001 - one part failing must not lose the others' results
                import traceback

                log(f"{name} FAILED (the other parts still run):\n{traceback.format_exc()}")
                errors.append(f"{name}: {type(e).__name__}: {e}"[:2000])
                continue
            (floors if name.startswith("floors") else scale).extend(rows)
            checks += c
            print("\n".join(floors_table(rows) if name.startswith("floors") else scale_table(rows)), flush=True)
    lines: list[str] = []
    if floors:
        lines += ["Keystone beside its two floors (engine floor: the same graph, a provider that does nothing; "
                  "host floor: the hosts' work with no engine):", *floors_table(floors), *checks, ""]
    if scale:
        lines += ["Scale (time and peak RSS of the whole process tree; round trips the providers made):",
                  *scale_table(scale), ""]
    lines += [f"ERROR: {e}" for e in errors]
    return lines, {"floors": floors, "scale": scale, "end_states": checks, "errors": errors}


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.engine_costs", description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=CHOICES, action="append")
    ap.add_argument("--asns", type=int, default=200, help="floors-peering: ASNs × 2 RS (default %(default)s)")
    ap.add_argument("--people", type=int, default=50, help="floors-people: people × 1 host (default %(default)s)")
    ap.add_argument("--scale-people", default="125,500", help="scale-people sizes (default %(default)s)")
    ap.add_argument("--scale-asns", default="250,1000", help="scale-peering sizes (default %(default)s)")
    ap.add_argument("--route-servers", type=int, default=4, help="scale-peering route servers (default %(default)s)")
    a = ap.parse_args(argv)
    lines, data = run(set(a.only or CHOICES), a.asns, a.people, _ints(a.scale_people), _ints(a.scale_asns),
                      a.route_servers)
    print("\n".join(lines), flush=True)
    results = pathlib.Path(__file__).resolve().parent / "results"
    results.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (results / f"engine-costs-{stamp}.txt").write_text("\n".join(lines) + "\n")
    (results / f"engine-costs-{stamp}.json").write_text(json.dumps(data, indent=1))
    log(f"saved {results / f'engine-costs-{stamp}.txt'} and .json")
    return 0 if all("DIFFERENT" not in c for c in data["end_states"]) and not data["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
