"""Workstation (``workstation:ServiceInstance``, seeded ``host:ManagedFile``): no two people share a
port on a host, instances run only for active people, files seeded into a home are written as the
person and a private one is never readable by others."""
from __future__ import annotations

from collections import defaultdict

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy import contract as c
from policy.rules._rule import Props, report_unknown, resource_rule, resources_of, stack_rule
from policy.rules._support import as_int, display, get_path
from validators import Invalid, files


@stack_rule
def validate_port_unique(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """On each host, a port belongs to one person (whatever the service, whatever their state:
    an offboarded person keeps theirs)."""
    holders: dict[tuple[str, int], dict[str, str]] = defaultdict(dict)
    for res, props in resources_of(args, c.WORKSTATION_INSTANCE):
        host, user, port_raw = get_path(props, c.INSTANCE_HOST, "name"), props.get(c.INSTANCE_USER), props.get(c.INSTANCE_PORT)
        if report_unknown(report_violation, (("host.name", host), (c.INSTANCE_USER, user), (c.INSTANCE_PORT, port_raw)),
                          res.urn):
            continue
        port = as_int(port_raw)
        if not isinstance(host, str) or not isinstance(user, str) or port is None:
            report_violation(f"instance {res.name} has no usable host/user/port ({display(host)}, {display(user)}, "
                             f"{display(port_raw)}).", res.urn)
            continue
        holders[(host, port)].setdefault(user, res.urn)
    for (host, port), users in sorted(holders.items()):
        if len(users) > 1:
            report_violation(f"host {host}: port {port} is given to {len(users)} people ({', '.join(sorted(users))}); "
                             "each person's port is their own.", sorted(users.values())[0])


@resource_rule(c.WORKSTATION_INSTANCE)
def validate_instance_active_only(props: Props, args: ResourceValidationArgs,
                                  report_violation: ReportViolation) -> None:
    """An instance is enabled only for an active person; a purged person's instance is absent."""
    state, enabled, ensure = (props.get(c.INSTANCE_PERSON_STATE), props.get(c.INSTANCE_ENABLED),
                              props.get(c.INSTANCE_ENSURE))
    if report_unknown(report_violation, ((c.INSTANCE_PERSON_STATE, state), (c.INSTANCE_ENABLED, enabled),
                                         (c.INSTANCE_ENSURE, ensure))):
        return
    if enabled is True and ensure != "absent" and state != c.PERSON_ACTIVE:
        report_violation(f"the instance is enabled but the person is {display(state)}: only active people's "
                         "instances run.")
    if state == c.PERSON_PURGED and ensure != "absent":
        report_violation(f"the person is purged but the instance is {display(ensure)}: a purge removes it.")


@resource_rule(c.HOST_FILE)
def validate_seed_private(props: Props, args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """A seeded file (in a home) is written as its owner, never root; a private one has no bits for others."""
    seed, as_owner, owner, private, mode = (props.get(k) for k in (c.FILE_SEED, c.FILE_AS_OWNER, c.FILE_OWNER,
                                                                   c.FILE_PRIVATE, c.FILE_MODE))
    if report_unknown(report_violation, ((c.FILE_SEED, seed), (c.FILE_AS_OWNER, as_owner), (c.FILE_OWNER, owner),
                                         (c.FILE_PRIVATE, private), (c.FILE_MODE, mode))):
        return
    if seed is True and (as_owner is not True or (as_int(owner) or 0) < c.UID_MIN):
        report_violation(f"seeded file {display(props.get(c.FILE_PATH))} must be written as its owner (a person, "
                         f"uid ≥ {c.UID_MIN}), got as_owner={display(as_owner)}, owner={display(owner)}: a root "
                         "write in a home can be redirected by a planted symlink.")
    if private is True:
        try:
            others = not files.is_private(mode)
        except Invalid:
            report_violation(f"mode {display(mode)} is not an octal mode.")
            return
        if others:
            report_violation(f"file {display(props.get(c.FILE_PATH))} is private but its mode {mode} lets others "
                             "read or write it.")


POLICIES = [
    StackValidationPolicy(
        name=c.P_WS_PORT_UNIQUE,
        description="No two people share a port on a host.",
        validate=validate_port_unique,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name=c.P_WS_INSTANCE_ACTIVE,
        description="Service instances are enabled only for active people, and absent for purged people.",
        validate=validate_instance_active_only,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    ResourceValidationPolicy(
        name=c.P_WS_SEED_PRIVATE,
        description="Seeded files are written as their owner; a private one is never readable by others.",
        validate=validate_seed_private,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
]
