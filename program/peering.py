"""The stack's peering: each route server's main config (``bird-<rs>``, a ``bird:ServerConfig``)
and one ``keystone:peering:PeerAsn`` per roster peer (``components/peer_asn.py``), from the roster's
peers and the stack's peering settings only.

The gate (``program/gate.py``) has already run ``peering_problems`` before anything is registered;
registration asks it again for the validated peer-file inputs.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from components.peer_asn import PeerAsn, PeerAsnArgs, component_name, server_config_name
from providers.bird.peer_file import PeerFileInputs
from providers.bird.server_config import BirdServerConfig, SeedPeer
from program.gate import peering_problems
from roster import Peer
from settings.peering import PeeringSettings


def seed_peers(files: dict[int, dict[str, PeerFileInputs]], rs_name: str) -> list[dict[str, Any]]:
    """What a route server's ``bird:ServerConfig`` lays down when it is created: each active peer's
    file inputs for that route server, less the route server (see providers/bird/server_config.py)."""
    return [SeedPeer.of(files[asn][rs_name]).model_dump(mode="json") for asn in sorted(files) if rs_name in files[asn]]


def register_peering(peers: Mapping[int, Peer], s: PeeringSettings) -> dict[str, Any]:
    """The route servers' main configs and one ``PeerAsn`` per roster peer; returns the ``peers``
    export (ASN → summary), or nothing when the stack has no peering."""
    if not peers and not s.route_servers:
        return {}
    if not s.enabled:
        # No keystone:peering on this stack (e.g. a dev stack without route servers): peers are not
        # applied here.  A stack that has peers deployed never gets here without the block: the gate
        # refuses dropping it (program/gate.py, peering_removal_problems), so no peer is deleted this way.
        pulumi.log.warn(f"the roster has {len(peers)} peer(s) but this stack has no keystone:peering "
                        "(zerotier, routeServers): peers are not applied on this stack")
        return {}
    problems, files = peering_problems(peers, s)
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
    if peers:
        assert s.zerotier is not None
        route_servers = s.bird_route_servers()
        for asn, p in sorted(peers.items()):
            component = PeerAsn(component_name(asn), PeerAsnArgs(
                peer=p, zerotier=s.zerotier, route_servers=route_servers, server_configs=configs,
                files=files.get(asn)))
            summaries[str(asn)] = component.summary
    return {"peers": summaries}
