"""Command line: ``python -m roster validate|schema|diff``.

    python -m roster validate [FILE] [--min-uid N] [--hosts a,b] [--peering-lan P ...] [--allow-private-asns]
        Every problem on stderr as FILE:LINE:COL: path: message (hint), exit 1;
        or "roster OK: N people, M peers, digest ..." on stdout, exit 0.
    python -m roster schema
        The JSON schema (the content of roster/roster.schema.json).
    python -m roster diff OLD NEW
        Markdown describing what changes from OLD to NEW (for a pull-request comment).

The operator reports that read live systems are ``python -m ops`` (``peers-report``, ``people-report``).

Exit codes: 0 success, 1 invalid roster, 2 usage error.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from collections.abc import Sequence

from pydantic import ValidationError

from .diff import diff_rosters, render_markdown
from .errors import RosterError
from .loader import load_roster
from .context import RosterContext
from .model import Roster
from .schema import render

DEFAULT_FILE = Path(__file__).with_name("roster.yaml")


def _context(args: argparse.Namespace) -> RosterContext:
    hosts = None if args.hosts is None else [h.strip() for h in args.hosts.split(",") if h.strip()]
    return RosterContext(
        min_uid=args.min_uid, hosts=hosts, peering_lans=args.peering_lan, allow_private_asns=args.allow_private_asns
    )


def _load(path: str | Path, ctx: RosterContext) -> Roster | None:
    try:
        return load_roster(path, ctx)
    except RosterError as e:
        print(e, file=sys.stderr)
        count = len(e.issues)
        print(f"roster invalid: {count} problem{'s' if count != 1 else ''} in {path}", file=sys.stderr)
        return None


def _validate(args: argparse.Namespace) -> int:
    roster = _load(args.file, _context(args))
    if roster is None:
        return 1
    print(f"roster OK: {len(roster.people)} people, {len(roster.peers)} peers, digest {roster.digest()}")
    return 0


def _schema(_args: argparse.Namespace) -> int:
    sys.stdout.write(render())
    return 0


def _diff(args: argparse.Namespace) -> int:
    ctx = _context(args)
    old, new = _load(args.old, ctx), _load(args.new, ctx)
    if old is None or new is None:
        return 1
    sys.stdout.write(render_markdown(diff_rosters(old, new)))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m roster", description="Keystone roster tools.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    context = argparse.ArgumentParser(add_help=False)
    context.add_argument("--min-uid", type=int, default=1000, metavar="N", help="lowest uid allowed (default 1000)")
    context.add_argument("--hosts", metavar="A,B", help="the stack's host names (default: do not check)")
    context.add_argument("--peering-lan", action="append", metavar="CIDR",
                         help="a peering LAN (repeatable; default: do not check)")
    context.add_argument("--allow-private-asns", action="store_true",
                         help="accept private and documentation ASNs (lab stacks)")

    validate = commands.add_parser("validate", parents=[context], help="check a roster file")
    validate.add_argument("file", nargs="?", default=str(DEFAULT_FILE), help="roster file (default: %(default)s)")
    validate.set_defaults(run=_validate)

    schema = commands.add_parser("schema", help="print the roster's JSON schema")
    schema.set_defaults(run=_schema)

    diff = commands.add_parser("diff", parents=[context], help="describe the changes between two rosters (Markdown)")
    diff.add_argument("old", help="roster before the change")
    diff.add_argument("new", help="roster after the change")
    diff.set_defaults(run=_diff)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except ValidationError as e:  # a bad --peering-lan or --min-uid
        problems = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
        parser.error(f"invalid stack context: {problems}")


if __name__ == "__main__":
    sys.exit(main())
