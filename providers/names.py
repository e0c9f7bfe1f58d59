"""Patterns for the dataset names and GECOS fields that reach host commands, checked in ``check``
(before any command runs) on top of the roster's own validation.  A dataset component is
``validators.names``'s own pattern; user and group names and paths are checked by ``validators``
itself (``person_name``, ``posix_name``, ``absolute_path``)."""
from __future__ import annotations

import re

from validators.names import DATASET_COMPONENT

DATASET = re.compile(rf"^{DATASET_COMPONENT.pattern}(/{DATASET_COMPONENT.pattern})+$")
GECOS = re.compile(r"^[^:,=\n\r\t\x00-\x1f\x7f]{0,64}$")


def check(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not pattern.fullmatch(value):
        raise ValueError(f"{what} {value!r} does not match {pattern.pattern}")
    if "/" in value and any(part in ("..", ".") for part in value.split("/")):
        raise ValueError(f"{what} {value!r} contains a '.' or '..' component")
    return value
