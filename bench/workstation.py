"""Workstation instances on the test guest: N people × 2 services (template units of the tests'
listener) through the real dynamic-provider gRPC host, beside the floor of the same work as one
shell script per phase over one SSH connection.

Phases (each a new provider process, as each ``pulumi`` command starts one): ``create`` (every
instance from empty: environment file, enable, start), ``refresh`` (Read of every instance),
``change`` (one service's environment changed for everyone, nobody logged in: rewritten and
restarted).  Prints seconds and round trips beside the floor.

    python -m bench.workstation [--people 50]
"""
from __future__ import annotations

import argparse
import pathlib
import shlex
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from bench.floor import Ssh
from bench.keystone import Phase, count_round_trips, vm_hwm_kb
from providers.workstation.instance import ServiceInstanceProvider
from providers.workstation.plan import env_path
from tests.harness.provider_host import DynamicProviderHost

ROOT = pathlib.Path(__file__).resolve().parents[1]
UNIT = (ROOT / "workstation/units/keystone-echo@.service").read_text()
UNITS = ("keystone-echo", "keystone-echo2")
BASE = {"keystone-echo": 20000, "keystone-echo2": 21000}


def people(n: int) -> list[tuple[str, int]]:
    return [(f"wb{i:03d}", 25000 + i) for i in range(n)]


def inputs(host: dict, user: str, uid: int, i: int, unit: str, greeting: str) -> dict:
    port = BASE[unit] + i
    return {"host": host, "service": unit, "unit": unit, "user": user, "uid": uid, "port": port,
            "environment": f"PORT={port}\nGREETING={greeting}\n"}


def prepare(ssh: Ssh, crowd: list[tuple[str, int]]) -> None:
    lines = [f"getent passwd {u} >/dev/null || useradd -u {uid} -U -M -d /nonexistent -s /usr/sbin/nologin {u}"
             for u, uid in crowd]
    for unit in UNITS:
        text = UNIT.replace("keystone-echo/", f"{unit}/")
        lines.append(f"cat > /etc/systemd/system/{unit}@.service <<'UNIT'\n{text}UNIT")
    lines.append("systemctl daemon-reload")
    ssh.run("\n".join(lines) + "\n")


def reset(ssh: Ssh, crowd: list[tuple[str, int]]) -> None:
    names = " ".join(f"{unit}@{u}.service" for u, _ in crowd for unit in UNITS)
    ssh.run(f"systemctl disable --now {names} 2>/dev/null; rm -rf /etc/keystone/workstation; true\n")


def floor_phases(ssh: Ssh, crowd: list[tuple[str, int]], keys: list[tuple[str, int, int, str]],
                 per_person: bool) -> dict[str, tuple[float, int]]:
    """Create, refresh and change as plain shell: one script per person, or one for everyone (its
    files, then one ``systemctl`` for all units).  (seconds, round trips) per phase."""
    def run(scripts: list[str]) -> tuple[float, int]:
        start = time.perf_counter()
        for text in scripts:
            ssh.run(text)
        return time.perf_counter() - start, len(scripts)

    def scripts(files, verb: str, ks: list[tuple[str, int, int, str]]) -> list[str]:
        groups = [[k for k in ks if k[0] == u] for u, _ in crowd] if per_person else [ks]
        return ["\n".join([files(k) for k in g] + [f"systemctl {verb} " + " ".join(f"{k[3]}@{k[0]}.service"
                                                                                  for k in g)]) + "\n"
                for g in groups if g]

    def create_file(k: tuple[str, int, int, str]) -> str:
        u, uid, i, unit = k
        path = env_path(unit, u)
        return (f"mkdir -p {shlex.quote(path.rsplit('/', 1)[0])} && printf 'PORT={BASE[unit] + i}\\nGREETING=one\\n' "
                f"> {path} && chown 0:{uid} {path} && chmod 0640 {path}")

    def change_file(k: tuple[str, int, int, str]) -> str:
        u, _, i, unit = k
        return f"printf 'PORT={BASE[unit] + i}\\nGREETING=two\\n' > {env_path(unit, u)}"

    gather = (ROOT / "providers/workstation/gather.sh").read_text()
    return {"create": run(scripts(create_file, "enable --now", keys)),
            "refresh": run([gather] * (len(crowd) if per_person else 1)),
            "change": run(scripts(change_file, "restart", [k for k in keys if k[3] == UNITS[0]]))}


class Keystone:
    def __init__(self, host: dict, workdir: str):
        self.host = host
        self.log = str(pathlib.Path(workdir) / "ws-round-trips.jsonl")
        self.state: dict[tuple[str, str], tuple[str, dict]] = {}

    def phase(self, name: str, body) -> Phase:
        with DynamicProviderHost(env={"KEYSTONE_TRANSPORT_LOG": self.log}) as ph:
            started = time.perf_counter()
            body(ph.resource(ServiceInstanceProvider()))
            seconds = time.perf_counter() - started
            trips, commands = count_round_trips(self.log, ph.pid)
            return Phase(name, seconds, trips, commands, vm_hwm_kb(ph.pid))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.workstation", description=__doc__)
    ap.add_argument("--people", type=int, default=50)
    a = ap.parse_args(argv)
    from guest import vm

    crowd = people(a.people)
    g = vm.start(log=lambda m: print(f"[guest] {m}"))
    try:
        host = g.target_fields("guest")
        work = tempfile.mkdtemp(prefix="bench-ws-")
        ssh = Ssh(host, str(pathlib.Path(work) / "ctl"))
        prepare(ssh, crowd)
        ks = Keystone(host, work)
        pool = ThreadPoolExecutor(max_workers=max(4, 2 * len(crowd)))
        keys = [(u, uid, i, unit) for i, (u, uid) in enumerate(crowd) for unit in UNITS]

        def create(r):
            def one(k):
                u, uid, i, unit = k
                checked, _ = r.check(inputs(host, u, uid, i, unit, "one"))
                ks.state[(u, unit)] = r.create(checked)
            list(pool.map(one, keys))

        def refresh(r):
            def one(k):
                u, _, _, unit = k
                id_, outs = ks.state[(u, unit)]
                _, outs2, _ = r.read(id_, outs)
                assert outs2["running"], (u, unit)
            list(pool.map(one, keys))

        def change(r):
            def one(k):
                u, uid, i, unit = k
                id_, outs = ks.state[(u, unit)]
                greeting = "two" if unit == UNITS[0] else "one"
                checked, _ = r.check(inputs(host, u, uid, i, unit, greeting))
                if r.diff(id_, outs, checked).changes:
                    ks.state[(u, unit)] = (id_, r.update(id_, outs, checked))
            list(pool.map(one, keys))

        phases = [ks.phase("create", create), ks.phase("refresh", refresh), ks.phase("change", change)]

        # the floors: the same work over one SSH connection, (b) one script per person, (c) one
        # script per phase for everyone
        floors: dict[str, dict[str, tuple[float, int]]] = {}
        for variant in ("b", "c"):
            reset(ssh, crowd)
            floors[variant] = floor_phases(ssh, crowd, keys, per_person=variant == "b")
        floor = {name: secs for name, (secs, _) in floors["c"].items()}
        n = len(keys)
        print(f"\nworkstation: {len(crowd)} people x {len(UNITS)} services = {n} instances on the guest, "
              f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
        print(f"{'phase':8} {'keystone s':>11} {'round trips':>12} {'floor (b) s':>12} {'trips':>6} {'ratio':>6}"
              f" {'floor (c) s':>12} {'ratio':>6}")
        for p in phases:
            fb, fb_trips = floors["b"][p.name]
            print(f"{p.name:8} {p.seconds:11.2f} {p.round_trips:12d} {fb:12.2f} {fb_trips:6d} {p.seconds / fb:6.2f}"
                  f" {floor[p.name]:12.2f} {p.seconds / floor[p.name]:6.2f}")
        by = {p.name: p for p in phases}
        goals = [("create", 1.5, "create ≤1.5× the one-script-per-person floor"),
                 ("change", 2.0, "environment change ≤2× the one-script-per-person floor")]
        for name, limit, text in goals:
            x = by[name].seconds / floors["b"][name][0]
            print(f"  [{'pass ' if x <= limit else 'short'}] {text} — {x:.2f}× ({by[name].round_trips} round trips)")
        print(f"  [{'pass ' if by['refresh'].round_trips == 1 else 'short'}] no-op refresh: one round trip per host — "
              f"{by['refresh'].round_trips}")
        print(f"provider peak memory {phases[0].vm_hwm_kb / 1024:.0f} MB")
        reset(ssh, crowd)
        return 0
    finally:
        g.stop()


if __name__ == "__main__":
    raise SystemExit(main())
