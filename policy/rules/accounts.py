"""OS accounts (``os:Account``): hashed passwords only and kept secret, sane identities, people who
left cannot log in, and one uid per username across the whole stack."""
from __future__ import annotations

from collections import defaultdict

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy import contract as c
from policy.rules._rule import Props, report_unknown, resource_rule, resources_of, stack_rule
from policy.rules._support import as_int, display, is_unknown, one_of, unknown_message
from validators import Invalid, password, person_name


def is_crypt_hash(value: str) -> bool:
    """A ``$6$``/``$y$`` crypt hash by the roster's own rule (``validators.password``)."""
    return password.is_hash(value)


@resource_rule(c.OS_ACCOUNT)
def validate_password_hash(props: Props, args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """``password_hash`` is None or a ``$6$``/``$y$`` crypt hash, and is declared a secret output."""
    value = props.get(c.ACCOUNT_PASSWORD_HASH)
    if value is None:
        return
    if is_unknown(value):
        report_violation(unknown_message(c.ACCOUNT_PASSWORD_HASH))
    elif not isinstance(value, str):
        report_violation(f"{c.ACCOUNT_PASSWORD_HASH} must be null or a crypt hash string, "
                         f"got a {type(value).__name__}.")
    elif not is_crypt_hash(value):
        # Never echo the value: it may be a plaintext password.
        report_violation(f"{c.ACCOUNT_PASSWORD_HASH} is not a SHA-512 ($6$) or yescrypt ($y$) crypt hash "
                         "(value not shown: it may be a plaintext password). Put only hashes in the "
                         "roster/stack config, e.g. from `mkpasswd -m yescrypt`.")
    secret_outputs = list(getattr(args.opts, "additional_secret_outputs", None) or [])
    if c.ACCOUNT_PASSWORD_HASH not in secret_outputs:
        report_violation(f"{c.ACCOUNT_PASSWORD_HASH} is set but not listed in additional_secret_outputs "
                         f"(got {sorted(secret_outputs)}): the hash would be stored in plain text in the "
                         "stack state.")


@resource_rule(c.OS_ACCOUNT)
def validate_lifecycle(props: Props, args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Valid username/uid/ensure/person_state/tier; a person who is not active cannot log in."""
    report_unknown(report_violation, ((k, props.get(k)) for k in (
        c.ACCOUNT_USERNAME, c.ACCOUNT_UID, c.ACCOUNT_ENSURE, c.ACCOUNT_PERSON_STATE, c.ACCOUNT_TIER)))

    username = props.get(c.ACCOUNT_USERNAME)
    if not is_unknown(username):
        try:
            person_name(username)
        except Invalid as e:  # the roster's rule: useradd's NAME_REGEX, and never a name the system keeps
            report_violation(f"{c.ACCOUNT_USERNAME} {display(username)} is not a valid login name ({e}).")

    uid_raw = props.get(c.ACCOUNT_UID)
    if not is_unknown(uid_raw):
        uid = as_int(uid_raw)
        if uid is None:
            report_violation(f"{c.ACCOUNT_UID} must be an integer, got {display(uid_raw)}.")
        elif uid < c.UID_MIN or uid > c.UID_MAX or uid in c.UID_FORBIDDEN:
            report_violation(f"{c.ACCOUNT_UID} {uid} is outside the range for people "
                             f"({c.UID_MIN}..{c.UID_MAX}, not 65534/nobody).")

    ensure = props.get(c.ACCOUNT_ENSURE)
    if not is_unknown(ensure) and not one_of(ensure, c.ACCOUNT_ENSURE_VALUES):
        report_violation(f"{c.ACCOUNT_ENSURE} must be one of {sorted(c.ACCOUNT_ENSURE_VALUES)}, got {display(ensure)}.")
    state = props.get(c.ACCOUNT_PERSON_STATE)
    if not is_unknown(state) and not one_of(state, c.PERSON_STATES):
        report_violation(f"{c.ACCOUNT_PERSON_STATE} must be one of {sorted(c.PERSON_STATES)}, got {display(state)}.")
    tier = props.get(c.ACCOUNT_TIER)
    if not is_unknown(tier) and not one_of(tier, c.TIERS):
        report_violation(f"{c.ACCOUNT_TIER} must be one of {sorted(c.TIERS)}, got {display(tier)}.")

    if one_of(state, (c.PERSON_OFFBOARDED, c.PERSON_PURGED)) and ensure != "absent":
        locked = props.get(c.ACCOUNT_LOCKED)
        if is_unknown(locked):
            report_violation(unknown_message(c.ACCOUNT_LOCKED))
        elif locked is not True:
            report_violation(f"person is {state} but the account is present and not locked "
                             f"({c.ACCOUNT_LOCKED}={display(locked)}): an offboarded person must not be able "
                             "to log in.")


@stack_rule
def validate_identity_unique(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """One username <-> one uid across the stack (the same person has one account per host, all
    with the same uid; two usernames never share a uid)."""
    uids_by_user: dict[str, set[int]] = defaultdict(set)
    users_by_uid: dict[int, set[str]] = defaultdict(set)
    urns_by_user: dict[str, list[str]] = defaultdict(list)
    urns_by_uid: dict[int, list[str]] = defaultdict(list)
    for res, props in resources_of(args, c.OS_ACCOUNT):
        username, uid_raw = props.get(c.ACCOUNT_USERNAME), props.get(c.ACCOUNT_UID)
        if report_unknown(report_violation, ((c.ACCOUNT_USERNAME, username), (c.ACCOUNT_UID, uid_raw)), res.urn):
            continue
        uid = as_int(uid_raw)
        if not isinstance(username, str) or uid is None:
            report_violation(f"account {res.name} has no usable {c.ACCOUNT_USERNAME}/{c.ACCOUNT_UID} "
                             f"({display(username)}, {display(uid_raw)}).", res.urn)
            continue
        uids_by_user[username].add(uid)
        users_by_uid[uid].add(username)
        urns_by_user[username].append(res.urn)
        urns_by_uid[uid].append(res.urn)

    for username in sorted(uids_by_user):
        uids = uids_by_user[username]
        if len(uids) > 1:
            report_violation(f"username {username!r} has {len(uids)} different uids {sorted(uids)} across "
                             f"{len(urns_by_user[username])} accounts; one person has one uid on every host.",
                             sorted(urns_by_user[username])[0])
    for uid in sorted(users_by_uid):
        users = users_by_uid[uid]
        if len(users) > 1:
            report_violation(f"uid {uid} is shared by usernames {sorted(users)}: files owned by one would "
                             "belong to the other.", sorted(urns_by_uid[uid])[0])


POLICIES = [
    ResourceValidationPolicy(
        name=c.P_ACCOUNT_PASSWORD,
        description="OS account passwords are crypt hashes ($6$ or $y$) or null, and kept secret in state.",
        validate=validate_password_hash,
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=Severity.CRITICAL,
    ),
    ResourceValidationPolicy(
        name=c.P_ACCOUNT_LIFECYCLE,
        description="OS accounts have a valid identity and lifecycle; people who left cannot log in.",
        validate=validate_lifecycle,
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=Severity.HIGH,
    ),
    StackValidationPolicy(
        name=c.P_ACCOUNT_IDENTITY,
        description="Each username has exactly one uid across all hosts, and no two usernames share a uid.",
        validate=validate_identity_unique,
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=Severity.HIGH,
    ),
]
