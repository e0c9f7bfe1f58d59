"""Sample route servers and peers shared by the BIRD unit tests (golden files are rendered from these)."""
from __future__ import annotations

from providers.bird import models, render
from providers.host import HostTarget

RS = models.RouteServer(
    name="rs1",
    target=HostTarget(name="rs1", address="local"),
    config_dir="/etc/bird",
    peers_dir="/etc/bird/peers.d",
    control_socket="/run/bird/bird.ctl",
    asn=64511,
    router_id="192.0.2.1",
)

RPKI_STATIC = models.RpkiSource(static_roas=[
    {"prefix": "2a0b:1::/32", "max_length": 48, "asn": 64501},
    {"prefix": "185.1.0.0/22", "max_length": 24, "asn": 64501},
    {"prefix": "185.3.0.0/16", "max_length": 16, "asn": 0},
])
RPKI_RTR = models.RpkiSource(rtr=[{"host": "rtr2.example.net", "port": 3323}, {"host": "192.0.2.10"}])

PEERS = {
    # dual stack, prefix list, AS-SET, description
    "as64501": models.PeerSpec(
        asn=64501, name="example-net", description="Example Networks GmbH",
        addresses={"ipv4": ["10.99.0.2"], "ipv6": ["fd00:99::2"]},
        max_prefixes={"ipv4": 100, "ipv6": 20}, as_set="AS-EXAMPLE",
        prefixes=["2a0b:1::/32", "185.1.0.0/22", "185.1.0.0/22"],
    ),
    # IPv4 only, two routers, no prefix list, RPKI off (a policy should flag this)
    "as64502": models.PeerSpec(
        asn=64502, name="two_routers", addresses={"ipv4": ["10.99.0.13", "10.99.0.3"]},
        max_prefixes={"ipv4": 5000},
    ),
    # IPv6 only, 32-bit ASN, empty prefix list for IPv6: accepts nothing
    "as4200000001": models.PeerSpec(
        asn=4200000001, name="v6.only", addresses={"ipv6": ["fd00:99::a:1"]},
        max_prefixes={"ipv6": 10}, prefixes=["185.9.0.0/24"],
    ),
}

LIMITS = {
    "as64501": render.Limits(100, 20, 200, 40),
    "as64502": render.Limits(5000, 0, 10000, 0),
    "as4200000001": render.Limits(0, 10, 0, 20),
}
RPKI_FLAG = {"as64501": True, "as64502": False, "as4200000001": True}


def rendered() -> dict[str, str]:
    """golden file name → rendered text."""
    out = {
        "server_static.conf": render.render_server_config(RS, RPKI_STATIC),
        "server_rtr.conf": render.render_server_config(RS, RPKI_RTR, models.FilterPolicy(max_length_v6=64)),
    }
    for key, peer in PEERS.items():
        out[f"{key}.conf"] = render.render_peer_file(RS, peer, LIMITS[key], RPKI_FLAG[key])
    return out
