"""Authentik: the SSO gate group exists once and holds exactly the active people (advisory).

Membership is one ``authentik:GroupMember`` per person (``person`` is the OS username, known in every
preview): the active people of the ``os:Account`` resources must each have one in the gate group, and
nobody whose accounts are all offboarded or purged may (a person with no account on this stack's hosts
is not judged: the stack does not show their state).  Advisory; a stack with no Authentik resource at
all (Authentik off, as on dev) is not checked.
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
from policy.rules._support import display, is_unknown, unknown_message


@stack_rule
def validate_gate_group(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """A group named ``gate_group`` exists once, and its members are exactly the active people."""
    gate = config_of(args).get(c.CFG_GATE_GROUP, c.DEFAULT_GATE_GROUP)

    active: set[str] = set()
    on_hosts: set[str] = set()  # people with an account somewhere: the only ones whose state the stack shows
    undetermined = 0
    for _res, props in resources_of(args, c.OS_ACCOUNT):
        state, username = props.get(c.ACCOUNT_PERSON_STATE), props.get(c.ACCOUNT_USERNAME)
        if is_unknown(state) or is_unknown(username):
            undetermined += 1
        elif isinstance(username, str):
            on_hosts.add(username)
            if state == c.PERSON_ACTIVE:
                active.add(username)

    groups = []
    for res, props in resources_of(args, c.AUTHENTIK_GROUP):
        name = props.get(c.AUTHENTIK_GROUP_NAME)
        if is_unknown(name):
            report_violation(unknown_message(c.AUTHENTIK_GROUP_NAME), res.urn)
        elif name == gate:
            groups.append((res, props))

    if not groups and not any(resources_of(args, c.AUTHENTIK_GROUP, c.AUTHENTIK_MEMBER)):
        return  # Authentik is off on this stack (dev): there is no gate to check
    if not groups:
        report_violation(f"no {c.AUTHENTIK_GROUP} named {gate!r} (policy config {c.CFG_GATE_GROUP}): "
                         "nobody would pass the SSO gate, or the gate is not managed here.")
        return
    if len(groups) > 1:
        report_violation(f"{len(groups)} Authentik groups are named {gate!r}; the gate must be one group.",
                         groups[1][0].urn)
    members: dict[str, int] = {}
    for res, props in resources_of(args, c.AUTHENTIK_MEMBER):
        person, group = props.get(c.AUTHENTIK_MEMBER_PERSON), props.get(c.AUTHENTIK_MEMBER_GROUP)
        if is_unknown(person) or is_unknown(group):
            report_violation(unknown_message(c.AUTHENTIK_MEMBER_PERSON), res.urn)
        elif group != gate:
            report_violation(f"{person} is made a member of {display(group)}, not of the gate group {gate!r}.",
                             res.urn)
        elif isinstance(person, str):
            members[person] = members.get(person, 0) + 1
    if undetermined:
        report_violation(f"cannot compare the gate group with the active people during this run: person_state/"
                         f"username of {undetermined} os:Account unknown.", groups[0][0].urn)
        return
    missing = sorted(active - set(members))
    extra = sorted((set(members) & on_hosts) - active)
    twice = sorted(p for p, n in members.items() if n > 1)
    for what, who in (("active but not in", missing), ("in, but not active:", extra), ("in twice:", twice)):
        if who:
            report_violation(f"gate group {gate!r}: {', '.join(who)} {what} the gate group"
                             if what.startswith("active") else f"gate group {gate!r} has people {what} "
                             f"{', '.join(who)}", groups[0][0].urn)


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
