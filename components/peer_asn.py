"""``keystone:peering:PeerAsn`` — one roster peer (one ASN): its ZeroTier membership and one BIRD file
per route server.  The program adds the route servers' main configs and one ``PeerAsn`` per peer
(``program/peering.py``).

Lifecycle (the roster's ``state``):

* ``active``: member authorized with the peer's addresses; a ``bird:PeerFile`` on every route server;
* ``suspended``: member deauthorized, addresses kept (reserved for the peer's return); no peer file,
  so every session is shut down and its protocols removed;
* ``removed``: member deauthorized without addresses; no peer file.

Resources and names (persisted API):

* ``bird-<rs>`` — ``bird:ServerConfig`` of route server ``<rs>`` (stack level, one per route server);
* ``as<asn>`` — the ``PeerAsn`` component; its children ``as<asn>-zt`` (``zerotier:Member``, id
  ``<network-id>-<member-id>``) and ``as<asn>-bird-<rs>`` (``bird:PeerFile``, id ``<rs>/<asn>``).

Every input is a plain value known at preview (``base_config_id`` is the route server's name, the
``bird:ServerConfig``'s id; the file waits for it through ``depends_on``), so the policies, which fail
closed on unknowns, can check everything in a preview.  A peer file depends on its own route
server's main config only: nothing couples two route servers, so with ``pulumi up
--continue-on-error`` one route server that is down or refuses a change does not hold back the
others, and the next ``up`` retries only what failed (it is not in state yet, or differs).

A route server's ``bird:ServerConfig`` also carries every active peer's file inputs for it
(``seed_peers``): when it is created — the stack's first deployment, or a route server added
later — it lays all those files down in its own safe apply (one ``configure``), and each
``bird:PeerFile`` then takes its file as it is.  After that, peers change through their own files only.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pulumi

from providers.bird import models as bird
from providers.bird.peer_file import BirdPeerFile, PeerFileInputs
from providers.zerotier.member import ZeroTierMember, ZeroTierMemberArgs
from roster import Peer, PeerState
from settings.peering import ZeroTierSettings

TYPE = "keystone:peering:PeerAsn"


def component_name(asn: int) -> str:
    return f"as{asn}"


def server_config_name(route_server: str) -> str:
    return f"bird-{route_server}"


def bird_peer_name(peer: Peer) -> str:
    """The roster name as a BIRD peer name (letters, digits, ``_.-``): other characters become ``-``."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", peer.name).strip("-_.")[:63].rstrip("-_.")
    return slug if bird.PEER_NAME.fullmatch(slug or "-") else f"AS{peer.asn}"


def bird_as_set(as_set: str | None) -> str | None:
    """The AS-SET for the peer file's header: the roster's AS-SET (same rule as the BIRD model) with
    the IRR source prefix (``RIPE::``) dropped.  Only a name that is no AS-SET without its source
    (``AS-SRC::AS1:AS2``) is left out (the header is informational only)."""
    if as_set is None:
        return None
    name = as_set.split("::", 1)[-1]
    try:
        return bird.check_as_set(name)
    except ValueError:
        return None


def peer_spec(peer: Peer) -> bird.PeerSpec:
    """A roster ``Peer`` as the route servers see it.  ``prefixes: []`` (the roster default) means no
    prefix list (RPKI, bogon and first-AS checks only); a non-empty list is enforced per family."""
    return bird.PeerSpec.model_validate({
        "asn": peer.asn,
        "name": bird_peer_name(peer),
        "addresses": {"ipv4": peer.ipv4_addresses, "ipv6": peer.ipv6_addresses},
        "max_prefixes": {"ipv4": peer.max_prefixes.ipv4, "ipv6": peer.max_prefixes.ipv6},
        "as_set": bird_as_set(peer.as_set),
        "prefixes": list(peer.prefixes) or None,
        "description": peer.name if bird.DESCRIPTION.fullmatch(peer.name) else None,
    })


def peer_file_inputs(spec: bird.PeerSpec, rs: bird.RouteServer) -> PeerFileInputs:
    """The ``bird:PeerFile`` inputs (validated here, so a bad roster/stack pair fails the program
    before anything is registered, naming the peer and the route server).  The import limits are the
    peer's ``max_prefixes``, which the spec carries: the inputs take them from there."""
    return PeerFileInputs(route_server=rs, peer=spec, rpki=True, base_config_id=rs.name)


@dataclass
class PeerAsnArgs:
    peer: Peer
    """The roster entry (validated)."""
    zerotier: ZeroTierSettings
    """The ZeroTier network and its controller (stack settings)."""
    route_servers: list[bird.RouteServer] = field(default_factory=list)
    """Every route server of the stack: an active peer gets a file on each."""
    server_configs: dict[str, pulumi.Resource] = field(default_factory=dict)
    """Route server name → its ``bird:ServerConfig``; the peer file on that route server waits for it."""
    files: dict[str, PeerFileInputs] | None = None
    """Pre-validated peer file inputs per route server (default: built here)."""


class PeerAsn(pulumi.ComponentResource):
    """One peer ASN: ``member`` (``zerotier:Member``), ``files`` (route server → ``bird:PeerFile``,
    active peers only), ``route_servers`` (route server → id, path and sessions outputs), ``summary``
    (plain values, for the stack's ``peers`` export)."""

    def __init__(self, name: str, args: PeerAsnArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        p, zt = args.peer, args.zerotier
        active = p.state == PeerState.ACTIVE
        self.member = ZeroTierMember(f"{name}-zt", ZeroTierMemberArgs(
            network_id=zt.network_id, member_id=p.zerotier_member, api_mode=zt.api_mode, api_url=zt.api_url,
            authorized=active, ip_assignments=list(p.addresses), name=f"AS{p.asn} {p.name}", asn=p.asn,
            peer_state=p.state.value, delete_on_remove=zt.delete_on_remove,
        ), pulumi.ResourceOptions(parent=self))

        self.files: dict[str, BirdPeerFile] = {}
        if active:
            spec = None
            for rs in sorted(args.route_servers, key=lambda r: r.name):
                inputs = (args.files or {}).get(rs.name)
                if inputs is None:
                    spec = spec or peer_spec(p)
                    inputs = peer_file_inputs(spec, rs)
                depends = [args.server_configs[rs.name]] if rs.name in args.server_configs else []
                self.files[rs.name] = BirdPeerFile(
                    f"{name}-bird-{rs.name}", inputs.model_dump(mode="json"),
                    pulumi.ResourceOptions(parent=self, depends_on=depends))

        self.route_servers: dict[str, dict[str, Any]] = {
            rs: {"id": f"{rs}/{p.asn}", "path": f.path, "sessions": f.sessions} for rs, f in self.files.items()}
        self.summary: dict[str, Any] = {
            "name": p.name,
            "state": p.state.value,
            "authorized": active,
            "member": f"{zt.network_id}-{p.zerotier_member}",
            "routeServers": sorted(self.files),
        }
        self.register_outputs({
            "asn": p.asn, "state": p.state.value, "member": self.member.id, "authorized": self.member.authorized,
            "routeServers": self.route_servers,
        })
