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
from typing import Literal

import pydantic
from pydantic import Field, StrictBool, field_validator, model_validator

import marked_issues
import validators
from providers.bird import models as bird
from providers.zerotier import model as zt

from .fields import SETTINGS_CONFIG, SettingsModel, Whole, fail, whole
from .host import HostSettings


def _plain_errors(build):
    """Run ``build()``; a provider-model ValidationError becomes one readable ValueError."""
    try:
        return build()
    except pydantic.ValidationError as e:
        raise ValueError(marked_issues.one_line(e)) from None


class ZeroTierSettings(SettingsModel):
    """The ZeroTier network the peers join, and how Keystone reaches its controller."""

    mode: Literal["central", "self_hosted"] = Field(
        description='"central" (ZeroTier Central API v1) or "self_hosted" (a ZeroTierOne controller\'s /controller API).')
    url: str | None = Field(
        None, description="central: the API URL (default https://api.zerotier.com); self_hosted: the controller URL "
        "(default http://127.0.0.1:9993).  No credentials: the token is keystone:zerotierToken.")
    network_id: str = Field(description="The peering network's id, 16 hex digits.")
    delete_on_remove: StrictBool = Field(
        False, description="When a peer's member resource is deleted, DELETE the member record after deauthorizing it.")

    @field_validator("network_id")
    @classmethod
    def _network(cls, v: str) -> str:
        return zt.normalize_network_id(v)

    @model_validator(mode="after")
    def _url(self) -> ZeroTierSettings:
        zt.normalize_api_url(self.mode, self.url)  # raises with a clear message
        return self

    @property
    def api_url(self) -> str:
        return zt.normalize_api_url(self.mode, self.url)


class RtrServerSettings(SettingsModel):
    """An RPKI-to-router cache (RFC 8210)."""

    host: str = Field(description="Host name or IP address of the RTR cache.")
    port: Whole = Field(323, ge=1, le=65535)

    @model_validator(mode="after")
    def _check(self) -> RtrServerSettings:
        _plain_errors(lambda: bird.RtrServer(host=self.host, port=self.port))
        return self


class RoaSettings(SettingsModel):
    """One static ROA entry (labs and tests)."""

    prefix: str = Field(description="Prefix in CIDR form.")
    max_length: Whole = Field(description="Longest prefix length the ROA covers.")
    asn: Whole = Field(ge=0, le=4294967295, description="Authorized origin AS (0: an AS0 ROA, always invalid).")

    @model_validator(mode="after")
    def _check(self) -> RoaSettings:
        _plain_errors(lambda: bird.RoaEntry(prefix=self.prefix, max_length=self.max_length, asn=self.asn))
        return self


class RpkiSettings(SettingsModel):
    """Where the route servers' ROA tables come from: RTR caches (production) or static ROAs (labs)."""

    rtr: list[RtrServerSettings] | None = Field(None, description="RTR caches (production).")
    static_roas: list[RoaSettings] | None = Field(None, description="Static ROA entries (tests and labs).")

    @model_validator(mode="after")
    def _one(self) -> RpkiSettings:
        if (self.rtr is None) == (self.static_roas is None):
            raise ValueError("set exactly one of rtr (RTR caches) or staticRoas (a static ROA list)")
        if self.rtr is not None and not self.rtr:
            raise ValueError("rtr needs at least one cache")
        return self

    def source(self) -> bird.RpkiSource:
        if self.rtr is not None:
            return bird.RpkiSource(rtr=[bird.RtrServer(host=s.host, port=s.port) for s in self.rtr])
        return bird.RpkiSource(static_roas=[bird.RoaEntry(prefix=r.prefix, max_length=r.max_length, asn=r.asn)
                                            for r in self.static_roas or []])


class FilterPolicySettings(bird.FilterPolicy):
    """Prefix-length bounds of the route servers' shared import filter (defaults: the usual IXP
    choice): the provider's ``FilterPolicy`` — its fields, defaults, ranges, descriptions and checks —
    read with camelCase keys, whole numbers only."""

    model_config = SETTINGS_CONFIG

    @field_validator("*", mode="before")
    @classmethod
    def _whole(cls, value: object) -> object:
        return whole(value)

    def policy(self) -> bird.FilterPolicy:
        """The provider's own ``FilterPolicy`` (no settings class in provider inputs)."""
        return bird.FilterPolicy(**self.model_dump(by_alias=False))


class RouteServerSettings(HostSettings):
    """A BIRD 2 route server: how to reach it (the SSH fields of ``keystone:hosts``, or ``address: local``)
    and where its daemon keeps its files."""

    config_dir: str = Field("/etc/bird", description="Directory of the main config bird.conf.")
    peers_dir: str = Field("/etc/bird/peers.d", description="Directory of the per-peer files (included as *.conf).")
    control_socket: str = Field("/run/bird/bird.ctl", description="BIRD control socket (birdc -s).")
    asn: Whole = Field(description="The route server's own ASN.")
    router_id: str = Field(description="BGP router id (an IPv4 address).")
    bird_user: str = Field("bird", description="User the daemon runs as (Debian: bird); files are checked readable by it.")
    bird_group: str | None = Field(None, description="Group owning the files (default: birdUser).")
    confirm_timeout: Whole = Field(30, ge=2, le=600, description="Seconds BIRD waits for the confirmation before it "
                                 "undoes an apply by itself (configure timeout N).")
    limit_action: bird.LimitAction = Field("restart", description="What BIRD does when a peer exceeds a limit.")
    allow_empty_peer_set: StrictBool = Field(False, description="Allow removing the last peer file (every session drops).")
    take_over_existing: StrictBool = Field(
        False, description="Replace a main config Keystone does not manage (e.g. Debian's default); the original "
        "is kept as bird.conf.keystone-orig.")

    @field_validator("config_dir", "peers_dir", "control_socket", mode="before")
    @classmethod
    def _path(cls, v: object, info) -> str:
        if isinstance(v, str) and len(v) > 1:
            v = v.rstrip("/")  # a directory may be written with its trailing slash
        try:
            return bird.check_path(validators.absolute_path(v, "path"), "an absolute path")
        except validators.Invalid as e:
            fail(e.message, e.hint)

    @field_validator("asn")
    @classmethod
    def _asn(cls, v: int) -> int:
        return bird.check_asn(v, "the route server's ASN")

    @field_validator("router_id", mode="before")
    @classmethod
    def _router_id(cls, v: object) -> str:
        if not isinstance(v, str):
            fail(f"a router id is an IPv4 address written as a string, got {validators.show(v)}", "e.g. 10.99.0.1")
        try:
            return str(ipaddress.IPv4Address(v))
        except ValueError:
            fail(f"a router id is an IPv4 address, got {validators.show(v)}", "e.g. 10.99.0.1")

    @field_validator("bird_user", "bird_group", mode="before")
    @classmethod
    def _unix(cls, v: object, info) -> str | None:
        # (a daemon running as root is not offered: the provider's `bird_user: None` does not survive
        # the Pulumi wire, which drops nested nulls, and would turn back into the default `bird`)
        if v is None and info.field_name == "bird_group":
            return None
        try:
            return validators.posix_name(v, "user name" if info.field_name == "bird_user" else "group name")
        except validators.Invalid as e:
            fail(e.message, e.hint)

    @model_validator(mode="after")
    def _route_server(self) -> RouteServerSettings:
        if self.peers_dir == self.config_dir:
            raise ValueError("peersDir must differ from configDir (the main config would match *.conf)")
        _plain_errors(self.route_server)  # anything else the provider's own model refuses
        return self

    def route_server(self, lans: list[str] | None = None) -> bird.RouteServer:
        """The provider's ``RouteServer`` (neighbors checked against the stack's peering LANs)."""
        nets = [ipaddress.ip_network(n) for n in lans or []]
        v4 = [n for n in nets if n.version == 4]
        v6 = [n for n in nets if n.version == 6]
        return bird.RouteServer(
            name=self.name, target=self.target(), config_dir=self.config_dir, peers_dir=self.peers_dir,
            control_socket=self.control_socket, asn=self.asn, router_id=self.router_id, bird_user=self.bird_user,
            bird_group=self.bird_group, confirm_timeout=self.confirm_timeout, limit_action=self.limit_action,
            allow_empty_peer_set=self.allow_empty_peer_set,
            peering_lan_v4=v4[0] if len(v4) == 1 else None, peering_lan_v6=v6[0] if len(v6) == 1 else None,
        )


class PeeringSettings(SettingsModel):
    """``keystone:peering``: the ZeroTier network, the peering LANs and the route servers."""

    zerotier: ZeroTierSettings | None = Field(None, description="The ZeroTier network peers join (required with peers).")
    lans: list[str] | None = Field(
        None, description="Peering LANs (CIDR), at most one IPv4 and one IPv6: every peer address must lie in one. "
        "null: not checked.")
    allow_private_asns: StrictBool = Field(False, description="Accept private and documentation ASNs (lab stacks).")
    rpki: RpkiSettings | None = Field(None, description="ROA source of every route server (required with route servers).")
    filter_policy: FilterPolicySettings = Field(default_factory=FilterPolicySettings)
    route_servers: list[RouteServerSettings] = Field(default_factory=list, description="The BIRD route servers.")

    @field_validator("lans", mode="before")
    @classmethod
    def _lans(cls, v: object) -> list[str] | None:
        if v is None:
            return None
        if not isinstance(v, list):
            fail(f"expected a list of networks, got {validators.show(v)}", 'e.g. [10.99.0.0/16, "fd00:99::/64"]')
        nets = []
        for text in v:
            if not isinstance(text, str):  # ipaddress would read 10 as 0.0.0.10/32
                fail(f"a peering LAN is a network written as a string, got {validators.show(text)}",
                     "CIDR form, e.g. 10.99.0.0/16")
            try:
                net = ipaddress.ip_network(text, strict=True)
            except ValueError as e:
                fail(f"{validators.show(text)} is not a network in CIDR form without host bits ({e})",
                     "e.g. 10.99.0.0/16 or fd00:99::/64")
            if net.prefixlen < (8 if net.version == 4 else 16):
                fail(f"peering LAN {net} is too large", "a peering LAN is the ZeroTier network's range, e.g. a /16")
            nets.append(net)
        for version in (4, 6):
            if len([n for n in nets if n.version == version]) > 1:
                raise ValueError(f"at most one IPv{version} peering LAN (the ZeroTier network's range)")
        return [str(n) for n in nets]

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
