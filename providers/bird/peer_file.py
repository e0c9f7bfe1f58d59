"""``bird:PeerFile``: one peer ASN's file on one route server, applied safely.

* id: ``<route-server>/<asn>`` (e.g. ``rs1/64500``); the file is ``<peers_dir>/as<asn>.conf``.
* inputs: ``route_server`` (RouteServer), ``peer`` (PeerSpec); ``import_limit_v4/v6``,
  ``receive_limit_v4/v6`` and ``rpki`` at the top level so a policy can check them (``check`` fills
  the limits from ``peer.max_prefixes`` when absent: import = max-prefixes, receive =
  ``RECEIVE_LIMIT_FACTOR`` × import); ``base_config_id`` (the ``bird:ServerConfig`` id, which also
  orders the two); ``take_over_existing`` (replace a file Keystone does not manage).
* outputs: the inputs plus ``path``, ``sha256`` (of the file on disk), ``sessions`` (protocol
  name → BGP state, e.g. ``Established``/``Active``; ``start``/``down`` for a protocol not up) and
  ``routes`` (protocol name → ``received``/``accepted``/``filtered`` route counts and
  ``filtered_by_cause``: reject-cause code → count, see ``communities.py``).  ``routes`` is what the
  last ``refresh`` read, in the same single round trip as the rest of the route server's reads; a
  create or update leaves it empty until the next refresh (the sessions are only starting).
* create takes a file that is already in place, byte for byte and running (laid down by the route
  server's ``bird:ServerConfig`` when it was created: see ``seed_peers`` there), as it is, judged
  from the route server's shared read when no write to that daemon followed it (``apply.in_place``);
  otherwise it takes its own safe apply, which finds it in place and writes nothing.
* replaced (delete first) when the route server's identity (name, config_dir, peers_dir) or the
  peer's ASN changes.  ``refresh`` re-reads the file and the daemon: a file edited by hand or
  a session the daemon does not run shows up as an update on the next ``up``.
"""
from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, UpdateResult
from pydantic import BaseModel, ConfigDict, Field, model_validator

from providers.base import UNKNOWN, resource_props
from providers.bird import apply, parse, render, report
from providers.bird.file_provider import BirdFileProvider
from providers.bird.models import RECEIVE_LIMIT_FACTOR, PeerSpec, RouteServer
from providers.bird.plan import Change


class PeerFileInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    route_server: RouteServer = Field(description="The route server the file goes to.")
    peer: PeerSpec = Field(description="The peer (one ASN).")
    import_limit_v4: int | None = Field(default=None, ge=0, description="Most accepted IPv4 routes (default: max_prefixes.ipv4).")
    import_limit_v6: int | None = Field(default=None, ge=0, description="Most accepted IPv6 routes (default: max_prefixes.ipv6).")
    receive_limit_v4: int | None = Field(default=None, ge=0, description="Most received IPv4 routes, filtered or not.")
    receive_limit_v6: int | None = Field(default=None, ge=0, description="Most received IPv6 routes, filtered or not.")
    rpki: bool = Field(default=True, description="Reject RPKI-invalid routes (a policy should require true).")
    base_config_id: str | None = Field(default=None, description="Id of the route server's bird:ServerConfig.")
    take_over_existing: bool = Field(default=False, description="Replace an existing file Keystone does not manage.")

    @model_validator(mode="after")
    def _fill_and_check(self) -> PeerFileInputs:
        rs, peer = self.route_server, self.peer
        if self.import_limit_v4 is None:
            self.import_limit_v4 = peer.max_prefixes.ipv4
        if self.import_limit_v6 is None:
            self.import_limit_v6 = peer.max_prefixes.ipv6
        if self.receive_limit_v4 is None:
            self.receive_limit_v4 = self.import_limit_v4 * RECEIVE_LIMIT_FACTOR
        if self.receive_limit_v6 is None:
            self.receive_limit_v6 = self.import_limit_v6 * RECEIVE_LIMIT_FACTOR
        errors = []
        for fam, addrs, imp, rcv in (("ipv4", peer.addresses.ipv4, self.import_limit_v4, self.receive_limit_v4),
                                     ("ipv6", peer.addresses.ipv6, self.import_limit_v6, self.receive_limit_v6)):
            if addrs and imp < 1:
                errors.append(f"import_limit_{fam[-2:]} (max_prefixes.{fam}) must be at least 1 for a peer with {fam} addresses")
            if addrs and rcv < imp:
                errors.append(f"receive_limit_{fam[-2:]} ({rcv}) must not be below import_limit_{fam[-2:]} ({imp})")
        if peer.asn == rs.asn:
            errors.append(f"peer AS{peer.asn} is the route server's own ASN")
        for lan, addrs in ((rs.peering_lan_v4, peer.addresses.ipv4), (rs.peering_lan_v6, peer.addresses.ipv6)):
            if lan is not None:
                outside = [str(a) for a in addrs if a not in lan]
                if outside:
                    errors.append(f"neighbor addresses {', '.join(outside)} are outside the peering LAN {lan}")
        if self.base_config_id not in (None, UNKNOWN, rs.name):
            errors.append(f"base_config_id {self.base_config_id!r} is not the bird:ServerConfig of route server {rs.name!r}")
        if errors:
            raise ValueError("; ".join(errors))
        return self

    # --- derived ---------------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return f"{self.route_server.name}/{self.peer.asn}"

    @property
    def path(self) -> str:
        return self.route_server.peer_file(self.peer.asn)

    def limits(self) -> render.Limits:
        return render.Limits(self.import_limit_v4, self.import_limit_v6, self.receive_limit_v4, self.receive_limit_v6)

    def render(self) -> str:
        return render.render_peer_file(self.route_server, self.peer, self.limits(), self.rpki)

    def session_names(self) -> list[str]:
        return [s.name for s in render.peer_sessions(self.peer)]


OUTPUTS = ("path", "sha256", "sessions", "routes")


class BirdPeerFileProvider(BirdFileProvider):
    Inputs = PeerFileInputs
    OUTPUTS = OUTPUTS
    RUNNING = "sessions"
    IDENTITY = ("route_server", "peer")  # another route server or another ASN: another file

    def _change(self, inp: PeerFileInputs, content: str | None, *, adopt: bool = False,
                previous: tuple[str, ...] = ()) -> Change:
        rs = inp.route_server
        return Change(kind="peer", rs=rs, resource=f"bird:PeerFile {inp.id}", live=inp.path, content=content,
                      marker=("bird:PeerFile", inp.id), adopt=adopt, take_over=inp.take_over_existing,
                      previous_protocols=previous)

    @staticmethod
    def _outputs(inp: PeerFileInputs, content: str | None, protocols: dict[str, parse.Protocol],
                 view: apply.ServerView | None = None) -> dict[str, Any]:
        declared = parse.declared_protocols(content or "")
        names = sorted(set(declared) | set(inp.session_names()))
        routes = {} if view is None else {
            n: r.output() for n, r in report.session_routes(view.counts, view.filtered, inp.route_server.asn,
                                                            [n for n in names if n in protocols]).items()}
        return {
            **inp.model_dump(mode="json"),
            "path": inp.path,
            "sha256": render.sha256(content) if content is not None else None,
            "sessions": {n: protocols[n].summary for n in names if n in protocols},
            "routes": routes,
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        inp = self.inputs(props)
        content = inp.render()
        running = apply.in_place(inp.route_server, inp.path, content)  # seeded by its bird:ServerConfig
        if running is None:
            running = apply.apply_change(self._change(inp, content, adopt=True)).protocols
        return CreateResult(inp.id, self._outputs(inp, content, running))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inp = self.inputs(news)
        content = inp.render()
        previous = tuple(sorted((olds.get("sessions") or {}).keys()))
        applied = apply.apply_change(self._change(inp, content, previous=previous))
        return UpdateResult(self._outputs(inp, content, applied.protocols))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        inp = self.inputs(props)
        previous = tuple(sorted(set((props.get("sessions") or {}).keys()) | set(inp.session_names())))
        apply.apply_change(self._change(inp, None, previous=previous))

    def _replaces(self, old: PeerFileInputs, new: PeerFileInputs) -> list[str]:
        return super()._replaces(old, new) + (["peer"] if old.peer.asn != new.peer.asn else [])

    def _expected(self, new: PeerFileInputs, content: str) -> set[str]:
        return set(new.session_names())


class BirdPeerFile(pulumi.dynamic.Resource, module="bird", name="PeerFile"):
    """One peer ASN's file on one route server (type ``pulumi-python:dynamic/bird:PeerFile``)."""

    path: pulumi.Output[str]
    sha256: pulumi.Output[str]
    sessions: pulumi.Output[dict]
    routes: pulumi.Output[dict]

    def __init__(self, name: str, args: PeerFileInputs | dict[str, Any], opts: pulumi.ResourceOptions | None = None):
        super().__init__(BirdPeerFileProvider(), name, resource_props(args, OUTPUTS), opts)
