"""``keystone:peering:PeerAsn`` — one roster peer (one ASN): its ZeroTier membership and one BIRD file
per route server; plus ``register_peering``, which adds the route servers' main configs and one
``PeerAsn`` per peer to the program.

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
from typing import TYPE_CHECKING, Any

import pulumi
import pydantic

from providers.bird import models as bird
from providers.bird.peer_file import BirdPeerFile, PeerFileInputs
from providers.bird.server_config import BirdServerConfig, SeedPeer
from providers.zerotier.member import ZeroTierMember, ZeroTierMemberArgs
from roster import Peer, PeerState
from settings.peering import PeeringSettings, ZeroTierSettings

if TYPE_CHECKING:
    from components.stack import ProgramInputs

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
    """The AS-SET for the peer file's header: the IRR source prefix (``RIPE::``) is dropped; a form
    the BIRD model does not accept is left out (the header is informational only)."""
    if as_set is None:
        return None
    name = as_set.split("::", 1)[-1]
    return name if bird.AS_SET.fullmatch(name) else None


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


def peer_file_inputs(peer: Peer, spec: bird.PeerSpec, rs: bird.RouteServer) -> PeerFileInputs:
    """The ``bird:PeerFile`` inputs (validated here, so a bad roster/stack pair fails the program
    before anything is registered, naming the peer and the route server)."""
    return PeerFileInputs(
        route_server=rs, peer=spec,
        import_limit_v4=peer.max_prefixes.ipv4, import_limit_v6=peer.max_prefixes.ipv6,
        rpki=True, base_config_id=rs.name,
    )


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
            network_id=zt.network_id, member_id=p.zerotier_member, api_mode=zt.mode, api_url=zt.api_url,
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
                    inputs = peer_file_inputs(p, spec, rs)
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


def peering_problems(inputs: "ProgramInputs") -> tuple[list[str], dict[int, dict[str, PeerFileInputs]]]:
    """Every reason the roster's peers cannot go to this stack's route servers, and otherwise the
    validated ``bird:PeerFile`` inputs (ASN → route server → inputs)."""
    s: PeeringSettings = inputs.settings.peering
    peers = inputs.roster.peers
    problems: list[str] = []
    if peers and s.zerotier is None:
        problems.append(f"the roster has {len(peers)} peer(s) but keystone:peering.zerotier is not set: "
                        "set mode, url and networkId of the peering network")
    route_servers = s.bird_route_servers()
    files: dict[int, dict[str, PeerFileInputs]] = {}
    for asn, p in sorted(peers.items()):
        if p.state != PeerState.ACTIVE:
            continue
        try:
            spec = peer_spec(p)
        except pydantic.ValidationError as e:
            problems.append(f"peer AS{asn} ({p.name}): cannot be written for BIRD: {_errors(e)}")
            continue
        files[asn] = {}
        for rs in route_servers:
            try:
                files[asn][rs.name] = peer_file_inputs(p, spec, rs)
            except pydantic.ValidationError as e:
                problems.append(f"peer AS{asn} ({p.name}) on route server {rs.name}: {_errors(e)}")
    return problems, files


def _errors(e: pydantic.ValidationError) -> str:
    return "; ".join((".".join(map(str, err["loc"])) + ": " if err["loc"] else "")
                     + err["msg"].removeprefix("Value error, ") for err in e.errors())


def seed_peers(files: dict[int, dict[str, PeerFileInputs]], rs_name: str) -> list[dict[str, Any]]:
    """What a route server's ``bird:ServerConfig`` lays down when it is created: each active peer's
    file inputs for that route server, less the route server (see providers/bird/server_config.py)."""
    return [SeedPeer.of(files[asn][rs_name]).model_dump(mode="json") for asn in sorted(files) if rs_name in files[asn]]


def register_peering(inputs: "ProgramInputs") -> dict[str, Any]:
    """The route servers' main configs and one ``PeerAsn`` per roster peer; returns the ``peers``
    export (ASN → summary), or nothing when the stack has no peering."""
    s: PeeringSettings = inputs.settings.peering
    if not inputs.roster.peers and not s.route_servers:
        return {}
    if not s.enabled:
        # No keystone:peering on this stack (e.g. a dev stack without route servers): peers are not
        # applied here.  NB: removing the block from a stack that has peers deployed deletes them.
        pulumi.log.warn(f"the roster has {len(inputs.roster.peers)} peer(s) but this stack has no keystone:peering "
                        "(zerotier, routeServers): peers are not applied on this stack")
        return {}
    problems, files = peering_problems(inputs)
    if problems:
        raise pulumi.RunError("peering cannot be applied, nothing was registered for it:\n  - " + "\n  - ".join(problems))

    configs: dict[str, pulumi.Resource] = {}
    if s.route_servers:
        assert s.rpki is not None  # PeeringSettings requires it with route servers
        rpki, policy = s.rpki.source(), s.filter_policy.policy()
        for rs_settings, rs in zip(s.route_servers, s.bird_route_servers()):
            configs[rs.name] = BirdServerConfig(server_config_name(rs.name), {
                "route_server": rs, "rpki": rpki, "filter_policy": policy,
                "take_over_existing": rs_settings.take_over_existing,
                "seed_peers": seed_peers(files, rs.name),
            })

    summaries: dict[str, Any] = {}
    if inputs.roster.peers:
        assert s.zerotier is not None
        route_servers = s.bird_route_servers()
        for asn, p in sorted(inputs.roster.peers.items()):
            component = PeerAsn(component_name(asn), PeerAsnArgs(
                peer=p, zerotier=s.zerotier, route_servers=route_servers, server_configs=configs,
                files=files.get(asn)))
            summaries[str(asn)] = component.summary
    return {"peers": summaries}
