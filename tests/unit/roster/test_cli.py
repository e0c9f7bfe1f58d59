"""``python -m roster``: exit codes and output, run as a subprocess like CI runs it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "roster" / "roster.yaml"
FIXTURES = Path(__file__).parent / "fixtures"
STACK_ARGS = ["--hosts", "guest", "--peering-lan", "10.99.0.0/24", "--peering-lan", "fd00:99::/64"]


def run(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "roster", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=60, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_validate_sample_ok():
    result = run("validate", "roster/roster.yaml", *STACK_ARGS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("roster OK: 4 people, 3 peers, digest ")
    assert len(result.stdout.split("digest ")[1].strip()) == 64 and result.stderr == ""


def test_validate_defaults_to_the_package_roster(tmp_path: Path):
    result = run("validate", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "roster OK: 4 people, 3 peers" in result.stdout


def test_validate_reports_every_problem_and_exits_1():
    path = FIXTURES / "multi_error.yaml"
    result = run("validate", path, "--peering-lan", "10.99.0.0/24")
    assert result.returncode == 1 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[-1] == f"roster invalid: 15 problems in {path}"
    assert f"{path}:13:10: people.bob.uid: uid 20001 is already used by people.alice" in result.stderr
    assert all(line.startswith(f"{path}:") for line in lines[:-1]) and len(lines) == 16


def test_validate_applies_stack_options():
    result = run("validate", SAMPLE, "--min-uid", "20002", "--allow-private-asns")
    assert result.returncode == 1
    assert "people.alice.uid: uid 20001 is below this stack's minimum 20002" in result.stderr
    result = run("validate", SAMPLE, "--peering-lan", "10.98.0.0/24")
    assert result.returncode == 1 and "outside this stack's peering LANs" in result.stderr


def test_usage_errors_exit_2():
    assert run().returncode == 2
    assert run("frobnicate").returncode == 2
    result = run("validate", SAMPLE, "--peering-lan", "10.99.0.1/24")
    assert result.returncode == 2 and "invalid stack context" in result.stderr


def test_schema_prints_the_committed_schema():
    result = run("schema")
    assert result.returncode == 0
    assert result.stdout == (ROOT / "roster" / "roster.schema.json").read_text()


def test_diff_prints_markdown(tmp_path: Path):
    new = tmp_path / "new.yaml"
    new.write_text(SAMPLE.read_text().replace("    state: offboarded\n", "    state: purged\n"))
    result = run("diff", SAMPLE, new)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("## Roster changes") and "- **purged** `dave`" in result.stdout


def test_diff_of_an_invalid_roster_exits_1(tmp_path: Path):
    result = run("diff", SAMPLE, FIXTURES / "multi_error.yaml")
    assert result.returncode == 1 and "roster invalid" in result.stderr and result.stdout == ""
