"""``bird:ServerConfig``: a route server's main config ``<config_dir>/bird.conf``, applied safely.

* id: ``<route-server>`` (e.g. ``rs1``).
* inputs: ``route_server`` (RouteServer), ``rpki`` (RpkiSource: RTR caches or static ROAs),
  ``filter_policy`` (FilterPolicy: prefix-length bounds), ``take_over_existing`` (replace a main
  config Keystone does not manage, e.g. Debian's default; the original is kept as
  ``bird.conf.keystone-orig``), ``seed_peers`` (the peer files the stack has for this route server,
  as their ``bird:PeerFile`` inputs without the route server).
* **seeding**: creating the main config (a route server's first deployment, or a replacement) also
  lays down every seed whose file does not exist yet, in the same safe apply: one ``bird -p`` of
  the whole config and one ``configure`` for all the peers, then one shared read of the route
  server.  Each ``bird:PeerFile`` then finds its file in place, running, in that read and takes it
  as it is without a round trip (``apply.in_place``: valid while nothing has written to the daemon
  since, however late the engine gets to the file).  If the seeded apply fails it
  is rolled back and the main config is applied alone; the peer files then apply one by one and
  each reports its own problem.  After creation ``seed_peers`` is never a change: peers are the
  peer files' business.
* outputs: the inputs plus ``path``, ``sha256`` (of the file on disk), ``protocols`` (the
  protocols it declares → state, e.g. ``ks_rpki1: up``) and ``routes`` (the route server's totals over
  every Keystone peer session: ``received``/``accepted``/``filtered`` and ``filtered_by_cause``, as of
  the last refresh; empty after a create or update).
* The main config holds what every peer shares (router id, ROA tables and their source, bogon
  lists, the import functions, one session template per family) and ends with
  ``include "<peers_dir>/*.conf";``.  The apply creates ``peers_dir`` if needed.
* Delete refuses while peer files remain, then **leaves the file in place**: BIRD cannot start
  without a config, and the remaining base config (no peers) is harmless.  Remove it by hand if
  the route server is retired.
"""
from __future__ import annotations

from typing import Any

import pulumi
import pydantic
from pulumi.dynamic import CreateResult, UpdateResult
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, create_model, model_validator

from providers.base import resource_props
from providers.bird import apply, parse, render, report
from providers.bird.file_provider import BirdFileProvider
from providers.bird.models import FilterPolicy, RouteServer, RpkiSource
from providers.bird.peer_file import PeerFileInputs
from providers.bird.plan import Change, Seed

OUTPUTS = ("path", "sha256", "protocols", "routes")


class _Seed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @classmethod
    def of(cls, peer_file: PeerFileInputs | dict[str, Any]) -> SeedPeer:
        """The seed standing for a ``bird:PeerFile``'s (checked) inputs."""
        data = peer_file.model_dump(mode="json") if isinstance(peer_file, BaseModel) else peer_file
        return cls.model_validate({k: v for k, v in data.items() if k in cls.model_fields})


_NOT_SEEDED = ("route_server", "base_config_id", "take_over_existing")
"""What a ``bird:PeerFile`` says that a seed does not: the route server is the one seeding it."""

SeedPeer = create_model(
    "SeedPeer", __base__=_Seed, __module__=__name__,
    **{name: (f.annotation, f) for name, f in PeerFileInputs.model_fields.items() if name not in _NOT_SEEDED})
SeedPeer.__doc__ = """A ``bird:PeerFile``'s inputs, less the route server (it is this one's): its fields are
``PeerFileInputs``'s own, so the two cannot drift apart."""


#: Inputs that never make a change once the main config exists (see the module docstring).
CREATE_ONLY = ("seed_peers",)


class ServerConfigInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    route_server: RouteServer = Field(description="The route server whose main config this is.")
    rpki: RpkiSource = Field(description="Where the ROA tables come from.")
    filter_policy: FilterPolicy = Field(default_factory=FilterPolicy, description="Prefix-length bounds.")
    take_over_existing: bool = Field(default=False, description="Replace an existing main config Keystone does not manage.")
    _seed_files: list[PeerFileInputs] = PrivateAttr(default_factory=list)  # seed_peers, validated as peer files
    seed_peers: list[SeedPeer] = Field(default_factory=list, description=(
        "Peer files laid down with the main config when it is created (its bird:PeerFile resources then take "
        "them as they are); never a change afterwards."))

    @property
    def id(self) -> str:
        return self.route_server.name

    @model_validator(mode="after")
    def _seeds_are_peer_files(self) -> ServerConfigInputs:
        """Each seed must be a valid ``bird:PeerFile`` of this route server, one per ASN."""
        errors, seen, files = [], set(), []
        for i, s in enumerate(self.seed_peers):
            if s.peer.asn in seen:
                errors.append(f"seed_peers.{i}: AS{s.peer.asn} is seeded twice")
            seen.add(s.peer.asn)
            try:
                files.append(PeerFileInputs(route_server=self.route_server, base_config_id=self.id, **s.model_dump()))
            except pydantic.ValidationError as e:
                errors += [f"seed_peers.{i} (AS{s.peer.asn}): {err['msg'].removeprefix('Value error, ')}"
                           for err in e.errors()]
        if errors:
            raise ValueError("; ".join(errors))
        self._seed_files = files
        return self

    def seeds(self) -> tuple[Seed, ...]:
        """The seed files, rendered exactly as their ``bird:PeerFile`` renders them."""
        return tuple(Seed(f.path, f.render()) for f in self._seed_files)

    @property
    def path(self) -> str:
        return self.route_server.config_file

    def render(self) -> str:
        return render.render_server_config(self.route_server, self.rpki, self.filter_policy)


class BirdServerConfigProvider(BirdFileProvider):
    Inputs = ServerConfigInputs
    OUTPUTS = OUTPUTS
    CREATE_ONLY = CREATE_ONLY
    RUNNING = "protocols"

    def _change(self, inp: ServerConfigInputs, content: str | None, *, adopt: bool = False,
                seed: tuple[Seed, ...] = ()) -> Change:
        return Change(kind="server", rs=inp.route_server, resource=f"bird:ServerConfig {inp.id}", live=inp.path,
                      content=content, marker=("bird:ServerConfig", inp.id), adopt=adopt,
                      take_over=inp.take_over_existing, seed=seed)

    @staticmethod
    def _outputs(inp: ServerConfigInputs, content: str | None, protocols: dict[str, parse.Protocol],
                 view: apply.ServerView | None = None) -> dict[str, Any]:
        routes: dict[str, Any] = {}
        if view is not None:
            sessions = [s for p in report.peer_sessions(inp.route_server.name, inp.route_server.asn, view.files)
                        for s in p.sessions]
            routes = report.total(report.session_routes(
                view.counts, view.filtered, inp.route_server.asn, sessions).values()).output()
        return {
            **inp.model_dump(mode="json"),
            "path": inp.path,
            "sha256": render.sha256(content) if content is not None else None,
            "protocols": {n: protocols[n].summary for n in parse.declared_protocols(content or "") if n in protocols},
            "routes": routes,
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        inp = self.inputs(props)
        content = inp.render()
        applied = apply.apply_change(self._change(inp, content, adopt=True, seed=inp.seeds()))
        if inp.seed_peers:
            apply.read_route_server(inp.route_server)  # one shared read: the seeded peer files find themselves in it
        return CreateResult(inp.id, self._outputs(inp, content, applied.protocols))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inp = self.inputs(news)
        content = inp.render()
        applied = apply.apply_change(self._change(inp, content))
        return UpdateResult(self._outputs(inp, content, applied.protocols))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        inp = self.inputs(props)
        rs = inp.route_server
        with apply.lock_for(rs):
            remaining = apply.list_peer_files(rs)
        if remaining:
            raise apply.ApplyError(
                f"bird:ServerConfig {inp.id} (route server {rs.name}, host {rs.target.name}): {len(remaining)} peer "
                f"file(s) still in {rs.peers_dir} ({', '.join(remaining[:5])}{', ...' if len(remaining) > 5 else ''}): "
                "delete their bird:PeerFile resources first; the main config is left in place")
        # Deliberately retained: see the module docstring.

    def _expected(self, new: ServerConfigInputs, content: str) -> set[str]:
        return set(parse.declared_protocols(content))


class BirdServerConfig(pulumi.dynamic.Resource, module="bird", name="ServerConfig"):
    """A route server's main config (type ``pulumi-python:dynamic/bird:ServerConfig``)."""

    path: pulumi.Output[str]
    sha256: pulumi.Output[str]
    protocols: pulumi.Output[dict]
    routes: pulumi.Output[dict]

    def __init__(self, name: str, args: ServerConfigInputs | dict[str, Any],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__(BirdServerConfigProvider(), name, resource_props(args, OUTPUTS), opts)
