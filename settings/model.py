"""Typed stack settings (pydantic).  Config keys are camelCase, as Pulumi config usually is.

Every field is checked when the settings load, with the shared domain checks of ``validators``
(POSIX user names, absolute normalised paths, ZFS dataset names, SSH addresses, URLs): a value
the settings accept is one every provider model accepts too, so no provider ever meets it first.
"""
from __future__ import annotations

import re
from typing import Annotated, Any, Callable, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, ValidationInfo, field_validator, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

import validators
from providers.transport import HostTarget

ERROR_TYPE = "setting"
"""pydantic error type of a failed domain check; its ``ctx`` may carry a ``hint``."""


def fail(message: str, hint: str | None = None):
    """Raise a settings error (message and hint, reported at the value's line)."""
    raise PydanticCustomError(ERROR_TYPE, message, {"hint": hint} if hint else None)


def checked(check: Callable[..., Any], *args: Any, optional: bool = False, **kw: Any) -> BeforeValidator:
    """A pydantic validator running ``check(value, *args, **kw)``; ``validators.Invalid`` becomes a
    settings error.  ``optional``: ``None`` passes unchecked."""
    def run(value: Any) -> Any:
        if optional and value is None:
            return None
        try:
            return check(value, *args, **kw)
        except validators.Invalid as e:
            fail(e.message, e.hint)
    return BeforeValidator(run)


def _whole(value: Any) -> Any:
    if isinstance(value, bool):
        fail(f"expected a whole number, got {value!r}", "YAML reads yes/no/on/off/true/false as booleans")
    return value


Whole = Annotated[int, BeforeValidator(_whole)]
"""An integer (``true`` is not 1 here)."""
UserName = Annotated[str | None, checked(validators.posix_name, "user name", optional=True)]
HostName = Annotated[str, checked(validators.host_name)]
SshAddress = Annotated[str, checked(validators.ssh_address)]
KeyFile = Annotated[str | None, checked(validators.absolute_path, "file", home_relative=True, optional=True)]
HomeMountpoint = Annotated[str, checked(validators.directory_for_homes)]
HOME_ROOM = 33
"""Characters kept free after the home parent's name: ``/`` and a user name of up to 32."""
HomeParent = Annotated[str, checked(validators.dataset_name, "dataset", room=HOME_ROOM)]
_HOST_KEY_ALIAS = r"[A-Za-z0-9_](?:[A-Za-z0-9_.:-]{0,252})"
_NAME_TEXT = r"[A-Za-z0-9_](?:[A-Za-z0-9 _.@+-]{0,148}[A-Za-z0-9_.@+-])?"
_KUBE_CONTEXT = r"[A-Za-z0-9_](?:[A-Za-z0-9_.@:/+-]{0,252})"
_OIDC_PREFIX = r"[A-Za-z0-9_.@:+-]{0,63}"
_STACK_NAME = r"[A-Za-z0-9_.-]{1,100}"
_ORGANIZATION = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}"
_ROSTER_FILE = r"(?:[A-Za-z0-9_+-][A-Za-z0-9._+-]*/)*[A-Za-z0-9_+-][A-Za-z0-9._+-]*\.ya?ml"


def _pattern(pattern: str, what: str, hint: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        v = validators.text(value, what)
        if not re.fullmatch(pattern, v):
            raise validators.Invalid(f"invalid {what} {validators.show(v)}", hint)
        return v
    return check


def _roster_path(value: Any) -> str:
    """A ``.yaml`` file: relative to the project (no ``..``), or an absolute normalised path."""
    v = validators.text(value, "roster path")
    hint = "a .yaml file relative to the project, without '..', e.g. roster/roster.yaml (or an absolute path)"
    if v.startswith("/"):
        validators.absolute_path(v, "roster path")
        if not re.fullmatch(r".*\.ya?ml", v):
            raise validators.Invalid(f"roster path {validators.show(v)} is not a .yaml file", hint)
    elif not re.fullmatch(_ROSTER_FILE, v):
        raise validators.Invalid(f"invalid roster path {validators.show(v)}", hint)
    return v


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True)


class HostSettings(_Model):
    """One workstation/server whose accounts and home datasets Keystone manages."""

    name: HostName = Field(description="Keystone's name for the host (resource ids start with it).")
    address: SshAddress = Field(description='SSH address or ~/.ssh/config alias, or "local".')
    port: Whole | None = Field(None, ge=1, le=65535)
    user: UserName = Field(None, description="SSH user (root, or a user with `sudo: true`): a POSIX user name.")
    identity_file: KeyFile = Field(None, description="Private key file: an absolute path or ~/...")
    known_hosts_file: KeyFile = Field(None, description="known_hosts file to trust: an absolute path or ~/...")
    host_key_alias: Annotated[str | None, checked(_pattern(
        _HOST_KEY_ALIAS, "host key alias", "letters, digits and _ . : -, as the host is listed in known_hosts"),
        optional=True)] = None
    sudo: StrictBool = False
    connect_timeout: Whole = Field(10, ge=1, le=120)

    def target(self) -> HostTarget:
        return HostTarget(**self.model_dump(by_alias=False))


class ZfsSettings(_Model):
    home_parent: HomeParent = Field("rpool/crypt/home", description="Homes are <homeParent>/<username>.")
    archive_parent: HomeParent = Field("rpool/crypt/archive", description="Purged homes are renamed under it.")
    home_mountpoint: HomeMountpoint = Field(
        "/home", description="Where homeParent is mounted (a home is <this>/<user>): an absolute path.")

    @model_validator(mode="after")
    def _apart(self) -> "ZfsSettings":
        if self.archive_parent == self.home_parent:
            fail("archiveParent must differ from homeParent", "archived homes would look like homes")
        if self.archive_parent.startswith(self.home_parent + "/"):
            fail("archiveParent must not be inside homeParent", "it would look like a home")
        if self.home_parent.startswith(self.archive_parent + "/"):
            fail("homeParent must not be inside archiveParent", "a purge would move homes into the homes' tree")
        return self


class OffboardingSettings(_Model):
    allow_destroy: StrictBool = Field(False, description="A purge may destroy a home instead of archiving it.")
    allow_delete_without_offboarding: StrictBool = Field(
        False, description="Allow a person to vanish from the roster without passing through `offboarded`.")


class AuthentikSettings(_Model):
    enabled: StrictBool = False
    url: Annotated[str | None, checked(validators.http_url, "authentik.url", optional=True)] = None
    gate_group: Annotated[str, checked(_pattern(
        _NAME_TEXT, "group name", "letters, digits, spaces and _ . @ + -, at most 150 characters"))] = Field(
        "keystone", description="The group every active person belongs to.")
    insecure: StrictBool = False

    @model_validator(mode="after")
    def _url(self) -> "AuthentikSettings":
        if self.enabled and not self.url:
            fail("authentik.url is required when authentik is enabled", "url: https://sso.example.org")
        return self


class KubernetesSettings(_Model):
    enabled: StrictBool = False
    kubeconfig: KeyFile = Field(None, description="Path to a kubeconfig (absolute or ~/...); default: the ambient one.")
    context: Annotated[str | None, checked(_pattern(
        _KUBE_CONTEXT, "kubeconfig context", "a context name of your kubeconfig: letters, digits and _ . @ : / + -"),
        optional=True)] = None
    oidc_prefix: Annotated[str, checked(_pattern(
        _OIDC_PREFIX, "OIDC prefix", "the API server's --oidc-username-prefix: letters, digits and _ . @ : + -"))] = Field(
        "oidc:", description="Prefix the API server adds to OIDC user names.")
    provider_version: Annotated[str | None, checked(_pattern(
        r"\d{1,4}\.\d{1,4}\.\d{1,4}", "plugin version", "X.Y.Z, e.g. 4.25.0"), optional=True)] = Field(
        None, description="Version of the pulumi-kubernetes plugin to run; default: the Python package's.")
    people_kubeconfig: "PeopleKubeconfigSettings | None" = Field(
        None, description="Each active person's ~/.kube/config on their hosts (settings/kubeconfig.py).")

    @model_validator(mode="after")
    def _prefix(self) -> "KubernetesSettings":
        if self.oidc_prefix.lower().startswith("system:"):
            fail("oidcPrefix must not start with 'system:'", "system: user names belong to Kubernetes itself")
        if self.people_kubeconfig is not None and not self.enabled:
            fail("peopleKubeconfig needs enabled: true", "the kubeconfig logs people in to the bindings Keystone makes")
        return self


class PromotionSettings(_Model):
    after: Annotated[str | None, checked(_pattern(
        _STACK_NAME, "stack name", "the previous stack's name, e.g. dev"), optional=True)] = Field(
        None, description="Stack whose deployed roster digest must equal this one's.")
    organization: Annotated[str, checked(_pattern(
        _ORGANIZATION, "organization", "your Pulumi organization (letters, digits, _ . -), or organization"))] = \
        "organization"

    @model_validator(mode="after")
    def _not_itself(self, info: ValidationInfo) -> "PromotionSettings":
        stack = (info.context or {}).get("stack")
        if self.after is not None and self.after == stack:
            fail(f"promotion.after names this stack ({stack})", "name the stack promoted from, e.g. dev")
        return self


class StackSettings(_Model):
    """Everything ``Pulumi.<stack>.yaml`` says under ``keystone:`` (secrets excluded)."""

    roster: Annotated[str, checked(_roster_path)] = Field(
        "roster/roster.yaml", description="Path of the roster file: relative to the project, or absolute.")
    min_uid: Whole = Field(1000, ge=1000, le=60000)
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


# Peering settings live in their own module, which builds on HostSettings above: import it last.
from .peering import PeeringSettings  # noqa: E402
from .workstation import WorkstationSettings  # noqa: E402
from .kubeconfig import PeopleKubeconfigSettings  # noqa: E402

KubernetesSettings.model_rebuild()
StackSettings.model_rebuild()
