"""Route counts, filtered routes and the peers report, from output captured on a real bird2 2.0.12
route server in the netns lab (``fixtures/show_protocols_all_filtered.txt``,
``fixtures/show_route_filtered_all.txt``: peer AS64501 sends every kind of route the policy rejects).

``KEYSTONE_UPDATE_GOLDEN=1 pytest tests/unit/bird`` rewrites ``golden/peers_report.txt``; review the diff.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from providers.bird import apply, communities, models, parse, render, report
from providers.bird.communities import RejectCause
from tests.harness import bird_samples as samples

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = Path(__file__).parent / "golden"
RS_ASN = 64511
P1_V4, P1_V6, P2_V4, P2_V6 = "as64501_10_99_0_2", "as64501_fd00_99__2", "as64502_10_99_0_3", "as64502_fd00_99__3"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


# --- parsers ---------------------------------------------------------------------------------------

def test_route_counts_from_show_protocols_all() -> None:
    counts = parse.parse_route_counts(fixture("show_protocols_all_filtered.txt"))
    assert counts == {
        "ks_roa4_static": {"roa4": parse.ChannelRoutes(1, 0, 0)},
        "ks_roa6_static": {"roa6": parse.ChannelRoutes(1, 0, 0)},
        P1_V4: {"ipv4": parse.ChannelRoutes(2, 8, 0)},
        P1_V6: {"ipv6": parse.ChannelRoutes(1, 7, 0)},
        P2_V4: {"ipv4": parse.ChannelRoutes(0, 0, 2)},
        P2_V6: {"ipv6": parse.ChannelRoutes(0, 0, 1)},
    }
    assert counts[P1_V4]["ipv4"].received == 10


def test_a_channel_that_is_down_has_no_counts() -> None:
    assert parse.parse_route_counts(fixture("show_protocols_all_limit.txt")) == {}


def test_show_protocols_all_gives_the_same_protocols_as_show_protocols() -> None:
    """The detail lines of ``show protocols all`` are never taken for protocol rows."""
    protocols = parse.parse_show_protocols(fixture("show_protocols_all_filtered.txt"))
    assert list(protocols) == ["ks_device", "ks_roa4_static", "ks_roa6_static", P1_V4, P1_V6, P2_V4, P2_V6]
    assert all(protocols[n].summary == "Established" for n in (P1_V4, P1_V6, P2_V4, P2_V6))
    limited = parse.parse_show_protocols(fixture("show_protocols_all_limit.txt"))
    assert list(limited) == [P1_V4] and limited[P1_V4].summary == "start (Automatic shutdown: Route limit exceeded)"


EXPECTED_FILTERED = [
    ("master4", "185.1.1.0/24", P1_V4, (64501, 64666), "10.99.0.2", 14),
    ("master4", "6.0.0.0/7", P1_V4, (64501,), "10.99.0.2", 13),
    ("master4", "185.2.4.0/24", P1_V4, (64501,) * 65, "10.99.0.2", 1),
    ("master4", "10.1.0.0/16", P1_V4, (64501,), "10.99.0.2", 2),
    ("master4", "185.2.2.0/24", P1_V4, (64777,), "10.99.0.2", 6),
    ("master4", "185.2.3.0/24", P1_V4, (64501,), "10.99.0.3", 5),
    ("master4", "195.1.0.0/24", P1_V4, (64501,), "10.99.0.2", 12),
    ("master4", "185.2.1.128/25", P1_V4, (64501,), "10.99.0.2", 13),
    ("master6", "2a0a::/15", P1_V6, (64501,), "fd00:99::2", 13),
    ("master6", "2a0b:2::/64", P1_V6, (64501,), "fd00:99::2", 13),
    ("master6", "fc00:1::/48", P1_V6, (64501,), "fd00:99::2", 10),
    ("master6", "2001:db8:1::/48", P1_V6, (64501,), "fd00:99::2", 2),
    ("master6", "2a0b:3::/48", P1_V6, (64777,), "fd00:99::2", 6),
    ("master6", "2a0b:1:1::/48", P1_V6, (64501, 64666), "fd00:99::2", 14),
    ("master6", "2a0c:1::/48", P1_V6, (64501,), "fd00:99::2", 12),
]


def test_filtered_routes_with_their_cause() -> None:
    routes = parse.parse_routes(fixture("show_route_filtered_all.txt"))
    assert [(r.table, r.network, r.protocol, r.as_path, r.next_hop) for r in routes] == \
        [e[:5] for e in EXPECTED_FILTERED]
    assert [r.large_communities for r in routes] == [((RS_ASN, 65520, e[5]),) for e in EXPECTED_FILTERED]
    assert [report.causes_of(r, RS_ASN) for r in routes] == [[e[5]] for e in EXPECTED_FILTERED]


def test_a_second_route_for_the_same_network_keeps_the_network() -> None:
    """BIRD leaves the network column blank for a network's second route (same fixture, second route added)."""
    text = fixture("show_route_filtered_all.txt")
    first = text.index("6.0.0.0/7")
    block = text[first:text.index("185.2.4.0/24")]
    second = " " * len("6.0.0.0/7") + block[len("6.0.0.0/7"):].replace(P1_V4, "as64509_10_99_0_9")
    routes = parse.parse_routes(text[:first] + block + second + text[first + len(block):])
    assert [(r.network, r.protocol) for r in routes if r.network == "6.0.0.0/7"] == \
        [("6.0.0.0/7", P1_V4), ("6.0.0.0/7", "as64509_10_99_0_9")]


def test_no_filtered_route_and_the_banner_only() -> None:
    assert parse.parse_routes("BIRD 2.0.12 ready.\n") == []
    assert parse.parse_route_counts("BIRD 2.0.12 ready.\n") == {}


# --- communities ---------------------------------------------------------------------------------

def test_cause_codes_are_arouteservers() -> None:
    assert {c.name: int(c) for c in RejectCause} == {
        "AS_PATH_LENGTH": 1, "BOGON": 2, "INVALID_AFI": 4, "NEXT_HOP": 5, "LEFT_MOST_ASN": 6,
        "IPV6_NOT_GLOBAL_UNICAST": 10, "PREFIX_NOT_REGISTERED": 12, "PREFIX_LENGTH": 13, "RPKI_INVALID": 14}
    assert communities.cause_text(14).startswith("14 RPKI invalid")
    assert communities.cause_text(3) == "3 (cause not set by this policy)"
    assert communities.cause_text(65535).startswith("65535 no reject cause recorded")


@pytest.mark.parametrize("text,triples,causes,state", [
    ("(64511, 65520, 14)", [(64511, 65520, 14)], [14], None),
    ("(64501, 100, 1) (64511, 1000, 2)", [(64501, 100, 1), (64511, 1000, 2)], [], communities.RpkiState.UNKNOWN),
    ("(64511, 1000, 1)", [(64511, 1000, 1)], [], communities.RpkiState.VALID),
    ("(64512, 65520, 2) (64511, 1000, 9)", [(64512, 65520, 2), (64511, 1000, 9)], [], None),  # another RS; no state 9
    ("", [], [], None),
])
def test_large_communities(text: str, triples, causes, state) -> None:
    assert communities.large_communities(text) == triples
    assert communities.reject_causes(64511, triples) == causes
    assert communities.rpki_state(64511, triples) == state


# --- counts per session --------------------------------------------------------------------------

def view() -> apply.ServerView:
    out = fixture("show_protocols_all_filtered.txt")
    files = {samples.RS.peer_file(asn): render.render_peer_file(samples.RS, peer, render.Limits(10, 10, 20, 20))
             for asn, peer in LAB_PEERS.items()}
    return apply.ServerView(files, parse.parse_show_protocols(out), parse.parse_route_counts(out),
                            tuple(parse.parse_routes(fixture("show_route_filtered_all.txt"))))


LAB_PEERS = {
    64501: models.PeerSpec(asn=64501, name="peer-one", addresses={"ipv4": ["10.99.0.2"], "ipv6": ["fd00:99::2"]},
                           prefixes=["185.0.0.0/8", "2a0b::/16"]),
    64502: models.PeerSpec(asn=64502, name="peer-two", addresses={"ipv4": ["10.99.0.3"], "ipv6": ["fd00:99::3"]}),
}


def test_session_routes_count_by_cause() -> None:
    v = view()
    got = report.session_routes(v.counts, v.filtered, RS_ASN, [P1_V4, P1_V6, P2_V4, P2_V6, "as64503_10_99_0_4"])
    assert {n: r.output() for n, r in got.items()} == {
        P1_V4: {"received": 10, "accepted": 2, "filtered": 8,
                "filtered_by_cause": {"1": 1, "2": 1, "5": 1, "6": 1, "12": 1, "13": 2, "14": 1}},
        P1_V6: {"received": 8, "accepted": 1, "filtered": 7,
                "filtered_by_cause": {"2": 1, "6": 1, "10": 1, "12": 1, "13": 2, "14": 1}},
        P2_V4: {"received": 0, "accepted": 0, "filtered": 0, "filtered_by_cause": {}},
        P2_V6: {"received": 0, "accepted": 0, "filtered": 0, "filtered_by_cause": {}},
    }  # a session the daemon does not run is left out
    assert report.total(got.values()).output() == {"received": 18, "accepted": 3, "filtered": 15, "filtered_by_cause": {
        "1": 1, "2": 2, "5": 1, "6": 2, "10": 1, "12": 2, "13": 4, "14": 2}}


def test_an_untagged_filtered_route_counts_as_unknown_cause() -> None:
    route = parse.Route("master4", "185.9.0.0/24", P1_V4, (64501,), "10.99.0.2", ())
    got = report.session_routes({P1_V4: {"ipv4": parse.ChannelRoutes(0, 1, 0)}}, [route], RS_ASN, [P1_V4])
    assert got[P1_V4].by_cause == {communities.UNKNOWN_CAUSE: 1}


# --- the peers report ------------------------------------------------------------------------------

def test_peers_report_golden() -> None:
    peers = {64501: report.Peer(64501, "Peer One", "noc@peer-one.example"),
             64502: report.Peer(64502, "Peer Two", "noc@peer-two.example"),
             64503: report.Peer(64503, "Peer Three", "noc@peer-three.example")}  # in the roster, no file yet
    text = report.render_peers_report(peers, [("rs1", RS_ASN, view()), ("rs2", RS_ASN, "cannot reach rs2.example.net")])
    path = GOLDEN / "peers_report.txt"
    if os.environ.get("KEYSTONE_UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert text == path.read_text(), "peers report differs from its golden file: review, then KEYSTONE_UPDATE_GOLDEN=1"
    only = report.render_peers_report(peers, [("rs1", RS_ASN, view())], {64502})
    assert only.startswith("AS64502 Peer Two <noc@peer-two.example>\n") and "AS64501" not in only


# --- compatibility of the main config with peer files written before reject causes ----------------------

OLD_PEER_FILE = """# keystone-resource: bird:PeerFile rs1/64501
protocol bgp as64501_10_99_0_2 from ks_peer_v4 {
  description "AS64501 Example Networks GmbH";
  neighbor 10.99.0.2 as 64501;
  ipv4 {
    import limit 100 action restart;
    receive limit 200 action restart;
    import filter {
      if ! ks_import_v4(64501, true) then reject;
      if net !~ [
        185.1.0.0/22+
      ] then reject;
      accept;
    };
  };
}
"""


def test_new_main_config_parses_with_a_peer_file_of_the_previous_format(tmp_path: Path) -> None:
    """A route server's main config is updated before its peer files (they depend on it): the new one
    must load with every peer file as the previous version wrote it."""
    bird = shutil.which("bird") or "/usr/sbin/bird"
    if not os.path.exists(bird):  # never a skip: scripts/setup.sh installs bird2
        pytest.fail("bird (bird2) is needed: run scripts/setup.sh")
    rs = samples.RS.model_copy(update={"config_dir": str(tmp_path), "peers_dir": str(tmp_path / "peers.d")})
    (tmp_path / "peers.d").mkdir()
    (tmp_path / "bird.conf").write_text(render.render_server_config(rs, samples.RPKI_STATIC))
    (tmp_path / "peers.d" / "as64501.conf").write_text(OLD_PEER_FILE)
    p = subprocess.run([bird, "-p", "-c", str(tmp_path / "bird.conf")], capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == "", p.stderr


# --- the command line: problems before any route server is reached ------------------------------------

def test_peers_report_command_refuses_bad_stacks(tmp_path: Path, capsys) -> None:
    from ops.__main__ import main

    assert main(["peers-report", str(tmp_path / "Pulumi.none.yaml")]) == 1
    assert "Pulumi.none.yaml" in capsys.readouterr().err
    (tmp_path / "Pulumi.empty.yaml").write_text("config:\n  keystone:minUid: 1000\n")
    assert main(["peers-report", str(tmp_path / "Pulumi.empty.yaml")]) == 1
    assert "keystone:peering has no routeServers: nothing to report" in capsys.readouterr().err
    (tmp_path / "Pulumi.bad.yaml").write_text("config:\n  keystone:peering:\n    routeServers: [{name: rs1}]\n")
    assert main(["peers-report", str(tmp_path / "Pulumi.bad.yaml")]) == 1
    err = capsys.readouterr().err
    assert "Pulumi.bad.yaml:" in err and "keystone:peering.routeServers.0" in err
