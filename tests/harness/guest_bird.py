"""The test guest's bird2 (Debian's packaged daemon: /etc/bird/bird.conf, control socket
/run/bird/bird.ctl) as a Keystone route server: provider inputs for it and its sample peers, what
it runs, and putting Debian's config back."""
from __future__ import annotations

from typing import Any

from providers.bird import parse
from providers.host import HostTarget
from tests.harness import peering_sample as ps

GUEST_CTL = "/run/bird/bird.ctl"
PEERS = "/etc/bird/peers.d"


def guest_route_server(target: HostTarget, **over: Any) -> dict[str, Any]:
    """The guest's bird2 as a route server (``bird:*`` provider inputs), Debian's paths."""
    return {"name": "rsg", "target": target.model_dump(), "config_dir": "/etc/bird", "peers_dir": PEERS,
            "control_socket": GUEST_CTL, "asn": 64511, "router_id": "10.99.255.9",
            "peering_lan_v4": ps.LAN_V4, "peering_lan_v6": ps.LAN_V6, "confirm_timeout": 20, **over}


def peer_inputs(rs: dict[str, Any], i: int, **over: Any) -> dict[str, Any]:
    """``bird:PeerFile`` inputs for the sample's i-th peer (AS210001 + i), as ``PeerAsn`` builds them."""
    v4, v6 = ps.peer_address(i)
    return {"route_server": rs, "base_config_id": rs["name"], "rpki": True,
            "peer": {"asn": ps.FIRST_ASN + i, "name": f"Peer-{i}-Networks", "description": f"Peer {i} Networks",
                     "addresses": {"ipv4": [v4], "ipv6": [v6]}, "max_prefixes": {"ipv4": 100, "ipv6": 50}},
            **over}


def show_protocols(guest) -> dict[str, parse.Protocol]:
    return parse.parse_show_protocols(guest.ssh(f"birdc -s {GUEST_CTL} show protocols").stdout)


def pending_undo(guest) -> float | None:
    return parse.parse_configure_status(guest.ssh(f"birdc -s {GUEST_CTL} configure status").stdout)


def restore_debian_bird(guest) -> None:
    """Put Debian's own bird.conf back (Keystone keeps it as bird.conf.keystone-orig) and drop the peers."""
    guest.ssh("set -e; cd /etc/bird; if [ -f bird.conf.keystone-orig ]; then mv -f bird.conf.keystone-orig bird.conf; fi; "
              f"rm -rf {PEERS} .bird.conf.keystone-*; birdc -s {GUEST_CTL} configure >/dev/null")
