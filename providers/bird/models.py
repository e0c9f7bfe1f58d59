"""Typed inputs of the BIRD providers: a route server, a peer, an RPKI source.

Every string that ends up in a BIRD file is checked here against a strict pattern (and checked
again, and quoted, by the renderer: see ``render.py``).  The models are independent of the roster:
the ``PeerAsn`` component converts a roster ``Peer`` into a ``PeerSpec``.
"""
from __future__ import annotations

import ipaddress
import posixpath
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from providers.host import HostTarget
import validators
from validators import peering

# --- strict patterns (shared with render.py, which re-checks every value it prints) ------------
#: Route server names: a stack host's name (``validators.host_name``, one DNS label); they start
#: resource ids (``<route-server>/<asn>``).
ROUTE_SERVER_NAME = validators.HOST_NAME
#: Peer names as the roster spells them (used in comments and descriptions, never as symbols).
PEER_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,62})")
#: Free-text descriptions: no quotes, backslashes, braces, semicolons, hashes or control characters.
DESCRIPTION = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 _.,:()/@&+'-]{0,78}[A-Za-z0-9_.)'-])?")
#: AS-SETs follow the roster's rule, ``validators.peering.as_set`` (upper case: letters, digits,
#: ``:_-`` only, so they are safe in a comment); see ``check_as_set``.

#: ASNs BIRD must never see as a peer: 0 (RFC 7607), AS_TRANS (RFC 6793), last 16/32-bit (RFC 7300).
RESERVED_ASNS = frozenset(peering.ASN_NEVER)
#: receive limit (every route received, filtered or not) = this factor × import limit, unless given.
RECEIVE_LIMIT_FACTOR = 2

LimitAction = Literal["restart", "disable", "block", "warn"]


def _match(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not pattern.fullmatch(value):
        raise ValueError(f"{what} {value!r} does not match the pattern {pattern.pattern}")
    return value


def check_path(value: str, what: str = "path") -> str:
    """An absolute path in a BIRD file: ``validators.absolute_path`` (plain names, no quoting hazards)."""
    return validators.absolute_path(value, what)


def check_as_set(value: str, what: str = "as_set") -> str:
    """An AS-SET by the roster's rule (``validators.peering.as_set``), in its upper-case form."""
    try:
        return peering.as_set(value)
    except validators.Invalid as e:
        raise ValueError(f"{what}: {e}") from None


def check_asn(value: int, what: str = "ASN") -> int:
    if not peering.is_session_asn(value):
        raise ValueError(f"{what} {value} is reserved or out of range (1..4294967294, not 23456/65535)")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BirdDaemon(_Strict):
    """How a route server's BIRD runs: where its files live, its own ASN and router id, who reads
    its files, how an apply is confirmed.  ``RouteServer`` adds its name, where its commands run and
    the peering LANs; the stack settings' ``routeServers`` entry is this model read with camelCase
    keys beside the host target (``settings/peering.py``)."""

    config_dir: str = Field(default="/etc/bird", description="Directory of the main config `bird.conf`.")
    peers_dir: str = Field(default="/etc/bird/peers.d", description="Directory of the per-peer files, included as `*.conf`.")
    control_socket: str = Field(default="/run/bird/bird.ctl", description="BIRD control socket (`birdc -s`).")
    asn: int = Field(description="The route server's own ASN (`local as`).")
    router_id: ipaddress.IPv4Address = Field(description="BGP router id (an IPv4 address).")
    bird_user: str | None = Field(
        default="bird", description="User the daemon runs as (Debian: `bird`); files are checked readable by it. None: root."
    )
    bird_group: str | None = Field(default=None, description="Group owning the files (default: same as bird_user).")
    confirm_timeout: int = Field(
        default=30, ge=2, le=600,
        description="Seconds of `configure timeout N`: BIRD undoes an apply by itself if it is not confirmed in time.",
    )
    limit_action: LimitAction = Field(
        default="restart", description="What BIRD does when a peer exceeds its import/receive limit."
    )
    allow_empty_peer_set: StrictBool = Field(
        default=False, description="Allow removing the last peer file (a config with zero peers drops every session)."
    )

    @field_validator("config_dir", "peers_dir", "control_socket", mode="before")
    @classmethod
    def _paths(cls, v: object) -> str:
        if isinstance(v, str) and len(v) > 1:
            v = v.rstrip("/")  # a directory may be written with its trailing slash
        return check_path(v, "path")

    @field_validator("asn")
    @classmethod
    def _asn(cls, v: int) -> int:
        return check_asn(v, "the route server's ASN")

    @field_validator("router_id", mode="before")
    @classmethod
    def _router_id(cls, v: object) -> object:
        if isinstance(v, ipaddress.IPv4Address):
            return v
        if not isinstance(v, str):  # ipaddress would read 5 as 0.0.0.5
            raise validators.Invalid(f"a router id is an IPv4 address written as a string, got {validators.show(v)}",
                                     "e.g. 10.99.0.1")
        try:
            return ipaddress.IPv4Address(v)
        except ValueError:
            raise validators.Invalid(f"a router id is an IPv4 address, got {validators.show(v)}", "e.g. 10.99.0.1") from None

    @field_validator("bird_user", "bird_group")
    @classmethod
    def _unix(cls, v: str | None, info) -> str | None:
        return None if v is None else validators.posix_name(v, "user name" if info.field_name == "bird_user" else "group name")

    @model_validator(mode="after")
    def _dirs(self) -> BirdDaemon:
        if self.peers_dir == self.config_dir:
            raise ValueError("peersDir must differ from configDir (the main config would match *.conf)")
        return self


class RouteServer(BirdDaemon):
    """One BIRD route server: where its files live and how to reach its daemon."""

    name: str = Field(description="Route server name; the first part of every resource id (`<name>/<asn>`).")
    target: HostTarget = Field(description='Where its commands run (`address: "local"` for this machine).')
    peering_lan_v4: ipaddress.IPv4Network | None = Field(default=None, description="If set, IPv4 neighbors must be in it.")
    peering_lan_v6: ipaddress.IPv6Network | None = Field(default=None, description="If set, IPv6 neighbors must be in it.")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return validators.host_name(v, "route server name")

    # --- derived paths -------------------------------------------------------------------------
    @property
    def config_file(self) -> str:
        return posixpath.join(self.config_dir, "bird.conf")

    @property
    def peers_glob(self) -> str:
        return posixpath.join(self.peers_dir, "*.conf")

    @property
    def file_group(self) -> str | None:
        return self.bird_group or self.bird_user

    def peer_file(self, asn: int) -> str:
        return posixpath.join(self.peers_dir, f"as{asn}.conf")


class MaxPrefixes(_Strict):
    ipv4: int = Field(default=0, ge=0, le=peering.MAX_PREFIXES[4], description="Most IPv4 routes accepted (import limit).")
    ipv6: int = Field(default=0, ge=0, le=peering.MAX_PREFIXES[6], description="Most IPv6 routes accepted (import limit).")


class PeerAddresses(_Strict):
    ipv4: list[ipaddress.IPv4Address] = Field(default_factory=list, description="The peer's IPv4 addresses on the LAN.")
    ipv6: list[ipaddress.IPv6Address] = Field(default_factory=list, description="The peer's IPv6 addresses on the LAN.")

    @field_validator("ipv4", "ipv6")
    @classmethod
    def _unicast(cls, v: list, info) -> list:
        for a in v:
            if a.is_unspecified or a.is_loopback or a.is_multicast or a.is_link_local:
                raise ValueError(f"{a} is not a usable unicast neighbor address")
        if len(set(v)) != len(v):
            raise ValueError(f"duplicate addresses in {info.field_name}: {sorted(map(str, v))}")
        return sorted(v)


class PeerSpec(_Strict):
    """One peer (one ASN) as the route server sees it."""

    asn: int = Field(description="The peer's ASN (`neighbor ... as ASN`; also the required first AS of every path).")
    name: str = Field(description="Short name (letters, digits, `_.-`).")
    addresses: PeerAddresses = Field(description="Neighbor addresses; one BGP session per address.")
    max_prefixes: MaxPrefixes = Field(default_factory=MaxPrefixes, description="Import limits per family.")
    as_set: str | None = Field(default=None, description="RPSL AS-SET (recorded in the file header only).")
    prefixes: list[ipaddress.IPv4Network | ipaddress.IPv6Network] | None = Field(
        default=None,
        description="If set, only these prefixes (and their more-specifics) are accepted; None: no prefix list.",
    )
    description: str | None = Field(default=None, description="Free text for `description`; default: the name.")

    @field_validator("asn")
    @classmethod
    def _asn(cls, v: int) -> int:
        return check_asn(v, "peer ASN")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _match(PEER_NAME, v, "peer name")

    @field_validator("as_set")
    @classmethod
    def _as_set(cls, v: str | None) -> str | None:
        return None if v is None else check_as_set(v)

    @field_validator("description")
    @classmethod
    def _description(cls, v: str | None) -> str | None:
        return None if v is None else _match(DESCRIPTION, v, "description")

    @field_validator("prefixes")
    @classmethod
    def _prefixes(cls, v: list | None) -> list | None:
        if v is None:
            return None
        return sorted(set(v), key=lambda n: (n.version, n.network_address, n.prefixlen))

    @model_validator(mode="after")
    def _sessions(self) -> PeerSpec:
        if not self.addresses.ipv4 and not self.addresses.ipv6:
            raise ValueError(f"peer AS{self.asn} has no neighbor address")
        return self

    @property
    def text(self) -> str:
        return self.description or self.name


class RoaEntry(_Strict):
    """One static ROA (labs and tests); the stack settings' ``staticRoas`` entry, camelCase keys."""

    prefix: ipaddress.IPv4Network | ipaddress.IPv6Network = Field(description="Prefix in CIDR form.")
    max_length: int = Field(ge=0, le=128, description="Longest prefix length the ROA covers.")
    asn: int = Field(ge=0, le=4294967295, description="Authorized origin AS (0: an AS0 ROA, always invalid).")

    @field_validator("prefix", mode="before")
    @classmethod
    def _prefix(cls, v: object) -> object:
        if isinstance(v, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
            return v
        return peering.network(v, "ROA prefix")

    @model_validator(mode="after")
    def _len(self) -> RoaEntry:
        if not self.prefix.prefixlen <= self.max_length <= self.prefix.max_prefixlen:
            raise ValueError(f"maxLength {self.max_length} must be within {self.prefix.prefixlen}..{self.prefix.max_prefixlen}")
        return self


class RtrServer(_Strict):
    """An RPKI-to-router cache (RFC 8210); the stack settings' ``rtr`` entry."""

    host: str = Field(description="Host name or IP address of the RTR cache.")
    port: int = Field(default=323, ge=1, le=65535, description="Its RTR port.")

    @field_validator("host")
    @classmethod
    def _host(cls, v: str) -> str:
        v = validators.network_host(v, "RTR host")
        try:
            return str(ipaddress.ip_address(v))  # an address in its canonical form
        except ValueError:
            return v


def check_one_rpki_source(rtr: list | None, static_roas: list | None, *, rtr_name: str = "`rtr`",
                          static_name: str = "`static_roas`", entry: str = "server") -> None:
    """The ROA tables come from exactly one place: RTR caches (at least one) or a static ROA list
    (``RpkiSource``, and the stack settings' ``rpki`` in their own names)."""
    if (rtr is None) == (static_roas is None):
        raise ValueError(f"set exactly one of {rtr_name} (RTR caches) or {static_name} (a static ROA list)")
    if rtr is not None and not rtr:
        raise ValueError(f"{rtr_name} needs at least one {entry}")


class RpkiSource(_Strict):
    """Where the ROA tables come from: RTR caches (production) or a static list (tests, labs)."""

    rtr: list[RtrServer] | None = Field(default=None, description="RTR caches (one `protocol rpki` each).")
    static_roas: list[RoaEntry] | None = Field(default=None, description="Static ROA entries.")

    @model_validator(mode="after")
    def _one(self) -> RpkiSource:
        check_one_rpki_source(self.rtr, self.static_roas)
        return self


class FilterPolicy(_Strict):
    """Prefix-length bounds of the shared import filter (defaults: the usual IXP choice)."""

    max_length_v4: int = Field(default=24, ge=8, le=32, description="Longer IPv4 prefixes are too specific.")
    min_length_v4: int = Field(default=8, ge=0, le=32, description="Shorter IPv4 prefixes are rejected.")
    max_length_v6: int = Field(default=48, ge=16, le=128, description="Longer IPv6 prefixes are too specific.")
    min_length_v6: int = Field(default=16, ge=0, le=128, description="Shorter IPv6 prefixes are rejected.")
    max_path_length: int = Field(default=64, ge=1, le=255, description="Longer AS paths are rejected.")

    @model_validator(mode="after")
    def _order(self) -> FilterPolicy:
        if self.min_length_v4 > self.max_length_v4 or self.min_length_v6 > self.max_length_v6:
            raise ValueError("min_length must not exceed max_length")
        return self
