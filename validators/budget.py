"""A person's budget on a host (the systemd resource-control values of their ``user-<uid>.slice``)
and the names of the host base (Debian packages, a timer's calendar).  Standard library only.

Values are checked against what systemd reads and kept as given (a YAML whole number becomes its
digits): a memory size is bytes with an optional binary suffix (``512M``, ``8G``; ``1.5G`` is
refused: systemd accepts it but rounds), a percentage of the host's memory (``25%``) or
``infinity``; a CPU weight is 1…10000; a task limit a whole number, a percentage of the host's
limit, or ``infinity``.
"""
from __future__ import annotations

import re
from typing import Any

from .core import Invalid, show, text

MEMORY = re.compile(r"(?:[1-9][0-9]{0,15}[KMGT]?|(?:100|[1-9][0-9]?)%|infinity)")
TASKS = re.compile(r"(?:[1-9][0-9]{0,8}|(?:100|[1-9][0-9]?)%|infinity)")
CPU_WEIGHT_MAX = 10000
DEBIAN_PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]{1,99}")
"""A Debian package name (Debian policy §5.6.1: lower case, digits, + - .; two characters at least)."""
ON_CALENDAR = re.compile(r"(?:minutely|hourly|daily|weekly|monthly|\*:0/(?:5|10|15|20|30)|\*-\*-\* \d\d:\d\d(?::\d\d)?)")
"""The calendars a backup timer may use: systemd's shorthands, every 5/10/15/20/30 minutes, or a daily time."""


def _matching(value: Any, what: str, pattern: re.Pattern[str], message: str, hint: str,
              numbers: bool = False) -> str:
    """``value`` as text that ``pattern`` matches, else ``Invalid(message)`` (``{v}``: the value shown).
    ``numbers``: a whole number from YAML becomes its digits (a systemd limit)."""
    if numbers and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    v = text(value, what)
    if not pattern.fullmatch(v):
        raise Invalid(message.format(v=show(v)), hint)
    return v


def memory_max(value: Any, what: str = "memoryMax") -> str:
    return _matching(value, what, MEMORY, f"{what} {{v}} is not a memory size",
                     "bytes with K/M/G/T (e.g. 8G), a percentage of the host's memory (25%), or infinity", True)


def tasks_max(value: Any, what: str = "tasksMax") -> str:
    return _matching(value, what, TASKS, f"{what} {{v}} is not a task limit",
                     "a whole number, a percentage (10%), or infinity", True)


def cpu_weight(value: Any, what: str = "cpuWeight") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= CPU_WEIGHT_MAX:
        raise Invalid(f"{what} {show(value)} is not a CPU weight", f"a whole number from 1 to {CPU_WEIGHT_MAX} "
                      "(systemd's default is 100)")
    return value


def debian_package(value: Any, what: str = "package") -> str:
    return _matching(value, what, DEBIAN_PACKAGE, "invalid Debian package name {v}",
                     "lower-case letters, digits and + - . (e.g. git, zsh, git-crypt), no version or architecture")


def on_calendar(value: Any, what: str = "schedule") -> str:
    return _matching(value, what, ON_CALENDAR, f"{what} {{v}} is not a schedule Keystone accepts",
                     "hourly, daily, weekly, *:0/15 (every 15 minutes) or *-*-* 02:30 (a daily time)")
