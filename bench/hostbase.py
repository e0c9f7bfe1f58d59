"""``.venv/bin/python -m bench.hostbase [--people 10]``: what the host base costs a no-op ``pulumi
refresh`` through the real CLI on the test guest — N people on one host without ``keystone:base``,
then the same stack with it (packages already installed, two machine-wide files, a budget per person,
backups), each refresh's round trips counted from the transport log (``bench/engine.py``).  The
goal beside it: the base adds at most one round trip per host."""
from __future__ import annotations

import argparse
import pathlib
import tempfile

from bench.engine import EnginePeople, stack
from bench.people import people as make_people

BASE = {
    "packages": ["procps", "sudo"],  # on the guest already: a refresh reads them, installs nothing
    "fileDirs": ["/etc/profile.d", "/etc/skel"],
    "files": [{"path": "/etc/profile.d/keystone.sh", "source": "workstation/base/profile.sh"},
              {"path": "/etc/skel/.keystone", "template": "stack={{ stack }}\n"}],
    "budgets": {"default": {"memoryMax": "1G", "cpuWeight": 100, "tasksMax": 512}},
    "backups": {"schedule": "daily", "keep": 3, "backupParent": "rpool/crypt/backup"},
}


class WithBase(EnginePeople):
    base: dict | None = None

    def create(self, people):
        from bench.engine import roster_yaml

        roster = self.ws.write_roster(roster_yaml(people))
        config = stack(self.target, roster)
        if self.base:
            config["base"] = self.base
        self.ws.write_stack("bench", config)
        self.ws.init("bench")
        return self._timed("up", "--yes", "--skip-preview")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.hostbase", description=__doc__)
    ap.add_argument("--people", type=int, default=10)
    a = ap.parse_args(argv)
    from bench.__main__ import Guest

    crowd = make_people(a.people)
    rows = []
    for label, base in (("without base", None), ("with base", BASE)):
        with Guest() as g:
            work = pathlib.Path(tempfile.mkdtemp(prefix="bench-base-"))
            e = WithBase(g.target, work)
            e.base = base
            e.create(crowd)
            e.refresh()  # the first refresh after a create may still record outputs
            ph = e.refresh()
            rows.append((label, ph.seconds, ph.round_trips, ph.commands, len(ph.outcome.drift())))
    print(f"\nno-op refresh, {a.people} people on 1 host")
    print(f"{'stack':14} {'seconds':>8} {'round trips':>12} {'commands':>9} {'drift':>6}")
    for label, seconds, trips, commands, drift in rows:
        print(f"{label:14} {seconds:8.2f} {trips:12d} {commands:9d} {drift:6d}")
    added = rows[1][2] - rows[0][2]
    print(f"the base adds {added} round trip(s) per host (goal: at most 1) — {'met' if added <= 1 else 'NOT met'}")
    return 0 if added <= 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
