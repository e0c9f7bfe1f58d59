"""Collect every resource the program registers for a stack, for the offline policy run.

The program runs under mocks with the stack's own settings (``Pulumi.<stack>.yaml``) and a roster;
each dynamic resource's inputs go through its provider's (pure) ``check``, as the engine does
before a policy pack sees them.  What cannot be known offline is assumed, and said on stderr:
every active person exists in Authentik, and a promotion's previous stack runs this roster.
"""
from __future__ import annotations

import base64
import pathlib
import sys
from typing import Any
from collections.abc import Iterator

import dill
import yaml

from program.mocks import RecordingMocks, run_program
from program.stack import load_inputs
from providers.base import PROVIDER_KEY

ROOT = pathlib.Path(__file__).resolve().parents[1]


class StackFileConfig:
    """The subset of ``pulumi.Config`` that ``load_inputs`` uses, read from ``Pulumi.<stack>.yaml``."""

    def __init__(self, stack: str, overrides: dict[str, Any] | None = None):
        data = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text()) or {}
        self.values = {k.split(":", 1)[1]: v for k, v in (data.get("config") or {}).items()
                       if k.startswith("keystone:")}
        self.values.update(overrides or {})

    def get(self, key: str) -> Any:
        v = self.values.get(key)
        return v if isinstance(v, str) else None

    def get_object(self, key: str) -> Any:
        v = self.values.get(key)
        return None if isinstance(v, dict) and set(v) == {"secure"} else v

    def get_secret(self, key: str) -> Any:
        return "offline-placeholder"  # secrets are never in the file; nothing is contacted offline


def checked_inputs(props: dict[str, Any]) -> dict[str, Any]:
    blob = props.get(PROVIDER_KEY)
    if not isinstance(blob, str):
        return props
    provider = dill.loads(base64.b64decode(blob))
    result = provider.check({}, props)
    if result.failures:
        raise SystemExit("check failed: " + "; ".join(f"{f.property}: {f.reason}" for f in result.failures))
    return dict(result.inputs)


def collect_resources(stack: str, roster_path: str | None = None) -> Iterator[dict[str, Any]]:
    """Records as plain dicts (``policy.records.ResourceRecord`` fields; ``evaluate`` coerces them)."""
    overrides = {"roster": str(pathlib.Path(roster_path).resolve())} if roster_path else {}
    inputs = load_inputs(stack, StackFileConfig(stack, overrides), ROOT)
    s = inputs.settings
    users = {p.authentik: 1000 + i for i, p in enumerate(sorted(inputs.roster.people.values(),
                                                                key=lambda p: p.username))}
    stack_outputs = {s.promotion.after: {"rosterDigest": inputs.roster.digest()}} if s.promotion.after else {}
    if s.authentik.enabled or s.promotion.after:
        print(f"policy.offline: assuming every active person exists in Authentik"
              f"{' and that ' + s.promotion.after + ' runs this roster' if s.promotion.after else ''}",
              file=sys.stderr)
    mocks = RecordingMocks(stack_outputs=stack_outputs, authentik_users=users)
    run_program(inputs, mocks)
    for r in mocks.resources:
        if r.type.startswith("keystone:"):
            continue
        yield dict(
            type=r.type, name=r.name, props=checked_inputs(r.inputs),
            protect=bool(r.options.get("protect")), retain_on_delete=bool(r.options.get("retain_on_delete")),
            parent=r.options.get("parent"), secret=r.secret,
            additional_secret_outputs=tuple(r.options.get("additional_secret_outputs") or ()),
            delete_before_replace=r.options.get("delete_before_replace"),
        )
