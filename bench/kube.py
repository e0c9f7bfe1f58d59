"""Kubernetes RBAC benchmark: ``.venv/bin/python -m bench.kube [--people 50]`` (or ``python -m bench --only kube``).

The test control plane (``tests/harness/kube.py``: etcd, kube-apiserver with RBAC, the controller
manager's aggregation and garbage-collector controllers, on loopback) and the whole program through
the real engine (``tests/harness/kube_stack.py``: ``python -m engine``, one fresh process tree per
command, the pulumi-kubernetes plugin built by ``scripts/build-kube.sh``), for N people — a third
each admin, power user and namespace owner (each owner bound in two of five namespaces):

* ``pulumi up`` from empty (``--skip-preview``, as the engine tier runs it);
* a no-op ``pulumi preview``.

For each: wall seconds and the API requests the API server completed, counted from its own audit log
(one event per request, stage ``ResponseComplete``), split by client (user agent): the provider's and
the rest (the controller manager's watches and the aggregation controller's writes).
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys
import tempfile
import time
from collections import Counter

from tests.harness import kube
from tests.harness.kube_stack import KubeStack

NAMESPACES = [f"bench-{i}" for i in range(5)]


def roster(n: int) -> dict:
    tiers = ("admin", "power-user", "namespace-owner")
    people = {}
    for i in range(n):
        tier = tiers[i % 3]
        p = {"name": f"Bench {i}", "uid": 41000 + i, "tier": tier, "kubernetes": f"kb{i:03d}@example.org",
             "ssh_keys": []}
        if tier == "namespace-owner":
            p["namespaces"] = [NAMESPACES[i % 5], NAMESPACES[(i + 1) % 5]]
        people[f"kb{i:03d}"] = p
    return {"people": people}


def bindings(r: dict) -> int:
    return sum(len(p.get("namespaces", [])) or 1 for p in r["people"].values())


class Audit:
    """Requests the API server completed since ``mark()``, by client, from its audit log."""

    def __init__(self, cp: kube.ControlPlane):
        self.path = cp.dir / "audit.log"
        self.offset = 0

    def mark(self) -> None:
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def since(self) -> tuple[Counter, Counter]:
        """(requests by client, the provider's requests by verb and resource)."""
        counts: Counter = Counter()
        kinds: Counter = Counter()
        with self.path.open("rb") as fh:
            fh.seek(self.offset)
            for line in fh:
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                if ev.get("stage") == "ResponseComplete":
                    who = client(ev.get("userAgent", ""))
                    counts[who] += 1
                    if who == "provider":
                        ref = ev.get("objectRef") or {}
                        kinds[f"{ev.get('verb')} {ref.get('resource') or ev.get('requestURI', '?').split('?')[0]}"] += 1
        return counts, kinds


def client(agent: str) -> str:
    if agent.startswith("kube-controller-manager"):
        return "controller-manager"
    if "pulumi" in agent.lower() or agent.startswith("Go-http-client"):
        return "provider"
    return agent.split("/", 1)[0] or "unknown"


def settle(audit: Audit, quiet: float = 2.0) -> None:
    """Wait until the audit log stops growing (requests finish writing their events) for ``quiet`` s."""
    last, since = -1, time.monotonic()
    while time.monotonic() - since < quiet:
        size = audit.path.stat().st_size
        if size != last:
            last, since = size, time.monotonic()
        time.sleep(0.2)


def run(n: int) -> int:
    binaries = kube.build(provider=True, log=lambda m: print(m, flush=True))
    cp = kube.start(binaries, ["bench-nobody@example.org"], log=lambda m: print(m, flush=True))
    try:
        for ns in NAMESPACES:
            cp.ensure_namespace(ns)
        stack = KubeStack(pathlib.Path(tempfile.mkdtemp(prefix="keystone-bench-kube-")), cp, binaries)
        r = roster(n)
        stack.write_roster(r)
        audit = Audit(cp)
        rows = []
        for phase, command in (("up from empty", stack.up), ("no-op preview", stack.preview)):
            settle(audit)
            audit.mark()
            started = time.perf_counter()
            outcome = command()
            seconds = time.perf_counter() - started
            settle(audit)
            counts, kinds = audit.since()
            rows.append((phase, seconds, counts, kinds, outcome.summary()))
        print(f"\nKubernetes RBAC of {n} people ({bindings(r)} bindings, 1 ClusterRole, {len(NAMESPACES)} "
              f"namespace reads) through the real engine against the real API server\n")
        print("| phase | seconds | API requests (provider) | API requests (all clients) | engine summary |")
        print("| --- | --- | --- | --- | --- |")
        for phase, seconds, counts, _, summary in rows:
            print(f"| {phase} | {seconds:.1f} | {counts['provider']} | {sum(counts.values())} | "
                  f"{json.dumps(summary, sort_keys=True)} |")
        print(f"\ncontrol plane start-up: {cp.startup_seconds:.1f} s")
        for phase, _, counts, kinds, _ in rows:
            print(f"{phase}: provider " + ", ".join(f"{k} {v}" for k, v in kinds.most_common())
                  + "; others " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k != "provider") or "none"))
        return 0
    finally:
        cp.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.kube", description=__doc__.split("\n\n")[0])
    ap.add_argument("--people", type=int, default=50, help="people in the roster (default %(default)s)")
    return run(ap.parse_args(argv).people)


if __name__ == "__main__":
    sys.exit(main())
