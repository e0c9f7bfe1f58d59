"""Peering: BIRD peer files (``bird:PeerFile``) and ZeroTier members (``zerotier:Member``).

* every peer file has positive import/receive limits for both families, RPKI on, and sits under
  its route server's base config;
* every route server a peer file is written to has a ``bird:ServerConfig`` with RPKI enabled;
* the peer files a ``bird:ServerConfig`` lays down when it is created (``seed_peers``) pass the same
  checks, and each is exactly the inputs of a ``bird:PeerFile`` of the stack (so nothing reaches a
  route server that the peer-file rules did not see);
* a ZeroTier member is authorized only for an active peer with an ASN.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

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
from policy.rules._support import (
    as_int,
    display,
    get_path,
    is_unknown,
    one_of,
    unknown_message,
    unknown_paths,
)


def _asn_ok(value: Any) -> bool:
    asn = as_int(value)
    return asn is not None and 1 <= asn <= c.ASN_MAX


@resource_rule(c.BIRD_PEER_FILE)
def validate_peer_file(props: Props, args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Limits are integers > 0, ``rpki`` is true, ``base_config_id`` is set, route server and peer named."""
    rs_name = get_path(props, c.PEER_ROUTE_SERVER, "name")
    asn = get_path(props, c.PEER_PEER, "asn")
    checked = [(f"{c.PEER_ROUTE_SERVER}.name", rs_name), (f"{c.PEER_PEER}.asn", asn)]
    checked += [(k, props.get(k)) for k in (*c.PEER_LIMITS, c.PEER_RPKI, c.PEER_BASE_CONFIG_ID)]
    report_unknown(report_violation, checked)

    if not is_unknown(rs_name) and not (isinstance(rs_name, str) and rs_name):
        report_violation(f"{c.PEER_ROUTE_SERVER}.name must name the route server, got {display(rs_name)}.")
    for message in _peer_problems(props):
        report_violation(message)
    base = props.get(c.PEER_BASE_CONFIG_ID)
    if not is_unknown(base) and not (isinstance(base, str) and base.strip()):
        report_violation(f"{c.PEER_BASE_CONFIG_ID} must name the route server's base config, got {display(base)}: "
                         "a peer file outside the base config is never included (or never filtered).")


def _peer_problems(props: dict[str, Any]) -> list[str]:
    """ASN, limits and RPKI of a peer file (or of a seed standing for one)."""
    problems = []
    asn = get_path(props, c.PEER_PEER, "asn")
    if not is_unknown(asn) and not _asn_ok(asn):
        problems.append(f"{c.PEER_PEER}.asn must be an AS number 1..{c.ASN_MAX}, got {display(asn)}.")
    for key in c.PEER_LIMITS:
        value = props.get(key)
        if is_unknown(value):
            continue
        limit = as_int(value)
        if limit is None or limit <= 0:
            problems.append(f"{key} must be an integer > 0, got {display(value)}: without it a peer can flood "
                            "the route server.")
    rpki = props.get(c.PEER_RPKI)
    if not is_unknown(rpki) and rpki is not True:
        problems.append(f"{c.PEER_RPKI} must be true (reject RPKI-invalid routes), got {display(rpki)}.")
    return problems


def _seeds(props: dict[str, Any]) -> list[Any]:
    seeds = props.get(c.SERVER_SEEDS)
    return seeds if isinstance(seeds, list) else []


@resource_rule(c.BIRD_SERVER_CONFIG)
def validate_server_seeds(props: Props, args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Each of a ``bird:ServerConfig``'s ``seed_peers`` passes the peer-file checks (ASN, limits, RPKI)."""
    seeds = props.get(c.SERVER_SEEDS)
    if is_unknown(seeds) or unknown_paths(seeds):
        report_violation(unknown_message(*(unknown_paths(seeds) or [c.SERVER_SEEDS])))
        return
    if seeds is not None and not isinstance(seeds, list):
        report_violation(f"{c.SERVER_SEEDS} must be a list of peer file inputs, got {display(seeds)}.")
        return
    for i, seed in enumerate(_seeds(props)):
        where = f"{c.SERVER_SEEDS}[{i}] (AS{display(get_path(seed, c.PEER_PEER, 'asn'))})"
        if not isinstance(seed, dict):
            report_violation(f"{where} must be a peer file's inputs, got {display(seed)}.")
            continue
        for message in _peer_problems(seed):
            report_violation(f"{where}: {message}")


@stack_rule
def validate_seeds_match_peer_files(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Each seed of a route server's ``bird:ServerConfig`` is exactly a ``bird:PeerFile`` of the stack for
    that route server and ASN (peer, limits, RPKI)."""
    files: dict[tuple[Any, Any], dict[str, Any]] = {}
    for _, props in resources_of(args, c.BIRD_PEER_FILE):
        key = (get_path(props, c.PEER_ROUTE_SERVER, "name"), get_path(props, c.PEER_PEER, "asn"))
        files[key] = {k: props.get(k) for k in c.SEED_FIELDS}
    for res, props in resources_of(args, c.BIRD_SERVER_CONFIG):
        name = get_path(props, c.SERVER_ROUTE_SERVER, "name")
        for i, seed in enumerate(_seeds(props)):
            if not isinstance(seed, dict):
                continue  # reported by validate_server_seeds
            asn = get_path(seed, c.PEER_PEER, "asn")
            match = files.get((name, asn))
            if match is None:
                report_violation(f"route server {display(name)} seeds AS{display(asn)} ({c.SERVER_SEEDS}[{i}]), but the "
                                 f"stack has no {c.BIRD_PEER_FILE} for it: a seed must stand for a peer file.", res.urn)
            elif match != {k: seed.get(k) for k in c.SEED_FIELDS}:
                differ = [k for k in c.SEED_FIELDS if match.get(k) != seed.get(k)]
                report_violation(f"route server {display(name)} seeds AS{display(asn)} ({c.SERVER_SEEDS}[{i}]) unlike "
                                 f"its {c.BIRD_PEER_FILE} ({', '.join(differ)} differ): the seeded file would not be "
                                 "the one the peer-file rules checked.", res.urn)


def rpki_enabled(value: Any) -> bool:
    """A ServerConfig's ``rpki`` (providers.bird RpkiSource) feeds a non-empty ROA source."""
    if value is True:
        return True
    if not isinstance(value, dict):
        return False
    return any(isinstance(value.get(k), list) and len(value[k]) > 0 for k in c.SERVER_RPKI_SOURCES)


@stack_rule
def validate_route_server_rpki(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Each route server with a peer file has a ``bird:ServerConfig`` in the stack, RPKI enabled on
    every ``bird:ServerConfig``, and each peer file's ``base_config_id`` is its server config's id
    (the route server's name)."""
    servers: dict[Any, list[Any]] = defaultdict(list)
    for res, props in resources_of(args, c.BIRD_SERVER_CONFIG):
        name = get_path(props, c.SERVER_ROUTE_SERVER, "name")
        rpki = props.get(c.SERVER_RPKI)
        unknown = [f"{c.SERVER_ROUTE_SERVER}.name"] if is_unknown(name) else []
        unknown += unknown_paths(rpki)
        if unknown:
            report_violation(unknown_message(*unknown), res.urn)
        elif not rpki_enabled(rpki):
            report_violation(f"route server {name!r} has RPKI off ({c.SERVER_RPKI}={display(rpki)}): its import "
                             "filters must reject RPKI-invalid routes, fed by RTR caches or a non-empty ROA list.",
                             res.urn)
        if isinstance(name, str):
            servers[name].append(rpki)
    for res, props in resources_of(args, c.BIRD_PEER_FILE):
        name, base = get_path(props, c.PEER_ROUTE_SERVER, "name"), props.get(c.PEER_BASE_CONFIG_ID)
        if is_unknown(name):
            report_violation(unknown_message(f"{c.PEER_ROUTE_SERVER}.name"), res.urn)
        elif not one_of(name, servers):
            report_violation(f"peer file {res.name} is for route server {display(name)}, which has no "
                             f"{c.BIRD_SERVER_CONFIG} in this stack (with RPKI enabled).", res.urn)
        elif isinstance(base, str) and base and base != name:
            report_violation(f"peer file {res.name} has {c.PEER_BASE_CONFIG_ID}={base!r}, but the base config of "
                             f"route server {name!r} is {name!r}: the file would not sit under its server's config.",
                             res.urn)


@resource_rule(c.ZEROTIER_MEMBER)
def validate_zerotier_member(props: Props, args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """``authorized`` only when ``peer_state`` is active and the member has an ASN."""
    authorized = props.get(c.ZT_AUTHORIZED)
    if is_unknown(authorized):
        report_violation(unknown_message(c.ZT_AUTHORIZED))
        return
    if not isinstance(authorized, bool):
        report_violation(f"{c.ZT_AUTHORIZED} must be a boolean, got {display(authorized)} (the controller "
                         "silently deauthorizes on anything else).")
        return
    if not authorized:
        return
    state, asn = props.get(c.ZT_PEER_STATE), props.get(c.ZT_ASN)
    report_unknown(report_violation, ((c.ZT_PEER_STATE, state), (c.ZT_ASN, asn)))
    if not is_unknown(state) and state != c.PEER_STATE_ACTIVE:
        report_violation(f"member {display(props.get(c.ZT_MEMBER_ID))} is authorized but the peer is "
                         f"{display(state)}, not {c.PEER_STATE_ACTIVE!r}: deauthorize it.")
    if not is_unknown(asn) and not _asn_ok(asn):
        report_violation(f"member {display(props.get(c.ZT_MEMBER_ID))} is authorized without a roster ASN "
                         f"({c.ZT_ASN}={display(asn)}).")


POLICIES = [
    ResourceValidationPolicy(
        name=c.P_BIRD_PEER_FILE,
        description="BIRD peer files have positive import/receive limits, RPKI on, and sit under the base config.",
        validate=validate_peer_file,
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=Severity.HIGH,
    ),
    StackValidationPolicy(
        name=c.P_BIRD_SERVER_RPKI,
        description="Every route server with peers has a BIRD server config with RPKI enabled.",
        validate=validate_route_server_rpki,
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=Severity.HIGH,
    ),
    ResourceValidationPolicy(
        name=c.P_BIRD_SEEDS,
        description="Peer files seeded by a BIRD server config pass the peer-file checks.",
        validate=validate_server_seeds,
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=Severity.HIGH,
    ),
    StackValidationPolicy(
        name=c.P_BIRD_SEEDS_MATCH,
        description="Each peer file a BIRD server config seeds is exactly a peer file of the stack.",
        validate=validate_seeds_match_peer_files,
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=Severity.HIGH,
    ),
    ResourceValidationPolicy(
        name=c.P_ZEROTIER_MEMBER,
        description="ZeroTier members are authorized only for active peers with an ASN.",
        validate=validate_zerotier_member,
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=Severity.HIGH,
    ),
]
