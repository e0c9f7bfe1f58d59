"""Program evaluation under mocks: the whole Keystone program for a generated roster of N people on 3
hosts (Authentik and Kubernetes off), timed in a fresh interpreter per size so each run is cold.

``python -m bench.program_eval N`` prints one JSON line: people, resources, seconds, peak RSS.
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

HOSTS = [{"name": "ws1", "address": "ws1.example.org"}, {"name": "ws2", "address": "ws2.example.org"},
         {"name": "ws3", "address": "ws3.example.org", "port": 2222}]


def roster_text(n: int) -> str:
    lines = ["people:"]
    for i in range(n):
        lines += [f"  p{i:04d}:", f"    name: Person {i}", f"    uid: {30000 + i}", "    tier: power-user",
                  f"    zfs: {{quota: {1 + i % 5}G}}"]
    return "\n".join(lines) + "\n"


def run(n: int) -> dict:
    from components.stack import ProgramInputs
    from roster import RosterContext, parse_roster_text
    from settings import settings_from_config
    from tests.harness.program import RecordingMocks, run_program

    started = time.perf_counter()
    s = settings_from_config({"hosts": HOSTS})
    roster = parse_roster_text(roster_text(n), RosterContext(min_uid=s.min_uid, hosts=[h.name for h in s.hosts]))
    inputs = ProgramInputs(stack="bench", settings=s, roster=roster, authentik_token=None)
    parsed = time.perf_counter()
    result = run_program(inputs, RecordingMocks())
    done = time.perf_counter()
    return {"people": n, "resources": len(result.mocks.resources), "seconds": round(done - started, 2),
            "parse_seconds": round(parsed - started, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def measure(sizes=(250, 500, 1000), python: str = sys.executable) -> list[dict]:
    out = []
    for n in sizes:
        p = subprocess.run([python, "-m", "bench.program_eval", str(n)], capture_output=True, text=True, timeout=900)
        if p.returncode != 0:
            raise RuntimeError(f"program evaluation of {n} people failed:\n{p.stderr[-3000:]}")
        out.append(json.loads(p.stdout.strip().splitlines()[-1]))
    return out


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]))))
