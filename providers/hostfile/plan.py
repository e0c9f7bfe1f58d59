"""Managed host files: desired file + what is at its path in, commands out (pure).

* a plain managed file (a map, a template unit) is authoritative: written whenever its content,
  mode or owner differ, atomically (temporary file + rename, so a reader never sees half of it);
* a **seeded** file (``seed: true``, files in a person's home) is written only if nothing is at its
  path; a file that differs — the person changed it — is left untouched, and one copy of the seed is
  kept beside it (``<path>.keystone-seed``, replaced in place: never more than one) and reported;
* a file with ``as_owner`` (everything in a home) is read and written **as its owner** (``setpriv``),
  so a symlink or directory planted in the home cannot redirect a root write or read.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from providers.fields import HostPath, rule
from providers.host import Command, HostTarget
from providers.output import quote
from providers.scripts import script
from validators import files

WRITE = script(__file__, "write.sh")
READ = script(__file__, "read.sh")
SEED_SUFFIX = ".keystone-seed"
EXISTS = 17  # write.sh "new": something is at the path already


class FileConflict(RuntimeError):
    """Something that is not a file is where a managed file goes."""


class FileInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: HostTarget
    path: HostPath = Field(description="Absolute path (identity).")
    content: str = Field(description="The file's content.")
    mode: Annotated[str, rule(files.file_mode)] = Field("0644", description="Octal mode.")
    owner: int = Field(0, ge=0, description="Owner uid.")
    group: int = Field(0, ge=0, description="Group gid.")
    as_owner: bool = Field(False, description="Read and write as the owner (files in a home).")
    seed: bool = Field(False, description="Only if absent: never overwrite a file that is there.")
    reload: Literal["none", "systemd"] = Field("none", description="systemd: daemon-reload after a change.")
    private: bool = Field(False, description="The file must never be readable by others (for policy).")

    @property
    def digest(self) -> str:
        return sha256(self.content)

    @property
    def backup(self) -> str:
        return self.path + SEED_SUFFIX


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class PathState:
    """What is at a path: ``kind`` absent | link | other | file; for a file its digest ("-" when
    unreadable), mode and owner.  The mode is held in its one spelling, ``validators.files.four_digits``
    (``stat`` prints "644", the inputs hold "0644"), so it compares as it is."""

    kind: str
    digest: str = ""
    mode: str = ""
    uid: int = -1
    gid: int = -1

    def __post_init__(self) -> None:
        if self.mode:
            object.__setattr__(self, "mode", files.four_digits(self.mode))

    @property
    def present(self) -> bool:
        return self.kind != "absent"


class ReadError(RuntimeError):
    """The host's answer to a file read is not what ``read.sh`` prints (never taken as "no file")."""

    def __init__(self, message: str, host: str | None = None):
        super().__init__(f"host {host}: file read: {message}" if host else f"file read: {message}")


_OWNER = re.compile(r"[0-9]{1,10}:[0-9]{1,10}")
_DIGEST = re.compile(r"[0-9a-f]{64}")


def parse_read(text: str, paths: Iterable[str] = (), host: str | None = None) -> dict[str, PathState]:
    """``read.sh``'s lines, each path's state; ``ReadError`` naming ``host`` on a line it does not
    print or when one of ``paths`` (those asked) has no line."""
    out: dict[str, PathState] = {}
    lines = text.split("\n")  # not splitlines(): a path may hold \x1c, \x85 or U+2028
    if lines[-1] == "":
        lines.pop()
    for line in lines:
        kind, _, rest = line.partition(" ")
        if kind in ("absent", "link", "other") and rest.startswith("/"):
            out[rest] = PathState(kind)
            continue
        parts = rest.split(" ", 3)
        if kind != "file" or len(parts) != 4 or not parts[3].startswith("/"):
            raise ReadError(f"unexpected line {quote(line)}", host)
        digest, mode, owner, path = parts
        if not (digest == "-" or _DIGEST.fullmatch(digest)) or not (mode == "-" or re.fullmatch(r"[0-7]{1,4}", mode)) \
                or not (owner == "-" or _OWNER.fullmatch(owner)):
            raise ReadError(f"unexpected line {quote(line)}", host)
        uid, _, gid = owner.partition(":")
        out[path] = PathState("file", digest, "" if mode == "-" else mode, int(uid) if uid.isdigit() else -1,
                              int(gid) if gid.isdigit() else -1)
    missing = [p for p in paths if p not in out]
    if missing:
        raise ReadError(f"no answer for {', '.join(missing)} in {quote(text)}", host)
    return out


def read_paths(desired: FileInputs) -> list[str]:
    """The paths a file's read asks about: its own, and a seeded file's copy."""
    return [desired.path] + ([desired.backup] if desired.seed else [])


def _as(desired: FileInputs, *argv: str, stdin: str | None = None, check: bool = True) -> Command:
    if desired.as_owner:
        argv = ("setpriv", f"--reuid={desired.owner}", f"--regid={desired.group}", "--clear-groups", "--", *argv)
    return Command.of(*argv, stdin=stdin, check=check)


def read_command(desired: FileInputs) -> Command:
    return _as(desired, "sh", "-c", READ, "keystone-read", *read_paths(desired), check=False)


def write_command(desired: FileInputs, path: str, content: str, new_only: bool = False) -> Command:
    owner = "" if desired.as_owner else f"{desired.owner}:{desired.group}"
    return _as(desired, "sh", "-c", WRITE, "keystone-write", path, desired.mode, "new" if new_only else "replace",
               owner, stdin=content)


def _same(desired: FileInputs, st: PathState) -> bool:
    return (st.kind == "file" and st.digest == desired.digest and st.mode == desired.mode
            and (desired.as_owner or (st.uid, st.gid) == (desired.owner, desired.group)))


def observed(desired: FileInputs, state: dict[str, PathState]) -> dict:
    """Outputs: the digest found, whether a seeded file diverged, and its seed copy."""
    st = state.get(desired.path, PathState("absent"))
    diverged = desired.seed and st.present and st.digest != desired.digest
    return {"digest": st.digest or None, "kind": st.kind, "diverged": diverged,
            "backup": desired.backup if diverged and _same_seed_copy(desired, state) else None}


def _same_seed_copy(desired: FileInputs, state: dict[str, PathState]) -> bool:
    st = state.get(desired.backup, PathState("absent"))
    return st.kind == "file" and st.digest == desired.digest


def plan_file(desired: FileInputs, state: dict[str, PathState], ensure: str = "present") -> list[Command]:
    """Commands that bring the path to ``desired`` (empty when nothing is to do)."""
    st = state.get(desired.path, PathState("absent"))
    if ensure == "absent":
        if desired.seed or not st.present:
            return []  # a seeded file belongs to the person once written: never removed
        return [_as(desired, "rm", "-f", "--", desired.path)] + _reload(desired)
    if desired.seed:
        if not st.present:
            return [write_command(desired, desired.path, desired.content, new_only=True)]
        if st.digest == desired.digest or _same_seed_copy(desired, state):
            return []
        return [write_command(desired, desired.backup, desired.content)]
    if st.kind == "other":
        raise FileConflict(f"host {desired.host.name}: {desired.path} is not a regular file (a directory?): "
                           f"move it away; Keystone does not replace it")
    if _same(desired, st):
        return []
    return [write_command(desired, desired.path, desired.content)] + _reload(desired)


def _reload(desired: FileInputs) -> list[Command]:
    return [Command.of("systemctl", "daemon-reload")] if desired.reload == "systemd" else []
