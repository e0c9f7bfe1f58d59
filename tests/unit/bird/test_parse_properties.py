"""Property tests of the BIRD parsers (``birdc show protocols``, ``configure`` replies and status, ``bird -p``
errors, our own peer files): what BIRD prints — and what the renderer writes — parses back to the
same value, and *any* text parses without raising (the parsers are total: the callers name the route
server, host and command when a reply is not what they need).

``birdc show route`` has no parser in the providers (only the live lab reads it), so it has no property here.
"""
from __future__ import annotations

import ipaddress
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from providers.bird import models, parse, render
from tests.harness import bird_samples

FAST = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# Near-BIRD text: lines made of the words BIRD prints, numbers (huge ones too) and separators.
words = st.sampled_from(["BIRD 2.0.12 ready.", "Name", "Proto", "BGP", "Device", "up", "start", "Established",
                         "2026-11-23", "23:01:48", "23:01:48.850", "---", "Reconfigured", "Configuration OK",
                         "Undo scheduled in", "s", "Configuration unconfirmed, undo in", "Reading configuration from",
                         "bird:", "/etc/bird/bird.conf:12:3", ", line", "neighbor", "as", "import limit",
                         "receive limit", "protocol bgp", "# keystone-resource:", "9" * 5000, "1.2.3", "٣", "{", ";"])
near = st.lists(st.lists(st.one_of(words, st.text(max_size=8)), max_size=8).map(" ".join), max_size=12).map("\n".join)
anything = st.one_of(st.text(), near)


@FAST
@given(anything)
def test_every_bird_parser_is_total(text):
    assert isinstance(parse.parse_show_protocols(text), dict)
    for p in parse.parse_show_protocols(text).values():
        assert isinstance(p.summary, str) and isinstance(p.established, bool)
    reply = parse.parse_configure(text)
    assert isinstance(reply.ok, bool) and isinstance(reply.text, str)
    status = parse.parse_configure_status(text)
    assert status is None or status >= 0
    assert isinstance(parse.parse_bird_errors(text), list)
    assert isinstance(parse.parse_show_status(text), parse.Status)
    facts = parse.parse_peer_file(text)
    assert all(0 <= n < 10**10 for n in facts.import_limits + facts.receive_limits)
    assert all(0 <= asn < 10**10 for _a, asn in facts.neighbors)
    assert isinstance(parse.parse_neighbor_grep(text), dict)


# --- show protocols -------------------------------------------------------------------------------

proto_name = st.builds(lambda a, b: a + b, st.sampled_from(string.ascii_letters),
                       st.text(string.ascii_letters + string.digits + "_", max_size=50))
since = st.sampled_from(["2026-11-23 23:01:48", "2026-11-23", "23:02:05.850", "2026-11-23 23:01:48.123"])
info = st.sampled_from(["", "Established", "Active", "Idle          Automatic shutdown: Route limit exceeded",
                        "Connect", "Passive"])


@FAST
@given(st.dictionaries(proto_name, st.tuples(st.sampled_from(["BGP", "Device", "Static", "RPKI"]),
                                             st.sampled_from(["---", "master4", "ks_roa4"]),
                                             st.sampled_from(["up", "start", "down", "flush"]), since, info), max_size=8))
def test_show_protocols_round_trips(rows):
    """Rendered as birdc prints the table (fixed-width columns a long name shifts, trailing spaces)."""
    out = ["BIRD 2.0.12 ready.", "Name       Proto      Table      State  Since         Info"]
    out += [f"{n:<10} {p:<10} {t:<10} {s:<6} {since_}  {i}   " for n, (p, t, s, since_, i) in rows.items()]
    got = parse.parse_show_protocols("\n".join(out) + "\n")
    assert {n: (p.proto, p.table, p.state, p.since, p.info) for n, p in got.items()} == rows


# --- configure replies and bird -p errors ---------------------------------------------------------

@FAST
@given(st.sampled_from(["/etc/bird/bird.conf", "/etc/bird/peers.d/as64501.conf", "/srv/lab/x.conf"]),
       st.integers(1, 10**6), st.integers(1, 999), st.text(string.ascii_letters + " '", min_size=1, max_size=40)
       .map(str.strip).filter(bool), st.booleans())
def test_bird_errors_round_trip(file, line, col, message, from_bird_p):
    text = ("bird: " if from_bird_p else "") + f"{file}:{line}:{col} {message}\n"
    assert parse.parse_bird_errors(text) == [parse.BirdError(file, line, col, message)]
    reply = parse.parse_configure(f"BIRD 2.0.12 ready.\nReading configuration from {file}\n{file}:{line}:{col} {message}\n")
    assert not reply.ok and reply.config_file == file and reply.errors == (parse.BirdError(file, line, col, message),)


@FAST
@given(st.integers(0, 10**9 - 1), st.integers(0, 999))
def test_configure_timeout_and_status_round_trip(seconds, millis):
    reply = parse.parse_configure(f"BIRD 2.0.12 ready.\nReading configuration from /etc/bird/bird.conf\n"
                                  f"Reconfigured\nUndo scheduled in {seconds} s\n")
    assert reply.ok and reply.undo_scheduled == seconds
    status = parse.parse_configure_status(f"BIRD 2.0.12 ready.\nConfiguration unconfirmed, undo in {seconds}.{millis:03d} s\n")
    assert status == float(f"{seconds}.{millis:03d}")


# --- the renderer's peer files parse back ---------------------------------------------------------

v4 = st.integers(1, 254).map(lambda i: f"10.99.0.{i}")
v6 = st.integers(1, 0xffff).map(lambda i: str(ipaddress.IPv6Address(f"fd00:99::{i:x}")))


@FAST
@given(st.integers(1, 4294967294).filter(lambda a: a not in models.RESERVED_ASNS),
       st.sets(v4, max_size=3), st.sets(v6, max_size=3), st.integers(1, 2_000_000), st.integers(1, 500_000))
def test_a_rendered_peer_file_parses_back_to_its_peer(asn, ipv4, ipv6, limit4, limit6):
    if not ipv4 and not ipv6:
        ipv4 = {"10.99.0.9"}
    peer = models.PeerSpec(asn=asn, name="peer-x", addresses={"ipv4": sorted(ipv4), "ipv6": sorted(ipv6)},
                           max_prefixes={"ipv4": limit4, "ipv6": limit6})
    limits = render.Limits(limit4, limit6, 2 * limit4, 2 * limit6)
    text = render.render_peer_file(bird_samples.RS, peer, limits)
    facts = parse.parse_peer_file(text)
    assert facts.marker == ("bird:PeerFile", f"rs1/{asn}")
    assert sorted(facts.neighbors) == sorted((a, asn) for a in ipv4 | ipv6)
    assert sorted(facts.protocols) == sorted(render.protocol_name(asn, a) for a in ipv4 | ipv6)
    families = [(limit4, 2 * limit4)] * len(ipv4) + [(limit6, 2 * limit6)] * len(ipv6)
    assert sorted(facts.import_limits) == sorted(i for i, _r in families)
    assert sorted(facts.receive_limits) == sorted(r for _i, r in families)
