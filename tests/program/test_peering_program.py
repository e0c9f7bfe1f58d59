"""Peering in the whole program under mocks: people + peers, the resource graph per peer state, the
dependencies that keep route servers independent, the policy pack on the graph, settings errors, and
the 1,000 ASNs × 2 route servers scale."""
from __future__ import annotations

import re
import textwrap
import time

import pulumi
import pytest
from pulumi.runtime import mocks as pulumi_mocks

from components.peer_asn import TYPE as PEER_ASN
from policy import contract as c
from policy.offline import ResourceRecord, evaluate
from program.mocks import ProgramRun, RecordingMocks, run_program
from settings import SettingsError, load_settings
from tests.harness import peering_sample as ps
from tests.harness import sample

FILE, SERVER, MEMBER = "bird:PeerFile", "bird:ServerConfig", "zerotier:Member"
PEOPLE = sample.ROSTER
STATES = {3: "suspended", 4: "removed"}  # peers 0-2 and 5 active


@pytest.fixture
def dependencies(monkeypatch) -> dict[str, list[str]]:
    """Resource name → the URNs it depends on, as the engine receives them in RegisterResource."""
    seen: dict[str, list[str]] = {}
    original = pulumi_mocks.MockMonitor.RegisterResource

    def register(self, request):
        seen[request.name] = list(request.dependencies)
        return original(self, request)

    monkeypatch.setattr(pulumi_mocks.MockMonitor, "RegisterResource", register)
    return seen


def run(n: int = 6, **kw) -> ProgramRun:
    return run_program(ps.inputs(n, states=STATES, people=PEOPLE, hosts=sample.HOSTS, **kw), RecordingMocks())


def names(run: ProgramRun, suffix: str) -> set[str]:
    return {r.name for r in run.of_type(suffix)}


def test_people_and_peers_every_active_asn_has_a_member_and_a_file_on_every_route_server(dependencies):
    r = run()
    assert len(r.of_type("os:Account")) == 9  # the people are all still there
    asns = [ps.FIRST_ASN + i for i in range(6)]
    active = [a for i, a in enumerate(asns) if i not in STATES]
    assert sorted(x.name for x in r.mocks.resources if x.type == PEER_ASN) == [f"as{a}" for a in asns]
    assert names(r, MEMBER) == {f"as{a}-zt" for a in asns}
    assert names(r, FILE) == {f"as{a}-bird-{rs}" for a in active for rs in ("rs1", "rs2")}
    assert names(r, SERVER) == {"bird-rs1", "bird-rs2"}

    for a in active:
        m = r.named(f"as{a}-zt")
        assert m.options["parent"] == f"as{a}"
        assert (m.inputs["authorized"], m.inputs["peer_state"], m.inputs["asn"]) == (True, "active", a)
        assert m.inputs["network_id"] == ps.NETWORK_ID and m.inputs["api_mode"] == "self_hosted"
        assert m.inputs["api_url"] == "http://10.0.0.1:9993"
        i = a - ps.FIRST_ASN
        assert m.inputs["member_id"] == ps.member_id(i) and m.inputs["ip_assignments"] == list(ps.peer_address(i))
        for rs in ("rs1", "rs2"):
            f = r.named(f"as{a}-bird-{rs}")
            assert f.options["parent"] == f"as{a}"
            inp = f.inputs
            assert inp["route_server"]["name"] == rs and inp["peer"]["asn"] == a
            assert inp["base_config_id"] == rs and inp["rpki"] is True
            assert (inp["import_limit_v4"], inp["import_limit_v6"], inp["receive_limit_v4"], inp["receive_limit_v6"]) \
                == (100, 50, 200, 100)
            assert inp["peer"]["addresses"] == {"ipv4": [ps.peer_address(i)[0]], "ipv6": [ps.peer_address(i)[1]]}
            assert inp["peer"]["name"] == f"Peer-{i}-Networks" and inp["peer"]["description"] == f"Peer {i} Networks"
            assert inp["route_server"]["peering_lan_v4"] == ps.LAN_V4
    assert r.named("as210002-bird-rs2").inputs["route_server"]["target"] == {
        "name": "rs2", "address": "rs2.example.net", "port": 2222, "user": "root", "sudo": False,
        "connect_timeout": 10}
    assert r.named("as210002-bird-rs2").inputs["route_server"]["confirm_timeout"] == 20


def test_suspended_and_removed_peers_are_deauthorized_and_have_no_file():
    r = run()
    suspended, removed = r.named("as210004-zt").inputs, r.named("as210005-zt").inputs
    assert (suspended["authorized"], suspended["peer_state"]) == (False, "suspended")
    assert suspended["ip_assignments"] == list(ps.peer_address(3))  # kept: reserved for the peer's return
    assert (removed["authorized"], removed["peer_state"]) == (False, "removed")  # the provider drops its addresses
    assert not [x for x in r.of_type(FILE) if x.name.startswith(("as210004-", "as210005-"))]
    peers = r.outputs["peers"]
    assert peers["210004"] == {"name": "Peer 3 Networks", "state": "suspended", "authorized": False,
                               "member": f"{ps.NETWORK_ID}-{ps.member_id(3)}", "routeServers": []}
    assert peers["210001"]["routeServers"] == ["rs1", "rs2"] and peers["210005"]["state"] == "removed"


def test_route_server_configs_at_stack_level():
    r = run()
    for rs in ("rs1", "rs2"):
        cfg = r.named(f"bird-{rs}")
        assert cfg.options["parent"] is None  # stack level: not inside any peer's component
        assert cfg.inputs["route_server"]["name"] == rs
        assert cfg.inputs["rpki"] == {"static_roas": [
            {"prefix": "185.1.0.0/22", "max_length": 24, "asn": ps.FIRST_ASN},
            {"prefix": "2a0b:1::/32", "max_length": 48, "asn": ps.FIRST_ASN}]}
        assert cfg.inputs["take_over_existing"] is False and cfg.inputs["filter_policy"]["max_length_v4"] == 24


def test_no_dependency_couples_two_route_servers(dependencies):
    """A file depends on its own route server's main config only; members depend on nothing: when one
    route server is down or refuses, nothing for the other route server (or ZeroTier) waits for it."""
    r = run()
    urn = {x.name: x for x in r.mocks.resources}
    for f in r.of_type(FILE):
        rs = f.inputs["route_server"]["name"]
        deps = dependencies[f.name]
        assert len(deps) == 1 and deps[0].endswith(f"bird:ServerConfig::bird-{rs}"), (f.name, deps)
    for name in names(r, MEMBER) | names(r, SERVER):
        assert dependencies[name] == [], (name, dependencies[name])
    assert urn  # (every registration was seen)


@pytest.mark.parametrize("preview", [False, True])
def test_the_policy_pack_passes_on_the_peering_graph(preview):
    """Every value a peering policy reads is known at preview (the policies fail closed on unknowns)."""
    r = run_program(ps.inputs(6, states=STATES), RecordingMocks(), preview=preview)
    records = [ResourceRecord(type=x.type, name=x.name, props=x.inputs, parent=x.options.get("parent"))
               for x in r.mocks.resources]
    violations = evaluate(records)
    assert [v for v in violations if v.policy_name in (c.P_BIRD_PEER_FILE, c.P_BIRD_SERVER_RPKI, c.P_ZEROTIER_MEMBER)] \
        == []
    assert not [v for v in violations if "unknown" in v.message.lower() or "can't run" in v.message]


def test_central_mode_defaults_to_the_central_api():
    r = run_program(ps.inputs(1, peering_value=ps.peering(mode="central", url=None)), RecordingMocks())
    m = r.named("as210001-zt").inputs
    assert (m["api_mode"], m["api_url"]) == ("central", "https://api.zerotier.com")
    assert "token" not in str(m).lower()  # the token comes from keystone:zerotierToken, in the provider


def test_peers_without_zerotier_settings_or_unwritable_for_bird_register_nothing():
    value = ps.peering()
    del value["zerotier"]
    mocks = RecordingMocks()
    with pytest.raises(Exception) as e:
        run_program(ps.inputs(2, peering_value=value), mocks)
    assert "keystone:peering.zerotier is not set" in str(e.value)
    assert not [x for x in mocks.resources if x.type.endswith((FILE, SERVER, MEMBER)) or x.type == PEER_ASN]

    # what the route servers' BIRD model refuses (more than 500,000 IPv6 prefixes) the roster refuses
    # first, at its line
    mocks = RecordingMocks()
    with pytest.raises(Exception) as e:
        run_program(ps.inputs(2, changes={1: {"max_prefixes": "{ipv4: 10, ipv6: 600000}"}}), mocks)
    assert re.search(r"roster\.yaml:\d+:\d+: peers\.210002\.max_prefixes\.ipv6: must be at most 500000", str(e.value))
    assert not [x for x in mocks.resources if x.type.endswith((FILE, SERVER, MEMBER))]


def test_a_stack_without_peering_settings_applies_no_peer():
    mocks = RecordingMocks()
    r = run_program(ps.inputs(2, peering_value={}), mocks)
    assert not [x for x in mocks.resources if x.type.endswith((FILE, SERVER, MEMBER)) or x.type == PEER_ASN]
    assert "peers" not in r.outputs and r.outputs["rosterDigest"]


def test_no_peering_no_peering_resources():
    r = run_program(sample.inputs(authentik={"enabled": False}, kubernetes={"enabled": False}), RecordingMocks())
    assert not [x for x in r.mocks.resources if x.type.endswith((FILE, SERVER, MEMBER)) or x.type == PEER_ASN]
    assert "peers" not in r.outputs


def test_route_servers_without_peers_get_their_main_config():
    r = run_program(ps.inputs(0), RecordingMocks())
    assert names(r, SERVER) == {"bird-rs1", "bird-rs2"} and not r.of_type(FILE)


def test_settings_errors_name_the_file_line_and_field(tmp_path):
    stack = tmp_path / "Pulumi.lab.yaml"
    stack.write_text(textwrap.dedent("""\
        config:
          keystone:peering:
            lans: [10.99.0.0/16, 10.98.0.0/16]
            zerotier:
              mode: hosted
              networkId: 8056c2e21c00000
            routeServers:
              - name: rs1
                address: local
                asn: 23456
                routerId: 10.99.0.300
                controlSocket: /run/bird/../bird.ctl
              - name: rs2
                address: "-oProxyCommand=x"
                asn: 64511
                routerId: 10.99.0.2
        """))
    with pytest.raises(SettingsError) as e:
        load_settings(stack)
    issues = "\n".join(e.value.issues)
    expected = [
        r"Pulumi.lab.yaml:3:11: keystone:peering.lans: .*at most one IPv4 peering LAN",
        r"Pulumi.lab.yaml:5:13: keystone:peering.zerotier.mode: Input should be 'central' or 'self_hosted'",
        r"Pulumi.lab.yaml:6:18: keystone:peering.zerotier.networkId: .*16 hex digits",
        r"Pulumi.lab.yaml:10:14: keystone:peering.routeServers.0.asn: .*reserved",
        r"Pulumi.lab.yaml:11:19: keystone:peering.routeServers.0.routerId: .*IPv4 address",
        r"Pulumi.lab.yaml:12:24: keystone:peering.routeServers.0.controlSocket: .*'\.\.'",
        r"Pulumi.lab.yaml:14:18: keystone:peering.routeServers.1.address: .*SSH address",
    ]
    for pattern in expected:
        assert re.search(pattern, issues), f"{pattern!r} not in:\n{issues}"

    stack.write_text(textwrap.dedent("""\
        config:
          keystone:peering:
            routeServers:
              - {name: rs1, address: local, asn: 64511, routerId: 10.99.0.1}
              - {name: rs1, address: local, asn: 64511, routerId: 10.99.0.2}
        """))
    with pytest.raises(SettingsError) as e:
        load_settings(stack)
    issues = "\n".join(e.value.issues)
    assert "Pulumi.lab.yaml:3:5: keystone:peering: " in issues and "route server names must be unique: rs1" in issues
    assert "rpki is required with route servers" not in issues or "unique" in issues


def test_settings_accept_a_full_peering_block(tmp_path):
    stack = tmp_path / "Pulumi.prod.yaml"
    stack.write_text(textwrap.dedent("""\
        config:
          keystone:peering:
            lans: [10.99.0.0/16, "fd00:99::/64"]
            zerotier: {mode: central, networkId: 8056C2E21C000001}
            rpki:
              rtr: [{host: rtr1.example.net, port: 3323}, {host: 192.0.2.10}]
            filterPolicy: {maxLengthV4: 24, maxLengthV6: 48}
            routeServers:
              - name: rs1
                address: rs1.example.net
                user: root
                identityFile: ~/.ssh/rs
                asn: 64511
                routerId: 10.99.0.1
                configDir: /etc/bird
                peersDir: /etc/bird/peers.d
                controlSocket: /run/bird/bird.ctl
                birdUser: bird
                confirmTimeout: 45
                takeOverExisting: true
        """))
    s = load_settings(stack).peering
    assert s.zerotier.network_id == "8056c2e21c000001" and s.zerotier.api_url == "https://api.zerotier.com"
    (rs,) = s.bird_route_servers()
    assert rs.target.identity_file == "~/.ssh/rs" and rs.confirm_timeout == 45
    assert str(rs.peering_lan_v4) == "10.99.0.0/16" and str(rs.peering_lan_v6) == "fd00:99::/64"
    assert [x.port for x in s.rpki.source().rtr] == [3323, 323]


def test_a_thousand_asns_on_two_route_servers_evaluate():
    t0 = time.perf_counter()
    inputs = ps.inputs(1000)
    t1 = time.perf_counter()
    r = run_program(inputs, RecordingMocks())
    t2 = time.perf_counter()
    print(f"\n1,000 ASNs × 2 route servers: roster {t1 - t0:.2f} s, program under mocks {t2 - t1:.2f} s, "
          f"{len(r.mocks.resources)} registrations")
    assert len(r.of_type(FILE)) == 2000 and len(r.of_type(MEMBER)) == 1000 and len(r.of_type(SERVER)) == 2
    assert len(r.outputs["peers"]) == 1000


def test_peer_asn_on_its_own_builds_its_file_inputs():
    """The component without ``register_peering``: it validates and builds its own file inputs."""
    from components.peer_asn import PeerAsn, PeerAsnArgs

    inputs = ps.inputs(1)
    peer, s = inputs.roster.peers[ps.FIRST_ASN], inputs.settings.peering
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="keystone", stack="dev")

    @pulumi.runtime.test
    def program():
        c = PeerAsn("as210001", PeerAsnArgs(peer=peer, zerotier=s.zerotier, route_servers=s.bird_route_servers()))
        return pulumi.Output.all(c.member.id, *(f.id for f in c.files.values()))

    program()
    files = {r.name: r.inputs for r in mocks.resources if r.type.endswith(FILE)}
    assert set(files) == {"as210001-bird-rs1", "as210001-bird-rs2"}
    assert files["as210001-bird-rs1"]["base_config_id"] == "rs1" and files["as210001-bird-rs1"]["receive_limit_v4"] == 200
