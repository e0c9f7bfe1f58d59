"""The team backend: Pulumi's DIY backend on a real PostgreSQL (a throw-away cluster, tests/harness/postgres.py),
through the real CLI, as README's "A team's backend" describes it — one passphrase per stack, the state
only ever holding secrets as ciphertext (checked on the database rows themselves), a ``pg_dump`` backup
restored into a dropped database that ``pulumi refresh`` finds unchanged.

The rest of the team's day runs the file backend's own tests on this backend too (``pg.BACKENDS``):
the sample's preview/up/refresh and lifecycle, promotion through a StackReference, two admins' ``up``
at once, and the run killed mid-``up``.  The database restarted mid-``up`` is here."""
from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.harness import peering_sample as ps
from tests.harness import postgres as pg
from tests.harness.engine import Workspace, read_events
from tests.harness.engine_people import HOME, can_login, created, recover, roster_text
from tests.harness.engine_stack import FakeGuest, stack_config
from tests.harness.peering_lab import PeeringLab, peering_lab
from tests.harness.wait import wait_for
from tests.harness.zerotier_controller import DEFAULT_TOKEN, FakeZeroTierController

pytestmark = [pytest.mark.engine, pytest.mark.postgres]
DYNAMIC = "pulumi-python:dynamic/"
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # the state's mark of a secret value
DEV_PASSPHRASE = "dev-admins-only-7f3e"  # each stack's own passphrase: dev's admins hold this one


@pytest.fixture
def lab() -> Iterator[PeeringLab]:
    with peering_lab(2) as lab:
        yield lab


@pytest.fixture
def controller() -> Iterator[FakeZeroTierController]:
    with FakeZeroTierController("self_hosted").start() as ctl:
        yield ctl


def checkpoint_key(blobs: dict[str, bytes], stack: str) -> str:
    keys = [k for k in blobs if k.endswith(f".pulumi/stacks/keystone/{stack}.json")]
    assert len(keys) == 1, sorted(blobs)
    return keys[0]


@pytest.mark.netns
def test_secrets_stay_ciphertext_in_the_rows_and_a_restored_dump_refreshes_clean(postgres, engine_cli, tmp_path,
                                                                                 lab, controller):
    database = postgres.create_database(pg.new_database_name())
    ws = Workspace(tmp_path, backend_url=postgres.url(database), passphrases={"dev": DEV_PASSPHRASE})
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


@pytest.mark.guest
def test_the_database_restarted_mid_up_fails_clearly_then_the_run_dies_steps_converge(postgres, guest, engine_cli,
                                                                                         tmp_path, keys):
    """The database goes away while `up` is creating people and comes back once that `up` has given up:
    the `up` fails naming the state database, and README's run-dies steps on this backend (`cancel`,
    `refresh --clear-pending-creates`, `up`) converge with nothing half-done on the host."""
    ws = Workspace(tmp_path, backend_url=postgres.url(postgres.create_database(pg.new_database_name())))
    ws.write_stack("e2e", stack_config(guest, str(ws.write_roster(roster_text(keys)))))
    ws.init("e2e")

    log = tmp_path / "events.jsonl"
    runner = ws.spawn("up", "--yes", "--skip-preview", stack="e2e", events=log)
    wait_for("the first create", lambda: created(read_events(log)), timeout=300)
    postgres.stop()
    try:
        out, err = runner.communicate(timeout=600)
    finally:
        postgres.start()
    assert runner.returncode != 0
    assert "connection refused" in (out + err), (out + err)[-3000:]

    recover(ws, "e2e")
    for user in ("ana", "ben", "cyd"):
        assert can_login(guest, user, keys[user][0])
        assert f"user {user} " in guest.ssh(f"zfs allow {HOME}/{user}").stdout
