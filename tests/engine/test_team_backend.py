"""The team backend: Pulumi's DIY backend on a real PostgreSQL (a throw-away cluster, tests/harness/postgres.py),
through the real CLI, as README's "A team's backend" describes it — one passphrase per stack, the state
only ever holding secrets as ciphertext (checked on the database rows themselves), a ``pg_dump`` backup
restored into a dropped database that ``pulumi refresh`` finds unchanged.

The rest of the team's day runs the file backend's own tests on this backend too (``pg.BACKENDS``):
the people lifecycle (up, preview, refresh, offboard … destroy), promotion through a StackReference
between stacks with different passphrases, two admins' ``up`` at once, and the run killed mid-``up``.  The database restarted, or gone for longer, mid-``up`` is here."""
from __future__ import annotations

import json
import pathlib
import subprocess
import time

import pytest

from tests.harness import peering_sample as ps
from tests.harness import postgres as pg
from tests.harness.engine import Workspace, read_events
from tests.harness.engine_people import DYNAMIC, created, recover
from tests.harness.engine_stack import FakeGuest, stack_config
from tests.harness.wait import wait_for
from tests.harness.zerotier_controller import DEFAULT_TOKEN

pytestmark = [pytest.mark.engine, pytest.mark.postgres]
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # the state's mark of a secret value
DEV_PASSPHRASE = "dev-admins-only-7f3e"  # each stack's own passphrase: dev's admins hold this one


def checkpoint_key(blobs: dict[str, bytes], stack: str) -> str:
    keys = [k for k in blobs if k.endswith(f".pulumi/stacks/keystone/{stack}.json")]
    assert len(keys) == 1, sorted(blobs)
    return keys[0]


@pytest.mark.netns
def test_secrets_stay_ciphertext_in_the_rows_and_a_restored_dump_refreshes_clean(postgres, engine_cli, tmp_path,
                                                                                 lab, controller):
    ws = postgres.workspace(tmp_path, passphrases={"dev": DEV_PASSPHRASE})
    database = pg.database_of(ws.url)
    roster = ws.write_roster(ps.roster_text(2))
    ws.write_stack("dev", stack_config(FakeGuest(), str(roster), hosts=[],
                                       peering=ps.peering([s.settings() for s in lab.servers], url=controller.url)))
    ws.init("dev")
    ws.set_secret("dev", "zerotierToken", DEFAULT_TOKEN)
    ws.set_secret("dev", "authentikToken", "ak-team-secret-91d2")  # unused (Authentik off), but a stack secret
    first = ws.up("dev")
    assert set(first.changed(DYNAMIC).values()) == {"create"} and len(first.changed(DYNAMIC)) == 2 + 2 + 4

    # the stack's passphrase is the only key: an admin holding another stack's cannot read its secrets
    other = ws.on_another_machine("prod-admin")
    other.passphrases = {"dev": "prod-admins-passphrase"}
    refused = other.run("config", "get", "keystone:zerotierToken", stack="dev")
    assert refused.rc != 0 and "incorrect passphrase" in refused.output, refused.output[-2000:]
    assert ws.run("config", "get", "keystone:zerotierToken", stack="dev", check=True).stdout.strip() == DEFAULT_TOKEN

    # the rows: the checkpoint is there (decoded, readable), its secrets only as ciphertext
    blobs = pg.blobs(postgres, database)
    checkpoint = json.loads(blobs[checkpoint_key(blobs, "dev")])
    deployment = checkpoint["checkpoint"]["latest"]
    assert deployment["secrets_providers"]["type"] == "passphrase"
    assert set(deployment["secrets_providers"]["state"]) == {"salt"}  # no key in the database
    # the token is in the state (the dynamic providers' configuration), as ciphertext only
    held = [r["inputs"]["keystone:zerotierToken"] for r in deployment["resources"]
            if "keystone:zerotierToken" in (r.get("inputs") or {})]
    assert held and all(set(v) == {SECRET_SIG, "ciphertext"} for v in held), held
    readable = pg.raw_rows(postgres, database) + "\n".join(b.decode(errors="replace") for b in blobs.values())
    for clear in (DEFAULT_TOKEN, "ak-team-secret-91d2", DEV_PASSPHRASE):
        assert clear not in readable, f"{clear!r} is readable in the database"

    # backup, the database lost, restored from the dump: the stack is as it was
    before = ws.export("dev")
    dump = tmp_path / "backend.dump"
    postgres.dump(database, dump)
    postgres.drop_database(database)
    lost = ws.run("stack", "ls", "--json")
    assert lost.rc != 0 and "state database" in lost.output, lost.output[-2000:]
    postgres.restore(database, dump)
    assert ws.export("dev") == before
    assert ws.refresh("dev").drift() == {}
    assert ws.preview("dev").changed() == {}


def up_until_first_create(ws: Workspace, log: pathlib.Path) -> subprocess.Popen:
    """`up` one step at a time (the first save that fails then ends the run; with more steps in flight
    each one's save is retried in turn, ≈30 s apiece), returned once it has created something."""
    runner = ws.spawn("up", "--yes", "--skip-preview", "--parallel", "1", stack="dev", events=log)
    wait_for("the first create", lambda: created(read_events(log)), timeout=300, interval=0.02)
    return runner


@pytest.mark.netns
def test_the_database_restarted_or_gone_mid_up(postgres, engine_cli, tmp_path, lab, controller):
    """Restarted mid-`up` (back within the CLI's ≈30 s of retries): the save is retried and the `up`
    finishes whole.  Gone for longer: the `up` fails naming the lost connection and its lock row is
    left behind; once the database is back, README's run-dies steps (`cancel`, `refresh
    --clear-pending-creates`, `up`) converge."""
    ws = postgres.workspace(tmp_path)

    def roster(asns: int) -> None:
        ws.write_stack("dev", stack_config(FakeGuest(), str(ws.write_roster(ps.roster_text(asns))), hosts=[],
                                           peering=ps.peering([s.settings() for s in lab.servers],
                                                              url=controller.url)))
        ws.set_secret("dev", "zerotierToken", DEFAULT_TOKEN)

    def converged(asns: int) -> None:
        assert ws.preview("dev").changed() == {}
        for s in lab.servers:
            assert ps.sessions(210000 + asns, asns - 1) <= set(s.bird.protocols())
        assert all(controller.member(ps.NETWORK_ID, ps.member_id(i))["authorized"] for i in range(asns))

    ws.init("dev")
    roster(3)
    runner = up_until_first_create(ws, tmp_path / "restarted.jsonl")
    postgres.stop()
    time.sleep(3)
    postgres.start()
    out, err = runner.communicate(timeout=600)
    assert runner.returncode == 0, (out + err)[-3000:]
    converged(3)

    roster(6)
    log = tmp_path / "gone.jsonl"
    runner = up_until_first_create(ws, log)
    postgres.stop()
    try:
        out, err = runner.communicate(timeout=600)
    finally:
        postgres.start()
    assert runner.returncode != 0
    assert "connection refused" in out + err and "manual clean up may be required" in out + err, (out + err)[-3000:]
    assert len(created(read_events(log))) < 3 * 3, "the database went away after the run had finished"
    recover(ws, "dev")
    converged(6)
