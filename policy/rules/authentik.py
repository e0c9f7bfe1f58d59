"""Authentik: the SSO gate group holds exactly the active people (advisory).

The group's ``users`` are Authentik user ids, which the policy cannot map to usernames; it compares
counts: distinct ``username`` of ``os:Account`` resources with ``person_state: active`` against the
distinct ids in the gate group's ``users``. User ids of users created in the same run are unknown
during preview, so this check often cannot run in a preview; that is why it is advisory.
"""
from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy import contract as c
from policy.rules._rule import config_of, resources_of, stack_rule
from policy.rules._support import display, is_unknown, unknown_message, unknown_paths


@stack_rule
def validate_gate_group(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """A group named ``gate_group`` exists once, and its member count equals the active people."""
    gate = config_of(args).get(c.CFG_GATE_GROUP, c.DEFAULT_GATE_GROUP)

    active: set[str] = set()
    undetermined = 0
    for _res, props in resources_of(args, c.OS_ACCOUNT):
        state, username = props.get(c.ACCOUNT_PERSON_STATE), props.get(c.ACCOUNT_USERNAME)
        if is_unknown(state) or is_unknown(username):
            undetermined += 1
        elif state == c.PERSON_ACTIVE and isinstance(username, str):
            active.add(username)

    groups = []
    for res, props in resources_of(args, c.AUTHENTIK_GROUP):
        name = props.get(c.AUTHENTIK_GROUP_NAME)
        if is_unknown(name):
            report_violation(unknown_message(c.AUTHENTIK_GROUP_NAME), res.urn)
        elif name == gate:
            groups.append((res, props))

    if not groups:
        report_violation(f"no {c.AUTHENTIK_GROUP} named {gate!r} (policy config {c.CFG_GATE_GROUP}): "
                         "nobody would pass the SSO gate, or the gate is not managed here.")
        return
    if len(groups) > 1:
        report_violation(f"{len(groups)} Authentik groups are named {gate!r}; the gate must be one group.",
                         groups[1][0].urn)
    res, props = groups[0]
    users = props.get(c.AUTHENTIK_GROUP_USERS)
    paths = unknown_paths(users)
    if paths or undetermined:
        what = list(paths) + ([f"person_state/username of {undetermined} os:Account"] if undetermined else [])
        report_violation(f"cannot compare the gate group with the active people during this run: "
                         f"{', '.join(what)} unknown.", res.urn)
        return
    if users is None:
        users = []
    if not isinstance(users, list):
        report_violation(f"{c.AUTHENTIK_GROUP_USERS} of group {gate!r} must be a list, got {display(users)}.", res.urn)
        return
    members = {str(u) for u in users}
    if len(members) != len(active):
        report_violation(f"gate group {gate!r} has {len(members)} users but {len(active)} people are active "
                         f"({', '.join(sorted(active)) or 'none'}): someone is missing or was not removed.",
                         res.urn)


POLICIES = [
    StackValidationPolicy(
        name=c.P_AUTHENTIK_GATE,
        description="The Authentik gate group exists and holds exactly the active people.",
        validate=validate_gate_group,
        enforcement_level=EnforcementLevel.ADVISORY,
        severity=Severity.MEDIUM,
        config_schema=PolicyConfigSchema(properties={
            c.CFG_GATE_GROUP: {
                "type": "string",
                "minLength": 1,
                "default": c.DEFAULT_GATE_GROUP,
                "description": "Name of the Authentik group every active person belongs to.",
            },
        }),
    ),
]
