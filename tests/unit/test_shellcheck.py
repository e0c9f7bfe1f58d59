"""Every shell script of the project passes shellcheck (warnings and errors; setup installs it)."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from engine.paths import ROOT


def shell_scripts() -> list[str]:
    files = subprocess.run(["git", "ls-files", "*.sh", "engine/launchers/*", ".ci/run"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    return sorted(files)


def test_there_are_scripts_to_check():
    assert {"scripts/setup.sh", "scripts/build-engine.sh", "engine/launchers/pulumi-resource-pulumi-python"} \
        <= set(shell_scripts())


@pytest.mark.parametrize("script", shell_scripts())
def test_shellcheck(script):
    if shutil.which("shellcheck") is None:
        pytest.fail("shellcheck is not installed: run scripts/setup.sh")
    p = subprocess.run(["shellcheck", "--severity=warning", "--shell=sh" if "launchers" in script else "--shell=bash",
                        script], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
