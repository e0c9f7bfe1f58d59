"""``.venv/bin/python -m bench [--people 50]``: every contender on the test guest, each from a fresh pool,
end states compared, one table with ratios and the issue's goals.  Results: ``bench/results/``."""
from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import sys
import tempfile
import time

from bench import engine_costs, floor, state
from bench.people import Person, bigger, joined, people as make_people

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
DEFAULT = ("keystone", "engine", "floor", "ansible", "program", "engine-preview")
"""What ``python -m bench`` measures without ``--only``: the people contenders on the test guest."""
PARTS = (*DEFAULT, "kube", "backends", "hostbase", *engine_costs.CHOICES)


def parts(only: list[str] | None) -> set[str]:
    """What one run measures: ``DEFAULT``, or the parts ``--only`` names (``all``: every part)."""
    chosen = set(only or DEFAULT)
    return set(PARTS) if "all" in chosen else chosen


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Guest:
    """A fresh guest with a fresh pool (``vm.start`` restores the saved state: seconds)."""

    def __enter__(self):
        from guest import vm

        self.g = vm.start(log=lambda m: log(f"guest: {m}"))
        try:
            vm.prepare_pool(self.g)
        except Exception:
            self.g.stop()
            raise
        self.target = self.g.target_fields("guest")
        return self

    def __exit__(self, *exc):
        self.g.stop()

    def cpu(self) -> float:
        """CPU seconds the guest (its QEMU process) has used: less sensitive than wall time to other
        work on this machine."""
        with open(f"/proc/{self.g.pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def ssh(self, script: str) -> str:
        return self.g.ssh("sh -s", input=script, timeout=600).stdout

    def dump(self, people: list[Person]) -> list[str]:
        return state.dump(self.ssh, people)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--people", type=int, default=50, help="people to provision (default 50)")
    ap.add_argument("--ansible-people", type=int, default=None,
                    help="people for Ansible (default: --people; Ansible takes ≈20 s per person)")
    ap.add_argument("--skip-ansible", action="store_true")
    ap.add_argument("--skip-floor-reads", action="store_true", help="skip the per-command/per-person read floors")
    ap.add_argument("--skip-program", action="store_true", help="skip the program evaluation under mocks")
    ap.add_argument("--program-sizes", default="250,500,1000")
    ap.add_argument("--only", choices=[*PARTS, "all"],
                    action="append", help="all: every part below, one after another, in one run (hours); "
                    "kube: Kubernetes RBAC on the test control plane (bench/kube.py, no guest); "
                    "hostbase: a no-op `pulumi refresh` without and with the host base (bench/hostbase.py, --people); "
                    "backends: `pulumi up` on the file and the PostgreSQL backend beside the engine's floor "
                    "(bench/backends.py; --people, and --asns for its peering graph); "
                    "floors-peering, floors-people: `pulumi up` from empty and a change beside the engine floor + "
                    "the host floor (bench/engine_costs.py; --floor-asns, --people); scale-people, scale-peering: "
                    "preview and a one-person (one-ASN) change at scale, time and process-tree memory "
                    "(--scale-people, --scale-asns)")
    ap.add_argument("--asns", type=int, default=20, help="ASNs for --only backends (default %(default)s)")
    ap.add_argument("--floor-asns", type=int, default=200, help="ASNs × 2 RS for --only floors-peering "
                    "(default %(default)s)")
    ap.add_argument("--scale-people", default="125,500", help="sizes for --only scale-people (default %(default)s)")
    ap.add_argument("--scale-asns", default="250,1000", help="sizes × 4 RS for --only scale-peering "
                    "(default %(default)s)")
    args = ap.parse_args(argv)
    only = parts(args.only)
    costs = sorted(only & set(engine_costs.CHOICES))
    if costs:  # their own guests, route servers and stacks: run apart, first, in one table
        rc = engine_costs.main([*(x for c in costs for x in ("--only", c)), "--asns", str(args.floor_asns),
                                "--people", str(args.people), "--scale-people", args.scale_people,
                                "--scale-asns", args.scale_asns])
        only -= set(costs)
        if rc or not only:
            return rc
    if "backends" in only:  # its own guests, route servers and database: run apart, first
        from bench import backends

        rc = backends.main(["--people", str(args.people), "--asns", str(args.asns)])
        only.discard("backends")
        if rc or not only:
            return rc
    if "hostbase" in only:  # its own guests and stacks: run apart, first
        from bench import hostbase

        rc = hostbase.main(["--people", str(args.people)])
        only.discard("hostbase")
        if rc or not only:
            return rc
    if "kube" in only:  # its own control plane, no guest: run apart, first
        from bench import kube

        rc = kube.main(["--people", str(args.people)])
        only.discard("kube")
        if rc or not only:
            return rc
    if args.skip_ansible:
        only.discard("ansible")
    if args.skip_program:
        only.discard("program")

    n = args.people
    roster = make_people(n)
    changed = [bigger(p) for p in roster]
    grouped = [joined(p) for p in changed]
    work = pathlib.Path(tempfile.mkdtemp(prefix="keystone-bench-"))
    rows: list[dict] = []
    dumps: dict[str, list[str]] = {}
    extra: dict = {"people": n, "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                   "machine": f"{platform.node()} {os.cpu_count()} cpu", "python": sys.version.split()[0]}

    def row(contender: str, phase: str, seconds: float, people_count: int, round_trips: int | None = None,
            guest_cpu: float | None = None, **kw):
        r = {"contender": contender, "phase": phase, "seconds": round(seconds, 2), "people": people_count,
             "per_person": round(seconds / people_count, 3), "round_trips": round_trips,
             "guest_cpu": None if guest_cpu is None else round(guest_cpu, 2), **kw}
        rows.append(r)
        log(f"{contender:<28} {phase:<8} {seconds:8.1f} s  {r['per_person']:6.2f} s/person"
            f"{'' if round_trips is None else f'  {round_trips} round trips'}"
            f"{'' if guest_cpu is None else f'  guest CPU {guest_cpu:.1f} s'}")
        return r

    class Cpu:
        def __init__(self, g):
            self.g = g

        def __enter__(self):
            self.start = self.g.cpu()
            return self

        def __exit__(self, *exc):
            self.used = self.g.cpu() - self.start

    if "ansible" in only:  # set up first, so a failing install stops the run before the long parts
        from bench import ansible_contender
        playbook = ansible_contender.ensure_ansible(log)
        extra["ansible"] = ansible_contender.version(playbook)

    # --- program evaluation under mocks (no guest) -----------------------------------------------
    if "program" in only:
        from bench import program_eval
        sizes = [int(s) for s in args.program_sizes.split(",")]
        log(f"program evaluation under mocks: {sizes} people on 3 hosts")
        extra["program"] = program_eval.measure(sizes)
        extra["program_floor"] = program_eval.measure(sizes, floor=True)
        for r, f in zip(extra["program"], extra["program_floor"]):
            log(f"  {r['people']} people ({r['resources']} resources): {r['seconds']} s, peak {r['peak_rss_mb']} MB;"
                f" SDK floor for the same graph {f['seconds']} s")

    errors: list[str] = []

    if "engine-preview" in only:
        def engine_preview_part():
            from bench import engine as engine_bench
            sizes = [int(s) for s in args.program_sizes.split(",")]
            log(f"pulumi preview (real CLI) of {sizes} people on 3 hosts, beside the engine's floor")
            extra["engine_preview"] = engine_bench.preview_scaling(work / "engine-preview", tuple(sizes))
            for r in extra["engine_preview"]:
                log(f"  {r['people']} people: keystone {r['keystone_seconds']} s (peak {r['keystone_peak_mb']} MB),"
                    f" floor {r['floor_seconds']} s (peak {r['floor_peak_mb']} MB): {r['ratio']}x")
        try:
            engine_preview_part()
        except Exception as e:  # noqa: BLE001 - the other contenders still run
            errors.append(f"engine preview: {type(e).__name__}: {e}"[:2000])

    def failed(what: str, e: BaseException) -> None:
        import traceback
        errors.append(f"{what}: {type(e).__name__}: {e}")
        log(f"{what} FAILED (the other contenders still run):\n{traceback.format_exc()}")

    # --- Keystone ----------------------------------------------------------------------------------
    def keystone_part():
        from bench.keystone import KeystoneContender
        log(f"Keystone: {n} people through the gRPC provider host, on a fresh pool")
        with Guest() as g:
            k = KeystoneContender(g.target, str(work))
            with Cpu(g) as c:
                ph = k.create(roster)
            row("keystone", "create", ph.seconds, n, ph.round_trips, c.used, commands=ph.commands,
                vm_hwm_mb=round(ph.vm_hwm_kb / 1024, 1))
            dumps["keystone"] = g.dump(roster)
            if (args.ansible_people or n) < n:
                dumps["keystone@ansible"] = g.dump(roster[:args.ansible_people])
            with Cpu(g) as c:
                ph = k.preview(roster)
            row("keystone", "preview", ph.seconds, n, ph.round_trips, c.used, changed=ph.detail["changed"])
            extra["preview_round_trips"] = ph.round_trips
            with Cpu(g) as c:
                ph = k.refresh(roster)
            row("keystone", "refresh", ph.seconds, n, ph.round_trips, c.used, vm_hwm_mb=round(ph.vm_hwm_kb / 1024, 1),
                drift=len(ph.detail["drift"]))
            if ph.detail["drift"]:
                log(f"  refresh drift (must be none): {ph.detail['drift'][:5]}")
            extra["refresh_drift"] = ph.detail["drift"]
            with Cpu(g) as c:
                ph = k.change(changed)
            row("keystone", "change", ph.seconds, n, ph.round_trips, c.used, updated=ph.detail["updated"],
                vm_hwm_mb=round(ph.vm_hwm_kb / 1024, 1))
            dumps["keystone/change"] = g.dump(changed)

    # --- Keystone through the real engine ------------------------------------------------------------
    def engine_part():
        from bench.engine import EnginePeople
        log(f"Keystone through the real CLI (python -m engine, fresh processes per command): {n} people")
        with Guest() as g:
            e = EnginePeople(g.target, work)
            for phase, run in (("create", lambda: e.create(roster)), ("no-op up", e.noop_up),
                               ("refresh", e.refresh), ("preview", e.preview)):
                with Cpu(g) as c:
                    ph = run()
                row("keystone (pulumi)", phase, ph.seconds, n, ph.round_trips, c.used, commands=ph.commands,
                    changed=len(ph.outcome.changed()))
            dumps["keystone (pulumi)"] = g.dump(roster)
            with Cpu(g) as c:
                ph = e.change(changed)
            row("keystone (pulumi)", "change", ph.seconds, n, ph.round_trips, c.used, changed=len(ph.outcome.changed()))
            dumps["keystone (pulumi)/change"] = g.dump(changed)
            g.ssh(floor.add_team())
            with Cpu(g) as c:
                ph = e.change(grouped)
            row("keystone (pulumi)", "groups", ph.seconds, n, ph.round_trips, c.used, changed=len(ph.outcome.changed()))
            dumps["keystone (pulumi)/groups"] = g.dump(grouped)

    # --- the floor ---------------------------------------------------------------------------------
    def floor_part():
        variants = [("a", "floor (a) per command", floor.per_command),
                    ("b", "floor (b) per person", floor.per_person),
                    ("c", "floor (c) one script", floor.everyone)]
        for key, name, how in variants:
            attempt(name, lambda key=key, name=name, how=how: floor_variant(key, name, how))

    def floor_variant(key, name, how):
        log(f"{name}: {n} people on a fresh pool")
        with Guest() as g:
            ssh = floor.Ssh(g.target, str(work / f"floor-{key}-ctl"))
            try:
                ssh.run("true\n")  # the persistent connection is up before timing, as for the others
                with Cpu(g) as c:
                    secs, trips = floor.timed(lambda: how(ssh, roster, floor.create_commands))
                row(name, "create", secs, n, trips, c.used)
                dumps[f"floor-{key}"] = g.dump(roster)
                if key == "c":
                    with Cpu(g) as c:
                        secs, trips = floor.timed(lambda: floor.read_everyone(ssh, roster))
                    row("floor (c) one script", "read", secs, n, trips, c.used)
                elif not args.skip_floor_reads:
                    with Cpu(g) as c:
                        secs, trips = floor.timed(lambda: how(ssh, roster, floor.read_commands))
                    row(name, "read", secs, n, trips, c.used)
                if key in ("b", "c"):
                    with Cpu(g) as c:
                        secs, trips = floor.timed(lambda: how(ssh, changed, floor.change_commands))
                    row(name, "change", secs, n, trips, c.used)
                    dumps[f"floor-{key}/change"] = g.dump(changed)
                    ssh.run(floor.add_team())
                    with Cpu(g) as c:
                        secs, trips = floor.timed(lambda: how(ssh, grouped, floor.group_change_commands))
                    row(name, "groups", secs, n, trips, c.used)
                    dumps[f"floor-{key}/groups"] = g.dump(grouped)
            finally:
                ssh.close()

    # --- Ansible -----------------------------------------------------------------------------------
    def ansible_part():
        from bench import ansible_contender
        m = args.ansible_people or n
        sub = roster[:m]
        log(f"Ansible ({extra['ansible']}): {m} people on a fresh pool (≈20 s per person)")
        with Guest() as g:
            wd = work / "ansible"
            ansible_contender.write_project(wd, g.target, sub)
            with Cpu(g) as c:
                secs, recap = ansible_contender.run_playbook(playbook, wd)
            row("ansible", "create", secs, m, None, c.used, recap=recap)
            dumps["ansible"] = g.dump(sub)

    def attempt(what, fn):
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - one contender failing must not lose the others' results
            failed(what, e)

    if "keystone" in only:
        attempt("keystone", keystone_part)
    if "engine" in only:
        attempt("keystone (pulumi)", engine_part)
    if "floor" in only:
        attempt("floor", floor_part)
    if "ansible" in only:
        attempt("ansible", ansible_part)

    # --- same end state ----------------------------------------------------------------------------
    checks = []
    reference = dumps.get("keystone") or next((v for k, v in dumps.items() if "/" not in k), None)
    for name, d in sorted(dumps.items()):
        if name.endswith("/groups"):
            ref = dumps.get("keystone (pulumi)/groups")
        elif "/" in name:
            ref = dumps.get("keystone/change") or dumps.get("keystone (pulumi)/change")
        else:
            ref = reference
        if ref is None:
            continue
        if name == "ansible" and "keystone@ansible" in dumps:  # Ansible ran fewer people
            ref = dumps["keystone@ansible"]
        if name == "keystone@ansible":
            continue
        delta = state.diff(ref, d)
        checks.append({"contender": name, "lines": len(d), "same": not delta, "diff": delta})
    extra["end_states"] = checks
    extra["errors"] = errors

    report = render(rows, extra, n)
    print(report, flush=True)
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (RESULTS / f"bench-{stamp}.txt").write_text(report)
    (RESULTS / f"bench-{stamp}.json").write_text(json.dumps({"rows": rows, **extra}, indent=1))
    (RESULTS / "latest.txt").write_text(report)
    log(f"saved {RESULTS / f'bench-{stamp}.txt'} and .json")
    return 0 if all(c["same"] for c in checks) and not errors else 1


def _get(rows, contender, phase):
    return next((r for r in rows if r["contender"] == contender and r["phase"] == phase), None)


def render(rows: list[dict], extra: dict, n: int) -> str:
    out = [f"Keystone benchmark — {n} people, test guest (QEMU), {extra.get('machine')}, {extra.get('started')}"]
    if extra.get("ansible"):
        out.append(f"Ansible: {extra['ansible']}")
    out.append("")
    out.append(f"{'contender':<24} {'phase':<8} {'people':>6} {'seconds':>9} {'s/person':>9} {'round trips':>11}"
               f" {'guest CPU s/person':>18}")
    for r in rows:
        rt = "" if r["round_trips"] is None else str(r["round_trips"])
        cpu = "" if r.get("guest_cpu") is None else f"{r['guest_cpu'] / r['people']:.3f}"
        out.append(f"{r['contender']:<24} {r['phase']:<8} {r['people']:>6} {r['seconds']:>9.1f} {r['per_person']:>9.3f}"
                   f" {rt:>11} {cpu:>18}")
    out.append("")
    ks_create, ks_refresh = _get(rows, "keystone", "create"), _get(rows, "keystone", "refresh")
    ks_change, ansible = _get(rows, "keystone", "change"), _get(rows, "ansible", "create")
    fb, fc_read = _get(rows, "floor (b) per person", "create"), _get(rows, "floor (c) one script", "read")
    ratios = []
    if ks_create and ansible:
        ratios.append(f"create  Keystone/Ansible            {ks_create['per_person'] / ansible['per_person']:.3f}"
                      f"  (Ansible/Keystone {ansible['per_person'] / ks_create['per_person']:.1f}x)")
    for label, key in (("per command", "floor (a) per command"), ("per person", "floor (b) per person"),
                       ("one script", "floor (c) one script")):
        f = _get(rows, key, "create")
        if ks_create and f:
            ratios.append(f"create  Keystone/floor {label:<12} {ks_create['per_person'] / f['per_person']:.2f}")
    for key in ("floor (a) per command", "floor (b) per person", "floor (c) one script"):
        f = _get(rows, key, "read")
        if ks_refresh and f:
            ratios.append(f"refresh Keystone/{key + ' read':<26} {ks_refresh['per_person'] / f['per_person']:.2f}")
    for key in ("floor (b) per person", "floor (c) one script"):
        f = _get(rows, key, "change")
        if ks_change and f:
            ratios.append(f"change  Keystone/{key:<26} {ks_change['per_person'] / f['per_person']:.2f}")
    for phase in ("change", "groups"):
        en = _get(rows, "keystone (pulumi)", phase)
        for key in ("floor (b) per person", "floor (c) one script"):
            f = _get(rows, key, phase)
            if en and f:
                ratios.append(f"{phase:<7} pulumi up/{key:<25} {en['per_person'] / f['per_person']:.2f}"
                              f"  ({en['round_trips']} vs {f['round_trips']} round trips)")
    cpu_ratios = []
    for label, key in (("Ansible", "ansible"), ("floor (b) per person", "floor (b) per person"),
                       ("floor (c) one script", "floor (c) one script")):
        f = _get(rows, key, "create")
        if ks_create and f and ks_create.get("guest_cpu") and f.get("guest_cpu"):
            ratio = (ks_create['guest_cpu'] / ks_create['people']) / (f['guest_cpu'] / f['people'])
            cpu_ratios.append(f"create  Keystone/{label:<22} {ratio:.2f}")
    if ratios:
        out += ["Ratios (seconds per person):", *["  " + r for r in ratios], ""]
    if cpu_ratios:
        out += ["Ratios of guest CPU per person (what the host spends; less noisy than wall time):",
                *["  " + r for r in cpu_ratios], ""]

    goals = []

    def goal(ok: bool | None, text: str):
        goals.append(f"  [{'pass ' if ok else 'short' if ok is not None else 'n/a  '}] {text}")

    if ks_create and ansible:
        x = ansible["per_person"] / ks_create["per_person"]
        goal(x >= 5, f"create {n}: ≥5× faster than Ansible — {x:.1f}×")
    else:
        goal(None, "create: ≥5× faster than Ansible — not measured")
    if ks_create and fb:
        x = ks_create["per_person"] / fb["per_person"]
        goal(x <= 1.5, f"create {n}: ≤1.5× the one-script-per-person floor — {x:.2f}×")
    if ks_refresh and fc_read:
        x = ks_refresh["per_person"] / fc_read["per_person"]
        goal(x <= 1.5, f"no-op refresh of {n}: ≤1.5× the batched-read floor — {x:.2f}× "
                       f"({ks_refresh['round_trips']} round trip(s), drift {ks_refresh.get('drift', '?')})")
    if "preview_round_trips" in extra:
        goal(extra["preview_round_trips"] == 0,
             f"preview of an unchanged roster touches no host — {extra['preview_round_trips']} round trips")
    prog = extra.get("program")
    if prog:
        by = {r["people"]: r for r in prog}
        big = by.get(1000) or prog[-1]
        small = prog[0]
        linear = (big["seconds"] / big["people"]) <= 1.25 * (small["seconds"] / small["people"])
        floor = {r["people"]: r["seconds"] for r in extra.get("program_floor") or []}
        goal(big["seconds"] < 15 and linear,
             "program under mocks, 3 hosts: " + ", ".join(f"{r['people']}: {r['seconds']:.1f} s" for r in prog)
             + f" — under 15 s: {'yes' if big['seconds'] < 15 else 'no'}; linear: {'yes' if linear else 'no'}"
             f" ({1000 * big['seconds'] / big['people']:.1f} ms/person at {big['people']})"
             + (f"; the Pulumi SDK alone, same graph (same props, depends_on, parents, registered in an apply): "
                f"{floor[big['people']]:.1f} s"
                f" ({big['seconds'] / floor[big['people']]:.2f}× it)" if big["people"] in floor else ""))
    if ks_create:
        goal(True, f"peak memory of the provider process, {n} people: create {ks_create.get('vm_hwm_mb')} MB"
                   f", refresh {ks_refresh.get('vm_hwm_mb') if ks_refresh else '?'} MB (VmHWM; printed, no threshold)")
    en_create, en_noop, en_refresh = (_get(rows, "keystone (pulumi)", p) for p in ("create", "no-op up", "refresh"))
    if en_create and fb:
        x = en_create["per_person"] / fb["per_person"]
        goal(x <= 1.5, f"pulumi up, create {n}: ≤1.5× the one-script-per-person floor — {x:.2f}×")
    if en_create and ansible:
        x = (ansible["per_person"]) / en_create["per_person"]
        goal(x >= 5, f"pulumi up, create {n}: ≥5× faster than Ansible — {x:.1f}×")
    for label, r in (("no-op pulumi up", en_noop), ("pulumi refresh", en_refresh)):
        if r and fc_read:
            x = r["per_person"] / fc_read["per_person"]
            goal(x <= 2, f"{label} of {n}: ≤2× the batched-read floor — {x:.2f}× ({r['seconds']:.1f} s,"
                         f" {r['round_trips']} round trip(s), {r.get('changed')} changed)")
    for phase, label in (("change", "quota change"), ("groups", "group change")):
        en, fc = _get(rows, "keystone (pulumi)", phase), _get(rows, "floor (c) one script", phase)
        if en and fc:
            x = en["per_person"] / fc["per_person"]
            goal(x <= 1.5, f"pulumi up, {label} of {n}: ≤1.5× the one-script-for-everyone floor — {x:.2f}× "
                           f"({en['seconds']:.1f} s vs {fc['seconds']:.1f} s; {en['round_trips']} round trips vs "
                           f"{fc['round_trips']}; {en.get('changed')} changed)")
    ep = extra.get("engine_preview")
    if ep:
        small, big = ep[0], ep[-1]
        linear = big["keystone_seconds"] / big["people"] <= 1.25 * small["keystone_seconds"] / small["people"]
        goal(big["ratio"] <= 1.2 and linear,
             "pulumi preview, 3 hosts: " + ", ".join(f"{r['people']}: {r['keystone_seconds']:.1f} s / "
                                                     f"{r['keystone_peak_mb']:.0f} MB" for r in ep)
             + f" — linear: {'yes' if linear else 'no'}; the engine's floor (same resources, no program logic, "
               f"no provider work) {big['floor_seconds']:.1f} s: {big['ratio']:.2f}× it (goal ≤1.2×)")
    out += ["Goals:", *goals, ""]
    for e in extra.get("errors") or []:
        out.append(f"ERROR: {e}")
    states = extra.get("end_states") or []
    if states:
        out.append("End states (canonical dump: passwd/group/shadow, zfs props, mountpoint owner/mode, zfs allow):")
        for c in states:
            out.append(f"  {c['contender']:<20} {c['lines']:>5} lines  {'same' if c['same'] else 'DIFFERENT'}")
            for d in c["diff"][:8]:
                out.append(f"      {d}")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
