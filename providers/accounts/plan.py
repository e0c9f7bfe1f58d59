"""Accounts: desired state + observed host state in, commands out (pure)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from providers.accounts.facet import AccountsState
from providers.fields import AbsolutePath, rule
from providers.scripts import script
from providers.host import Command, HostTarget
import validators
from validators import Invalid, password, ssh_key

KEYS_WRITER = script(__file__, "write-keys.sh")  # HOME; the keys on stdin


class AccountConflict(RuntimeError):
    """The host has an object that is not the one the roster describes; never taken over silently."""


class AccountInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: HostTarget = Field(description="Where the account lives.")
    username: Annotated[str, rule(validators.person_name, "username")] = Field(description="OS user name (identity).")
    uid: int = Field(ge=1000, le=2**31 - 2, description="Explicit uid; its user-private group has gid = uid.")
    groups: list[str] = Field(default_factory=list, description="Supplementary groups (must exist on the host).")
    exclusive_groups: bool = Field(default=False, description="True: remove groups that are not listed.")
    shell: AbsolutePath = Field(default="/bin/bash")
    home: AbsolutePath = Field(description="Home directory (the home dataset's mountpoint).")
    comment: Annotated[str, rule(validators.gecos, "comment")] = Field(default="", description="GECOS full name.")
    ssh_keys: list[str] = Field(default_factory=list, description="authorized_keys lines (authoritative).")
    password_hash: str | None = Field(default=None, description="crypt hash ($6$/$y$); None: no password (SSO).")
    locked: bool = Field(default=False, description="Password locked (usermod -L).")
    expired: bool = Field(default=False, description="Account expired: no login at all (offboarded).")
    ensure: Literal["present", "absent"] = Field(default="present", description="absent: userdel (purge only).")
    person_state: str = Field(default="active", description="Roster lifecycle state (for policies).")
    tier: str = Field(default="", description="Roster tier (for policies).")

    @field_validator("groups")
    @classmethod
    def _groups(cls, v: list[str]) -> list[str]:
        for g in v:
            validators.posix_name(g, "group")
        return sorted(set(v))

    @field_validator("password_hash")
    @classmethod
    def _hash(cls, v: str | None) -> str | None:
        if v is not None and not password.is_hash(v):
            raise ValueError("password_hash must be a $6$ or $y$ crypt hash (plaintext is never accepted)")
        return v

    @field_validator("ssh_keys")
    @classmethod
    def _keys(cls, v: list[str]) -> list[str]:
        for k in v:  # the roster's rule (validators.ssh_key); the line is written as given
            try:
                ssh_key.public_key(k)
            except Invalid as e:
                raise ValueError(f"each ssh key must be one OpenSSH public key line without options: {e}") from None
        return v

    @property
    def gid(self) -> int:
        return self.uid

    def secrets(self) -> tuple[str, ...]:
        return (self.password_hash,) if self.password_hash else ()


def observed(desired: AccountInputs, host: AccountsState) -> dict | None:
    """The account as it is on the host, in the shape of the inputs (for refresh and drift)."""
    pw = host.passwd.get(desired.username)
    if pw is None:
        return None
    sh = host.shadow.get(desired.username)
    actual_groups = host.groups_of(desired.username)
    groups = sorted(actual_groups if desired.exclusive_groups else actual_groups & set(desired.groups))
    actual_hash = sh.hash if sh else None
    return {
        **desired.model_dump(mode="json"),
        "uid": pw.uid,
        "groups": groups,
        "shell": pw.shell,
        "home": pw.home,
        "comment": pw.gecos,
        "ssh_keys": host.keys.get(desired.username, []),
        "password_hash": actual_hash,
        "locked": bool(sh and actual_hash and sh.password.startswith("!")) if desired.password_hash else desired.locked,
        "expired": bool(sh and sh.expired),
        "ensure": "present",
    }


def _password_ok(desired: AccountInputs, field: str) -> bool:
    if desired.password_hash is None:
        return field.startswith("!") or field in ("*", "")
    want = ("!" if desired.locked else "") + desired.password_hash
    return field == want


def plan(desired: AccountInputs, host: AccountsState, host_name: str) -> list[Command]:
    """Commands that take the host from ``host`` to ``desired`` (empty when nothing differs)."""
    u = desired.username
    pw = host.passwd.get(u)
    if desired.ensure == "absent":
        return [Command.of("userdel", "--", u)] if pw else []

    cmds: list[Command] = []
    missing = [g for g in desired.groups if g not in host.groups]
    if missing:
        raise AccountConflict(
            f"host {host_name}: group(s) {', '.join(missing)} for user {u} do not exist: "
            f"create them on the host or remove them from the roster")
    holder = next((p for p in host.passwd.values() if p.uid == desired.uid and p.name != u), None)
    if holder:
        raise AccountConflict(
            f"host {host_name}: uid {desired.uid} for user {u} already belongs to {holder.name!r}: "
            f"give {u} another uid in the roster")
    if pw is None:
        grp = host.groups.get(u)
        if grp is None:
            gid_holder = next((g for g in host.groups.values() if g.gid == desired.gid), None)
            if gid_holder:
                raise AccountConflict(
                    f"host {host_name}: gid {desired.gid} (user-private group of {u}) already belongs to "
                    f"group {gid_holder.name!r}")
            cmds.append(Command.of("groupadd", "-g", str(desired.gid), "--", u))
        elif grp.gid != desired.gid:
            raise AccountConflict(
                f"host {host_name}: group {u!r} exists with gid {grp.gid}, not {desired.gid}: "
                f"align it by hand (groupmod -g) or change the roster uid")
        argv = ["useradd", "-u", str(desired.uid), "-g", u, "-M", "-d", desired.home, "-s", desired.shell,
                "-c", desired.comment]
        if desired.groups:
            argv += ["-G", ",".join(desired.groups)]
        cmds.append(Command.of(*argv, "--", u))
        current_field, current_expired, current_keys, current_groups = "!", False, [], set()
    else:
        if pw.uid != desired.uid:
            raise AccountConflict(
                f"host {host_name}: user {u} exists with uid {pw.uid}, but the roster says {desired.uid}: "
                f"Keystone will not renumber an account (its files keep the old uid); fix the roster uid "
                f"or renumber it by hand (usermod -u, then chown its files)")
        mod: list[str] = []
        if pw.shell != desired.shell:
            mod += ["-s", desired.shell]
        if pw.home != desired.home:
            mod += ["-d", desired.home]
        if pw.gecos != desired.comment:
            mod += ["-c", desired.comment]
        if mod:
            cmds.append(Command.of("usermod", *mod, "--", u))
        sh = host.shadow.get(u)
        current_field = sh.password if sh else "!"
        current_expired = bool(sh and sh.expired)
        current_keys = host.keys.get(u, [])
        current_groups = host.groups_of(u)
        want = set(desired.groups)
        if desired.exclusive_groups and current_groups != want:
            cmds.append(Command.of("usermod", "-G", ",".join(sorted(want)), "--", u))
        elif not desired.exclusive_groups and not want <= current_groups:
            cmds.append(Command.of("usermod", "-a", "-G", ",".join(sorted(want - current_groups)), "--", u))

    if not _password_ok(desired, current_field):
        cmds += _password_commands(desired, current_field)
    if desired.expired and not current_expired:
        cmds.append(Command.of("usermod", "-e", "1", "--", u))
    elif not desired.expired and current_expired:
        cmds.append(Command.of("usermod", "-e", "", "--", u))
    if list(desired.ssh_keys) != list(current_keys) and (desired.ssh_keys or current_keys):
        cmds += write_keys(desired)
    return cmds


def _password_commands(desired: AccountInputs, current_field: str) -> list[Command]:
    u = desired.username
    if desired.password_hash is None:
        return [Command.of("usermod", "-L", "--", u)]
    if current_field.lstrip("!") == desired.password_hash:  # right hash, only the lock differs
        return [Command.of("usermod", "-L" if desired.locked else "-U", "--", u)]
    cmds = [Command.of("chpasswd", "-e", stdin=f"{u}:{desired.password_hash}", secrets=desired.secrets())]
    if desired.locked:
        cmds.append(Command.of("usermod", "-L", "--", u))
    return cmds


def write_keys(desired: AccountInputs) -> list[Command]:
    """Write authorized_keys as the user (setpriv), so a symlink in their home cannot redirect root."""
    content = "".join(k + "\n" for k in desired.ssh_keys)
    return [
        Command.of("install", "-d", "-m", "0700", "-o", str(desired.uid), "-g", str(desired.gid), desired.home),
        Command.of("setpriv", f"--reuid={desired.uid}", f"--regid={desired.gid}", "--clear-groups", "--",
                   "sh", "-c", KEYS_WRITER, "keystone-keys", desired.home, stdin=content or "\n"),
    ]


def retire(username: str) -> list[Command]:
    """What deleting the resource does (the account left the program without a purge): lock it,
    expire it, keep it and its files.  Only ``ensure: absent`` (a roster purge) runs userdel."""
    return [Command.of("usermod", "-L", "-e", "1", "--", username)]
