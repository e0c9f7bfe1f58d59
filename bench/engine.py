"""Keystone as an admin runs it: the real ``pulumi`` (``python -m engine``), one fresh process tree
per command, on a file backend.

* ``EnginePeople``: N people on the test guest — ``up`` from empty, a no-op ``up``, ``refresh`` and
  ``preview``, each timed from the command's start to its end (CLI, program and provider start-up
  included), with the round trips the provider processes made (``KEYSTONE_TRANSPORT_LOG``).
* ``preview_scaling``: ``preview`` of N people on 3 hosts from an empty stack, beside the engine's own
  floor — a trivial program (``bench/engine_floor``) that registers the same resources (one
  component per person, three dynamic resources per host with the program's props and ordering)
  with a provider that does nothing.  Seconds and the largest process's peak RSS.
"""
from __future__ import annotations

import os
import pathlib
import time
from dataclasses import dataclass
from typing import Any

from bench.people import Person
from bench.program_eval import HOSTS, roster_text as program_roster
from tests.harness.engine import Outcome, Workspace

FLOOR = pathlib.Path(__file__).resolve().parent / "engine_floor"


@dataclass
class Timed:
    seconds: float
    outcome: Outcome
    round_trips: int = 0
    commands: int = 0


def roster_yaml(people: list[Person]) -> str:
    lines = ["people:"]
    for p in people:
        lines += [f"  {p.username}:", f"    name: {p.comment}", f"    uid: {p.uid}", "    tier: power-user",
                  f"    shell: {p.shell}",
                  *([f"    groups: [{', '.join(p.groups)}]"] if p.groups else []),
                  f"    zfs: {{quota: {p.quota}, compression: {p.compression}, recordsize: {p.recordsize},"
                  f" atime: {p.atime}}}"]
    return "\n".join(lines) + "\n"


def stack(target: dict[str, Any], roster: pathlib.Path, hosts: list[dict] | None = None) -> dict[str, Any]:
    host = {"name": target["name"], "address": target["address"], "port": target["port"], "user": target["user"],
            "identityFile": target["identity_file"], "knownHostsFile": target["known_hosts_file"],
            "hostKeyAlias": target["host_key_alias"]}
    return {"roster": str(roster), "minUid": 1000, "hosts": hosts or [host],
            "zfs": {"homeParent": "rpool/crypt/home", "archiveParent": "rpool/crypt/archive", "homeMountpoint": "/home"},
            "authentik": {"enabled": False}, "kubernetes": {"enabled": False}}


class EnginePeople:
    def __init__(self, target: dict[str, Any], work: pathlib.Path):
        self.ws = Workspace(work / "engine")
        self.log = str(work / "engine-transport.jsonl")
        os.environ["KEYSTONE_TRANSPORT_LOG"] = self.log
        self.target = target

    def _timed(self, *args: str, **kw) -> Timed:
        before = _lines(self.log)
        started = time.perf_counter()
        outcome = self.ws.run(*args, stack="bench", log_events=True, check=True, **kw)
        seconds = time.perf_counter() - started
        trips, commands = count_round_trips_since(self.log, before)
        return Timed(seconds, outcome, trips, commands)

    def create(self, people: list[Person]) -> Timed:
        roster = self.ws.write_roster(roster_yaml(people))
        self.ws.write_stack("bench", stack(self.target, roster))
        self.ws.init("bench")
        return self._timed("up", "--yes", "--skip-preview")

    def noop_up(self) -> Timed:
        return self._timed("up", "--yes", "--skip-preview")

    def refresh(self) -> Timed:
        return self._timed("refresh", "--yes", "--skip-preview")

    def preview(self) -> Timed:
        return self._timed("preview")

    def change(self, people: list[Person]) -> Timed:
        self.ws.write_roster(roster_yaml(people))
        return self._timed("up", "--yes", "--skip-preview")


def _lines(path: str) -> int:
    try:
        with open(path) as fh:
            return sum(1 for _ in fh)
    except FileNotFoundError:
        return 0


def count_round_trips_since(path: str, skip: int) -> tuple[int, int]:
    """Round trips and commands logged after the first ``skip`` lines, by any process."""
    import json

    trips = commands = 0
    try:
        with open(path) as fh:
            for i, line in enumerate(fh):
                if i >= skip:
                    trips += 1
                    commands += json.loads(line)["commands"]
    except FileNotFoundError:
        pass
    return trips, commands


def preview_scaling(work: pathlib.Path, sizes=(250, 500, 1000)) -> list[dict[str, Any]]:
    """``pulumi preview`` of N people × 3 hosts from empty: Keystone's program beside the floor."""
    import json

    from bench.program_eval import _registered_shapes

    shapes = work / "shapes.json"
    work.mkdir(parents=True, exist_ok=True)
    shapes.write_text(json.dumps(_registered_shapes()))
    out = []
    for n in sizes:
        row: dict[str, Any] = {"people": n}
        for label, program in (("keystone", None), ("floor", FLOOR)):
            ws = Workspace(work / f"preview-{label}-{n}", program=program)
            roster = ws.write_roster(program_roster(n))
            config: dict[str, Any] = {"roster": str(roster), "minUid": 1000, "hosts": HOSTS,
                                      "authentik": {"enabled": False}, "kubernetes": {"enabled": False}}
            if program is not None:
                config = {"people": n, "shapes": str(shapes)}
            ws.write_stack("bench", config)
            ws.init("bench")
            seconds, peak_kb, o = run_measured(ws, "preview", stack="bench")
            row[f"{label}_seconds"] = round(seconds, 2)
            row[f"{label}_peak_mb"] = round(peak_kb / 1024, 1)
            row[f"{label}_resources"] = sum(o.summary().values())
        row["ratio"] = round(row["keystone_seconds"] / row["floor_seconds"], 2)
        out.append(row)
    return out


def run_measured(ws: Workspace, *args: str, stack: str) -> tuple[float, int, Outcome]:
    """Seconds and the peak of the summed RSS of the whole process tree (runner, CLI, providers),
    sampled every 0.1 s."""
    import tempfile

    from tests.harness.engine import read_events

    with tempfile.TemporaryDirectory() as tmp:
        events = pathlib.Path(tmp) / "events.jsonl"
        started = time.perf_counter()
        with open(pathlib.Path(tmp) / "out", "w+") as out, open(pathlib.Path(tmp) / "err", "w+") as err:
            proc = ws.spawn(*args, stack=stack, events=events, stdout=out, stderr=err)
            peak = 0
            while proc.poll() is None:
                peak = max(peak, tree_rss_kb(proc.pid))
                time.sleep(0.1)
            seconds = time.perf_counter() - started
            out.seek(0)
            err.seek(0)
            o = Outcome(list(args), proc.returncode, out.read(), err.read(), read_events(events)).check()
    return seconds, peak, o


def tree_rss_kb(root: int) -> int:
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/status") as fh:
                total += next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
            for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total
