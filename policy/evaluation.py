"""Run the pack's policies over resource records, as the engine and pulumi_policy do.

``evaluate(resources, config)`` runs every policy of ``policy.rules.POLICIES`` - the very objects
the pack registers - and returns the violations: ``remediate`` counts as mandatory; ``disabled``
policies do not run; a rule's message goes under the policy description, as the SDK composes it;
an unknown value that escapes a rule is the SDK's advisory "can't run policy during preview" note.
"""
from __future__ import annotations

import asyncio
import dataclasses
import inspect
import pathlib
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ResourceValidationPolicy,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from policy.contract import POLICY_PACK_NAME
from policy.pack_config import resolve_config
from policy.records import ResourceRecord, Violation
from policy.wire import analyzer_properties, default_urn, resource_args, stack_args

PACK_DIR = pathlib.Path(__file__).resolve().parent


def _run(result: Any) -> None:
    if inspect.isawaitable(result):
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(result)
        finally:
            loop.close()


def _is_not_applicable(exc: BaseException) -> bool:
    return type(exc).__name__ == "_NotApplicableError"


def pack_version(pack_dir: pathlib.Path = PACK_DIR) -> str:
    """The version in PulumiPolicy.yaml (the CLI shows it instead of the SDK's 0.0.1)."""
    try:
        import yaml  # noqa: PLC0415

        data = yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text()) or {}
        return str(data.get("version") or "0.0.1")
    except (OSError, ImportError):
        return "0.0.1"


def evaluate(resources: list[ResourceRecord], config: dict | None = None, *,
             policies: list[Policy] | None = None, stack: str = "dev") -> list[Violation]:
    """Run every policy over ``resources`` and return the violations, in the order they arose.

    ``resources``: :class:`ResourceRecord` instances (or mappings with the same keys); a record
    without ``urn`` gets ``urn:pulumi:<stack>::keystone::<type>::<name>``.
    ``config``: policy-pack config, as for ``pulumi preview --policy-pack-config`` (see
    :func:`resolve_config`); raises :class:`ConfigError` when it does not match the schemas.
    """
    if policies is None:
        from policy.rules import DEFAULT_ENFORCEMENT_LEVEL, POLICIES  # noqa: PLC0415

        policies, pack_level = list(POLICIES), DEFAULT_ENFORCEMENT_LEVEL
    else:
        pack_level = EnforcementLevel.MANDATORY
    records = [ResourceRecord.coerce(r) for r in resources]
    records = [r if r.urn else dataclasses.replace(r, urn=default_urn(stack, r.type, r.name)) for r in records]
    props_by_policy, levels = resolve_config(config, policies, pack_level)
    version = pack_version()
    out: list[Violation] = []

    def reporter(policy: Policy, level: EnforcementLevel, resource_urn: str | None):
        """pulumi_policy's report_violation; for a resource policy the engine files every violation
        under the analyzed resource, whatever urn the rule passes."""
        severity = policy.severity.value if policy.severity else None
        lvl = "mandatory" if level in (EnforcementLevel.MANDATORY, EnforcementLevel.REMEDIATE) else level.value

        def report_violation(message: str, urn: str | None = None) -> None:
            if message and not isinstance(message, str):
                raise TypeError("Expected message to be a string")
            if urn is not None and not isinstance(urn, str):
                raise TypeError("Expected urn to be a string")
            out.append(Violation(policy.name, policy.description, message or "", lvl,
                                 resource_urn if resource_urn is not None else (urn or ""),
                                 severity, POLICY_PACK_NAME, version))
        return report_violation

    def cannot_run(policy: Policy, urn: str, e: UnknownValueError) -> None:
        # pulumi_policy's servicer: an unknown read that escapes a rule is an *advisory* note.
        out.append(Violation(policy.name, policy.description,
                             f"can't run policy '{policy.name}' from policy pack '{POLICY_PACK_NAME}@v{version}' "
                             f"during preview: {e.message}", "advisory", urn, None, POLICY_PACK_NAME, version))

    def run(policy: Policy, level: EnforcementLevel, args: Any, urn: str | None) -> None:
        """One policy over one resource (``urn``) or the stack (None), as the servicer calls it."""
        try:
            _run(policy.validate(args, reporter(policy, level, urn)))
        except UnknownValueError as e:
            cannot_run(policy, urn or "", e)
        except Exception as e:  # noqa: BLE001
            if not _is_not_applicable(e):
                raise

    deserialized = [analyzer_properties(r) for r in records]
    for record, props in zip(records, deserialized):
        for policy in policies:
            level = levels[policy.name]
            if level == EnforcementLevel.DISABLED or not isinstance(policy, ResourceValidationPolicy):
                continue
            run(policy, level, resource_args(record, props_by_policy.get(policy.name), deserialized=props), record.urn)

    for policy in policies:
        level = levels[policy.name]
        if level == EnforcementLevel.DISABLED or not isinstance(policy, StackValidationPolicy):
            continue
        run(policy, level, stack_args(records, props_by_policy.get(policy.name), deserialized=deserialized), None)
    return out
