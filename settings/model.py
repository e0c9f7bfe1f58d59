"""Typed stack settings (pydantic).  Config keys are camelCase, as Pulumi config usually is.

Every field is checked when the settings load, with the shared domain checks of ``validators``
(POSIX user names, absolute normalised paths, ZFS dataset names, SSH addresses, URLs): a value
the settings accept is one every provider model accepts too, so no provider ever meets it first.
"""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StrictBool, ValidationInfo, field_validator, model_validator

import validators

from .fields import (
    KUBE_CONTEXT,
    OIDC_PREFIX,
    ORGANIZATION,
    STACK_NAME,
    HomeMountpoint,
    HomeParent,
    KeyFile,
    SettingsModel,
    Whole,
    checked,
    fail,
    pattern_check,
    roster_path,
)
from .base import BaseSettings
from .host import HostSettings
from .kubeconfig import PeopleKubeconfigSettings
from .peering import PeeringSettings
from .workstation import WorkstationSettings


class ZfsSettings(SettingsModel):
    home_parent: HomeParent = Field("rpool/crypt/home", description="Homes are <homeParent>/<username>.")
    archive_parent: HomeParent = Field("rpool/crypt/archive", description="Purged homes are renamed under it.")
    home_mountpoint: HomeMountpoint = Field(
        "/home", description="Where homeParent is mounted (a home is <this>/<user>): an absolute path.")

    @model_validator(mode="after")
    def _apart(self) -> ZfsSettings:
        if self.archive_parent == self.home_parent:
            fail("archiveParent must differ from homeParent", "archived homes would look like homes")
        if self.archive_parent.startswith(self.home_parent + "/"):
            fail("archiveParent must not be inside homeParent", "it would look like a home")
        if self.home_parent.startswith(self.archive_parent + "/"):
            fail("homeParent must not be inside archiveParent", "a purge would move homes into the homes' tree")
        return self


class OffboardingSettings(SettingsModel):
    allow_destroy: StrictBool = Field(False, description="A purge may destroy a home instead of archiving it.")
    allow_delete_without_offboarding: StrictBool = Field(
        False, description="Allow a person to vanish from the roster without passing through `offboarded`.")


class AuthentikSettings(SettingsModel):
    enabled: StrictBool = False
    url: Annotated[str | None, checked(validators.http_url, "authentik.url", optional=True)] = None
    gate_group: Annotated[str, checked(validators.authentik_group, "group name")] = Field(
        "keystone", description="The group every active person belongs to (adopted if it exists).")
    insecure: StrictBool = False
    application: Annotated[str | None, checked(validators.application_slug, optional=True)] = Field(
        None, description="The workstation's application (slug): its edge gate passes only the gate group.")
    gate_policy: Annotated[str | None, checked(validators.authentik_group, "policy name", optional=True)] = Field(
        None, description="The edge gate's expression policy name (default keystone-gate-<gateGroup>).")
    exclusive_members: StrictBool = Field(
        False, description="Remove members of the gate group the roster does not name (default: report them).")
    delete_group_on_destroy: StrictBool = Field(
        False, description="`pulumi destroy` deletes the gate group if Keystone created it (default: it stays).")

    @model_validator(mode="after")
    def _url(self) -> AuthentikSettings:
        if self.enabled and not self.url:
            fail("authentik.url is required when authentik is enabled", "url: https://sso.example.org")
        return self


class KubernetesSettings(SettingsModel):
    enabled: StrictBool = False
    kubeconfig: KeyFile = Field(None, description="Path to a kubeconfig (absolute or ~/...); default: the ambient one.")
    context: Annotated[str | None, checked(pattern_check(
        KUBE_CONTEXT, "kubeconfig context", "a context name of your kubeconfig: letters, digits and _ . @ : / + -"),
        optional=True)] = None
    oidc_prefix: Annotated[str, checked(pattern_check(
        OIDC_PREFIX, "OIDC prefix", "the API server's --oidc-username-prefix: letters, digits and _ . @ : + -"))] = Field(
        "oidc:", description="Prefix the API server adds to OIDC user names.")
    provider_version: Annotated[str | None, checked(pattern_check(
        r"\d{1,4}\.\d{1,4}\.\d{1,4}", "plugin version", "X.Y.Z, e.g. 4.25.0"), optional=True)] = Field(
        None, description="Version of the pulumi-kubernetes plugin to run; default: the Python package's.")
    people_kubeconfig: PeopleKubeconfigSettings | None = Field(
        None, description="Each active person's ~/.kube/config on their hosts (settings/kubeconfig.py).")

    @model_validator(mode="after")
    def _prefix(self) -> KubernetesSettings:
        if self.oidc_prefix.lower().startswith("system:"):
            fail("oidcPrefix must not start with 'system:'", "system: user names belong to Kubernetes itself")
        if self.people_kubeconfig is not None and not self.enabled:
            fail("peopleKubeconfig needs enabled: true", "the kubeconfig logs people in to the bindings Keystone makes")
        return self


class PromotionSettings(SettingsModel):
    after: Annotated[str | None, checked(pattern_check(
        STACK_NAME, "stack name", "the previous stack's name, e.g. dev"), optional=True)] = Field(
        None, description="Stack whose deployed roster digest must equal this one's.")
    organization: Annotated[str, checked(pattern_check(
        ORGANIZATION, "organization", "your Pulumi organization (letters, digits, _ . -), or organization"))] = \
        "organization"

    @model_validator(mode="after")
    def _not_itself(self, info: ValidationInfo) -> PromotionSettings:
        stack = (info.context or {}).get("stack")
        if self.after is not None and self.after == stack:
            fail(f"promotion.after names this stack ({stack})", "name the stack promoted from, e.g. dev")
        return self


class StackSettings(SettingsModel):
    """Everything ``Pulumi.<stack>.yaml`` says under ``keystone:`` (secrets excluded)."""

    roster: Annotated[str, checked(roster_path)] = Field(
        "roster/roster.yaml", description="Path of the roster file: relative to the project, or absolute.")
    min_uid: Whole = Field(1000, ge=1000, le=60000)
    hosts: list[HostSettings] = Field(default_factory=list)
    zfs: ZfsSettings = Field(default_factory=ZfsSettings)
    offboarding: OffboardingSettings = Field(default_factory=OffboardingSettings)
    authentik: AuthentikSettings = Field(default_factory=AuthentikSettings)
    kubernetes: KubernetesSettings = Field(default_factory=KubernetesSettings)
    promotion: PromotionSettings = Field(default_factory=PromotionSettings)
    peering: PeeringSettings = Field(default_factory=PeeringSettings,
                                     description="Peering: ZeroTier network, peering LANs, route servers (settings/peering.py).")
    workstation: WorkstationSettings = Field(default_factory=WorkstationSettings,
                                             description="Per-person services, seeded files, workspace, maps "
                                                         "(settings/workstation.py).")
    base: BaseSettings = Field(default_factory=BaseSettings,
                               description="The host base: packages, machine-wide files, budgets, backups "
                                           "(settings/base.py).")

    @field_validator("hosts")
    @classmethod
    def _unique_hosts(cls, hosts: list[HostSettings]) -> list[HostSettings]:
        dup = duplicate_host_names([h.name for h in hosts])
        if dup:
            fail(f"host names must be unique: {', '.join(dup)}", "each host once, under its own name")
        seen: dict[tuple, str] = {}
        for h in hosts:
            where = (h.address, h.port, h.user)
            if h.address != "local" and where in seen:
                fail(f"hosts {seen[where]} and {h.name} are the same SSH target ({h.address})",
                     "one machine is one host: two names would manage the same accounts twice")
            seen.setdefault(where, h.name)
        return hosts


def duplicate_host_names(names: list[Any]) -> list[str]:
    return sorted({str(n) for n in names if names.count(n) > 1})
