"""Peering samples for the program tests, the live fault tests and the benchmark: stack settings with
route servers and a ZeroTier network, and rosters with any number of peers."""
from __future__ import annotations

import ipaddress
from typing import Any

from program.stack import ProgramInputs
from roster import RosterContext, parse_roster_text
from settings import settings_from_config

NETWORK_ID = "8056c2e21c000001"
LAN_V4 = "10.99.0.0/16"
LAN_V6 = "fd00:99::/64"
FIRST_ASN = 210001  # public 32-bit ASNs: no allowPrivateAsns needed
STATIC_ROAS = [{"prefix": "185.1.0.0/22", "maxLength": 24, "asn": FIRST_ASN},
               {"prefix": "2a0b:1::/32", "maxLength": 48, "asn": FIRST_ASN}]
STATIC_ROAS_SNAKE = [{"prefix": r["prefix"], "max_length": r["maxLength"], "asn": r["asn"]} for r in STATIC_ROAS]

ROUTE_SERVERS = [
    {"name": "rs1", "address": "rs1.example.net", "user": "root", "asn": 64511, "routerId": "10.99.255.1"},
    {"name": "rs2", "address": "rs2.example.net", "port": 2222, "user": "root", "asn": 64511,
     "routerId": "10.99.255.2", "confirmTimeout": 20},
]


def peering(route_servers: list[dict[str, Any]] | None = None, *, mode: str = "self_hosted",
            url: str | None = "http://10.0.0.1:9993", **over: Any) -> dict[str, Any]:
    """A ``keystone:peering`` value (camelCase, as in ``Pulumi.<stack>.yaml``)."""
    value: dict[str, Any] = {
        "lans": [LAN_V4, LAN_V6],
        "zerotier": {"mode": mode, "networkId": NETWORK_ID, **({"url": url} if url else {})},
        "rpki": {"staticRoas": STATIC_ROAS},
        "routeServers": ROUTE_SERVERS if route_servers is None else route_servers,
    }
    value.update(over)
    return value


def peer_address(i: int) -> tuple[str, str]:
    """The i-th peer's addresses on the peering LANs (i from 0)."""
    v4 = ipaddress.IPv4Network(LAN_V4)[266 + i]          # 10.99.1.10 onwards: clear of the route servers
    v6 = ipaddress.IPv6Network(LAN_V6)[0x1010 + i]
    return str(v4), str(v6)


def sessions(asn: int, i: int) -> set[str]:
    """The BIRD protocol names of the i-th peer's two sessions (IPv4 and IPv6) on a route server."""
    v4, v6 = peer_address(i)
    return {f"as{asn}_{v4.replace('.', '_')}", f"as{asn}_{v6.replace(':', '_')}"}


def member_id(i: int) -> str:
    return f"{0xa000000000 + i:010x}"


def peer_entry(i: int, *, state: str = "active", ipv4_limit: int = 100, **extra: Any) -> str:
    """The i-th peer (AS210001 + i) as roster YAML; ``extra`` adds or replaces fields (YAML text values)."""
    v4, v6 = peer_address(i)
    fields = {
        "name": f"Peer {i} Networks",
        "contact": f"noc{i}@peer{i}.example.net",
        "zerotier_member": f'"{member_id(i)}"',
        "addresses": f'[{v4}, "{v6}"]',
        "max_prefixes": f"{{ipv4: {ipv4_limit}, ipv6: 50}}",
        "state": state,
        **extra,
    }
    return "\n".join([f"  {FIRST_ASN + i}:"] + [f"    {k}: {v}" for k, v in fields.items()])


def roster_text(n: int, *, states: dict[int, str] | None = None, people: str = "",
                changes: dict[int, dict[str, Any]] | None = None) -> str:
    """People (verbatim) plus ``n`` peers AS210001.. (``states``/``changes`` by peer index)."""
    states, changes = states or {}, changes or {}
    entries = [peer_entry(i, state=states.get(i, "active"), **changes.get(i, {})) for i in range(n)]
    return (people or "people: {}\n") + ("peers:\n" + "\n".join(entries) + "\n" if entries else "")


def inputs(n: int, *, stack: str = "dev", states: dict[int, str] | None = None, people: str = "",
           changes: dict[int, dict[str, Any]] | None = None, peering_value: dict[str, Any] | None = None,
           **settings_over: Any) -> ProgramInputs:
    values = {"authentik": {"enabled": False}, "kubernetes": {"enabled": False},
              "peering": peering() if peering_value is None else peering_value, **settings_over}
    s = settings_from_config(values)
    ctx = RosterContext(min_uid=s.min_uid, hosts=[h.name for h in s.hosts], peering_lans=s.peering.lans,
                        allow_private_asns=s.peering.allow_private_asns)
    roster = parse_roster_text(roster_text(n, states=states, people=people, changes=changes), ctx)
    return ProgramInputs(stack=stack, settings=s, roster=roster)
