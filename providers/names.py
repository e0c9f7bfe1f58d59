"""Patterns for names that reach host commands.  Inputs are checked against these in ``check``
(before any command runs), on top of the roster's own validation."""
from __future__ import annotations

import re

USERNAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
GROUPNAME = USERNAME
DATASET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*(/[A-Za-z0-9][A-Za-z0-9_.:-]*)+$")
ABS_PATH = re.compile(r"^/([A-Za-z0-9._-]+/)*[A-Za-z0-9._-]+$")
CRYPT_HASH = re.compile(r"^\$(6|y)\$[./A-Za-z0-9$=,-]{8,200}$")
GECOS = re.compile(r"^[^:,=\n\r\t\x00-\x1f\x7f]{0,64}$")
PROPERTY_WORD = re.compile(r"^[a-z0-9-]{1,16}$")


def check(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not pattern.fullmatch(value):
        raise ValueError(f"{what} {value!r} does not match {pattern.pattern}")
    if "/" in value and any(part in ("..", ".") for part in value.split("/")):
        raise ValueError(f"{what} {value!r} contains a '.' or '..' component")
    return value
