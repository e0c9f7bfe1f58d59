"""ZFS home datasets and delegations: desired state + observed host state in, commands out (pure)."""
from __future__ import annotations

import posixpath
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from providers.fields import Dataset, Mode, given, rule
from providers.scripts import script
from providers.host import Command, HostTarget
from providers.zfs.facet import ZfsState
from providers.zfs.facts import MANAGED_PROPERTIES, Grants, normalize, size_bytes
import validators
from validators import zfs as zfs_values
from validators.zfs import format_size

# docs/design.md ("ZFS homes"): what a person may do on their own home; `destroy` only on what they create below it.
DEFAULT_PERMISSIONS = ("create", "snapshot", "rollback", "diff", "send", "receive", "hold", "release", "bookmark",
                       "mount", "compression", "quota", "refquota", "recordsize", "atime", "readonly", "userprop")
DEFAULT_DESCENDENT_PERMISSIONS = ("destroy",)
FORBIDDEN_PERMISSIONS = frozenset({"allow", "unallow"})
KNOWN_PERMISSIONS = frozenset(DEFAULT_PERMISSIONS) | {
    "destroy", "rename", "clone", "promote", "share", "sharenfs", "sharesmb", "mountpoint", "canmount",
    "checksum", "copies", "dedup", "exec", "setuid", "devices", "xattr", "acltype", "refreservation",
    "reservation", "snapdir", "sync", "logbias", "primarycache", "secondarycache", "volsize", "userquota",
    "groupquota", "userused", "groupused", "load-key", "change-key", "encryption", "keyformat", "keylocation"}

CHOWN_MOUNTPOINT = script(__file__, "chown-mountpoint.sh")  # DATASET UID:GID MODE
CHOWN_NEW = script(__file__, "chown-new.sh")  # DATASET UID GID MODE, for a dataset just created


class ConflictError(RuntimeError):
    """An existing object is not the one the roster describes; Keystone will not take it over."""


class DatasetProperties(BaseModel):
    """The ZFS properties the ``zfs:Dataset`` resource sets, as given (``1024M`` stays ``1024M``; sizes
    compare as bytes).  Checked by ``validators.zfs``, the rules the roster's ``ZfsProperties`` (a
    person's entry, with its defaults) uses too."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    quota: str = Field(default="none", description="e.g. 50G, or none")
    compression: str = Field(default="lz4")
    recordsize: str = Field(default="128K")
    atime: str = Field(default="off")

    @field_validator("*")
    @classmethod
    def _checked(cls, v: str, info: ValidationInfo) -> str:
        return given(_PROPERTY_CHECKS[info.field_name or ""], v)


_PROPERTY_CHECKS = {"quota": zfs_values.quota, "recordsize": zfs_values.recordsize,
                    "compression": zfs_values.compression, "atime": zfs_values.atime}
"""The rule of each property (the keys are ``DatasetProperties``'s fields: a test keeps them equal)."""


class DatasetInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: HostTarget
    dataset: Dataset = Field(description="Full dataset name, e.g. rpool/crypt/home/alice (identity).")
    owner: Annotated[str, rule(validators.person_name, "owner")] = Field(description="User who owns the mountpoint.")
    owner_uid: int = Field(ge=0)
    owner_gid: int = Field(ge=0)
    mode: Mode = Field(default="0700", description="Octal mode of the mountpoint (as given).")
    properties: DatasetProperties = Field(default_factory=DatasetProperties)
    ensure: Literal["present", "archived", "destroyed"] = "present"
    archive_parent: Dataset | None = Field(default=None, description="Where a purge moves the dataset.")
    allow_destroy: bool = Field(default=False, description="The stack allows ensure=destroyed.")
    person_state: str = "active"
    tier: str = ""

    @model_validator(mode="after")
    def _ensure(self) -> DatasetInputs:
        if self.ensure == "destroyed" and not self.allow_destroy:
            raise ValueError("ensure=destroyed needs the stack to allow destroy (purge.allow_destroy); "
                             "use ensure=archived")
        if self.ensure == "archived" and not self.archive_parent:
            raise ValueError("ensure=archived needs archive_parent")
        return self

    @property
    def parent(self) -> str:
        return posixpath.dirname(self.dataset)

    @property
    def pool(self) -> str:
        return self.dataset.split("/")[0]


def property_changes(desired: DatasetProperties, host: ZfsState, dataset: str) -> dict[str, str]:
    """Properties whose effective value differs.  A value that already holds (inherited or default)
    is left alone: Keystone never turns an inherited value into a local one."""
    current = host.datasets.get(dataset)
    changes = {}
    for prop in MANAGED_PROPERTIES:
        want = getattr(desired, prop)
        have = current.value(prop) if current else None
        if have is None or normalize(prop, have) != normalize(prop, want):
            changes[prop] = want
    return changes


def observed_properties(host: ZfsState, dataset: str) -> dict[str, str] | None:
    current = host.datasets.get(dataset)
    if current is None:
        return None
    out = {}
    for prop in MANAGED_PROPERTIES:
        v = current.value(prop) or ""
        if prop in ("quota", "recordsize"):
            b = size_bytes(v) if v else None
            out[prop] = format_size(b)
        else:
            out[prop] = v
    return out


def plan_dataset(d: DatasetInputs, host: ZfsState, host_name: str, stamp: str) -> list[Command]:
    exists = d.dataset in host.existing
    if d.ensure == "destroyed":
        return [Command.of("zfs", "destroy", "-r", d.dataset)] if exists else []
    if d.ensure == "archived":
        if not exists:
            return []
        leaf = posixpath.basename(d.dataset)
        assert d.archive_parent is not None  # the model requires it for ensure=archived
        target = f"{d.archive_parent}/{leaf}-{stamp}"
        return [
            Command.of("zfs", "snapshot", f"{d.dataset}@keystone-archive-{stamp}"),
            Command.of("zfs", "create", "-p", "-o", "mountpoint=none", d.archive_parent),
            Command.of("zfs", "rename", d.dataset, target),
            Command.of("zfs", "set", "readonly=on", target),
        ]
    if not exists:
        if d.pool not in host.existing:
            raise ConflictError(f"host {host_name}: pool {d.pool!r} does not exist (needed for {d.dataset})")
        if d.parent not in host.existing:
            raise ConflictError(f"host {host_name}: parent dataset {d.parent!r} does not exist: create it once "
                                f"(see README, host preparation) before adding homes under it")
        return [create_command(d), chown_mountpoint(d)]
    state = host.datasets.get(d.dataset)
    if state is None or state.value("type") != "filesystem":
        raise ConflictError(f"host {host_name}: {d.dataset} exists but is not a filesystem "
                            f"(type {state.value('type') if state else 'unknown'}): refusing to adopt it")
    cmds = []
    owner = host.owners.get(d.dataset)
    if owner is not None and owner[0] not in (0, d.owner_uid):
        raise ConflictError(
            f"host {host_name}: {d.dataset} exists and its mountpoint belongs to uid {owner[0]}, not "
            f"{d.owner} ({d.owner_uid}): refusing to take over someone else's data; chown it or use another name")
    changes = property_changes(d.properties, host, d.dataset)
    if changes:
        cmds.append(Command.of("zfs", "set", *[f"{p}={v}" for p, v in sorted(changes.items())], d.dataset))
    if owner is None or owner[:2] != (d.owner_uid, d.owner_gid) or owner[2] != d.mode.lstrip("0"):
        cmds.append(chown_mountpoint(d))
    if state.value("readonly") == "on":
        cmds.append(Command.of("zfs", "inherit", "readonly", d.dataset))
    return cmds


def create_command(d: DatasetInputs) -> Command:
    """``zfs create`` of the home with the roster's properties (it writes nothing when the dataset
    exists or its parent is missing)."""
    return Command.of("zfs", "create", *[x for p, v in d.properties.model_dump().items() for x in ("-o", f"{p}={v}")],
                      d.dataset)


def chown_new_mountpoint(d: DatasetInputs) -> Command:
    """Owner and mode of the mount point of a dataset just created (``chown-new.sh``: one process)."""
    return Command.of("sh", "-c", CHOWN_NEW, "keystone-chown", d.dataset, str(d.owner_uid), str(d.owner_gid), d.mode)


def chown_mountpoint(d: DatasetInputs) -> Command:
    return Command.of("sh", "-c", CHOWN_MOUNTPOINT, "keystone-chown", d.dataset, f"{d.owner_uid}:{d.owner_gid}", d.mode)


# --- delegations ------------------------------------------------------------------------------

class DelegationInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: HostTarget
    dataset: Dataset = Field(description="The person's own home dataset (identity).")
    user: str = Field(description="The person (identity); never 'everyone'.")
    permissions: list[str] = Field(default_factory=lambda: list(DEFAULT_PERMISSIONS),
                                   description="Granted on the dataset and its descendants.")
    descendent_permissions: list[str] = Field(default_factory=lambda: list(DEFAULT_DESCENDENT_PERMISSIONS),
                                              description="Granted on descendants only (destroy).")

    @field_validator("user")
    @classmethod
    def _user(cls, v: str) -> str:
        if v == "everyone":
            raise ValueError("delegating to everyone is not allowed")
        return validators.person_name(v, "user")

    @field_validator("permissions", "descendent_permissions")
    @classmethod
    def _perms(cls, v: list[str]) -> list[str]:
        for p in v:
            if p in FORBIDDEN_PERMISSIONS:
                raise ValueError(f"permission {p!r} would let the user re-delegate: not allowed")
            if p not in KNOWN_PERMISSIONS:
                raise ValueError(f"unknown zfs permission {p!r}")
        return sorted(set(v))

    @model_validator(mode="after")
    def _destroy(self) -> DelegationInputs:
        if "destroy" in self.permissions:
            raise ValueError("destroy may only be delegated on descendants (descendent_permissions), "
                             "never on the home dataset itself")
        return self


def plan_delegation(d: DelegationInputs, current: Grants) -> list[Command]:
    """Make the user's entry on the dataset exactly: local = permissions, descendent = permissions +
    descendent_permissions.  Only what differs is allowed/unallowed."""
    want_local = set(d.permissions)
    want_desc = set(d.permissions) | set(d.descendent_permissions)
    cmds = []
    drop_local = current.local - want_local
    drop_desc = current.descendent - want_desc
    if drop_local:
        cmds.append(Command.of("zfs", "unallow", "-l", "-u", d.user, ",".join(sorted(drop_local)), d.dataset))
    if drop_desc:
        cmds.append(Command.of("zfs", "unallow", "-d", "-u", d.user, ",".join(sorted(drop_desc)), d.dataset))
    add_both = sorted((want_local - current.local) & (want_desc - current.descendent))
    add_local = sorted((want_local - current.local) - set(add_both))
    add_desc = sorted((want_desc - current.descendent) - set(add_both))
    if add_both:
        cmds.append(Command.of("zfs", "allow", "-u", d.user, ",".join(add_both), d.dataset))
    if add_local:
        cmds.append(Command.of("zfs", "allow", "-l", "-u", d.user, ",".join(add_local), d.dataset))
    if add_desc:
        cmds.append(Command.of("zfs", "allow", "-d", "-u", d.user, ",".join(add_desc), d.dataset))
    return cmds
