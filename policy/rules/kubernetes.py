"""Kubernetes RBAC: the power-user read-only ClusterRole never reads Secrets and never writes;
bindings carry the program's tier/person labels, and only an admin gets ``cluster-admin``.

Property names are the engine's (camelCase: ``apiGroups``, ``roleRef``, ``nonResourceURLs``).
"""
from __future__ import annotations

from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policy import contract as c
from policy.rules._rule import Props, resource_rule
from policy.rules._support import (
    display,
    get_path,
    is_unknown,
    labels_of,
    one_of,
    unknown_message,
    unknown_paths,
)


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _grants_secrets(groups: list[str], resources: list[str]) -> str | None:
    """Why a rule's (apiGroups, resources) covers core ``secrets``, or None."""
    if not ({"", "*"} & set(groups)):
        return None  # Secrets live in the core ("") group only
    for res in resources:
        r = res.strip().lower()
        if r == "secrets" or r.startswith("secrets/"):
            return f"resource {res!r}"
        if r == "*" or r.startswith("*/"):
            return f"wildcard resource {res!r} in the core API group"
    return None


@resource_rule(c.K8S_CLUSTER_ROLE)
def validate_readonly_role(props: Props, args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """A ClusterRole labelled ``keystone.dev/role: power-user-readonly`` grants only get/list/watch,
    never on Secrets (explicitly or by wildcard), never wildcard non-resource URLs, no aggregation."""
    labels = labels_of(props)
    if is_unknown(labels) or (isinstance(labels, dict) and is_unknown(labels.get(c.K8S_LABEL_ROLE))):
        report_violation(unknown_message(f"metadata.labels[{c.K8S_LABEL_ROLE}]"))
        return
    if not isinstance(labels, dict) or labels.get(c.K8S_LABEL_ROLE) != c.K8S_READONLY_ROLE_LABEL_VALUE:
        return
    if props.get("aggregationRule") is not None:
        report_violation("the read-only role uses aggregationRule: its rules would come from other roles, which "
                         "this policy cannot see. List the rules explicitly.")
    rules = props.get("rules")
    paths = unknown_paths(rules)
    if paths:
        report_violation(unknown_message(*paths))
        return
    if rules is None:
        return
    if not isinstance(rules, list):
        report_violation(f"rules must be a list, got {display(rules)}.")
        return
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict):
            report_violation(f"rules[{i}] is not an object.")
            continue
        verbs = _strings(rule.get("verbs"))
        extra = sorted({v for v in verbs if v.lower() not in c.K8S_READONLY_VERBS})
        if extra:
            report_violation(f"rules[{i}] grants verbs {extra}; the read-only role allows only "
                             f"{sorted(c.K8S_READONLY_VERBS)}.")
        why = _grants_secrets(_strings(rule.get("apiGroups")), _strings(rule.get("resources")))
        if why:
            report_violation(f"rules[{i}] grants Secrets ({why}, apiGroups {_strings(rule.get('apiGroups'))}): "
                             "power users must not read Secrets.")
        wild_urls = sorted(u for u in _strings(rule.get("nonResourceURLs")) if "*" in u)
        if wild_urls:
            report_violation(f"rules[{i}] grants wildcard nonResourceURLs {wild_urls}.")


@resource_rule(c.K8S_CLUSTER_ROLE_BINDING, c.K8S_ROLE_BINDING)
def validate_binding(props: Props, args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """(Cluster)RoleBindings carry valid ``keystone.dev/tier`` and ``keystone.dev/person`` labels;
    ``cluster-admin`` is bound cluster-wide only for tier admin; namespace owners get no
    ClusterRoleBinding; no binding names everybody (system:authenticated, ...)."""
    cluster_wide = args.resource_type == c.K8S_CLUSTER_ROLE_BINDING
    labels = labels_of(props)
    if not isinstance(labels, dict) and not is_unknown(labels):
        report_violation(f"metadata.labels must be an object, got {display(labels)}.")
        labels = {}
    tier = labels.get(c.K8S_LABEL_TIER) if isinstance(labels, dict) else labels
    person = labels.get(c.K8S_LABEL_PERSON) if isinstance(labels, dict) else labels
    role_kind, role_name = get_path(props, "roleRef", "kind"), get_path(props, "roleRef", "name")
    subjects = props.get("subjects")
    unknown = [n for n, v in ((f"metadata.labels[{c.K8S_LABEL_TIER}]", tier),
                              (f"metadata.labels[{c.K8S_LABEL_PERSON}]", person),
                              ("roleRef.kind", role_kind), ("roleRef.name", role_name)) if is_unknown(v)]
    unknown += unknown_paths(subjects)
    if unknown:
        report_violation(unknown_message(*unknown))

    if not is_unknown(tier) and not one_of(tier, c.TIERS):
        report_violation(f"label {c.K8S_LABEL_TIER} must be one of {sorted(c.TIERS)}, got {display(tier)}.")
    if not is_unknown(person) and not (isinstance(person, str) and person):
        report_violation(f"label {c.K8S_LABEL_PERSON} must name the person, got {display(person)}.")
    if (cluster_wide and role_name == c.K8S_CLUSTER_ADMIN and role_kind == "ClusterRole"
            and not is_unknown(tier) and tier != c.TIER_ADMIN):
        report_violation(f"ClusterRoleBinding to {c.K8S_CLUSTER_ADMIN} for tier {display(tier)}: only tier "
                         f"{c.TIER_ADMIN!r} may be cluster admin.")
    if cluster_wide and tier == c.TIER_NAMESPACE_OWNER:
        report_violation(f"tier {c.TIER_NAMESPACE_OWNER!r} gets a ClusterRoleBinding (to {display(role_name)}): "
                         "namespace owners are bound per namespace with RoleBindings.")
    if isinstance(subjects, list):
        for i, subject in enumerate(subjects):
            if not isinstance(subject, dict):
                continue
            kind, name = subject.get("kind"), subject.get("name")
            if isinstance(kind, str) and isinstance(name, str) and (kind, name) in c.K8S_FORBIDDEN_SUBJECTS:
                report_violation(f"subjects[{i}] is {subject.get('kind')} {subject.get('name')!r}: a binding "
                                 "never grants a role to everybody.")


POLICIES = [
    ResourceValidationPolicy(
        name=c.P_K8S_READONLY_ROLE,
        description="The power-user read-only ClusterRole grants only get/list/watch and never Secrets.",
        validate=validate_readonly_role,
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=Severity.CRITICAL,
    ),
    ResourceValidationPolicy(
        name=c.P_K8S_BINDING,
        description="RBAC bindings carry tier/person labels; only tier admin is bound to cluster-admin.",
        validate=validate_binding,
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=Severity.CRITICAL,
    ),
]
