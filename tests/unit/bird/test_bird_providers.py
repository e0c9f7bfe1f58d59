"""The providers' pure parts: check (defaults, every failure at once), diff (replacement, drift), pickling,
and the resources' type tokens under Pulumi mocks."""
from __future__ import annotations

import pulumi
import pytest
from pulumi.dynamic.dynamic import serialize_provider

from providers.bird import render
from providers.bird.peer_file import UNKNOWN, BirdPeerFile, BirdPeerFileProvider, PeerFileInputs
from providers.bird.server_config import BirdServerConfig, BirdServerConfigProvider
from tests.harness import bird_samples as samples

RS = samples.RS.model_dump(mode="json")
PEER = samples.PEERS["as64501"].model_dump(mode="json")


def peer_inputs(**kw) -> dict:
    return {"route_server": RS, "peer": PEER, "base_config_id": "rs1", **kw}


def test_check_fills_limits_from_max_prefixes() -> None:
    r = BirdPeerFileProvider().check({}, {**peer_inputs(), "__provider": "x", "path": None, "sha256": None, "sessions": None})
    assert r.failures == []
    assert (r.inputs["import_limit_v4"], r.inputs["import_limit_v6"]) == (100, 20)
    assert (r.inputs["receive_limit_v4"], r.inputs["receive_limit_v6"]) == (200, 40)
    assert r.inputs["rpki"] is True and r.inputs["take_over_existing"] is False
    assert "path" not in r.inputs and "__provider" not in r.inputs


def test_check_keeps_explicit_limits() -> None:
    r = BirdPeerFileProvider().check({}, peer_inputs(import_limit_v4=7, receive_limit_v4=7, rpki=False))
    assert r.failures == [] and (r.inputs["import_limit_v4"], r.inputs["receive_limit_v4"], r.inputs["rpki"]) == (7, 7, False)


@pytest.mark.parametrize("news,expected", [
    (peer_inputs(peer={**PEER, "name": 'x"; include "/etc/passwd'}), ["peer.name"]),
    (peer_inputs(peer={**PEER, "description": "a}\nprotocol bgp evil {"}), ["peer.description"]),
    (peer_inputs(peer={**PEER, "max_prefixes": {"ipv4": 0, "ipv6": 20}}), ["import_limit_v4 (max_prefixes.ipv4) must be at least 1"]),
    (peer_inputs(import_limit_v4=10, receive_limit_v4=5), ["receive_limit_v4 (5) must not be below import_limit_v4 (10)"]),
    (peer_inputs(peer={**PEER, "asn": 64511}), ["route server's own ASN"]),
    (peer_inputs(base_config_id="rs2"), ["base_config_id 'rs2'"]),
    (peer_inputs(route_server={**RS, "peering_lan_v4": "10.98.0.0/24"}), ["outside the peering LAN 10.98.0.0/24"]),
    (peer_inputs(bogus=1), ["bogus"]),
    (peer_inputs(route_server={**RS, "peers_dir": "/etc/bird/../x"}, peer={**PEER, "asn": 0}),
     ["route_server.peers_dir", "peer.asn"]),
])
def test_check_reports_every_failure(news, expected) -> None:
    r = BirdPeerFileProvider().check({}, news)
    text = " | ".join(f"{f.property}: {f.reason}" for f in r.failures)
    for e in expected:
        assert e in text, text


def test_check_accepts_an_unknown_base_config_id_in_preview() -> None:
    assert BirdPeerFileProvider().check({}, peer_inputs(base_config_id=UNKNOWN)).failures == []


def _state(**kw) -> dict:
    inp = PeerFileInputs.model_validate(peer_inputs(**kw))
    names = inp.session_names()
    return {**inp.model_dump(mode="json"), "path": inp.path, "sha256": render.sha256(inp.render()),
            "sessions": {n: "Established" for n in names}}


def _news(**kw) -> dict:
    return {**BirdPeerFileProvider().check({}, peer_inputs(**kw)).inputs, "__provider": "blob"}


def test_diff_no_change() -> None:
    d = BirdPeerFileProvider().diff("rs1/64501", _state(), _news())
    assert d.changes is False and d.replaces == []


def test_diff_update_and_replace() -> None:
    p = BirdPeerFileProvider()
    d = p.diff("rs1/64501", _state(), _news(import_limit_v4=50))
    assert d.changes is True and d.replaces == []
    d = p.diff("rs1/64501", _state(), _news(peer={**PEER, "asn": 64599}))
    assert d.replaces == ["peer"] and d.delete_before_replace is True
    d = p.diff("rs1/64501", _state(), _news(route_server={**RS, "name": "rs2"}, base_config_id="rs2"))
    assert d.replaces == ["route_server"] and d.delete_before_replace is True
    d = p.diff("rs1/64501", _state(), _news(route_server={**RS, "confirm_timeout": 60}))
    assert d.changes is True and d.replaces == []


def test_a_preview_with_an_unknown_base_config_shows_the_replacement_up_will_make() -> None:
    """The server config changes, so its id is unknown to the peer files in a preview: the base class's
    rule judges what is known (a renamed route server or another ASN is a replacement, as in ``up``)."""
    p = BirdPeerFileProvider()
    d = p.diff("rs1/64501", _state(), {**_news(), "base_config_id": UNKNOWN})
    assert (d.changes, d.replaces) == (True, [])
    d = p.diff("rs1/64501", _state(), {**_news(route_server={**RS, "name": "rs2"}, base_config_id="rs2"),
                                       "base_config_id": UNKNOWN})
    assert (d.changes, d.replaces, d.delete_before_replace) == (True, ["route_server"], True)
    d = p.diff("rs1/64501", _state(), {**_news(peer={**PEER, "asn": 64599}), "base_config_id": UNKNOWN})
    assert d.replaces == ["peer"]
    d = p.diff("rs1/64501", _state(), {**_news(), "route_server": UNKNOWN, "base_config_id": UNKNOWN})
    assert d.replaces == ["route_server"]


def test_diff_sees_drift_found_by_refresh() -> None:
    p = BirdPeerFileProvider()
    assert p.diff("rs1/64501", {**_state(), "sha256": "edited-by-hand"}, _news()).changes is True
    assert p.diff("rs1/64501", {**_state(), "sessions": {}}, _news()).changes is True


def test_server_config_check_and_diff() -> None:
    p = BirdServerConfigProvider()
    r = p.check({}, {"route_server": RS, "rpki": {"rtr": [{"host": "rtr.example.net"}]}, "protocols": None})
    assert r.failures == [] and r.inputs["filter_policy"]["max_length_v4"] == 24
    bad = p.check({}, {"route_server": RS, "rpki": {"rtr": [{"host": 'x"; include "/y'}]}})
    assert [f.property for f in bad.failures] == ["rpki.rtr.0.host"]
    both = p.check({}, {"route_server": RS, "rpki": {"rtr": [{"host": "a"}], "static_roas": []}})
    assert both.failures and "exactly one" in both.failures[0].reason
    state = {**r.inputs, "sha256": render.sha256(render.render_server_config(samples.RS, samples.RPKI_RTR.model_copy(
        update={"rtr": [samples.RPKI_RTR.rtr[0].model_copy(update={"host": "rtr.example.net", "port": 323})]}))),
        "protocols": {"ks_device": "up", "ks_rpki1": "start"}}
    assert p.diff("rs1", state, {**r.inputs, "__provider": "b"}).changes is False
    news = p.check({}, {"route_server": RS, "rpki": {"static_roas": []}}).inputs
    assert p.diff("rs1", state, {**news, "__provider": "b"}).changes is True


def test_server_config_seeds_render_as_their_peer_files_and_are_never_a_change() -> None:
    p = BirdServerConfigProvider()
    seed = {"peer": PEER, "import_limit_v4": 100, "import_limit_v6": 20, "receive_limit_v4": 200,
            "receive_limit_v6": 40, "rpki": True}
    r = p.check({}, {"route_server": RS, "rpki": {"rtr": [{"host": "rtr.example.net"}]}, "seed_peers": [seed]})
    assert r.failures == []
    inputs = p.inputs(r.inputs)
    own = PeerFileInputs.model_validate(BirdPeerFileProvider().check({}, peer_inputs()).inputs)
    assert inputs.seeds() == (render_seed(own),)
    state = {**r.inputs, "sha256": render.sha256(inputs.render()), "protocols": {"ks_device": "up", "ks_rpki1": "start"}}
    more = {**r.inputs, "seed_peers": [seed, {**seed, "peer": samples.PEERS["as64502"].model_dump(mode="json")}]}
    assert p.diff("rs1", state, more).changes is False
    # a seed is checked like the peer file it stands for
    bad = p.check({}, {"route_server": RS, "rpki": {"rtr": [{"host": "r"}]}, "seed_peers": [{**seed, "peer": {**PEER, "asn": 64511}}]})
    assert bad.failures and "own ASN" in " ".join(f.reason for f in bad.failures)


def render_seed(f: PeerFileInputs):
    from providers.bird.plan import Seed
    return Seed(f.path, f.render())


def test_providers_pickle_by_reference_and_small() -> None:
    for provider in (BirdPeerFileProvider(), BirdServerConfigProvider()):
        blob = serialize_provider(provider)
        assert len(blob) < 200
        assert vars(provider) == {}


class _Mocks(pulumi.runtime.Mocks):
    def __init__(self):
        self.resources = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.resources.append(args)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


def test_type_tokens_under_mocks() -> None:
    mocks = _Mocks()
    pulumi.runtime.set_mocks(mocks, project="keystone", stack="test", preview=False)

    @pulumi.runtime.test
    def program():
        base = BirdServerConfig("rs1-base", {"route_server": samples.RS, "rpki": samples.RPKI_STATIC})
        peer = BirdPeerFile("rs1-as64501", {"route_server": samples.RS, "peer": samples.PEERS["as64501"],
                                             "base_config_id": base.id},
                            opts=pulumi.ResourceOptions(depends_on=[base]))
        return pulumi.Output.all(base.id, peer.id, peer.path).apply(lambda v: v)

    program()
    types = {r.name: r.typ for r in mocks.resources}
    assert types == {"rs1-base": "pulumi-python:dynamic/bird:ServerConfig", "rs1-as64501": "pulumi-python:dynamic/bird:PeerFile"}
    peer = next(r for r in mocks.resources if r.name == "rs1-as64501")
    assert peer.inputs["peer"]["asn"] == 64501 and peer.inputs["route_server"]["name"] == "rs1"
