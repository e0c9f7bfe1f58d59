"""``python -m ops peers-report STACK_FILE``: what each route server did with each peer's routes.

For every route server of the stack (``keystone:peering.routeServers`` in ``Pulumi.<stack>.yaml``), one
round trip reads its peer files, ``show protocols all`` and every filtered route (the same read as a
``pulumi refresh``, ``providers.bird.apply.read_route_server``); the report then lists per peer ASN and
route server each session's state and counts, and every filtered prefix with its reject cause — the
text to paste into a mail to the peer (its name and NOC contact come from the roster).

Exit codes: 0 report printed; 1 invalid settings or roster, or a route server could not be read (the
report still shows the others); 2 usage error.
"""
from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from collections.abc import Sequence

from providers.bird import apply, report
from providers.bird.models import RouteServer
from providers.host import TransportError
from settings.loader import SettingsError, load_settings

from roster.errors import RosterError
from roster.loader import load_roster
from roster.context import RosterContext


def _read(rs: RouteServer) -> object:
    try:
        return apply.read_route_server(rs)
    except (apply.ApplyError, TransportError, OSError) as e:
        return str(e).splitlines()[0][:300]


def run(stack_file: str, asns: Sequence[int] | None = None, out=None, err=None) -> int:
    out, err = out or sys.stdout, err or sys.stderr  # bound at call time (tests capture them)
    try:
        settings = load_settings(stack_file)
    except (SettingsError, OSError) as e:
        print(e, file=err)
        return 1
    servers = settings.peering.bird_route_servers()
    if not servers:
        print(f"{stack_file}: keystone:peering has no routeServers: nothing to report", file=err)
        return 1
    try:
        roster = load_roster(Path(stack_file).resolve().parent / settings.roster, RosterContext(
            min_uid=settings.min_uid, hosts=[h.name for h in settings.hosts],
            peering_lans=settings.peering.lans, allow_private_asns=settings.peering.allow_private_asns))
    except RosterError as e:
        print(e, file=err)
        return 1
    with ThreadPoolExecutor(max_workers=min(8, len(servers))) as pool:  # one round trip per route server
        views = list(pool.map(_read, servers))
    peers = {asn: report.Peer(asn, p.name, str(p.contact)) for asn, p in roster.peers.items()}
    out.write(report.render_peers_report(
        peers, [(rs.name, rs.asn, view) for rs, view in zip(servers, views)], set(asns) if asns else None))
    failed = [rs.name for rs, view in zip(servers, views) if isinstance(view, str)]
    if failed:
        print(f"could not read route server(s) {', '.join(failed)}", file=err)
        return 1
    return 0
