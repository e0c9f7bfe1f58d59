"""The host base (``host:Base``, the budgets' ``host:ManagedFile`` drop-ins): once a stack gives
budgets, every active person has one on every host they live on; once it backs homes up, every
active person's home is in the backup of its host."""
from __future__ import annotations

from pulumi_policy import EnforcementLevel, ReportViolation, StackValidationArgs, StackValidationPolicy

from policy import contract as c
from policy.rules._rule import resources_of, stack_rule
from policy.rules._support import as_int, get_path


def _active_accounts(args: StackValidationArgs):
    """(host, username, uid, urn) of every active person's present account."""
    for res, props in resources_of(args, c.OS_ACCOUNT):
        if props.get(c.ACCOUNT_PERSON_STATE) == c.PERSON_ACTIVE and props.get(c.ACCOUNT_ENSURE) == "present":
            host = get_path(props, c.ACCOUNT_HOST, "name")
            uid = as_int(props.get(c.ACCOUNT_UID))
            if isinstance(host, str) and uid is not None:
                yield host, props.get(c.ACCOUNT_USERNAME), uid, res.urn


@stack_rule
def validate_budget_per_person(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """A stack that gives budgets (any budget drop-in) gives one to every active person on every host."""
    budgets = {(get_path(p, "host", "name"), p.get(c.FILE_PATH)) for _, p in resources_of(args, c.HOST_FILE)}
    if not any(isinstance(path, str) and path.endswith(".slice.d/keystone.conf") for _, path in budgets):
        return
    for host, user, uid, urn in _active_accounts(args):
        if (host, c.BUDGET_DROPIN.format(uid=uid)) not in budgets:
            report_violation(f"host {host}: {user} (uid {uid}) is active without a budget "
                             f"({c.BUDGET_DROPIN.format(uid=uid)}): keystone:base.budgets gives one to every "
                             "active person.", urn)


@stack_rule
def validate_backup_per_home(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """A stack that backs homes up (a host:Base with a backup) backs up every active person's home on
    every host: that host's base has the timer and names the person."""
    bases = {get_path(p, c.BASE_HOST, "name"): p for _, p in resources_of(args, c.HOST_BASE)}
    if not any(p.get(c.BASE_BACKUP) for p in bases.values()):
        return
    for host, user, _uid, urn in _active_accounts(args):
        base = bases.get(host) or {}
        backup = base.get(c.BASE_BACKUP) or {}
        if not base.get(c.BASE_TIMER) or user not in (backup.get("people") or []):
            report_violation(f"host {host}: the home of {user} has no backup schedule (keystone:base.backups on "
                             "this host's base).", urn)


POLICIES = [
    StackValidationPolicy(
        name=c.P_BASE_BUDGET,
        description="Every active person has a budget on every host (when the stack gives budgets).",
        validate=validate_budget_per_person,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name=c.P_BASE_BACKUP,
        description="Every active person's home is backed up on every host (when the stack backs homes up).",
        validate=validate_backup_per_home,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
]
