"""Typed stack settings (pydantic).  Config keys are camelCase, as Pulumi config usually is."""
from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from providers.transport import HostTarget

_DATASET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*(/[A-Za-z0-9][A-Za-z0-9_.:-]*)*$")
_HOSTNAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True)


class HostSettings(_Model):
    """One workstation/server whose accounts and home datasets Keystone manages."""

    name: str = Field(description="Keystone's name for the host (resource ids start with it).")
    address: str = Field(description='SSH address or ~/.ssh/config alias, or "local".')
    port: int | None = Field(None, ge=1, le=65535)
    user: str | None = Field(None, description="SSH user (root, or a user with `sudo: true`).")
    identity_file: str | None = None
    known_hosts_file: str | None = None
    host_key_alias: str | None = None
    sudo: bool = False
    connect_timeout: int = Field(10, ge=1, le=120)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _HOSTNAME.fullmatch(v):
            raise ValueError("host names are lower-case letters, digits and '-' (≤ 63)")
        return v

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        if v != "local" and (not re.fullmatch(r"[A-Za-z0-9_.:\[\]-]{1,253}", v) or v.startswith("-")):
            raise ValueError("an SSH address is a host name, IP address or ssh_config alias")
        return v

    def target(self) -> HostTarget:
        return HostTarget(**self.model_dump(by_alias=False))


class ZfsSettings(_Model):
    home_parent: str = Field("rpool/crypt/home", description="Homes are <homeParent>/<username>.")
    archive_parent: str = Field("rpool/crypt/archive", description="Purged homes are renamed under it.")
    home_mountpoint: str = Field("/home", description="Where homeParent is mounted (a home is <this>/<user>).")

    @field_validator("home_parent", "archive_parent")
    @classmethod
    def _ds(cls, v: str) -> str:
        if not _DATASET.fullmatch(v) or ".." in v.split("/") or "/" not in v:
            raise ValueError("a dataset name like pool/path (no '..')")
        return v

    @model_validator(mode="after")
    def _apart(self) -> "ZfsSettings":
        if self.archive_parent.startswith(self.home_parent + "/"):
            raise ValueError("archiveParent must not be inside homeParent (it would look like a home)")
        return self


class OffboardingSettings(_Model):
    allow_destroy: bool = Field(False, description="A purge may destroy a home instead of archiving it.")
    allow_delete_without_offboarding: bool = Field(
        False, description="Allow a person to vanish from the roster without passing through `offboarded`.")


class AuthentikSettings(_Model):
    enabled: bool = False
    url: str | None = None
    gate_group: str = Field("keystone", description="The group every active person belongs to.")
    insecure: bool = False

    @model_validator(mode="after")
    def _url(self) -> "AuthentikSettings":
        if self.enabled and not (self.url or "").startswith(("https://", "http://")):
            raise ValueError("authentik.url (http(s)://...) is required when authentik is enabled")
        return self


class KubernetesSettings(_Model):
    enabled: bool = False
    kubeconfig: str | None = Field(None, description="Path to a kubeconfig; default: the ambient one.")
    context: str | None = None
    oidc_prefix: str = Field("oidc:", description="Prefix the API server adds to OIDC user names.")


class PromotionSettings(_Model):
    after: str | None = Field(None, description="Stack whose deployed roster digest must equal this one's.")
    organization: str = "organization"


class StackSettings(_Model):
    """Everything ``Pulumi.<stack>.yaml`` says under ``keystone:`` (secrets excluded)."""

    roster: str = Field("roster/roster.yaml", description="Path of the roster file.")
    min_uid: int = Field(1000, ge=1000, le=60000)
    hosts: list[HostSettings] = Field(default_factory=list)
    zfs: ZfsSettings = Field(default_factory=ZfsSettings)
    offboarding: OffboardingSettings = Field(default_factory=OffboardingSettings)
    authentik: AuthentikSettings = Field(default_factory=AuthentikSettings)
    kubernetes: KubernetesSettings = Field(default_factory=KubernetesSettings)
    promotion: PromotionSettings = Field(default_factory=PromotionSettings)
    peering: PeeringSettings = Field(default_factory=lambda: PeeringSettings(),
                                     description="Peering: ZeroTier network, peering LANs, route servers (settings/peering.py).")
    workstation: WorkstationSettings = Field(default_factory=lambda: WorkstationSettings(),
                                             description="Per-person services, seeded files, workspace, maps (settings/workstation.py).")

    @model_validator(mode="after")
    def _unique_hosts(self) -> "StackSettings":
        dup = duplicate_host_names([h.name for h in self.hosts])
        if dup:
            raise ValueError(f"host names must be unique: {', '.join(dup)}")
        return self


def duplicate_host_names(names: list[Any]) -> list[str]:
    return sorted({str(n) for n in names if names.count(n) > 1})


# Peering settings live in their own module, which builds on HostSettings above: import it last.
from .peering import PeeringSettings  # noqa: E402
from .workstation import WorkstationSettings  # noqa: E402

StackSettings.model_rebuild()
