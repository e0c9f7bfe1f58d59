"""Run the Keystone policy pack without the Pulumi CLI (the CI entry point)::

    python -m policy.offline --stack dev [--roster roster/roster.yaml] [--policy-config FILE]

collects the resources with ``policy.collect.collect_resources(stack, roster_path)`` (the program
under mocks; imported only then), evaluates every policy over them and prints the violations the
way ``pulumi preview --policy-pack policy`` does; exits 1 on a mandatory violation, 2 on a usage or
config error.  The work is done by one module per job, re-exported here for callers:

* ``policy.records``: ``ResourceRecord`` and ``Violation``;
* ``policy.pack_config``: ``resolve_config`` and ``ConfigError`` (the CLI's config reconciliation);
* ``policy.wire``: what the engine and the analyzer make of a record (Struct, proxy, args);
* ``policy.evaluation``: ``evaluate`` (the policies over the records);
* ``policy.report``: ``format_violations`` and ``print_violations``.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys
from typing import Any

from policy.evaluation import PACK_DIR, evaluate, pack_version
from policy.pack_config import ConfigError, resolve_config
from policy.records import ResourceRecord, Violation
from policy.report import display_type, format_violations, print_violations
from policy.wire import (
    PROJECT,
    analyzer_properties,
    default_urn,
    policy_options,
    policy_props,
    resource_args,
    root_stack_urn,
    stack_args,
    to_struct,
    wire_properties,
)

__all__ = [
    "PACK_DIR", "PROJECT", "ConfigError", "ResourceRecord", "Violation", "analyzer_properties", "default_urn",
    "display_type", "evaluate", "format_violations", "main", "pack_version", "policy_options", "policy_props",
    "print_violations", "resolve_config", "resource_args", "root_stack_urn", "stack_args", "to_struct",
    "wire_properties",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m policy.offline",
        description="Evaluate the Keystone policy pack over the program's resources, collected under mocks.")
    parser.add_argument("--stack", required=True, help="stack whose settings the program is run with (dev, staging, prod)")
    parser.add_argument("--roster", default="roster/roster.yaml", help="roster file (default: %(default)s)")
    parser.add_argument("--policy-config", metavar="FILE",
                        help="policy-pack config JSON, as for `pulumi preview --policy-pack-config`")
    args = parser.parse_args(argv)

    config: dict[str, Any] = {}
    if args.policy_config:
        try:
            config = json.loads(pathlib.Path(args.policy_config).read_text())
        except (OSError, ValueError) as e:
            print(f"error: cannot read policy config {args.policy_config}: {e}", file=sys.stderr)
            return 2

    try:  # the collector runs the whole program under mocks: load it only when asked to
        from policy.collect import collect_resources  # noqa: PLC0415
    except ImportError as e:
        print(f"error: cannot load policy.collect.collect_resources ({e}); run from the repository root "
              "with the project's virtualenv", file=sys.stderr)
        return 2

    resources = list(collect_resources(args.stack, args.roster))
    try:
        violations = evaluate(resources, config, stack=args.stack)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    code = print_violations(violations, stack=args.stack)
    mandatory = sum(v.mandatory for v in violations)
    print(f"policy.offline: {len(resources)} resources, {mandatory} mandatory and "
          f"{len(violations) - mandatory} advisory violation(s) (stack {args.stack})", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
