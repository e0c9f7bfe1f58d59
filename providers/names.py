"""The GECOS field that reaches ``useradd -c``/``usermod -c``, checked in ``check`` (before any
command runs) on top of the roster's own full-name rule.  User and group names, dataset names and
paths are checked by ``validators`` itself (``person_name``, ``posix_name``, ``dataset_name``,
``absolute_path``)."""
from __future__ import annotations

import re

GECOS = re.compile(r"^[^:,=\n\r\t\x00-\x1f\x7f]{0,64}$")


def check(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not pattern.fullmatch(value):
        raise ValueError(f"{what} {value!r} does not match {pattern.pattern}")
    if "/" in value and any(part in ("..", ".") for part in value.split("/")):
        raise ValueError(f"{what} {value!r} contains a '.' or '..' component")
    return value
