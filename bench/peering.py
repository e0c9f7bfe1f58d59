"""Peering benchmark: ``.venv/bin/python -m bench.peering [--asns 200] [--eval 1000]`` (root: it uses
network namespaces and bird2).

Route servers: two local bird2 daemons, each in its own network namespace, run as the ``bird`` user
(``tests/harness/peering_lab.py``), reached through their control sockets with the local transport —
so a "round trip" here is one transport batch (one ``ssh`` invocation on a remote route server).

In one run, side by side:

* **floor**: the same rendered files (main config + one per peer) written into place and one plain
  ``birdc configure`` per route server — one batch per route server, both route servers at once;
* **from empty**: the program's BIRD graph (``bird:ServerConfig`` + ``bird:PeerFile`` per ASN per
  route server; ZeroTier members left out: they do not touch the route servers) applied through the
  real gRPC provider host the way ``pulumi up`` does (``tests/live/peering_lab.Engine``);
* **no-op refresh** (Read of everything) and **no-op up** (Check + Diff of everything);
* **one change**: one ASN's IPv4 limit changes;
* **the real engine**: the whole program through ``pulumi up`` (``python -m engine``, one fresh process tree
  per command) on two fresh route servers: from empty, no-op up, no-op refresh, no-op preview;
* **program evaluation** of ``--eval`` ASNs × 2 route servers under mocks, in a fresh interpreter.

Round trips and ``configure`` calls are counted inside the provider host (``bench/peering_host.py``).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from typing import Any

PROJECT = pathlib.Path(__file__).resolve().parents[1]


# --- a Keystone peering stack --------------------------------------------------------------------------
def init_stack(ws, asns: int, peering: dict[str, Any]) -> None:
    """Write, init and give the token to the ``bench`` stack of ``ws``: ``asns`` ASNs of the sample
    roster on the route servers of ``peering`` (``peering_sample.peering(...)``), peering only."""
    from tests.harness import peering_sample as ps
    from tests.harness.zerotier_controller import DEFAULT_TOKEN

    ws.write_stack("bench", {"roster": str(ws.write_roster(ps.roster_text(asns))), "hosts": [],
                             "authentik": {"enabled": False}, "kubernetes": {"enabled": False}, "peering": peering})
    ws.init("bench")
    ws.set_secret("bench", "zerotierToken", DEFAULT_TOKEN)


def lab_peering(lab, ctl) -> dict[str, Any]:
    """The stack's peering block for the route servers of a ``peering_lab`` and a fake controller."""
    from tests.harness import peering_sample as ps

    return ps.peering([s.settings(confirmTimeout=30) for s in lab.servers], url=ctl.url)


# --- the provider host, counting -----------------------------------------------------------------------

def counting_host(log: pathlib.Path, config: dict[str, Any] | None = None):
    """A ``DynamicProviderHost`` started as ``python -m bench.peering_host`` (the SDK's host + counting)."""
    from tests.harness import provider_host as ph

    class CountingHost(ph.DynamicProviderHost):
        def __init__(self) -> None:
            environ = dict(os.environ)
            environ["PYTHONPATH"] = os.pathsep.join([str(PROJECT), environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
            environ["PULUMI_PROJECT"] = "keystone"
            environ["KEYSTONE_BENCH_BATCH_LOG"] = str(log)
            self.process = subprocess.Popen([sys.executable, "-u", "-m", "bench.peering_host"],
                                            stdout=subprocess.PIPE, env=environ, cwd=PROJECT)
            line = self.process.stdout.readline().decode().strip()
            if not line.isdigit():
                self.process.kill()
                raise RuntimeError(f"provider host did not print its port (got {line!r})")
            self.port = int(line)
            self.channel = ph.grpc.insecure_channel(f"127.0.0.1:{self.port}")
            self.stub = ph.provider_pb2_grpc.ResourceProviderStub(self.channel)
            self.stub.Configure(ph.provider_pb2.ConfigureRequest(args=ph._serialize(dict(config or {}))))

    return CountingHost()


class Counts:
    """Per route server: round trips, commands, ``configure`` sub-commands (from the host's log)."""

    def __init__(self, log: pathlib.Path):
        self.log = log

    def reset(self) -> None:
        self.log.write_text("")

    def read(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = defaultdict(lambda: {"round_trips": 0, "commands": 0, "configure": Counter()})
        for line in self.log.read_text().splitlines():
            d = json.loads(line)
            h = out[d["host"]]
            h["round_trips"] += 1
            h["commands"] += d["commands"]
            h["configure"].update(d["configure"])
        return out


# --- the floor ---------------------------------------------------------------------------------------------

def rendered_files(graph) -> dict[str, tuple[Any, dict[str, str]]]:
    """Route server name → (RouteServer, {path: content}) for every file of ``graph``."""
    from providers.bird.peer_file import PeerFileInputs
    from providers.bird.server_config import ServerConfigInputs

    out: dict[str, tuple[Any, dict[str, str]]] = {}
    for p in graph:
        model = ServerConfigInputs if p.type.endswith("bird:ServerConfig") else PeerFileInputs
        inp = model.model_validate({k: v for k, v in p.inputs.items() if k in model.model_fields})
        rs = inp.route_server
        out.setdefault(rs.name, (rs, {}))[1][inp.path] = inp.render()
    return out


def floor(files: dict[str, tuple[Any, dict[str, str]]]) -> tuple[float, int]:
    """Copy every file into place and run one ``birdc configure`` per route server, one batch each,
    all route servers at once.  Returns (wall seconds, batches)."""
    from providers.host import Command
    from providers.transport import for_host

    def one(rs, contents: dict[str, str]) -> None:
        group = rs.file_group
        cmds = [Command.of("mkdir", "-p", "-m", "0750", rs.peers_dir), Command.of("chgrp", group, rs.peers_dir)]
        cmds += [Command.of("tee", path, stdin=text) for path, text in sorted(contents.items())]
        cmds += [Command.of("chmod", "0640", *contents), Command.of("chgrp", group, *contents),
                 Command.of("birdc", "-s", rs.control_socket, "configure")]
        results = for_host(rs.target).run_batch(cmds)
        reply = results[-1].stdout
        assert "Reconfigured" in reply or "Reconfiguration in progress" in reply, reply

    t0 = time.perf_counter()
    threads = [threading.Thread(target=one, args=v) for v in files.values()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, len(files)


def snapshot(lab) -> dict[str, tuple[int, str]]:
    out = {}
    for s in lab.servers:
        for p in [s.bird.config, *sorted(s.peers_dir.glob("*"))]:
            out[str(p)] = (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
    return out


# --- program evaluation ------------------------------------------------------------------------------------

def evaluate(n: int) -> dict[str, Any]:
    from program.mocks import RecordingMocks, run_program
    from tests.harness import peering_sample as ps

    t0 = time.perf_counter()
    inputs = ps.inputs(n)
    t1 = time.perf_counter()
    run = run_program(inputs, RecordingMocks())
    t2 = time.perf_counter()
    return {"asns": n, "roster_s": round(t1 - t0, 2), "program_s": round(t2 - t1, 2), "total_s": round(t2 - t0, 2),
            "registrations": len(run.mocks.resources)}


def evaluate_cold(n: int) -> dict[str, Any]:
    p = subprocess.run([sys.executable, "-m", "bench.peering", "--eval-only", str(n)], capture_output=True, text=True,
                       cwd=PROJECT, timeout=600)
    if p.returncode != 0:
        raise RuntimeError(f"program evaluation failed: {p.stderr.strip()[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


# --- the run -----------------------------------------------------------------------------------------------

def verdict(ok: bool, detail: str = "") -> str:
    return ("pass" if ok else "short") + (f" ({detail})" if detail else "")


def configure_text(c: Counter) -> str:
    order = ["status", "check", "timeout", "confirm", "undo", ""]
    return ", ".join(f"{k or 'plain'} {c[k]}" for k in order if c.get(k)) or "0"


def run(asns: int, eval_asns: int) -> int:
    from tests.harness.peering_lab import Engine, peering_lab, plan
    from tests.harness import peering_sample as ps

    rows: list[tuple[str, str, str, str, str]] = []
    log = pathlib.Path(tempfile.mkstemp(prefix="keystone-bench-peering-", suffix=".jsonl")[1])
    counts = Counts(log)
    with peering_lab(2) as lab:
        names = [s.name for s in lab.servers]
        value = ps.peering([s.settings(confirmTimeout=30) for s in lab.servers])
        graph = plan(ps.inputs(asns, peering_value=value), kinds=("bird:",))
        expected_protocols = 3 + 2 * asns  # ks_device, two ROA tables, one session per address

        # 1. the floor
        files = rendered_files(graph)
        floor_s, _ = floor(files)
        for s in lab.servers:
            assert len(s.bird.protocols()) == expected_protocols, f"floor: {s.name} runs {len(s.bird.protocols())} protocols"
            s.reset()

        host = counting_host(log)
        engine = Engine(host, stack="bench")

        def fresh_host() -> None:
            """Each `pulumi` command starts its own provider process: nothing is shared between phases."""
            engine.host.close()
            engine.host = counting_host(log)

        try:
            # 2. from empty
            counts.reset()
            first = engine.up(graph)
            assert not first.errors, first.errors
            c = counts.read()
            for s in lab.servers:
                assert len(s.bird.protocols()) == expected_protocols
                assert parse_status(s) is None
            from_empty_row = len(rows)
            rows.append(("from empty",))  # filled in below, beside the engine's own share
            rows.append(("from empty: round trips per RS", " / ".join(str(c[n]["round_trips"]) for n in names),
                         " / ".join("1" for _ in names), "", ""))
            rows.append(("from empty: configure calls per RS", " | ".join(configure_text(c[n]["configure"]) for n in names),
                         " | ".join("plain 1" for _ in names), "", ""))
            rows.append(("from empty: safe applies per RS", " / ".join(str(c[n]["configure"]["timeout"]) for n in names),
                         "", "", ""))

            # 3. no-op refresh, no-op up
            fresh_host()
            counts.reset()
            refreshed = engine.refresh()
            c = counts.read()
            assert not refreshed.errors and refreshed.changed == set(), (refreshed.errors, refreshed.changed)
            worst = max((c[n]["round_trips"] for n in names), default=0)
            rows.append(("no-op refresh: round trips per RS", " / ".join(str(c[n]["round_trips"]) for n in names), "",
                         "≤ 1 per RS", verdict(worst <= 1, f"{refreshed.seconds:.2f} s, {len(refreshed.ops)} reads; "
                                               f"session states moved in {len(refreshed.volatile)}")))
            fresh_host()
            counts.reset()
            again = engine.up(graph)
            c = counts.read()
            assert again.changed == set() and not again.errors
            rows.append(("no-op up: round trips per RS", " / ".join(str(c[n]["round_trips"]) for n in names), "", "",
                         f"{again.seconds:.2f} s"))
            # The engine's own share: a no-op up makes the same number of provider calls (Check + Diff
            # instead of Check + Create) and touches no host.
            ratio, engine_s = first.seconds / floor_s, again.seconds
            rows[from_empty_row] = (
                f"from empty: wall, {asns} ASNs × {len(names)} RS", f"{first.seconds:.2f} s", f"{floor_s:.2f} s",
                "≤ 2× floor", verdict(ratio <= 2, f"{ratio:.1f}× the floor; of it, provider calls alone ≈{engine_s:.2f} s "
                                      f"(no-op up), the rest {max(first.seconds - engine_s, 0) / floor_s:.1f}× the floor"))

            # 4. one change
            fresh_host()
            before = snapshot(lab)
            counts.reset()
            changed_graph = plan(ps.inputs(asns, peering_value=value, changes={0: {"max_prefixes": "{ipv4: 10, ipv6: 50}"}}),
                                 kinds=("bird:",))
            change = engine.up(changed_graph)
            c = counts.read()
            after = snapshot(lab)
            assert not change.errors, change.errors
            touched = sorted(p for p in after if before.get(p) != after[p]) + sorted(set(before) - set(after))
            own = {str(s.peers_dir / f"as{ps.FIRST_ASN}.conf") for s in lab.servers}
            applies = [c[n]["configure"]["timeout"] for n in names]
            rows.append(("one change: resources updated", ", ".join(sorted(change.changed)), "", "its own files only",
                         verdict(change.changed == {f"as{ps.FIRST_ASN}-bird-{n}" for n in names})))
            rows.append(("one change: files touched on disk", str(len(touched)), "", "its own files only",
                         verdict(set(touched) == own, ", ".join(pathlib.Path(t).name for t in touched))))
            rows.append(("one change: safe applies per RS", " / ".join(map(str, applies)), "", "1 per RS",
                         verdict(applies == [1] * len(names), f"{change.seconds:.2f} s, round trips "
                                 + " / ".join(str(c[n]["round_trips"]) for n in names))))
        finally:
            engine.host.close()
            log.unlink(missing_ok=True)

    # 5. the real engine: `pulumi up` from empty, then a no-op up and a refresh, each a fresh process tree
    rows += engine_rows(asns, floor_s)

    # 6. program evaluation
    ev = evaluate_cold(eval_asns)
    rows.append((f"program eval under mocks, {eval_asns} ASNs × 2 RS", f"{ev['total_s']:.2f} s", "", "< 15 s",
                 verdict(ev["total_s"] < 15, f"roster {ev['roster_s']} s + program {ev['program_s']} s, "
                         f"{ev['registrations']} registrations")))

    widths = [max(len(r[i]) for r in rows + [HEADER]) for i in range(5)]
    for r in [HEADER, tuple("-" * w for w in widths), *rows]:
        print("  ".join(x.ljust(w) for x, w in zip(r, widths)).rstrip())
    print(f"\nroute servers: {len(names)} local bird2 daemons in network namespaces (local transport); "
          f"provider host: python -m pulumi.dynamic (4 workers)")
    return 0


HEADER = ("measure", "keystone", "floor", "goal", "result")


def engine_rows(asns: int, floor_s: float) -> list[tuple[str, str, str, str, str]]:
    """The whole program (ZeroTier members included, against the controller double) through the real
    CLI on fresh route servers: what an admin's `pulumi up` costs beside the same floor."""

    rows = []
    rows += _engine_rows(asns, floor_s, skip_checkpoints=False)
    rows += _engine_rows(asns, floor_s, skip_checkpoints=True)[:1]
    return rows


def _engine_rows(asns: int, floor_s: float, skip_checkpoints: bool) -> list[tuple[str, str, str, str, str]]:
    """One fresh lab.  The file backend saves the whole state after every step (quadratic in the
    resources; a cloud backend journals instead): ``PULUMI_SKIP_CHECKPOINTS=true`` saves only at the
    end, which Keystone's adopting creates make safe to re-run after a crash (docs/engine.md)."""
    from tests.harness.zerotier_controller import FakeZeroTierController
    from tests.harness.engine import Workspace
    from tests.harness.peering_lab import peering_lab

    rows = []
    saved = os.environ.pop("PULUMI_SKIP_CHECKPOINTS", None)
    if skip_checkpoints:
        os.environ["PULUMI_SKIP_CHECKPOINTS"] = "true"
    with peering_lab(2) as lab, FakeZeroTierController("self_hosted").start() as ctl, \
            tempfile.TemporaryDirectory(prefix="keystone-bench-engine-") as tmp:
        ws = Workspace(pathlib.Path(tmp))
        init_stack(ws, asns, lab_peering(lab, ctl))
        timed = {}
        for phase, args in (("from empty", ("up", "--yes", "--skip-preview")),
                            ("no-op up", ("up", "--yes", "--skip-preview")),
                            ("no-op refresh", ("refresh", "--yes", "--skip-preview")),
                            ("no-op preview", ("preview",))):
            started = time.perf_counter()
            outcome = ws.run(*args, stack="bench", log_events=True, check=True, timeout=3600)
            timed[phase] = (time.perf_counter() - started, outcome)
        for s in lab.servers:
            assert len(s.bird.protocols()) == 3 + 2 * asns, f"pulumi up: {s.name} runs {len(s.bird.protocols())}"
    os.environ.pop("PULUMI_SKIP_CHECKPOINTS", None)
    if saved is not None:
        os.environ["PULUMI_SKIP_CHECKPOINTS"] = saved
    secs, first = timed["from empty"]
    resources = len(first.changed())
    ratio = secs / floor_s
    how = "PULUMI_SKIP_CHECKPOINTS=true" if skip_checkpoints else "file backend, a checkpoint per step"
    rows.append((f"pulumi up from empty ({resources} resources; {how})", f"{secs:.2f} s", f"{floor_s:.2f} s",
                 "≤ 2× floor", verdict(ratio <= 2, f"{ratio:.1f}× the floor (real CLI, fresh processes, ZeroTier "
                                                   f"members too)")))
    for phase in ("no-op up", "no-op refresh", "no-op preview"):
        secs, outcome = timed[phase]
        rows.append((f"pulumi {phase}", f"{secs:.2f} s", "", "", f"{len(outcome.changed())} changed"))
    return rows


def parse_status(server) -> float | None:
    from providers.bird import parse

    return parse.parse_configure_status(server.bird.birdc("configure", "status").stdout)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.peering", description=__doc__.split("\n\n")[0])
    ap.add_argument("--asns", type=int, default=200, help="ASNs applied to the route servers (default %(default)s)")
    ap.add_argument("--eval", type=int, default=1000, help="ASNs for the program evaluation (default %(default)s)")
    ap.add_argument("--backends", action="store_true",
                    help="also `pulumi up` from empty on the file and the PostgreSQL backend beside the engine's floor "
                         "for the same graph (bench/backends.py)")
    ap.add_argument("--eval-only", type=int, metavar="N", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.eval_only:
        from program.gc_pause import pause_for_program

        pause_for_program()  # as the program's __main__ does
        print(json.dumps(evaluate(a.eval_only)))
        return 0
    rc = run(a.asns, a.eval)
    if rc == 0 and a.backends:
        from bench import backends

        print()
        print("\n".join(backends.table(backends.run(0, a.asns, {"peering"}))))
    return rc


if __name__ == "__main__":
    sys.exit(main())
