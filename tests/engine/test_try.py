"""`bash scripts/try.sh`, the README's first command, end to end: set-up, the dev guest, a backend
inside the project, `preview` and `up` of the sample roster on the dev stack, the people report.
Run twice: the second run applies nothing and says so, and the report lists the sample people on
the guest.  (Heavy: two full runs and the dev guest; the backend and PULUMI_HOME are the test's.)"""
from __future__ import annotations

import os
import subprocess

import pytest

from tests.harness.engine import REPO

pytestmark = [pytest.mark.guest, pytest.mark.engine]
SAMPLE = {"alice": "active", "bob": "active", "carol": "active", "dave": "offboarded"}


def try_sh(env: dict[str, str]) -> str:
    p = subprocess.run(["bash", "scripts/try.sh"], cwd=REPO, env=env, capture_output=True, text=True, timeout=3600)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-6000:]
    return p.stdout


def report_rows(out: str) -> dict[str, list[str]]:
    """person -> the cells of their row on the guest, from the people report's Markdown table."""
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 11 and cells[3] == "guest":
            rows[cells[0]] = cells
    return rows


def test_try_sh_applies_the_sample_then_says_no_changes(engine_cli, tmp_path):
    from guest import __main__ as dev_guest

    was_running = dev_guest._load() is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    env.update(KEYSTONE_TRY_DIR=str(tmp_path / "try"), PULUMI_HOME=str(tmp_path / "pulumi-home"), NO_COLOR="1")
    try:
        first = try_sh(env)
        assert "[try] applied:" in first or "[try] no changes" in first, first[-3000:]
        second = try_sh(env)
    finally:
        if not was_running:
            dev_guest.main(["down"])
    assert "[try] no changes: the dev stack already matched the roster" in second, second[-3000:]
    rows = report_rows(second)
    assert {p: rows[p][2] for p in SAMPLE if p in rows} == SAMPLE, second[-3000:]
    assert rows["alice"][4].startswith("uid 20001,") and "unlocked" in rows["alice"][4]
    assert "locked" in rows["dave"][4] and rows["dave"][6] == "no"
    assert rows["alice"][5].startswith("rpool/crypt/home/alice: ") and not rows["alice"][5].endswith("? / 200G")
    assert "update 1 (update)" in rows["alice"][10], rows["alice"]
