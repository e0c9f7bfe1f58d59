"""The linter and the type checker are part of the test command: ``ruff check`` with the committed
``ruff.toml`` on the whole repository, ``mypy`` with ``mypy.ini`` on the pure packages and ``program/``."""
from __future__ import annotations

import subprocess
import sys

from engine.paths import ROOT


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *argv], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    r = _run("ruff", "check", "--no-cache", "--output-format", "concise", ".")
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_finds_nothing_in_the_pure_packages_and_the_program():
    r = _run("mypy", "--config-file", "mypy.ini", "--cache-dir", "/dev/null")
    assert r.returncode == 0, r.stdout + r.stderr
