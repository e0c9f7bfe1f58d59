"""Patterns for names that reach host commands.  Inputs are checked against these in ``check``
(before any command runs), on top of the roster's own validation.  User names, dataset components
and path components are ``validators.names``'s own patterns (one definition of each)."""
from __future__ import annotations

import re

from validators.names import DATASET_COMPONENT, POSIX_NAME

USERNAME = re.compile(rf"^{POSIX_NAME.pattern}$")
GROUPNAME = USERNAME
DATASET = re.compile(rf"^{DATASET_COMPONENT.pattern}(/{DATASET_COMPONENT.pattern})+$")
GECOS = re.compile(r"^[^:,=\n\r\t\x00-\x1f\x7f]{0,64}$")


def check(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not pattern.fullmatch(value):
        raise ValueError(f"{what} {value!r} does not match {pattern.pattern}")
    if "/" in value and any(part in ("..", ".") for part in value.split("/")):
        raise ValueError(f"{what} {value!r} contains a '.' or '..' component")
    return value
