"""The gate through the real engine, before any host is touched: a bad roster fails `preview` with
its message and registers nothing; the promotion guard reads another stack's digest through a real
StackReference on the same backend; the policy pack runs as `pulumi preview --policy-pack`."""
from __future__ import annotations

import pytest

from tests.harness import postgres as pg
from tests.harness.engine import REPO
from tests.harness.engine_stack import FakeGuest, stack_config

pytestmark = pytest.mark.engine
EMPTY_ROSTER = "people: {}\n"


def config(ws, roster_text: str, name: str = "roster.yaml", **over):
    return stack_config(FakeGuest(), str(ws.write_roster(roster_text, name)), **over)


def test_a_bad_roster_fails_preview_with_its_line_and_registers_nothing(workspace):
    ws = workspace
    text = (REPO / "roster" / "roster.yaml").read_text().replace("uid: 20002", "uid: 999", 1)
    ws.write_stack("dev", config(ws, text))
    ws.init("dev")
    preview = ws.preview("dev", check=False)
    assert preview.rc != 0
    assert "invalid roster, nothing was applied" in preview.output
    line = text.splitlines().index("    uid: 999") + 1
    assert f"roster.yaml:{line}:" in preview.output and "uid" in preview.output, preview.output[-2000:]
    assert preview.ops() == {}, "nothing may be registered when the roster is invalid"


@pg.BACKENDS
def test_promotion_guard_reads_the_previous_stack_through_a_real_stack_reference(workspace):
    ws = workspace
    ws.write_stack("dev", config(ws, EMPTY_ROSTER, "dev.yaml"))
    ws.write_stack("staging", config(ws, EMPTY_ROSTER, "staging.yaml", promotion={"after": "dev"}))
    ws.init("dev")
    ws.init("staging")

    refused = ws.preview("staging", check=False)
    assert refused.rc != 0 and "promotion: stack 'dev' has no deployed roster digest yet" in refused.output, \
        refused.output[-2000:]

    ws.up("dev")
    assert ws.outputs("dev")["rosterDigest"]
    ws.up("staging")  # same roster text: the same digest
    assert ws.outputs("staging")["rosterDigest"] == ws.outputs("dev")["rosterDigest"]

    ws.write_roster((REPO / "roster" / "roster.yaml").read_text(), "staging.yaml")  # not deployed on dev
    ahead = ws.preview("staging", check=False)
    assert ahead.rc != 0 and "is not the one deployed on 'dev'" in ahead.output, ahead.output[-2000:]
    assert ahead.ops() == {}


def test_policy_pack_passes_the_sample_and_fails_a_violating_roster(workspace):
    ws = workspace
    sample = (REPO / "roster" / "roster.yaml").read_text()
    ws.write_stack("dev", config(ws, sample))
    ws.init("dev")
    policy = str(ws.project / "policy")

    ok = ws.preview("dev", "--policy-pack", policy)
    assert not [v for v in ok.policy_violations() if v["enforcementLevel"] == "mandatory"], ok.policy_violations()

    ws.write_roster(sample.replace("quota: 200G", "quota: 9T"))
    bad = ws.preview("dev", "--policy-pack", policy, check=False)
    mandatory = [v for v in bad.policy_violations() if v["enforcementLevel"] == "mandatory"]
    assert bad.rc != 0
    assert [v["policyName"] for v in mandatory] == ["zfs-dataset-quota-ceiling"], mandatory
    assert "alice" in mandatory[0]["resourceUrn"]
