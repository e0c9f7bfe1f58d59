"""What a route server did with each peer's routes (pure): counts per session, and the peers report.

Input is a ``ServerView`` of one route server (``apply.read_route_server``: one round trip for all of
it).  Per session: ``received`` (accepted + filtered), ``accepted``, ``filtered`` (BIRD's ``Routes:``
line of ``show protocols all``) and ``filtered_by_cause`` (the filtered routes counted by their reject
cause, ``communities.py``).  The report lists, per peer ASN and route server, each session's state and
every filtered prefix with its cause: the text an operator pastes into a mail to the peer.
"""
from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass, field
from collections.abc import Iterable, Mapping, Sequence

from providers.bird import communities, parse


@dataclass(frozen=True)
class SessionRoutes:
    received: int = 0
    accepted: int = 0
    filtered: int = 0
    by_cause: Mapping[int, int] = field(default_factory=dict)

    def output(self) -> dict:
        """As a resource output (JSON: cause codes as strings, sorted)."""
        return {"received": self.received, "accepted": self.accepted, "filtered": self.filtered,
                "filtered_by_cause": {str(c): n for c, n in sorted(self.by_cause.items())}}


def causes_of(route: parse.Route, rs_asn: int) -> list[int]:
    """A filtered route's reject causes (``UNKNOWN_CAUSE`` when it carries none)."""
    return communities.reject_causes(rs_asn, list(route.large_communities)) or [communities.UNKNOWN_CAUSE]


def session_routes(counts: Mapping[str, Mapping[str, parse.ChannelRoutes]], filtered: Iterable[parse.Route],
                   rs_asn: int, sessions: Iterable[str]) -> dict[str, SessionRoutes]:
    """Route counts of the named sessions.  A session BIRD reports no counts for (not running, or its
    channel down: BIRD flushed its routes) and with no filtered route is left out."""
    wanted = set(sessions)
    by_cause: dict[str, Counter] = {s: Counter() for s in wanted}
    for route in filtered:
        if route.protocol in wanted:
            by_cause[route.protocol][causes_of(route, rs_asn)[0]] += 1
    out = {}
    for name in sorted(wanted):
        if name not in counts and not by_cause[name]:
            continue
        channels = counts.get(name, {}).values()
        accepted = sum(c.imported for c in channels)
        filtered_n = sum(c.filtered for c in channels)
        out[name] = SessionRoutes(accepted + filtered_n, accepted, filtered_n, dict(by_cause[name]))
    return out


def total(per_session: Iterable[SessionRoutes]) -> SessionRoutes:
    causes: Counter = Counter()
    r = a = f = 0
    for s in per_session:
        r, a, f = r + s.received, a + s.accepted, f + s.filtered
        causes.update(s.by_cause)
    return SessionRoutes(r, a, f, dict(causes))


def _path(path: Sequence[int]) -> str:
    if not path:
        return "(empty)"
    if len(path) > 8:
        return f"{' '.join(map(str, path[:3]))} ... {' '.join(map(str, path[-2:]))} ({len(path)} ASes)"
    return " ".join(map(str, path))


# --- the peers report ------------------------------------------------------------------------------

@dataclass(frozen=True)
class PeerSessions:
    """One peer ASN on one route server, as its peer file declares it."""

    asn: int
    route_server: str
    rs_asn: int
    sessions: Sequence[str]


@dataclass(frozen=True)
class Peer:
    asn: int
    name: str | None = None
    contact: str | None = None


def peer_sessions(route_server: str, rs_asn: int, files: Mapping[str, str]) -> list[PeerSessions]:
    """Every Keystone peer file of a route server → the ASN it is for and the sessions it declares."""
    out = []
    for _path, text in sorted(files.items()):
        found = parse.marker(text)
        if not found or found[0] != "bird:PeerFile":
            continue
        _rs, _, asn = found[1].partition("/")
        if asn.isdigit():
            out.append(PeerSessions(int(asn), route_server, rs_asn, tuple(parse.declared_protocols(text))))
    return out


def render_peers_report(peers: Mapping[int, Peer], servers: Sequence[tuple[str, int, object]],
                        only: set[int] | None = None) -> str:
    """The report, per ASN (the roster's peers and every ASN with a peer file), then route server.
    ``servers``: (route server name, its ASN, its ``ServerView``, or the error text when it could not be
    read).  ``only``: just these ASNs."""
    files: dict[str, dict[int, PeerSessions]] = {}
    for name, rs_asn, view in servers:
        if not isinstance(view, str):
            files[name] = {ps.asn: ps for ps in peer_sessions(name, rs_asn, view.files)}
    asns = set(peers) | {asn for per_rs in files.values() for asn in per_rs}
    lines: list[str] = []
    for asn in sorted(a for a in asns if only is None or a in only):
        peer = peers.get(asn, Peer(asn))
        head = f"AS{asn}" + (f" {peer.name}" if peer.name else "") + (f" <{peer.contact}>" if peer.contact else "")
        lines += [head, "=" * len(head)]
        for rs_name, rs_asn, view in servers:
            if isinstance(view, str):
                lines += [f"Route server {rs_name}: could not be read ({view})", ""]
                continue
            ps = files[rs_name].get(asn)
            if ps is None:
                lines += [f"Route server {rs_name} (AS{rs_asn}): no peer file for AS{asn}", ""]
                continue
            lines += _server_section(ps, view)
    return "\n".join(lines).rstrip("\n") + "\n"


def _server_section(ps: PeerSessions, view) -> list[str]:
    lines = [f"Route server {ps.route_server} (AS{ps.rs_asn}):"]
    counts = session_routes(view.counts, view.filtered, ps.rs_asn, ps.sessions)
    for session in ps.sessions:
        proto = view.protocols.get(session)
        c = counts.get(session, SessionRoutes())
        lines.append(f"  session {session}: {proto.summary if proto else 'not running'}; {c.received} received, "
                     f"{c.accepted} accepted, {c.filtered} filtered")
    mine = [r for r in view.filtered if r.protocol in set(ps.sessions)]
    if not mine:
        return lines + ["  no filtered prefixes", ""]
    lines.append("  filtered prefixes (kept by the route server, not announced to any peer):")
    width = max(len(r.network) for r in mine)
    for r in sorted(mine, key=lambda r: (causes_of(r, ps.rs_asn)[0], _net_key(r.network))):
        lines.append(f"    {r.network:<{width}}  cause {communities.cause_text(causes_of(r, ps.rs_asn)[0])}; "
                     f"AS path {_path(r.as_path)}; next hop {r.next_hop or '-'}")
    return lines + [""]


def _net_key(network: str) -> tuple:
    try:
        n = ipaddress.ip_network(network, strict=False)
        return (n.version, int(n.network_address), n.prefixlen)
    except ValueError:
        return (9, 0, 0)
