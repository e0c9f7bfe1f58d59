"""`pulumi up` killed with SIGKILL in the middle of creating people: the admin's recovery
(README, "When a run dies") — `pulumi cancel` (the killed run's lock), `pulumi refresh
--clear-pending-creates`, then `pulumi up` — converges,
and nothing is left half-done on the host."""
from __future__ import annotations

import os
import pathlib
import signal
import subprocess

import pytest

from tests.harness import postgres as pg
from tests.harness.engine import read_events
from tests.harness.engine_people import DYNAMIC, HOME, can_login, created, recover, roster_text
from tests.harness.engine_stack import stack_config
from tests.harness.wait import wait_for

pytestmark = [pytest.mark.guest, pytest.mark.engine]


def children(pid: int) -> list[int]:
    found = []
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


@pg.BACKENDS
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

    recover(ws, "e2e")  # the killed run still holds the stack's lock: cancel, refresh, up
    for user in ("ana", "ben", "cyd"):
        assert can_login(guest, user, keys[user][0])
        assert f"user {user} " in guest.ssh(f"zfs allow {HOME}/{user}").stdout


def test_an_empty_metadata_sidecar_left_by_a_kill_is_removed_as_the_readme_says(workspace):
    """A file backend opened without ``?metadata=skip`` rewrites ``<stack>.json.attrs`` in place: a kill
    at the wrong moment leaves it empty and every command fails with ``failed to load checkpoint: EOF``
    (seen in CI).  The README's step (remove the empty sidecar) brings the stack back, state intact."""
    ws = workspace
    ws.write_stack("e2e", {"roster": "roster/roster.yaml"})
    ws.init("e2e")
    before = ws.export("e2e")
    stacks = ws.state / ".pulumi" / "stacks"
    assert not list(stacks.rglob("*.attrs"))  # opened with ?metadata=skip: no sidecar at all
    (stacks / "keystone" / "e2e.json.attrs").write_text("")  # as the kill leaves it
    broken = ws.run("stack", "export", stack="e2e", check=False)
    assert broken.rc != 0 and "failed to load checkpoint: EOF" in broken.output, broken.output
    removed = subprocess.run(["find", str(stacks), "-name", "*.attrs", "-empty", "-print", "-delete"],
                             capture_output=True, text=True, check=True).stdout.split()
    assert removed == [str(stacks / "keystone" / "e2e.json.attrs")]
    assert ws.export("e2e") == before
