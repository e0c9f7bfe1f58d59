"""Peering: BIRD peer files (``bird:PeerFile``) and ZeroTier members (``zerotier:Member``).

* every peer file has positive import/receive limits for both families, RPKI on, and sits under
  its route server's base config;
* every route server a peer file is written to has a ``bird:ServerConfig`` with RPKI enabled;
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
from policy.rules._support import (
    as_int,
    display,
    fail_closed,
    get_path,
    is_unknown,
    one_of,
    props_of,
    unknown_message,
    unknown_paths,
)


def _asn_ok(value: Any) -> bool:
    asn = as_int(value)
    return asn is not None and 1 <= asn <= c.ASN_MAX


@fail_closed
def validate_peer_file(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Limits are integers > 0, ``rpki`` is true, ``base_config_id`` is set, route server and peer named."""
    if args.resource_type != c.BIRD_PEER_FILE:
        return
    props = props_of(args)
    rs_name = get_path(props, c.PEER_ROUTE_SERVER, "name")
    asn = get_path(props, c.PEER_PEER, "asn")
    checked = [(f"{c.PEER_ROUTE_SERVER}.name", rs_name), (f"{c.PEER_PEER}.asn", asn)]
    checked += [(k, props.get(k)) for k in (*c.PEER_LIMITS, c.PEER_RPKI, c.PEER_BASE_CONFIG_ID)]
    unknown = [k for k, v in checked if is_unknown(v)]
    if unknown:
        report_violation(unknown_message(*unknown))

    if not is_unknown(rs_name) and not (isinstance(rs_name, str) and rs_name):
        report_violation(f"{c.PEER_ROUTE_SERVER}.name must name the route server, got {display(rs_name)}.")
    if not is_unknown(asn) and not _asn_ok(asn):
        report_violation(f"{c.PEER_PEER}.asn must be an AS number 1..{c.ASN_MAX}, got {display(asn)}.")
    for key in c.PEER_LIMITS:
        value = props.get(key)
        if is_unknown(value):
            continue
        limit = as_int(value)
        if limit is None or limit <= 0:
            report_violation(f"{key} must be an integer > 0, got {display(value)}: without it a peer can flood "
                             "the route server.")
    rpki = props.get(c.PEER_RPKI)
    if not is_unknown(rpki) and rpki is not True:
        report_violation(f"{c.PEER_RPKI} must be true (reject RPKI-invalid routes), got {display(rpki)}.")
    base = props.get(c.PEER_BASE_CONFIG_ID)
    if not is_unknown(base) and not (isinstance(base, str) and base.strip()):
        report_violation(f"{c.PEER_BASE_CONFIG_ID} must name the route server's base config, got {display(base)}: "
                         "a peer file outside the base config is never included (or never filtered).")


def rpki_enabled(value: Any) -> bool:
    """A ServerConfig's ``rpki`` (providers.bird RpkiSource) feeds a non-empty ROA source."""
    if value is True:
        return True
    if not isinstance(value, dict):
        return False
    return any(isinstance(value.get(k), list) and len(value[k]) > 0 for k in c.SERVER_RPKI_SOURCES)


@fail_closed
def validate_route_server_rpki(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    """Each route server with a peer file has a ``bird:ServerConfig`` in the stack, RPKI enabled on
    every ``bird:ServerConfig``, and each peer file's ``base_config_id`` is its server config's id
    (the route server's name)."""
    servers: dict[Any, list[Any]] = defaultdict(list)
    for res in args.resources:
        if res.resource_type != c.BIRD_SERVER_CONFIG:
            continue
        props = props_of(res)
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
    for res in args.resources:
        if res.resource_type != c.BIRD_PEER_FILE:
            continue
        props = props_of(res)
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


@fail_closed
def validate_zerotier_member(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """``authorized`` only when ``peer_state`` is active and the member has an ASN."""
    if args.resource_type != c.ZEROTIER_MEMBER:
        return
    props = props_of(args)
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
    unknown = [k for k, v in ((c.ZT_PEER_STATE, state), (c.ZT_ASN, asn)) if is_unknown(v)]
    if unknown:
        report_violation(unknown_message(*unknown))
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
        name=c.P_ZEROTIER_MEMBER,
        description="ZeroTier members are authorized only for active peers with an ASN.",
        validate=validate_zerotier_member,
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=Severity.HIGH,
    ),
]
