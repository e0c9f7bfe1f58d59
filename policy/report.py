"""The ``Policies:`` section of ``pulumi preview --policy-pack policy``, printed from violations the
way the CLI does (without colours); a stack violation without a URN is attributed to the root stack."""
from __future__ import annotations

import sys
from typing import Any, TextIO

from pulumi_policy import Severity

from policy.contract import POLICY_PACK_NAME
from policy.evaluation import pack_version
from policy.records import Violation
from policy.wire import root_stack_urn

_SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.HIGH: 1, Severity.MEDIUM: 2, Severity.LOW: 3, None: 4}
_LEVEL_RANK = {"remediate": 0, "mandatory": 1, "advisory": 2, "disabled": 3}


def display_type(type_: str) -> str:
    """``tokens.Type.DisplayName`` of the Pulumi CLI: ``pkg:mod/file:Name`` -> ``pkg:mod:Name`` when
    ``file`` is ``Name`` in camelCase (``authentik:index/group:Group`` -> ``authentik:index:Group``)."""
    parts = type_.split(":")
    if len(parts) != 3 or not parts[2] or "/" not in parts[1]:
        return type_
    module, _, file = parts[1].rpartition("/")
    name = parts[2]
    if file != name[:1].lower() + name[1:]:
        return type_
    return f"{parts[0]}:{module}:{name}"


def _resource_clause(urn: str) -> str:
    # urn:pulumi:<stack>::<project>::<qualified type>::<name>
    pieces = urn.split("::")
    if not urn.startswith("urn:pulumi:") or len(pieces) < 4:
        return ""
    qualified_type, name = pieces[2], "::".join(pieces[3:])
    return f"  ({display_type(qualified_type.split('$')[-1])}: {name})"


def format_violations(violations: list[Violation], *, pack_path: str = "policy", stack: str = "dev",
                      version: str | None = None) -> str:
    """The ``Policies:`` section of ``pulumi preview --policy-pack <pack_path>`` (without colours)."""
    version = version or (violations[0].policy_pack_version if violations else pack_version())
    if any(v.mandatory for v in violations):
        mark = "❌"
    elif violations:
        mark = "⚠️"
    else:
        mark = "✅"
    lines = ["Policies:", f"    {mark} {POLICY_PACK_NAME}@v{version} (local: {pack_path})"]
    ordered = sorted(violations, key=lambda v: (
        _LEVEL_RANK.get(v.enforcement_level, 99),
        _SEVERITY_RANK.get(Severity(v.severity) if v.severity else None, 99),
        v.policy_name,
        v.urn or root_stack_urn(stack),
    ))
    for v in ordered:
        severity = f" [severity: {v.severity}]" if v.severity else ""
        urn = v.urn or root_stack_urn(stack)
        lines.append(f"        - [{v.enforcement_level}]{severity}  {v.policy_name}{_resource_clause(urn)}")
        for line in v.message.rstrip("\n").split("\n"):
            lines.append(f"          {line}")
    lines.append("")
    return "\n".join(lines) + "\n"


def print_violations(violations: list[Violation], file: TextIO | None = None, **kwargs: Any) -> int:
    """Print the ``Policies:`` section; return 1 if any violation is mandatory, else 0."""
    (file or sys.stdout).write(format_violations(violations, **kwargs))
    return 1 if any(v.mandatory for v in violations) else 0
