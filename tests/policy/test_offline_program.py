"""The offline policy run over the program itself: the repository's roster must pass every
mandatory policy for each stack (so a violating roster fails this repo's CI), and a violating
roster makes the run exit non-zero."""
from __future__ import annotations

import pathlib

import pytest

from policy.offline import main

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_the_repository_roster_passes_the_policy_pack(stack, capsys):
    assert main(["--stack", stack]) == 0, capsys.readouterr().out


def test_a_violating_roster_fails_the_run(tmp_path, capsys):
    text = (ROOT / "roster" / "roster.yaml").read_text()
    assert "quota: 200G" in text
    bad = tmp_path / "roster.yaml"
    bad.write_text(text.replace("quota: 200G", "quota: 9T"))  # far above the admin ceiling
    assert main(["--stack", "dev", "--roster", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "zfs-dataset-quota-ceiling" in out and "[mandatory]" in out
