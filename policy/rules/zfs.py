"""ZFS homes (``zfs:Dataset``) and their delegations (``zfs:Delegation``).

* destroying a home needs the person purged in the roster *and* ``allow_destroy`` in the policy config;
* a home's quota is set and within its tier's ceiling (policy config ``tier_quota_ceilings``);
* delegations never give ``destroy`` on the home itself, never ``allow``/``unallow``, never to
  ``everyone``, and only on a home owned by the same user on the same host.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy import contract as c
from policy.rules._rule import Props, config_of, report_unknown, resource_rule, resources_of, stack_rule
from policy.rules._support import (
    SIZE_OR_NONE_PATTERN,
    SizeError,
    Unknown,
    display,
    format_bytes,
    get_path,
    is_unknown,
    one_of,
    parse_size,
    unknown_message,
    unknown_paths,
)


# ----------------------------------------------------------------------------------------------
# zfs:Dataset
# ----------------------------------------------------------------------------------------------

@resource_rule(c.ZFS_DATASET)
def validate_dataset_destroy_gate(props: Props, args: ResourceValidationArgs,
                                  report_violation: ReportViolation) -> None:
    """``ensure: destroyed`` only for a purged person, and only with ``allow_destroy: true``."""
    ensure = props.get(c.DATASET_ENSURE)
    if is_unknown(ensure):
        report_violation(unknown_message(c.DATASET_ENSURE))
        return
    if not one_of(ensure, c.DATASET_ENSURE_VALUES):
        report_violation(f"{c.DATASET_ENSURE} must be one of {sorted(c.DATASET_ENSURE_VALUES)}, got {display(ensure)}.")
        return
    if ensure != c.DATASET_DESTROYED:
        return
    name = display(props.get(c.DATASET_NAME))
    state = props.get(c.DATASET_PERSON_STATE)
    if is_unknown(state):
        report_violation(unknown_message(c.DATASET_PERSON_STATE))
    elif state != c.PERSON_PURGED:
        report_violation(f"home dataset {name} would be destroyed but the person is {display(state)}, not "
                         f"{c.PERSON_PURGED!r}: only a purge in the roster destroys a home.")
    allow = config_of(args).get(c.CFG_ALLOW_DESTROY, c.DEFAULT_ALLOW_DESTROY)
    if allow is not True:
        report_violation(f"home dataset {name} would be destroyed but the policy config does not allow it "
                         f"({c.P_DATASET_DESTROY_GATE}.{c.CFG_ALLOW_DESTROY}={display(allow)}); set it to true "
                         "in the policy-pack config for this one run, after review.")


def _ceilings(cfg: dict[str, Any]) -> tuple[dict[str, int | None], list[str]]:
    raw = cfg.get(c.CFG_TIER_QUOTA_CEILINGS, c.DEFAULT_TIER_QUOTA_CEILINGS)
    errors: list[str] = []
    out: dict[str, int | None] = {}
    if not isinstance(raw, dict):
        return {}, [f"policy config {c.CFG_TIER_QUOTA_CEILINGS} must be an object of tier -> size, got {display(raw)}"]
    for tier, text in raw.items():
        try:
            out[tier] = parse_size(text)
        except SizeError as e:
            errors.append(f"policy config {c.CFG_TIER_QUOTA_CEILINGS}.{tier}: {e}")
    return out, errors


@resource_rule(c.ZFS_DATASET)
def validate_dataset_quota(props: Props, args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """A home's ``properties.quota`` is set and at most its tier's ceiling."""
    if props.get(c.DATASET_ENSURE) == c.DATASET_DESTROYED:
        return
    name = display(props.get(c.DATASET_NAME))
    ceilings, errors = _ceilings(config_of(args))
    for error in errors:
        report_violation(error)
    tier = props.get(c.DATASET_TIER)
    quota_text = get_path(props, c.DATASET_PROPERTIES, c.DATASET_QUOTA)
    if report_unknown(report_violation, ((c.DATASET_TIER, tier),
                                         (f"{c.DATASET_PROPERTIES}.{c.DATASET_QUOTA}", quota_text))):
        return
    if not one_of(tier, ceilings):
        report_violation(f"home dataset {name}: no quota ceiling is configured for tier {display(tier)} "
                         f"(configured: {sorted(ceilings)}).")
        return
    ceiling = ceilings[tier]
    if quota_text is None:
        report_violation(f"home dataset {name} has no {c.DATASET_PROPERTIES}.{c.DATASET_QUOTA}: set one within "
                         f"the {tier} ceiling of {format_bytes(ceiling)}.")
        return
    try:
        quota = parse_size(quota_text)
    except SizeError as e:
        report_violation(f"home dataset {name}: {c.DATASET_PROPERTIES}.{c.DATASET_QUOTA} {e}.")
        return
    if ceiling is None:
        return
    if quota is None or quota > ceiling:
        report_violation(f"home dataset {name} has quota {quota_text} above the {tier} ceiling of "
                         f"{format_bytes(ceiling)}.")


# ----------------------------------------------------------------------------------------------
# zfs:Delegation
# ----------------------------------------------------------------------------------------------

def _permission_list(value: Any, field: str, report_violation: ReportViolation) -> list[str] | None:
    if value is None:
        return []
    paths = unknown_paths(value)
    if paths:
        report_violation(unknown_message(*paths))
        return None
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        report_violation(f"{field} must be a list of permission names, got {display(value)}.")
        return None
    perms: list[str] = []
    for item in value:  # tolerate "create,mount" entries
        perms.extend(p.strip() for p in item.split(",") if p.strip())
    return perms


@resource_rule(c.ZFS_DELEGATION)
def validate_delegation(props: Props, args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """No ``destroy`` on the home itself, no ``allow``/``unallow``, no permission sets, never ``everyone``."""
    dataset = display(props.get(c.DELEGATION_DATASET))
    user = props.get(c.DELEGATION_USER)
    if is_unknown(user):
        report_violation(unknown_message(c.DELEGATION_USER))
    elif not isinstance(user, str) or not user.strip():
        report_violation(f"{c.DELEGATION_USER} must be a username, got {display(user)}.")
    elif user.strip().lower() in c.DELEGATION_FORBIDDEN_USERS:
        report_violation(f"delegation on {dataset} is to {user!r}: delegate to the home's owner only.")

    local = _permission_list(props.get(c.DELEGATION_PERMISSIONS), c.DELEGATION_PERMISSIONS, report_violation)
    desc = _permission_list(props.get(c.DELEGATION_DESCENDENT_PERMISSIONS), c.DELEGATION_DESCENDENT_PERMISSIONS,
                            report_violation)
    if local is not None:
        for perm in sorted(set(local) & c.DELEGATION_NEVER_ON_HOME):
            report_violation(f"{perm!r} is delegated on {dataset} itself ({c.DELEGATION_PERMISSIONS}): the owner "
                             f"could destroy the home; delegate it in {c.DELEGATION_DESCENDENT_PERMISSIONS} only "
                             "(zfs allow -d).")
    for field, perms in ((c.DELEGATION_PERMISSIONS, local), (c.DELEGATION_DESCENDENT_PERMISSIONS, desc)):
        if perms is None:
            continue
        for perm in sorted(set(perms) & c.DELEGATION_NEVER):
            report_violation(f"{perm!r} is delegated on {dataset} ({field}): the owner could grant or revoke "
                             "permissions on it.")
        for perm in sorted(p for p in set(perms) if p.startswith("@")):
            report_violation(f"permission set {perm!r} is delegated on {dataset} ({field}): a policy cannot see "
                             "what a set contains; list the permissions.")


def _host_name(value: Any) -> Any:
    if isinstance(value, Unknown):
        return value
    if isinstance(value, dict):
        return value.get("name")
    return value


@stack_rule
def validate_delegation_own_home(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Every delegation targets a home dataset (``zfs:Dataset``) of the stack on the same host whose
    ``owner`` is the delegated user."""
    owners: dict[tuple[Any, Any], set[Any]] = defaultdict(set)
    for _, p in resources_of(args, c.ZFS_DATASET):
        key = (_host_name(p.get(c.DATASET_HOST)), p.get(c.DATASET_NAME))
        if not all(isinstance(k, str) for k in key):
            continue  # unknown or malformed: not a home a delegation can match
        owner = p.get(c.DATASET_OWNER)
        owners[key].add(owner if isinstance(owner, (str, Unknown)) else repr(owner))
    for res, p in resources_of(args, c.ZFS_DELEGATION):
        host, dataset, user = _host_name(p.get(c.DELEGATION_HOST)), p.get(c.DELEGATION_DATASET), p.get(c.DELEGATION_USER)
        if report_unknown(report_violation, (("host.name", host), (c.DELEGATION_DATASET, dataset),
                                             (c.DELEGATION_USER, user)), res.urn):
            continue
        found = owners.get((host, dataset)) if isinstance(host, str) and isinstance(dataset, str) else None
        if not found:
            report_violation(f"delegation {res.name} targets {dataset!r} on host {host!r}, which is not a home "
                             "dataset of this stack.", res.urn)
        elif any(is_unknown(o) for o in found):
            report_violation(unknown_message(f"owner of {dataset}"), res.urn)
        elif found != {user} or not isinstance(user, str):
            report_violation(f"delegation {res.name} gives {user!r} rights on {dataset!r}, owned by "
                             f"{sorted(map(str, found))}.", res.urn)


POLICIES = [
    ResourceValidationPolicy(
        name=c.P_DATASET_DESTROY_GATE,
        description="A home dataset is destroyed only for a purged person and only when the policy config allows it.",
        validate=validate_dataset_destroy_gate,
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=Severity.CRITICAL,
        config_schema=PolicyConfigSchema(properties={
            c.CFG_ALLOW_DESTROY: {
                "type": "boolean",
                "default": c.DEFAULT_ALLOW_DESTROY,
                "description": "Allow zfs:Dataset ensure=destroyed (for purged people). Turn on for one reviewed run.",
            },
        }),
    ),
    ResourceValidationPolicy(
        name=c.P_DATASET_QUOTA,
        description="Every home dataset has a quota within its tier's ceiling.",
        validate=validate_dataset_quota,
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=Severity.MEDIUM,
        config_schema=PolicyConfigSchema(properties={
            c.CFG_TIER_QUOTA_CEILINGS: {
                "type": "object",
                "additionalProperties": {"type": "string", "pattern": SIZE_OR_NONE_PATTERN},
                "default": dict(c.DEFAULT_TIER_QUOTA_CEILINGS),
                "description": "Largest quota per tier (ZFS sizes such as 500G, 2T; 'none' for no ceiling).",
            },
        }),
    ),
    ResourceValidationPolicy(
        name=c.P_DELEGATION,
        description="ZFS delegations never allow destroying the home itself, re-delegating, or everyone.",
        validate=validate_delegation,
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=Severity.CRITICAL,
    ),
    StackValidationPolicy(
        name=c.P_DELEGATION_OWN_HOME,
        description="A ZFS delegation targets a home dataset of this stack owned by the delegated user.",
        validate=validate_delegation_own_home,
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=Severity.HIGH,
    ),
]
