"""Peering settings: ``keystone:peering`` in ``Pulumi.<stack>.yaml`` (camelCase keys, like the rest).

Where the roster's peers go: the ZeroTier network they join (ZeroTier Central or a self-hosted
controller), the peering LANs their addresses must lie in, and the BIRD route servers that get one
file per peer ASN.  Secrets are not here: the ZeroTier API token is read by the provider from
``keystone:zerotierToken`` (``pulumi config set --secret keystone:zerotierToken …``).

    keystone:peering:
      lans: [10.99.0.0/24, "fd00:99::/64"]
      allowPrivateAsns: false
      zerotier:
        mode: self_hosted                 # or: central
        url: http://10.0.0.1:9993         # central: https://api.zerotier.com (default)
        networkId: 8056c2e21c000001
      rpki:
        rtr: [{host: rtr1.example.net, port: 3323}]   # labs/tests: staticRoas: [{prefix, maxLength, asn}]
      routeServers:
        - name: rs1
          address: rs1.example.net        # SSH target fields as in keystone:hosts, or "local"
          user: root
          asn: 64511
          routerId: 10.99.0.1

Every field error names ``Pulumi.<stack>.yaml:line:col`` and the field (``settings/loader.py``).
"""
from __future__ import annotations

import ipaddress
from typing import Annotated

import pydantic
from pydantic import ConfigDict, Field, StrictBool, field_validator, model_validator
from pydantic.alias_generators import to_camel

import marked_issues
import validators
from providers.bird import models as bird
from providers.zerotier import model as zt
from validators import peering

from .fields import SETTINGS_CONFIG, ProviderSettings, SettingsModel, check_with, checked
from .host import HostSettings


PeeringLan = Annotated[str, checked(peering.peering_lan)]


def _plain_errors(build):
    """Run ``build()``; a provider-model ValidationError becomes one readable ValueError."""
    try:
        return build()
    except pydantic.ValidationError as e:
        raise ValueError(marked_issues.one_line(e)) from None


def _zerotier_key(name: str) -> str:
    """The settings' key of a ``ZeroTierNetwork`` field: ``mode`` and ``url`` for the API's, camelCase otherwise."""
    return {"api_mode": "mode", "api_url": "url"}.get(name) or to_camel(name)


class ZeroTierSettings(ProviderSettings, zt.ZeroTierNetwork):
    """The ZeroTier network the peers join, and how Keystone reaches its controller: the provider's
    ``ZeroTierNetwork`` (the part of every member's inputs the stack sets) with the keys ``mode``,
    ``url``, ``networkId`` and ``deleteOnRemove``."""

    model_config = ConfigDict(**{**SETTINGS_CONFIG, "alias_generator": _zerotier_key})


class RtrServerSettings(ProviderSettings, bird.RtrServer):
    """An RPKI-to-router cache (RFC 8210): the provider's ``RtrServer``."""

    model_config = SETTINGS_CONFIG


class RoaSettings(ProviderSettings, bird.RoaEntry):
    """One static ROA entry (labs and tests): the provider's ``RoaEntry``."""

    model_config = SETTINGS_CONFIG


class RpkiSettings(SettingsModel):
    """Where the route servers' ROA tables come from: RTR caches (production) or static ROAs (labs)."""

    rtr: list[RtrServerSettings] | None = Field(None, description="RTR caches (production).")
    static_roas: list[RoaSettings] | None = Field(None, description="Static ROA entries (tests and labs).")

    @model_validator(mode="after")
    def _one(self) -> RpkiSettings:
        bird.check_one_rpki_source(self.rtr, self.static_roas, rtr_name="rtr", static_name="staticRoas", entry="cache")
        return self

    def source(self) -> bird.RpkiSource:
        if self.rtr is not None:
            return bird.RpkiSource(rtr=[s.provider(bird.RtrServer) for s in self.rtr])
        return bird.RpkiSource(static_roas=[r.provider(bird.RoaEntry) for r in self.static_roas or []])


class FilterPolicySettings(ProviderSettings, bird.FilterPolicy):
    """Prefix-length bounds of the route servers' shared import filter (defaults: the usual IXP
    choice): the provider's ``FilterPolicy``."""

    model_config = SETTINGS_CONFIG

    def policy(self) -> bird.FilterPolicy:
        return self.provider(bird.FilterPolicy)


class RouteServerSettings(HostSettings, ProviderSettings, bird.BirdDaemon):
    """A BIRD 2 route server: how to reach it (the SSH fields of ``keystone:hosts``, or ``address:
    local``) and how its daemon runs (the provider's ``BirdDaemon``: configDir, peersDir,
    controlSocket, asn, routerId, birdUser, birdGroup, confirmTimeout, limitAction, allowEmptyPeerSet)."""

    model_config = SETTINGS_CONFIG

    take_over_existing: StrictBool = Field(
        False, description="Replace a main config Keystone does not manage (e.g. Debian's default); the original "
        "is kept as bird.conf.keystone-orig.")

    @field_validator("bird_user", mode="before")
    @classmethod
    def _not_root(cls, v: object) -> object:
        # (a daemon running as root is not offered: the provider's `bird_user: None` does not survive
        # the Pulumi wire, which drops nested nulls, and would turn back into the default `bird`)
        return check_with(validators.posix_name, "user name")(v)

    def route_server(self, lans: list[str] | None = None) -> bird.RouteServer:
        """The provider's ``RouteServer`` (neighbors checked against the stack's peering LANs)."""
        nets = [ipaddress.ip_network(n) for n in lans or []]
        v4 = [n for n in nets if n.version == 4]
        v6 = [n for n in nets if n.version == 6]
        return bird.RouteServer(
            name=self.name, target=self.target(), **{k: getattr(self, k) for k in bird.BirdDaemon.model_fields},
            peering_lan_v4=v4[0] if len(v4) == 1 else None, peering_lan_v6=v6[0] if len(v6) == 1 else None,
        )


class PeeringSettings(SettingsModel):
    """``keystone:peering``: the ZeroTier network, the peering LANs and the route servers."""

    zerotier: ZeroTierSettings | None = Field(None, description="The ZeroTier network peers join (required with peers).")
    lans: list[PeeringLan] | None = Field(
        None, description="Peering LANs (CIDR), at most one IPv4 and one IPv6: every peer address must lie in one. "
        "null: not checked.")
    allow_private_asns: StrictBool = Field(False, description="Accept private and documentation ASNs (lab stacks).")
    rpki: RpkiSettings | None = Field(None, description="ROA source of every route server (required with route servers).")
    filter_policy: FilterPolicySettings = Field(default_factory=FilterPolicySettings)
    route_servers: list[RouteServerSettings] = Field(default_factory=list, description="The BIRD route servers.")

    @field_validator("lans")
    @classmethod
    def _one_per_version(cls, v: list[str] | None) -> list[str] | None:
        for version in (4, 6):
            if len([n for n in v or [] if ipaddress.ip_network(n).version == version]) > 1:
                raise ValueError(f"at most one IPv{version} peering LAN (the ZeroTier network's range)")
        return v

    @model_validator(mode="after")
    def _servers(self) -> PeeringSettings:
        names = [rs.name for rs in self.route_servers]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"route server names must be unique: {', '.join(dup)}")
        if self.route_servers and self.rpki is None:
            raise ValueError("rpki is required with route servers (rtr caches, or staticRoas in a lab): the import "
                             "filters reject RPKI-invalid routes")
        for rs in self.route_servers:
            _plain_errors(lambda rs=rs: rs.route_server(self.lans))
        return self

    @property
    def enabled(self) -> bool:
        return self.zerotier is not None or bool(self.route_servers)

    def bird_route_servers(self) -> list[bird.RouteServer]:
        return [rs.route_server(self.lans) for rs in self.route_servers]
