"""Files Keystone writes on hosts: their paths and their modes.  Standard library only.

Two kinds of path, with two rules: ``host_file_path`` (a file's own absolute path, any name the
file system allows but no ``\\n``/NUL, normalised) and ``home_relative_path`` (a file under a person's
home).  Paths that end up in command lines and config files are stricter: ``names.absolute_path``.
"""
from __future__ import annotations

import posixpath
import re
from typing import Any

from .core import Invalid, show, text

MODE = re.compile(r"0?[0-7]{3}")
"""A permission mode as Keystone writes it: three octal digits, an optional leading 0."""


def file_mode(value: Any, what: str = "mode") -> str:
    """An octal mode (``"644"``, ``"0600"``) -> four digits (``"0644"``)."""
    v = text(value, what)
    if not MODE.fullmatch(v):
        raise Invalid(f"{what} {show(v)} is not an octal mode like \"0644\"", "three octal digits, quoted in YAML")
    return v.zfill(4)


def host_file_path(value: Any, what: str = "path") -> str:
    """A file's absolute, normalised path (no ``.``/``..``/``//``/trailing ``/``, no newline or NUL)."""
    v = text(value, what)
    if not v.startswith("/") or posixpath.normpath(v) != v or any(c in v for c in "\n\0"):
        raise Invalid(f"{what} {show(v)} is not an absolute, normalized path")
    return v


def home_relative_path(value: Any, what: str = "path") -> str:
    """A path under a person's home: relative, normalised (a trailing ``/`` is dropped), no ``..``."""
    v = text(value, what)
    norm = posixpath.normpath(v)
    if (not v or v.startswith("/") or norm != v.rstrip("/") or norm.startswith("..") or norm == "."
            or any(c in v for c in "\n\0")):
        raise Invalid(f"{what} is a normalized path under the home (no leading '/', no '..'): {v!r}")
    return norm
