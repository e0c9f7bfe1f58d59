"""Command line: ``python -m ops people-report|peers-report``.

    python -m ops people-report --stack S [--format markdown|json] [--no-hosts]
        Who exists where: per person and host their state, account, home (used / quota), delegation,
        services with ports, Kubernetes binding, Authentik membership and the last update that
        touched them (ops/people_report.py).
    python -m ops peers-report STACK_FILE [--asn N ...]
        Per peer ASN and route server: session states, route counts and every filtered prefix with its
        reject cause, read live from the stack's route servers (ops/peers_report.py).

Exit codes: 0 report printed, 1 something could not be read, 2 usage error.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _people_report(args: argparse.Namespace) -> int:
    from .people_report import run
    return run(args.stack, args.format, hosts=not args.no_hosts)


def _peers_report(args: argparse.Namespace) -> int:
    from .peers_report import run
    return run(args.stack_file, args.asn)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ops", description="Keystone operator reports.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    people = commands.add_parser("people-report", help="who exists where, from the stack's state and history")
    people.add_argument("--stack", required=True, metavar="S", help="the stack (e.g. dev)")
    people.add_argument("--format", choices=("markdown", "json"), default="markdown")
    people.add_argument("--no-hosts", action="store_true",
                        help="do not read each home's used space on the hosts (state only)")
    people.set_defaults(run=_people_report)
    peers = commands.add_parser(
        "peers-report", help="per peer ASN and route server: sessions and filtered prefixes with their causes")
    peers.add_argument("stack_file", metavar="STACK_FILE", help="the stack's Pulumi.<stack>.yaml")
    peers.add_argument("--asn", type=int, action="append", metavar="N", help="only this ASN (repeatable)")
    peers.set_defaults(run=_peers_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
