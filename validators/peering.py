"""Values of a peering: AS numbers and their ranges, AS-SETs, prefixes, peering addresses, ZeroTier
ids, and the lifecycle of a peer.  The roster, the stack settings, the BIRD and ZeroTier providers
and the policy pack read these from here.  Standard library only.
"""
from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Any
from collections.abc import Iterable, Sequence

from .core import Invalid, show, text

# --- AS numbers (RFC 6996 private, RFC 5398 documentation, RFC 7300 / RFC 6793 / RFC 7607 reserved)
ASN_MAX = 4294967295
ASN_NEVER = {0: "AS0 is reserved (RFC 7607)", 23456: "AS23456 is AS_TRANS (RFC 6793)",
             65535: "AS65535 is reserved (RFC 7300)", 4294967295: "AS4294967295 is reserved (RFC 7300)"}
"""ASNs no session may use, with the reason."""
ASN_RESERVED = ((65552, 131071),)
ASN_DOCUMENTATION = ((64496, 64511), (65536, 65551))
ASN_PRIVATE = ((64512, 65534), (4200000000, 4294967294))

# --- AS-SETs (RPSL names, optionally with an IRR source prefix such as RIPE::) -------------------
_AS_COMPONENT = r"(AS[0-9]+|AS-[A-Z0-9][A-Z0-9_-]*)"
AS_SET_PATTERN = rf"^([A-Z0-9][A-Z0-9-]*::)?{_AS_COMPONENT}(:{_AS_COMPONENT})*$"
MAX_AS_SET = 128

# --- prefixes a peer may announce -----------------------------------------------------------------
LONGEST_PREFIX = {4: 24, 6: 48}
"""More-specifics than these are rejected by route servers."""
MAX_PREFIXES = {4: 2_000_000, 6: 500_000}
"""The largest import limit (max-prefix) a route server takes from one peer, per family (the full
IPv6 table is ~220k routes).  The roster's ``max_prefixes`` and the BIRD peer's limits are capped here."""

# --- ZeroTier ids ---------------------------------------------------------------------------------
ZEROTIER_MEMBER_PATTERN = r"^[0-9a-fA-F]{10}$"
ZEROTIER_NETWORK_PATTERN = r"^[0-9a-fA-F]{16}$"


class PeerState(StrEnum):
    """Lifecycle of a peer: active, suspended (sessions down, entry kept), removed (torn down)."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    REMOVED = "removed"


def _in_ranges(value: int, ranges: Iterable[tuple[int, int]]) -> bool:
    return any(lo <= value <= hi for lo, hi in ranges)


def asn(value: Any, *, allow_private: bool = False) -> int:
    """A peer's AS number (a number, or its decimal text): never reserved; private and documentation
    ASNs only when ``allow_private`` (lab stacks)."""
    if isinstance(value, str) and value.isdecimal() and value.isascii():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        hint = "write the number without 'AS'" if isinstance(value, str) and value.upper().startswith("AS") else None
        raise Invalid(f"an ASN must be a number, got {show(value)}", hint)
    if value in ASN_NEVER:
        raise Invalid(ASN_NEVER[value], "use the peer's real, public ASN")
    if not 1 <= value <= ASN_MAX:
        raise Invalid(f"ASN {value} is out of range", "1 to 4294967294")
    if _in_ranges(value, ASN_RESERVED):
        raise Invalid(f"AS{value} is reserved by IANA", "use the peer's real, public ASN")
    if not allow_private:
        if _in_ranges(value, ASN_PRIVATE):
            raise Invalid(f"AS{value} is a private ASN", "this stack does not allow private ASNs: see allow_private_asns")
        if _in_ranges(value, ASN_DOCUMENTATION):
            raise Invalid(f"AS{value} is a documentation ASN", "this stack does not allow them: see allow_private_asns")
    return value


def is_session_asn(value: int) -> bool:
    """True for an ASN a BGP session may use at all (1..4294967294, none of ``ASN_NEVER``)."""
    return 1 <= value < ASN_MAX and value not in ASN_NEVER


def as_set(value: Any) -> str:
    """An IRR AS-SET or aut-num (``AS-EXAMPLE``, ``AS64500:AS-CUSTOMERS``, ``RIPE::AS-EXAMPLE``), upper case."""
    v = text(value, "the AS-SET")
    upper = v.upper()
    valid = re.fullmatch(AS_SET_PATTERN[1:-1], upper) is not None
    if len(upper) > MAX_AS_SET or not valid or ("AS-" not in upper and not re.fullmatch(r"AS[0-9]+", upper)):
        raise Invalid(f"invalid AS-SET {show(v)}", "e.g. AS-EXAMPLE, AS64500:AS-CUSTOMERS or RIPE::AS-EXAMPLE")
    return upper


def network(value: Any, what: str = "prefix") -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A network written as a string in CIDR form (``/`` and its length), without host bits: never a
    bare number (``ipaddress`` reads ``5`` as 0.0.0.5/32) nor an address."""
    v = text(value, what)
    try:
        if "/" not in v:
            raise ValueError
        net = ipaddress.ip_network(v, strict=False)
    except ValueError:
        raise Invalid(f"invalid {what} {show(v)}", "CIDR notation, e.g. 203.0.113.0/24") from None
    if net.network_address != ipaddress.ip_interface(v).ip:
        raise Invalid(f"{what} {v!r} has host bits set", f"did you mean {net}?")
    return net


def peering_lan(value: Any, what: str = "peering LAN") -> str:
    """A peering LAN (the ZeroTier network's range, where peer addresses lie): a ``network`` of at
    least /8 (IPv4) or /16 (IPv6), in its canonical form."""
    net = network(value, what)
    if net.prefixlen < (8 if net.version == 4 else 16):
        raise Invalid(f"{what} {net} is too large", "a peering LAN is the ZeroTier network's range, e.g. a /16")
    return str(net)


def prefix(value: Any) -> str:
    """A prefix a peer may announce: a ``network`` other than the default route, at most /24 (IPv4)
    or /48 (IPv6)."""
    net = network(text(value, "a prefix"))
    if net.prefixlen == 0:
        raise Invalid("a default route is not a prefix a peer may announce", "list the peer's own prefixes")
    longest = LONGEST_PREFIX[net.version]
    if net.prefixlen > longest:
        raise Invalid(f"prefix {net} is longer than /{longest}", "route servers reject more-specifics")
    return str(net)


def prefix_sort_key(value: str) -> tuple[int, int, int]:
    net = ipaddress.ip_network(value)
    return net.version, int(net.network_address), net.prefixlen


def peering_address(value: Any, lans: Sequence[str] | None = None) -> str:
    """A peer router's address on the peering LAN, in compressed form: a plain unicast address,
    inside one of ``lans`` (CIDR; ``None``: not checked) and not its network or broadcast address."""
    v = text(value, "a peering address")
    try:
        if "%" in v or "/" in v:
            raise ValueError
        ip = ipaddress.ip_address(v)
    except ValueError:
        raise Invalid(f"invalid IP address {show(v)}", "a plain IPv4 or IPv6 address without prefix length") from None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        raise Invalid(f"{v} is an IPv4-mapped IPv6 address", f"write the IPv4 address {ip.ipv4_mapped}")
    if ip.is_unspecified or ip.is_loopback or ip.is_multicast or ip.is_link_local:
        raise Invalid(f"{v} cannot be a peering address", "use the peer's address on the peering LAN")
    if lans is not None:
        lan = next((n for n in map(ipaddress.ip_network, lans) if n.version == ip.version and ip in n), None)
        if lan is None:
            raise Invalid(f"{ip} is outside this stack's peering LANs", f"peering LANs: {', '.join(lans) or '(none)'}")
        if ip == lan.network_address or (ip.version == 4 and lan.prefixlen < 31 and ip == lan.broadcast_address):
            raise Invalid(f"{ip} is the network or broadcast address of {lan}", "use a host address")
    return str(ip)


def address_sort_key(value: str) -> tuple[int, int]:
    ip = ipaddress.ip_address(value)
    return ip.version, int(ip)


def zerotier_member_id(value: Any) -> str:
    """A ZeroTier node address: 10 hex digits, lower-cased; ``0000000000`` and ``ff...`` are reserved
    (a controller answers 200 for ``0000000000`` but never stores it)."""
    if not isinstance(value, str):
        raise Invalid(f"a ZeroTier member id must be a quoted string of 10 hex digits, got {show(value)}",
                      "quote it: YAML reads 10 digits as a number and drops leading zeros")
    if not re.fullmatch(ZEROTIER_MEMBER_PATTERN[1:-1], value):
        raise Invalid(f"invalid ZeroTier member id {show(value)}: a node address is 10 hex digits",
                      "exactly 10 hexadecimal digits, e.g. 'a1b2c3d4e5'")
    mid = value.lower()
    if mid == "0000000000":
        raise Invalid("ZeroTier member id '0000000000' is reserved: it is not a node address (the controller "
                      "answers 200 but never stores it)", "use the node id that `zerotier-cli info` prints")
    if mid.startswith("ff"):
        raise Invalid(f"ZeroTier member id {mid!r} is reserved (ZeroTier's reserved address range ff...)",
                      "use the node id that `zerotier-cli info` prints")
    return mid


def zerotier_network_id(value: Any) -> str:
    """A ZeroTier network id: 16 hex digits (the controller's node address + 6), lower-cased."""
    if not isinstance(value, str) or not re.fullmatch(ZEROTIER_NETWORK_PATTERN[1:-1], value):
        raise Invalid(f"a ZeroTier network id is 16 hex digits (e.g. '8056c2e21c000001'), got {value!r}")
    return value.lower()
