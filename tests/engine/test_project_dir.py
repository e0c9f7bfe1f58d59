"""The program runs as `pulumi up` runs it: in the project directory the CLI names (`--cwd`), whatever
directory the admin started the CLI from.  A relative `keystone:roster` is the project's file, the
stack file's problems are reported at its lines, and the deletion guard refuses before any step."""
from __future__ import annotations

import pytest

from tests.harness.engine import REPO
from tests.harness.engine_people import roster_text
from tests.harness.engine_stack import FakeGuest, stack_config

pytestmark = pytest.mark.engine
SAMPLE = (REPO / "roster" / "roster.yaml").read_text()


@pytest.fixture
def elsewhere(tmp_path):
    """A directory the CLI is started from, holding a roster of its own at the same relative path:
    a broken one, so a program that resolved the path against this directory would fail."""
    d = tmp_path / "elsewhere"
    (d / "rosters").mkdir(parents=True)
    (d / "rosters" / "roster.yaml").write_text("people:\n  bad name: {}\n")
    return d


def test_a_relative_roster_path_is_the_project_s_file_wherever_the_cli_starts(workspace, elsewhere):
    ws = workspace
    ws.write_roster(SAMPLE)
    ws.write_stack("dev", stack_config(FakeGuest(), "rosters/roster.yaml"))
    ws.init("dev")
    preview = ws.preview("dev", from_dir=elsewhere)
    ops = preview.ops("pulumi-python:dynamic/")
    assert ops.get("alice-guest-account") == "create", sorted(ops)
    assert ops.get("bob-guest-home") == "create", sorted(ops)


def test_a_clear_text_secret_in_the_stack_file_is_refused_at_its_line(workspace, elsewhere):
    ws = workspace
    ws.write_roster(SAMPLE)
    path = ws.write_stack("dev", stack_config(FakeGuest(), "rosters/roster.yaml", authentikToken="hunter2-token"))
    ws.init("dev")
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "keystone:authentikToken" in text)
    preview = ws.preview("dev", check=False, from_dir=elsewhere)
    assert preview.rc != 0
    assert f"Pulumi.dev.yaml:{line}:" in preview.output, preview.output[-3000:]
    assert "keystone:authentikToken: a secret in plain text in the stack file" in preview.output
    assert "hunter2-token" not in preview.output, "the refused secret must never be echoed"
    assert preview.ops() == {}


@pytest.mark.guest
def test_an_active_person_removed_from_the_roster_is_refused_with_zero_steps(guest, workspace, keys):
    ws = workspace
    ws.write_roster(roster_text(keys))
    ws.write_stack("e2e", stack_config(guest, "rosters/roster.yaml"))
    ws.init("e2e")
    ws.up("e2e")
    without_ben = roster_text(keys).split("  ben:\n")[0] + "  cyd:\n" + roster_text(keys).split("  cyd:\n")[1]
    assert "ben" not in without_ben
    ws.write_roster(without_ben)

    refused = ws.up("e2e", check=False)
    assert refused.rc != 0
    assert "person 'ben' was removed while active: set `state: offboarded` first" in refused.output, \
        refused.output[-3000:]
    assert refused.changed() == {}, "nothing may be applied when the deletion guard refuses"
    assert refused.summary().get("delete", 0) == 0 and refused.summary().get("update", 0) == 0
    assert guest.ssh("getent passwd ben").stdout.startswith("ben:x:23002:")
    assert "user ben" in guest.ssh("zfs allow rpool/crypt/home/ben").stdout
