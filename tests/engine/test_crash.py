"""`pulumi up` killed with SIGKILL in the middle of creating people: the admin's recovery
(README, "When a run dies") — `pulumi cancel` (the killed run's lock), `pulumi refresh
--clear-pending-creates`, then `pulumi up` — converges,
and nothing is left half-done on the host."""
from __future__ import annotations

import os
import pathlib
import signal

import pytest

from tests.harness.engine import read_events
from tests.harness.engine_people import HOME, can_login, roster_text
from tests.harness.engine_stack import stack_config
from tests.harness.wait import wait_for

pytestmark = [pytest.mark.guest, pytest.mark.engine]
DYNAMIC = "pulumi-python:dynamic/"


def children(pid: int) -> list[int]:
    found = []
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def created(events: list[dict]) -> list[str]:
    return [e["resOutputsEvent"]["metadata"]["urn"] for e in events
            if (e.get("resOutputsEvent") or {}).get("metadata", {}).get("op") == "create"
            and e["resOutputsEvent"]["metadata"]["type"].startswith(DYNAMIC)]


def test_sigkill_in_the_middle_of_up_then_refresh_and_up_converge(guest, workspace, keys, tmp_path):
    ws = workspace
    ws.write_stack("e2e", stack_config(guest, str(ws.write_roster(roster_text(keys)))))
    ws.init("e2e")

    log = tmp_path / "events.jsonl"
    runner = ws.spawn("up", "--yes", "--skip-preview", stack="e2e", events=log)
    wait_for("the first creates", lambda: len(created(read_events(log))) >= 2, timeout=300)
    cli = [c for c in children(runner.pid) if os.path.basename(os.readlink(f"/proc/{c}/exe")) == "pulumi"]
    assert len(cli) == 1
    os.kill(cli[0], signal.SIGKILL)
    runner.communicate(timeout=60)
    assert runner.returncode != 0
    done = created(read_events(log))
    assert 2 <= len(done) < 9, done  # killed in the middle

    state = ws.export("e2e")["deployment"]
    recorded = {r["urn"] for r in state.get("resources") or [] if r["type"].startswith(DYNAMIC)}
    assert len(recorded) < 9  # the state is incomplete (a step's event can precede its checkpoint)

    # the killed run still holds the stack's lock: nothing runs until the admin releases it
    locked = ws.refresh("e2e", check=False)
    assert locked.rc != 0 and "currently locked" in locked.output
    ws.run("cancel", "--yes", stack="e2e", check=True)
    ws.refresh("e2e", "--clear-pending-creates")
    ws.up("e2e")
    assert ws.preview("e2e").changed() == {}
    assert not ws.export("e2e")["deployment"].get("pending_operations")
    for user in ("ana", "ben", "cyd"):
        assert can_login(guest, user, keys[user][0])
        assert f"user {user} " in guest.ssh(f"zfs allow {HOME}/{user}").stdout
