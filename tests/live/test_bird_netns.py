"""bird:ServerConfig and bird:PeerFile against real BIRD daemons in network namespaces (see conftest.py).

The providers run inside the real dynamic-provider gRPC host (``python -m pulumi.dynamic``), exactly as
``pulumi up`` runs them, with the local transport; the route server's daemon is reached through its
control socket.  The tests share one lab and run in file order: deploy, prove the filters from the
second peer's view, prove that failures leave the daemon untouched, the self-rollback of an
unconfirmed apply, the CRUD lifecycle, ROA changes re-validating routes without a session reset,
the import limit, the teardown rules, and the transport's SSH batch-script code path.
"""
from __future__ import annotations

import re
import time

import pytest

from providers.bird import apply, models, parse, plan, render
from providers.bird.peer_file import BirdPeerFileProvider
from providers.bird.server_config import BirdServerConfigProvider, SeedPeer
from providers.readcache import ReadCache
from providers.host import HostTarget
from providers.transport import SshTransport, for_host
from tests.harness.netns import (
    ADDRS,
    CAUSES,
    P1_ASN,
    P1_OWN_COMMUNITY,
    P1_PREFIXES,
    P1_ROUTES_V4,
    P1_ROUTES_V6,
    P2_ASN,
    RS_ASN,
    STATIC_ROAS,
    Lab,
    p1_config,
    sh,
)
from tests.harness.provider_host import DynamicProviderHost, ProviderError
from tests.harness.wait import wait_for

pytestmark = pytest.mark.netns

P1_V4, P1_V6 = f"as{P1_ASN}_10_99_0_2", f"as{P1_ASN}_fd00_99__2"
P2_V4, P2_V6 = f"as{P2_ASN}_10_99_0_3", f"as{P2_ASN}_fd00_99__3"
SESSIONS = (P1_V4, P1_V6, P2_V4, P2_V6)


def peer_spec(asn: int, name: str, v4: str, v6: str, **kw) -> dict:
    return {"asn": asn, "name": name, "addresses": {"ipv4": [v4], "ipv6": [v6]},
            "max_prefixes": {"ipv4": 10, "ipv6": 10}, **kw}


@pytest.fixture(scope="session")
def route_server(lab: Lab) -> dict:
    return {
        "name": "rs1",
        "target": {"name": "rs1", "address": "local"},
        "config_dir": str(lab.rs.dir),
        "peers_dir": str(lab.rs.dir / "peers.d"),
        "control_socket": str(lab.rs.socket),
        "asn": RS_ASN,
        "router_id": ADDRS["rs"][0],
        "confirm_timeout": 10,
        "peering_lan_v4": "10.99.0.0/24",
        "peering_lan_v6": "fd00:99::/64",
    }


@pytest.fixture(scope="session")
def grpc():
    with DynamicProviderHost() as host:
        yield host


class Deployment:
    def __init__(self, grpc: DynamicProviderHost, route_server: dict):
        self.rs = route_server
        self.server = grpc.resource(BirdServerConfigProvider(), "urn:pulumi:test::keystone::bird:ServerConfig::rs1")
        self.peers = {
            P1_ASN: grpc.resource(BirdPeerFileProvider(), "urn:pulumi:test::keystone::bird:PeerFile::rs1-as64501"),
            P2_ASN: grpc.resource(BirdPeerFileProvider(), "urn:pulumi:test::keystone::bird:PeerFile::rs1-as64502"),
        }
        self.state: dict[object, tuple[str, dict]] = {}
        self.refusal: str | None = None

    def server_inputs(self, **kw) -> dict:
        return {"route_server": self.rs, "rpki": {"static_roas": STATIC_ROAS}, **kw}

    def peer_inputs(self, asn: int, **kw) -> dict:
        who = {P1_ASN: ("peer-one", "p1"), P2_ASN: ("peer-two", "p2")}[asn]
        spec = peer_spec(asn, who[0], *ADDRS[who[1]], **({"prefixes": P1_PREFIXES} if asn == P1_ASN else {}))
        return {"route_server": self.rs, "peer": spec, "base_config_id": self.state["server"][0], **kw}


@pytest.fixture(scope="session")
def deployed(lab: Lab, grpc: DynamicProviderHost, route_server: dict) -> Deployment:
    d = Deployment(grpc, route_server)
    before = lab.rs.status().last_reconfiguration
    # The route server runs a hand-written config: Keystone must refuse to take it over silently.
    with pytest.raises(ProviderError) as refused:
        d.server.up(d.server_inputs())
    d.refusal = refused.value.details
    assert lab.rs.status().last_reconfiguration == before
    d.state["server"] = d.server.up(d.server_inputs(take_over_existing=True))
    for asn in (P1_ASN, P2_ASN):
        d.state[asn] = d.peers[asn].up(d.peer_inputs(asn))
    wait_for("all four sessions Established", lambda: lab.rs.established(*SESSIONS), timeout=20)
    # Routes arrive in several updates and, on a loaded machine, seconds apart: every test below reads a
    # converged lab (and the provider host's 3 s read cache never holds a read from before convergence).
    wait_for("every route of peer 1 judged and exported", lambda: converged(lab), timeout=30)
    return d


def converged(lab: Lab) -> bool:
    """Peer 2 has exactly what the route server exports, and every route peer 1 sends is on the route
    server: accepted or kept as filtered."""
    exported = ({P1_ROUTES_V4["valid"][0], P1_ROUTES_V4["unknown"][0]}, {P1_ROUTES_V6["valid"][0]})
    if (set(lab.p2.routes("master4")), set(lab.p2.routes("master6"))) != exported:
        return False
    return all_filtered_present(lab)


def running_snapshot(lab: Lab) -> tuple[dict, str | None]:
    """Protocols (with their Since) and the time of the last reconfiguration."""
    return lab.rs.protocols(), lab.rs.status().last_reconfiguration


def scratch(lab: Lab) -> list[str]:
    return sorted(p.name for d in (lab.rs.dir, lab.rs.dir / "peers.d") for p in d.iterdir()
                  if ".keystone-" in p.name and not p.name.endswith(".keystone-orig"))


# --- deploy ----------------------------------------------------------------------------------------

def test_unmanaged_main_config_is_not_taken_over_silently(deployed: Deployment, lab: Lab) -> None:
    assert "is not managed by Keystone" in deployed.refusal and "take_over_existing" in deployed.refusal
    assert "bird:ServerConfig rs1 (route server rs1, host rs1" in deployed.refusal
    orig = lab.rs.dir / "bird.conf.keystone-orig"
    assert orig.read_text().startswith("# hand-written before Keystone")


def test_deployment_outputs_and_read(deployed: Deployment, lab: Lab) -> None:
    server_id, server_outs = deployed.state["server"]
    assert server_id == "rs1"
    assert server_outs["path"] == str(lab.rs.config)
    assert server_outs["sha256"] == render.sha256(lab.rs.config.read_text())
    assert server_outs["protocols"] == {"ks_device": "up", "ks_roa4_static": "up", "ks_roa6_static": "up"}
    for asn in (P1_ASN, P2_ASN):
        id_, outs = deployed.state[asn]
        assert id_ == f"rs1/{asn}"
        assert outs["path"] == str(lab.rs.dir / "peers.d" / f"as{asn}.conf")
        assert (outs["import_limit_v4"], outs["receive_limit_v4"], outs["rpki"]) == (10, 20, True)
        rid, routs, rinputs = deployed.peers[asn].read(id_, outs)
        assert rid == id_
        assert set(routs["sessions"].values()) == {"Established"}
        assert routs["sha256"] == outs["sha256"]
        assert rinputs == {k: v for k, v in outs.items() if k not in ("path", "sha256", "sessions", "routes")}
    # files as the Debian daemon needs them: root:bird 0640, readable by the `bird` user
    st = (lab.rs.dir / "peers.d" / f"as{P1_ASN}.conf").stat()
    assert oct(st.st_mode & 0o777) == "0o640"
    assert scratch(lab) == []


def test_routes_seen_from_the_second_peer(deployed: Deployment, lab: Lab) -> None:
    """What the route server exports to peer 2: ROA-valid and RPKI-unknown routes, each tagged with its
    RPKI state (RS:1000:1 valid, RS:1000:2 unknown); nothing else.  Peer 1 forged a "valid" state and a
    reject cause on its unknown route: the route server deleted them, and kept peer 1's own community."""
    v4, v6 = peer2_routes(lab, "master4"), peer2_routes(lab, "master6")
    assert set(v4) == {P1_ROUTES_V4["valid"][0], P1_ROUTES_V4["unknown"][0]}
    assert set(v6) == {P1_ROUTES_V6["valid"][0]}
    assert v4[P1_ROUTES_V4["valid"][0]].large_communities == ((RS_ASN, 1000, 1),)
    assert set(v4[P1_ROUTES_V4["unknown"][0]].large_communities) == {(RS_ASN, 1000, 2), P1_OWN_COMMUNITY}
    assert v6[P1_ROUTES_V6["valid"][0]].large_communities == ((RS_ASN, 1000, 1),)
    # they did reach the route server (import table keeps them): filtered, not lost.  Routes arrive in
    # several updates: peer 2 having the valid ones says nothing about the last of the filtered ones.
    def received() -> str:
        return lab.rs.birdc("show", "route", "import", "table", f"{P1_V4}.ipv4").stdout

    wait_for("every route of peer 1 in its import table",
             lambda: all(net in received() for net, *_ in P1_ROUTES_V4.values()), timeout=30)
    for net, *_ in P1_ROUTES_V4.values():
        assert net in received()


def peer2_routes(lab: Lab, table: str) -> dict[str, parse.Route]:
    """Peer 2's view: network → the route it received from the route server (attributes included)."""
    return {r.network: r for r in parse.parse_routes(lab.p2.birdc("show", "route", "table", table, "all").stdout)}


def filtered_on_the_route_server(lab: Lab) -> dict[str, parse.Route]:
    """Network → filtered route kept by the route server (``import keep filtered on``)."""
    return {r.network: r for r in parse.parse_routes(lab.rs.birdc("show", "route", "filtered", "table", "all", "all").stdout)}


def all_filtered_present(lab: Lab) -> bool:
    return {net for name, (net, *_) in REJECTED} <= set(filtered_on_the_route_server(lab))


#: Every route peer 1 sends that the policy must reject: (rule, (net, path, ...)).
REJECTED = [(f"v4-{k}", v) for k, v in P1_ROUTES_V4.items() if k in CAUSES] + \
    [(f"v6-{k}", v) for k, v in P1_ROUTES_V6.items() if k in CAUSES]


@pytest.mark.parametrize("rule,route", REJECTED, ids=[name for name, _ in REJECTED])
def test_rejected_route_is_kept_tagged_with_its_cause_and_never_exported(deployed: Deployment, lab: Lab,
                                                                           rule: str, route: tuple) -> None:
    """From a peer's view: each rule of the policy rejects its route, which the route server keeps with
    the reject cause RS:65520:<cause> and never announces (peer 2 does not get it)."""
    net = route[0]
    cause = CAUSES[rule.split("-", 1)[1]]
    wait_for(f"{net} among the route server's filtered routes", lambda: net in filtered_on_the_route_server(lab),
             timeout=30)
    kept = filtered_on_the_route_server(lab)[net]
    assert kept.protocol == (P1_V4 if rule.startswith("v4") else P1_V6)
    assert [c for c in kept.large_communities if c[:2] == (RS_ASN, 65520)] == [(RS_ASN, 65520, cause)]
    assert net not in peer2_routes(lab, "master4" if rule.startswith("v4") else "master6")


def test_refresh_outputs_route_counts_by_cause_in_one_round_trip(deployed: Deployment, lab: Lab, monkeypatch) -> None:
    """``refresh`` (Read of every peer file and the server config) reads the counts by cause from one
    ``show protocols all`` and one ``show route filtered`` in the route server's single shared round trip."""
    wait_for("every rejected route filtered", lambda: all_filtered_present(lab), timeout=30)
    transport = for_host(models.RouteServer.model_validate(deployed.rs).target)
    monkeypatch.setattr(apply, "READS", ReadCache(apply.READ_TTL))
    before = transport.stats.round_trips
    peer_provider, server_provider = BirdPeerFileProvider(), BirdServerConfigProvider()
    reads = {asn: peer_provider.read(*deployed.state[asn]) for asn in (P1_ASN, P2_ASN)}
    server = server_provider.read(*deployed.state["server"])
    assert transport.stats.round_trips == before + 1
    routes = reads[P1_ASN].outs["routes"]
    assert routes[P1_V4] == {"received": 11, "accepted": 2, "filtered": 9,
                             "filtered_by_cause": {"1": 1, "2": 1, "5": 1, "6": 1, "12": 1, "13": 3, "14": 1}}
    assert routes[P1_V6] == {"received": 8, "accepted": 1, "filtered": 7,
                             "filtered_by_cause": {"2": 1, "6": 1, "10": 1, "12": 1, "13": 2, "14": 1}}
    assert reads[P2_ASN].outs["routes"] == {
        n: {"received": 0, "accepted": 0, "filtered": 0, "filtered_by_cause": {}} for n in (P2_V4, P2_V6)}
    assert server.outs["routes"] == {"received": 19, "accepted": 3, "filtered": 16, "filtered_by_cause": {
        "1": 1, "2": 2, "5": 1, "6": 2, "10": 1, "12": 2, "13": 5, "14": 2}}
    # the same through the gRPC host, as `pulumi refresh` runs it
    _, outs, _ = deployed.peers[P1_ASN].read(*deployed.state[P1_ASN])
    assert outs["routes"] == routes


def test_peers_report_on_the_live_route_server(deployed: Deployment, lab: Lab, tmp_path, monkeypatch) -> None:
    """``python -m ops peers-report`` against the running route server: per ASN the sessions, and each
    filtered prefix with its cause, ready to paste into a mail to the peer."""
    import io
    import json

    from ops import peers_report

    wait_for("every rejected route filtered", lambda: all_filtered_present(lab), timeout=30)
    (tmp_path / "roster.yaml").write_text(
        "people: {}\npeers:\n"
        f"  {P1_ASN}:\n    name: Peer One\n    contact: noc@peer-one.example\n    zerotier_member: \"a1b2c3d4e5\"\n"
        f"    addresses: [{ADDRS['p1'][0]}, \"{ADDRS['p1'][1]}\"]\n    max_prefixes: {{ipv4: 10, ipv6: 10}}\n"
        f"  {P2_ASN}:\n    name: Peer Two\n    contact: noc@peer-two.example\n    zerotier_member: \"0f1e2d3c4b\"\n"
        f"    addresses: [{ADDRS['p2'][0]}, \"{ADDRS['p2'][1]}\"]\n    max_prefixes: {{ipv4: 10, ipv6: 10}}\n")
    rs = deployed.rs
    peering = {"lans": ["10.99.0.0/24", "fd00:99::/64"], "allowPrivateAsns": True,
               "rpki": {"staticRoas": [{"prefix": r["prefix"], "maxLength": r["max_length"], "asn": r["asn"]}
                                       for r in STATIC_ROAS]},
               "routeServers": [{"name": rs["name"], "address": "local", "asn": rs["asn"], "routerId": rs["router_id"],
                                 "configDir": rs["config_dir"], "peersDir": rs["peers_dir"],
                                 "controlSocket": rs["control_socket"]}]}
    stack = tmp_path / "Pulumi.lab.yaml"
    stack.write_text(json.dumps({"config": {"keystone:roster": "roster.yaml", "keystone:peering": peering}}))
    monkeypatch.setattr(apply, "READS", ReadCache(apply.READ_TTL))
    out, err = io.StringIO(), io.StringIO()
    assert peers_report.run(str(stack), out=out, err=err) == 0, err.getvalue()
    text = out.getvalue()
    (lab.root / "peers-report.txt").write_text(text)
    one = text[text.index(f"AS{P1_ASN} Peer One <noc@peer-one.example>"):text.index(f"AS{P2_ASN} Peer Two")]
    assert f"Route server rs1 (AS{RS_ASN}):" in one
    assert f"session {P1_V4}: Established; 11 received, 2 accepted, 9 filtered" in one
    assert f"session {P1_V6}: Established; 8 received, 1 accepted, 7 filtered" in one
    for name, (net, *_) in REJECTED:
        line = next(x for x in one.splitlines() if x.strip().startswith(net + " "))
        assert f"cause {CAUSES[name.split('-', 1)[1]]} " in line, line
    assert "185.2.4.0/24" in one and "(65 ASes)" in one
    assert "next hop 10.99.0.3" in one  # the third-party next hop, as received
    two = text[text.index(f"AS{P2_ASN} Peer Two"):]
    assert "no filtered prefixes" in two and "0 received" in two
    # only one ASN
    out = io.StringIO()
    assert peers_report.run(str(stack), [P2_ASN], out=out, err=err) == 0
    assert f"AS{P1_ASN}" not in out.getvalue() and f"AS{P2_ASN} Peer Two" in out.getvalue()
    # a second route server that does not answer: the report still shows the first, and exits 1
    peering["routeServers"].append({**peering["routeServers"][0], "name": "rs2", "routerId": "10.99.0.9",
                                    "configDir": str(tmp_path / "rs2"), "peersDir": str(tmp_path / "rs2" / "peers.d"),
                                    "controlSocket": str(tmp_path / "rs2.ctl")})
    stack.write_text(json.dumps({"config": {"keystone:roster": "roster.yaml", "keystone:peering": peering}}))
    out, err = io.StringIO(), io.StringIO()
    assert peers_report.run(str(stack), out=out, err=err) == 1
    assert "could not read route server(s) rs2" in err.getvalue()
    assert f"session {P1_V4}: Established; 11 received" in out.getvalue()
    assert "Route server rs2: could not be read (route server rs2 (host rs2): cannot talk to BIRD" in out.getvalue()


# --- failures leave the daemon as it was -----------------------------------------------------------

def _peer3_change(route_server: dict, content: str, **rs_update) -> plan.Change:
    rs = models.RouteServer.model_validate({**route_server, **rs_update})
    return plan.Change(kind="peer", rs=rs, resource="bird:PeerFile rs1/64503", live=rs.peer_file(64503),
                       content=content, marker=("bird:PeerFile", "rs1/64503"), adopt=True)


@pytest.mark.parametrize("case", ["syntax_error", "unclosed_brace"])
def test_broken_peer_file_leaves_the_running_config_untouched(deployed, lab: Lab, route_server: dict, case: str) -> None:
    rs = models.RouteServer.model_validate(route_server)
    good = render.render_peer_file(rs, models.PeerSpec(**peer_spec(64503, "peer-three", "10.99.0.4", "fd00:99::4")),
                                   render.Limits(10, 10, 20, 20))
    if case == "syntax_error":
        broken, line = good.replace("neighbor 10.99.0.4 as 64503;", "neighbor 10.99.0.4 as 64503 oops;"), 7
    else:
        broken, line = good.rstrip()[:-1], None  # the last `}` is missing
    before = running_snapshot(lab)
    with pytest.raises(apply.ApplyError) as e:
        apply.apply_change(_peer3_change(route_server, broken))
    msg = str(e.value)
    assert "bird:PeerFile rs1/64503 (route server rs1, host rs1, file " in msg
    assert f"the candidate {lab.rs.dir}/peers.d/as64503.conf does not parse" in msg
    if line:
        assert f"{lab.rs.dir}/peers.d/as64503.conf (candidate):{line}:" in msg and "syntax error" in msg
    else:  # BIRD blames the main config's line 1; the message names the candidate's unclosed block
        block = broken.splitlines().index(next(x for x in reversed(broken.splitlines()) if x.startswith("protocol"))) + 1
        assert f"the `{{` opened at {lab.rs.dir}/peers.d/as64503.conf:{block} is never closed" in msg
    assert "Nothing was changed on the route server" in msg
    assert running_snapshot(lab) == before  # same protocols, same Since, no reconfiguration
    assert parse.parse_configure_status(lab.rs.birdc("configure", "status").stdout) is None
    assert not (lab.rs.dir / "peers.d" / "as64503.conf").exists() and scratch(lab) == []
    assert lab.rs.established(*SESSIONS)


def test_duplicate_neighbor_is_refused(deployed: Deployment, grpc: DynamicProviderHost, lab: Lab) -> None:
    before = running_snapshot(lab)
    client = grpc.resource(BirdPeerFileProvider(), "urn:pulumi:test::keystone::bird:PeerFile::rs1-as64503")
    with pytest.raises(ProviderError) as e:
        client.up({"route_server": deployed.rs, "base_config_id": "rs1",
                   "peer": peer_spec(64503, "peer-three", ADDRS["p1"][0], "fd00:99::4")})
    assert e.value.method == "Create"
    assert f"neighbor {ADDRS['p1'][0]} is already configured in {lab.rs.dir}/peers.d/as{P1_ASN}.conf" in e.value.details
    assert running_snapshot(lab) == before and not (lab.rs.dir / "peers.d" / "as64503.conf").exists()


def test_file_unreadable_by_the_bird_user_is_refused(deployed: Deployment, lab: Lab) -> None:
    stray = lab.rs.dir / "peers.d" / "zz-by-hand.conf"
    stray.write_text("# dropped here by hand, readable by root only\n")
    stray.chmod(0o600)
    before = running_snapshot(lab)
    try:
        with pytest.raises(ProviderError) as e:
            deployed.peers[P2_ASN].up(deployed.peer_inputs(P2_ASN, import_limit_v4=11), prior=deployed.state[P2_ASN])
        assert "parses as root but not as the bird user" in e.value.details
        assert "zz-by-hand.conf: Permission denied" in e.value.details
        assert running_snapshot(lab) == before
    finally:
        stray.unlink()


def test_unconfirmed_apply_rolls_back_by_itself(deployed, lab: Lab, route_server: dict) -> None:
    """Run the apply up to `configure timeout 3` and stop, as if the connection were cut."""
    rs = models.RouteServer.model_validate({**route_server, "confirm_timeout": 3})
    content = render.render_peer_file(rs, models.PeerSpec(**peer_spec(64503, "peer-three", "10.99.0.4", "fd00:99::4")),
                                      render.Limits(10, 10, 20, 20))
    change = _peer3_change(route_server, content, confirm_timeout=3)
    established_since = {n: p.since for n, p in lab.rs.protocols().items() if n in SESSIONS}
    transport = for_host(rs.target)
    seen = plan.observe(change, transport.run_batch(plan.gather_commands(change), stop_on_error=False))
    assert plan.check(change, seen) == []
    transport.run_batch([c for _, c in plan.apply_steps(change, seen)])  # ... and no confirm
    assert "as64503_10_99_0_4" in lab.rs.protocols()
    assert parse.parse_configure_status(lab.rs.birdc("configure", "status").stdout) is not None
    wait_for("BIRD to undo the unconfirmed change", lambda: "as64503_10_99_0_4" not in lab.rs.protocols()
             and parse.parse_configure_status(lab.rs.birdc("configure", "status").stdout) is None, timeout=30)
    assert {n: p.since for n, p in lab.rs.protocols().items() if n in SESSIONS} == established_since
    assert lab.rs.established(*SESSIONS)
    # BIRD undid the daemon only: the file is still on disk; the next apply (here: a removal) cleans up
    assert (lab.rs.dir / "peers.d" / "as64503.conf").exists()
    apply.apply_change(_peer3_change(route_server, None))
    assert not (lab.rs.dir / "peers.d" / "as64503.conf").exists() and scratch(lab) == []


# --- the CRUD lifecycle through the gRPC host ----------------------------------------------------------

def test_crud_lifecycle(deployed: Deployment, grpc: DynamicProviderHost, lab: Lab) -> None:
    client = grpc.resource(BirdPeerFileProvider(), "urn:pulumi:test::keystone::bird:PeerFile::rs1-as64503")
    path = lab.rs.dir / "peers.d" / "as64503.conf"
    news = {"route_server": deployed.rs, "base_config_id": "rs1",
            "peer": peer_spec(64503, "peer-three", "10.99.0.4", "fd00:99::4", description="Peer Three")}
    before = running_snapshot(lab)[0]

    inputs, failures = client.check(news)
    assert failures == [] and inputs["import_limit_v4"] == 10
    id_, outs = client.create(inputs)
    assert id_ == "rs1/64503" and path.read_text().count("protocol bgp") == 2
    assert set(outs["sessions"]) == {"as64503_10_99_0_4", "as64503_fd00_99__4"}
    assert {n: p.since for n, p in lab.rs.protocols().items() if n in before and n in SESSIONS} == \
        {n: p.since for n, p in before.items() if n in SESSIONS}  # adding a peer restarts no other session

    rid, routs, rinputs = client.read(id_, outs)
    assert rid == id_ and routs["sha256"] == outs["sha256"] == render.sha256(path.read_text())
    assert rinputs == inputs
    assert client.diff(id_, routs, inputs).changes is False

    news2 = {**news, "import_limit_v4": 5, "peer": {**news["peer"], "description": "Peer Three Ltd"}}
    inputs2, _ = client.check(news2, outs)
    assert client.diff(id_, routs, inputs2).changes is True
    outs2 = client.update(id_, routs, inputs2)
    assert "import limit 5 action restart;" in path.read_text() and '"AS64503 Peer Three Ltd"' in path.read_text()
    assert outs2["sha256"] == render.sha256(path.read_text()) != outs["sha256"]

    # a hand edit shows up on refresh and the next diff repairs it
    path.write_text(path.read_text().replace("import limit 5", "import limit 500"))
    _, routs2, _ = client.read(id_, outs2)
    assert routs2["sha256"] != outs2["sha256"]
    assert client.diff(id_, routs2, inputs2).changes is True
    outs3 = client.update(id_, routs2, inputs2)
    assert "import limit 5 action restart;" in path.read_text() and outs3["sha256"] == outs2["sha256"]

    client.delete(id_, outs3)
    assert not path.exists() and scratch(lab) == []
    assert not {"as64503_10_99_0_4", "as64503_fd00_99__4"} & set(lab.rs.protocols())
    gone_id, gone_outs, _ = client.read(id_, outs3)
    assert not gone_id and gone_outs == {}
    assert lab.rs.established(*SESSIONS)


def test_server_config_read_and_no_op_update(deployed: Deployment, lab: Lab) -> None:
    id_, outs = deployed.state["server"]
    rid, routs, rinputs = deployed.server.read(id_, outs)
    assert rid == "rs1" and routs["sha256"] == outs["sha256"]
    assert deployed.server.diff(id_, routs, rinputs).changes is False
    before = running_snapshot(lab)
    assert deployed.server.up(deployed.server_inputs(take_over_existing=True), prior=(id_, routs)) == (id_, routs)
    assert running_snapshot(lab) == before


def test_roa_change_revalidates_routes_without_a_session_reset(deployed: Deployment, lab: Lab) -> None:
    """A new ROA makes an RPKI-unknown route invalid: it disappears from peer 2's view without any session
    restarting (``import table on`` lets BIRD re-check routes when the ROA table changes)."""
    unknown = P1_ROUTES_V4["unknown"][0]
    hijack_roa = {"prefix": "185.2.0.0/16", "max_length": 24, "asn": 64999}
    since = {n: p.since for n, p in lab.rs.protocols().items() if n in SESSIONS}
    id_, outs = deployed.state["server"]
    outs2 = deployed.server.up(deployed.server_inputs(take_over_existing=True,
                                                      rpki={"static_roas": STATIC_ROAS + [hijack_roa]}), prior=(id_, outs))[1]
    assert "route 185.2.0.0/16 max 24 as 64999;" in lab.rs.config.read_text()
    wait_for("the now RPKI-invalid route to be withdrawn", lambda: unknown not in lab.p2.routes("master4"), timeout=20)
    wait_for("the route kept as filtered, tagged RPKI invalid", lambda: (RS_ASN, 65520, 14) in
             filtered_on_the_route_server(lab).get(unknown, parse.Route("", "", "")).large_communities, timeout=30)
    assert {n: p.since for n, p in lab.rs.protocols().items() if n in SESSIONS} == since
    deployed.state["server"] = deployed.server.up(deployed.server_inputs(take_over_existing=True), prior=(id_, outs2))
    wait_for("the route to come back", lambda: unknown in lab.p2.routes("master4"), timeout=20)
    assert set(peer2_routes(lab, "master4")[unknown].large_communities) == {(RS_ASN, 1000, 2), P1_OWN_COMMUNITY}
    assert unknown not in filtered_on_the_route_server(lab)
    assert {n: p.since for n, p in lab.rs.protocols().items() if n in SESSIONS} == since


# --- limits --------------------------------------------------------------------------------------------

def test_import_limit_is_enforced(deployed: Deployment, lab: Lab) -> None:
    """Peer 1 sends 2 acceptable IPv4 routes; with an import limit of 1 the session is torn down."""
    prior = deployed.state[P1_ASN]
    limited = deployed.peers[P1_ASN].up(deployed.peer_inputs(P1_ASN, import_limit_v4=1, receive_limit_v4=100), prior=prior)
    wait_for("the IPv4 session to hit its import limit",
             lambda: "limit" in lab.rs.protocols()[P1_V4].info.lower() and not lab.rs.protocols()[P1_V4].established,
             timeout=15)
    assert "Import limit:   1 [HIT]" in lab.rs.birdc("show", "protocols", "all", P1_V4).stdout
    wait_for("peer 2 to lose peer 1's IPv4 routes", lambda: not lab.p2.routes("master4"), timeout=30)
    assert lab.rs.established(P1_V6, P2_V4, P2_V6)  # the other sessions are untouched
    # back to the roster's limit; BIRD holds a session that hit its limit down for `error wait time`
    # (60 s): restart it by hand, as an operator would after fixing the cause
    deployed.state[P1_ASN] = deployed.peers[P1_ASN].up(deployed.peer_inputs(P1_ASN), prior=limited)
    lab.rs.birdc("restart", P1_V4)
    wait_for("peer 1's IPv4 session to come back", lambda: lab.rs.established(P1_V4), timeout=15)
    wait_for("peer 2 to see peer 1's IPv4 routes again",
             lambda: lab.p2.routes("master4") == {P1_ROUTES_V4["valid"][0], P1_ROUTES_V4["unknown"][0]}, timeout=30)


def test_receive_limit_counts_filtered_routes(deployed: Deployment, lab: Lab) -> None:
    """Peer 1 sends 11 IPv4 routes, 9 of them filtered: an import limit of 3 is never reached (2 accepted),
    a receive limit of 5 is (filtered routes count towards it), and the session is torn down."""
    prior = deployed.state[P1_ASN]
    wait_for("peer 1's IPv4 routes all received", lambda: lab.rs.protocols()[P1_V4].established and
             parse.parse_route_counts(lab.rs.birdc("show", "protocols", "all", P1_V4).stdout)[P1_V4]["ipv4"].received == len(P1_ROUTES_V4),
             timeout=20)
    limited = deployed.peers[P1_ASN].up(deployed.peer_inputs(P1_ASN, import_limit_v4=3, receive_limit_v4=5), prior=prior)
    wait_for("the IPv4 session to hit its receive limit",
             lambda: "limit" in lab.rs.protocols()[P1_V4].info.lower() and not lab.rs.protocols()[P1_V4].established,
             timeout=15)
    detail = lab.rs.birdc("show", "protocols", "all", P1_V4).stdout
    assert "Receive limit:  5 [HIT]" in detail and "Import limit:   3\n" in detail
    assert lab.rs.protocols()[P1_V4].summary == "start (Automatic shutdown: Route limit exceeded)"
    wait_for("peer 2 to lose peer 1's IPv4 routes", lambda: not lab.p2.routes("master4"), timeout=30)
    assert lab.rs.established(P1_V6, P2_V4, P2_V6)
    deployed.state[P1_ASN] = deployed.peers[P1_ASN].up(deployed.peer_inputs(P1_ASN), prior=limited)
    lab.rs.birdc("restart", P1_V4)
    wait_for("peer 1's IPv4 session to come back", lambda: lab.rs.established(P1_V4), timeout=15)
    wait_for("every rejected route filtered again", lambda: all_filtered_present(lab), timeout=15)


def _memory(lab: Lab) -> dict[str, float]:
    """``show memory`` → section → effective bytes."""
    units = {"B": 1, "kB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}
    out = {}
    for line in parse.reply_lines(lab.rs.birdc("show", "memory").stdout):
        m = re.match(r"^\s*([A-Za-z ]+):\s+([0-9.]+)\s+(B|kB|MB|GB)\b", line)
        if m:
            out[m.group(1).strip()] = float(m.group(2)) * units[m.group(3)]
    return out


def test_memory_cost_per_filtered_route(deployed: Deployment, lab: Lab, capsys) -> None:
    """Peer 1 adds N bogon routes: the route server keeps them all as filtered.  Measured twice: routes
    sharing one set of attributes (a peer leaking a block of prefixes), and each with its own AS path
    (the worst case).  The figures (the route server's ``show memory``, per filtered route) are printed
    and written in the README."""
    n = 4000
    prior = deployed.state[P1_ASN]
    deployed.state[P1_ASN] = deployed.peers[P1_ASN].up(
        deployed.peer_inputs(P1_ASN, receive_limit_v4=n + 100), prior=prior)
    wait_for("peer 1's IPv4 session up with the higher receive limit", lambda: lab.rs.established(P1_V4), timeout=15)
    wait_for("every rejected route filtered", lambda: all_filtered_present(lab), timeout=15)

    def filtered() -> int:
        counts = parse.parse_route_counts(lab.rs.birdc("show", "protocols", "all", P1_V4).stdout)
        return counts.get(P1_V4, {}).get("ipv4", parse.ChannelRoutes()).filtered

    figures = {}
    try:
        for variant in ("shared attributes", "one AS path each"):
            before = _memory(lab)
            origin = (lambda i: f"bgp_path.prepend({4200000000 + i}); ") if variant == "one AS path each" else \
                (lambda i: "")
            extra = [f"  route 10.{2 + i // 256}.{i % 256}.0/24 blackhole {{ {origin(i)}bgp_path.prepend({P1_ASN}); }};"
                     for i in range(n)]
            lab.p1.config.write_text(p1_config(extra))
            assert "Reconfigured" in lab.p1.birdc("configure").stdout
            wait_for(f"{n} more filtered routes", lambda: filtered() == len(P1_ROUTES_V4) - 2 + n, timeout=60)
            time.sleep(1)
            after = _memory(lab)
            figures[variant] = {k: (after[k] - before[k]) / n for k in ("Routing tables", "Route attributes", "Total")}
            lab.p1.config.write_text(p1_config())
            lab.p1.birdc("configure")
            wait_for("the extra routes withdrawn", lambda: filtered() == len(P1_ROUTES_V4) - 2, timeout=60)
    finally:
        lab.p1.config.write_text(p1_config())
        lab.p1.birdc("configure")
    with capsys.disabled():
        for variant, per_route in figures.items():
            print(f"\nmemory per filtered route (bird 2.0.12, import table on + keep filtered, {n} routes, {variant}): "
                  + ", ".join(f"{k} {v:.0f} B" for k, v in per_route.items()))
    for per_route in figures.values():
        assert 50 < per_route["Total"] < 4096, figures
    deployed.state[P1_ASN] = deployed.peers[P1_ASN].up(deployed.peer_inputs(P1_ASN), prior=deployed.state[P1_ASN])
    wait_for("peer 1's IPv4 session up", lambda: lab.rs.established(P1_V4), timeout=15)


# --- teardown rules ------------------------------------------------------------------------------------

def test_teardown_order_and_the_empty_peer_set(deployed: Deployment, lab: Lab) -> None:
    server_id, server_outs = deployed.state["server"]
    with pytest.raises(ProviderError) as e:
        deployed.server.delete(server_id, server_outs)
    assert "peer file(s) still in" in e.value.details and "delete their bird:PeerFile resources first" in e.value.details

    deployed.peers[P2_ASN].delete(*deployed.state.pop(P2_ASN))
    assert not {P2_V4, P2_V6} & set(lab.rs.protocols())
    assert lab.rs.established(P1_V4, P1_V6)

    id_, outs = deployed.state[P1_ASN]
    with pytest.raises(ProviderError) as e:
        deployed.peers[P1_ASN].delete(id_, outs)
    assert "would leave rs1 with no peer at all" in e.value.details and "allow_empty_peer_set" in e.value.details
    assert lab.rs.established(P1_V4, P1_V6)

    # the admin allows it explicitly (an `up` with allow_empty_peer_set), then destroys
    rs_allow = {**deployed.rs, "allow_empty_peer_set": True}
    id_, outs = deployed.peers[P1_ASN].up({**deployed.peer_inputs(P1_ASN), "route_server": rs_allow}, prior=(id_, outs))
    deployed.peers[P1_ASN].delete(id_, outs)
    assert not list((lab.rs.dir / "peers.d").glob("*.conf"))
    deployed.server.delete(server_id, server_outs)
    assert lab.rs.config.exists()  # the main config is retained: BIRD cannot run without one
    assert set(lab.rs.protocols()) == {"ks_device", "ks_roa4_static", "ks_roa6_static"}
    assert scratch(lab) == []


class _ScriptTransport(SshTransport):
    """The SSH code path — one POSIX sh batch script on stdin, framed output, ``umask 077`` — with
    ``sh -s`` run locally instead of ``ssh HOST sh -s``."""

    def ensure_master(self) -> None:
        pass

    def ssh_argv(self, *extra: str) -> list[str]:
        return []


def test_the_ssh_batch_code_path(deployed: Deployment, lab: Lab, monkeypatch) -> None:
    """Apply, refuse and delete through the transport's SSH batch script (quoting, heredoc stdin, umask)."""
    script = _ScriptTransport(HostTarget(name="rs1", address="local"))
    monkeypatch.setattr(apply, "for_host", lambda target: script)
    monkeypatch.setattr(apply, "READS", ReadCache(apply.READ_TTL))
    provider = BirdPeerFileProvider()
    rs = {**deployed.rs, "allow_empty_peer_set": True}
    inputs = {asn: provider.check({}, {**deployed.peer_inputs(asn), "route_server": rs}).inputs for asn in (P1_ASN, P2_ASN)}
    for asn in (P1_ASN, P2_ASN):
        provider.create(inputs[asn])
    assert oct((lab.rs.dir / "peers.d" / f"as{P1_ASN}.conf").stat().st_mode & 0o777) == "0o640"  # despite umask 077
    wait_for("sessions over the script path", lambda: lab.rs.established(*SESSIONS), timeout=20)
    dup = provider.check({}, {"route_server": rs, "peer": peer_spec(64503, "x", ADDRS["p2"][0], "fd00:99::4")}).inputs
    with pytest.raises(apply.ApplyError, match="is already configured in"):
        provider.create(dup)
    for asn in (P1_ASN, P2_ASN):
        provider.delete(f"rs1/{asn}", inputs[asn])
    assert not list((lab.rs.dir / "peers.d").glob("*.conf")) and scratch(lab) == []
    assert script.stats.round_trips == 3 + 3 + 1 + 3 + 3


def test_a_new_route_server_comes_up_with_all_its_peers_in_one_configure(deployed: Deployment, grpc: DynamicProviderHost,
                                                                        lab: Lab) -> None:
    """First deployment: the bird:ServerConfig lays down every peer file in its own safe apply (seed_peers),
    and the bird:PeerFile creates that follow take their files as they are: no further configure."""
    original = lab.rs.dir / "bird.conf.keystone-orig"  # the hand-written config the lab started with
    lab.rs.config.write_text(original.read_text())
    lab.rs.birdc("configure")
    assert not list((lab.rs.dir / "peers.d").glob("*.conf"))
    provider = BirdPeerFileProvider()
    checked = {asn: provider.check({}, deployed.peer_inputs(asn, base_config_id="rs1")).inputs for asn in (P1_ASN, P2_ASN)}
    seeds = [SeedPeer.of(checked[asn]).model_dump(mode="json") for asn in (P1_ASN, P2_ASN)]

    server = grpc.resource(BirdServerConfigProvider(), "urn:pulumi:test::keystone::bird:ServerConfig::rs1-again")
    server_id, server_outs = server.up(deployed.server_inputs(take_over_existing=True, seed_peers=seeds))
    files = {asn: lab.rs.dir / "peers.d" / f"as{asn}.conf" for asn in (P1_ASN, P2_ASN)}
    assert all(f.exists() for f in files.values()) and scratch(lab) == []
    configured = lab.rs.status().last_reconfiguration
    inodes = {asn: f.stat().st_ino for asn, f in files.items()}

    peers = {asn: grpc.resource(BirdPeerFileProvider(), f"urn:pulumi:test::keystone::bird:PeerFile::again-{asn}")
             for asn in (P1_ASN, P2_ASN)}
    created = {asn: peers[asn].up(deployed.peer_inputs(asn, base_config_id=server_id)) for asn in (P1_ASN, P2_ASN)}
    assert lab.rs.status().last_reconfiguration == configured  # taken as they are
    assert {asn: f.stat().st_ino for asn, f in files.items()} == inodes
    assert all(created[asn][1]["sha256"] == render.sha256(files[asn].read_text()) for asn in created)
    wait_for("all four sessions Established after the seeded deployment", lambda: lab.rs.established(*SESSIONS), timeout=20)

    rs_allow = {**deployed.rs, "allow_empty_peer_set": True}
    for asn in (P1_ASN, P2_ASN):
        id_, outs = peers[asn].up({**deployed.peer_inputs(asn, base_config_id=server_id), "route_server": rs_allow},
                                  prior=created[asn])
        peers[asn].delete(id_, outs)
    assert not list((lab.rs.dir / "peers.d").glob("*.conf")) and scratch(lab) == []
    server.delete(server_id, server_outs)


def test_lab_is_invisible_in_the_host_namespace(lab: Lab) -> None:
    """While the lab runs, nothing of it is visible in the host's own network namespace."""
    assert all(ns.startswith(lab.prefix + "-") for ns in lab.namespaces)
    links = sh("ip", "-o", "link", "show").stdout
    assert "lan0" not in links and "br0" not in links
    addrs = sh("ip", "-o", "addr", "show").stdout
    assert "10.99.0." not in addrs and "fd00:99::" not in addrs
