"""Files Keystone writes on hosts: their paths and their modes.  Standard library only.

Paths, by who writes them:

* ``host_file_path``: a file's own absolute path (any name the file system allows but no
  ``\\n``/NUL, normalised): what a ``host:ManagedFile`` accepts;
* ``owned_path``: a file **root** writes because a setting names it (a map): an absolute path of
  plain ASCII components (``names.absolute_path``) inside a directory Keystone owns
  (``KEYSTONE_DIR``), never inside the directories of Keystone's own files (``RESERVED_DIRS``);
* ``relative_path``: a path a setting names below a directory (a home, the project): relative,
  normalised, plain ASCII components (no ``~``, ``$VAR``, ``..``, spaces or look-alike characters);
* ``home_file``: such a path under a person's home that does not belong to something else
  (``RESERVED_HOME_PATHS``, sshd's keys, and the paths the caller reserves, such as Keystone's own
  kubeconfig).

Modes: ``file_mode`` (an octal mode, spelt ``four_digits``), ``safe_mode`` (one that is neither group- nor world-writable),
``is_private`` (one with no bit for others).
"""
from __future__ import annotations

import posixpath
import re
from typing import Any

from .core import Invalid, bad_character, show, text
from .names import PATH_COMPONENT, absolute_path

MODE = re.compile(r"0?[0-7]{3}")
"""A permission mode as Keystone writes it: three octal digits, an optional leading 0."""
NAME_MAX = 255
"""The longest file name (one path component) Linux file systems take."""
KEYSTONE_DIR = "/etc/keystone"
"""The directory Keystone owns on every host: files root writes for a setting live below it."""
RESERVED_DIRS = ("/etc/keystone/workstation",)
"""Below ``KEYSTONE_DIR``, directories of files Keystone names itself (instances' environment files)."""
RESERVED_HOME_PATHS = (".ssh/authorized_keys", ".ssh/authorized_keys2", ".ssh/rc", ".ssh/environment")
"""Paths in a home that sshd reads as the person's credentials or login commands: Keystone writes
``authorized_keys`` itself, and none of them is ever a seeded file."""


def four_digits(mode: str) -> str:
    """A mode's one spelling, four octal digits (``"644"`` -> ``"0644"``): what ``file_mode`` returns
    and how a mode a host's ``stat`` printed is held (``providers.hostfile.plan.PathState``)."""
    return mode.zfill(4)


def file_mode(value: Any, what: str = "mode") -> str:
    """An octal mode (``"644"``, ``"0600"``) -> four digits (``"0644"``)."""
    v = text(value, what)
    if not MODE.fullmatch(v):
        raise Invalid(f"{what} {show(v)} is not an octal mode like \"0644\"", "three octal digits, quoted in YAML")
    return four_digits(v)


def safe_mode(value: Any, what: str = "mode") -> str:
    """``file_mode`` that nobody but the owner may write: no group- or world-write bit."""
    v = file_mode(value, what)
    if int(v, 8) & 0o022:
        who = "group- and world" if int(v, 8) & 0o022 == 0o022 else ("world" if int(v, 8) & 0o002 else "group")
        raise Invalid(f"{what} {v} is {who}-writable", "anybody it lets write could change what the file says: "
                      "e.g. \"0644\" or \"0600\"")
    return v


def is_private(value: Any, what: str = "mode") -> bool:
    """True if the ``file_mode`` ``value`` gives others (neither owner nor group) no bit at all."""
    return not int(file_mode(value, what), 8) & 0o007


def host_file_path(value: Any, what: str = "path") -> str:
    """A file's absolute, normalised path, of any names but newline and NUL (``absolute_path(any_name=True)``)."""
    return absolute_path(value, what, any_name=True)


def _short_names(v: str, parts: list[str], what: str) -> None:
    long = next((p for p in parts if len(p.encode()) > NAME_MAX), None)
    if long is not None:
        raise Invalid(f"{what} {show(v)} has a name of {len(long.encode())} bytes", f"at most {NAME_MAX} per name")


def owned_path(value: Any, what: str = "path") -> str:
    """A file root writes for a setting: below ``KEYSTONE_DIR``, outside ``RESERVED_DIRS``, plain names."""
    v = absolute_path(value, what)
    hint = f"a file below {KEYSTONE_DIR}/, the directory Keystone owns on every host, e.g. {KEYSTONE_DIR}/web-ide.map"
    if not v.startswith(KEYSTONE_DIR + "/"):
        raise Invalid(f"{what} {show(v)} is outside {KEYSTONE_DIR}/", hint)
    for reserved in RESERVED_DIRS:
        if v == reserved or v.startswith(reserved + "/"):
            raise Invalid(f"{what} {show(v)} is in {reserved}/, where Keystone writes files of its own", hint)
    _short_names(v, v.split("/")[1:], what)
    return v


def relative_path(value: Any, what: str = "path", *, inside: str = "the home",
                  example: str = ".config/app/settings.conf") -> str:
    """A path a setting names below a directory (``inside``: a person's home, the project): relative
    and normalised, of plain names (letters, digits and ``. _ -``, at most ``NAME_MAX`` bytes each),
    at most 1024 characters."""
    v = text(value, what)
    hint = f"a path under {inside} such as {example}: letters, digits and . _ - between slashes"
    if not v:
        raise Invalid(f"{what} is empty", hint)
    if v.startswith(("/", "~")):
        raise Invalid(f"{what} {show(v)} is not relative to {inside}", "write it without the leading / or ~/: " + hint)
    parts = v.split("/")
    if ".." in parts:
        raise Invalid(f"{what} {show(v)} contains '..'", f"it must stay inside {inside}: " + hint)
    if "." in parts or "" in parts:
        raise Invalid(f"{what} {show(v)} is not normalised",
                      f"write {posixpath.normpath(v).lstrip('/')!r} (no '.', '//' or trailing '/')")
    for part in parts:
        if not PATH_COMPONENT.fullmatch(part):
            raise Invalid(f"{what} {show(v)} contains {show(bad_character(part, PATH_COMPONENT))}",
                          "no spaces, '~', '$', quotes or characters beyond ASCII: " + hint)
    _short_names(v, parts, what)
    if len(v) > 1024:
        raise Invalid(f"{what} {show(v)} is {len(v)} characters long", "at most 1024")
    return v


def home_file(value: Any, what: str = "path", *, reserved: tuple[str, ...] = ()) -> str:
    """A path a setting names under every person's home (``relative_path``), neither one of
    ``RESERVED_HOME_PATHS`` and ``reserved`` (paths Keystone writes itself) nor a directory holding one."""
    v = relative_path(value, what)
    for taken in (*RESERVED_HOME_PATHS, *reserved):
        if v == taken or taken.startswith(v + "/"):
            owner = "sshd and the keys Keystone writes" if taken in RESERVED_HOME_PATHS else "a file Keystone writes"
            raise Invalid(f"{what} {show(v)} {'is' if v == taken else 'holds'} {taken}, which belongs to {owner}",
                          "seed files elsewhere in the home")
    return v
