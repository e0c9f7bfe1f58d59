"""Every Keystone policy, as the pack registers them.

Each rule is a ``validate(args, report_violation)`` function (pulumi_policy's callback signature)
in one of the modules below, opened the same way by ``policy.rules._rule`` (resource types, plain
props, unknowns, fail closed); ``POLICIES`` wraps them in pulumi_policy's
``ResourceValidationPolicy``/``StackValidationPolicy``. ``policy/__main__.py`` hands this very list
to ``PolicyPack``, and ``policy.offline`` calls ``policy.validate`` on the same objects, so the
pack and the offline runner cannot drift apart.

Importing this module has no side effects (``PolicyPack(...)`` starts a gRPC server and never
returns, so only ``__main__.py`` constructs it).
"""
from __future__ import annotations

from pulumi_policy import EnforcementLevel, Policy

from policy.rules import accounts, authentik, base, kubernetes, peering, workstation, zfs

#: The pack's default level (every policy also sets its own explicitly).
DEFAULT_ENFORCEMENT_LEVEL = EnforcementLevel.MANDATORY

POLICIES: list[Policy] = [
    *accounts.POLICIES,
    *zfs.POLICIES,
    *peering.POLICIES,
    *kubernetes.POLICIES,
    *authentik.POLICIES,
    *workstation.POLICIES,
    *base.POLICIES,
]

BY_NAME: dict[str, Policy] = {p.name: p for p in POLICIES}
assert len(BY_NAME) == len(POLICIES), "policy names must be unique"

__all__ = ["POLICIES", "BY_NAME", "DEFAULT_ENFORCEMENT_LEVEL"]
