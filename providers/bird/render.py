"""Render BIRD 2 configuration (pure): the route server's main config and one file per peer ASN.

Safety: every value a template prints goes through one of the filters below (``bird_int``,
``bird_bool``, ``bird_ip``, ``bird_prefix``, ``bird_symbol``, ``bird_string``, ``bird_host``, ``bird_path``,
``bird_comment``),
which re-check the value against a strict pattern and return a ``Token``; the environment's
``finalize`` refuses anything that is not a ``Token``.  A template therefore cannot print an
unchecked value, and a hostile value (quotes, braces, newlines, ``include``) makes rendering raise
``RenderError`` even when the pydantic models were bypassed.  Strings are always printed quoted.

Output is deterministic (sorted loops, no timestamps) so golden files show every change in review.
"""
from __future__ import annotations

import hashlib
import ipaddress
import pathlib
import re
from dataclasses import dataclass
from typing import Any

import jinja2

import validators
from providers.bird import models
from providers.bird.communities import INFORMATIONAL, REJECT_CAUSE, RPKI_STATE, RejectCause, RpkiState
from providers.bird.models import FilterPolicy, PeerSpec, RouteServer, RpkiSource

TEMPLATES = pathlib.Path(__file__).with_name("templates")

#: Names of shared objects in the main config (persisted API: peer files refer to them).
TEMPLATE_V4 = "ks_peer_v4"
TEMPLATE_V6 = "ks_peer_v6"
FUNCTION_V4 = "ks_import_v4"
FUNCTION_V6 = "ks_import_v6"
ROA4_TABLE = "ks_roa4"
ROA6_TABLE = "ks_roa6"
#: Tags a route with a reject cause (see ``communities.py``) and returns false.
REJECT_FUNCTION = "ks_reject"
#: Tag an accepted route with its RPKI state.
STATE_V4 = "ks_rpki_state_v4"
STATE_V6 = "ks_rpki_state_v6"

MARKER_PREFIX = "# keystone-resource: "

#: IPv4 prefixes that must never be accepted (RFC 6890 special-purpose and friends), with more-specifics.
BOGONS_V4 = tuple(ipaddress.IPv4Network(p) for p in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
))
#: IPv6 prefixes that must never be accepted inside 2000::/3 (everything outside it is rejected too).
BOGONS_V6 = tuple(ipaddress.IPv6Network(p) for p in (
    "2001:2::/48", "2001:10::/28", "2001:db8::/32", "2002::/16", "3ffe::/16",
))
GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")

SYMBOL = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
#: What may appear between double quotes in a BIRD string (no quote, backslash, control chars).
QUOTABLE = re.compile(r"[A-Za-z0-9 _.,:()/@&+'-]{1,200}")
#: What may appear in a comment (a single line, no control characters; long enough for a peer
#: file header with a 63-character name and a 128-character AS-SET).
COMMENTABLE = re.compile(r"[A-Za-z0-9 _.,:()/@&+'-]{0,240}")
#: BIRD keywords that must not be used as symbol names (only ones a generated name could hit).
KEYWORDS = frozenset({"as", "from", "to", "table", "rs", "code", "peer", "net", "true", "false", "bgp", "define"})


class RenderError(ValueError):
    """A value cannot be rendered safely; the message names it."""


class Token(str):
    """A string a filter has checked and formatted; the only thing a template may print."""


def _fail(what: str, value: Any) -> RenderError:
    return RenderError(f"refusing to render {what} {value!r}: not a safe BIRD {what}")


def bird_int(value: Any) -> Token:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 4294967295:
        raise _fail("integer", value)
    return Token(str(value))


def bird_bool(value: Any) -> Token:
    if not isinstance(value, bool):
        raise _fail("boolean", value)
    return Token("true" if value else "false")


def _ip_strict(value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9A-Fa-f:.]{2,45}", value):
        try:
            return ipaddress.ip_address(value)
        except ValueError:
            pass
    raise _fail("IP address", value)


def bird_ip_strict(value: Any) -> Token:
    return Token(str(_ip_strict(value)))


def bird_prefix(value: Any) -> Token:
    if isinstance(value, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return Token(str(value))
    if isinstance(value, str) and re.fullmatch(r"[0-9A-Fa-f:.]{2,45}/[0-9]{1,3}", value):
        try:
            return Token(str(ipaddress.ip_network(value)))
        except ValueError:
            pass
    raise _fail("prefix", value)


def bird_symbol(value: Any) -> Token:
    if not isinstance(value, str) or not SYMBOL.fullmatch(value) or value.lower() in KEYWORDS:
        raise _fail("symbol", value)
    return Token(value)


def bird_string(value: Any) -> Token:
    """A double-quoted BIRD string; the content is restricted, so no escaping is ever needed."""
    if not isinstance(value, str) or not QUOTABLE.fullmatch(value):
        raise _fail("string", value)
    return Token(f'"{value}"')


def bird_host(value: Any) -> Token:
    """A double-quoted host name or IP address (RTR caches)."""
    try:
        host = validators.network_host(value, "RTR host")  # the model's rule: DNS_NAME needs no quoting
    except validators.Invalid:
        raise _fail("host name", value) from None
    try:
        return Token(f'"{ipaddress.ip_address(host)}"')
    except ValueError:
        return Token(f'"{host}"')


def bird_path(value: Any) -> Token:
    """A double-quoted absolute path (optionally ending in the ``*.conf`` glob we include)."""
    if isinstance(value, str):
        base, glob = (value[:-7], "/*.conf") if value.endswith("/*.conf") else (value, "")
        try:
            models.check_path(base)
        except ValueError:
            raise _fail("path", value) from None
        return Token(f'"{base}{glob}"')
    raise _fail("path", value)


def bird_comment(value: Any) -> Token:
    if not isinstance(value, str) or not COMMENTABLE.fullmatch(value):
        raise _fail("comment text", value)
    return Token(value)


def _finalize(value: Any) -> Any:
    if isinstance(value, Token):
        return value
    raise RenderError(f"template printed an unchecked value {value!r}; pass it through a bird_* filter")


_ENV: jinja2.Environment | None = None


def environment() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATES)),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            autoescape=False,
            finalize=_finalize,
        )
        env.filters.update(
            bird_int=bird_int, bird_bool=bird_bool, bird_ip=bird_ip_strict, bird_prefix=bird_prefix,
            bird_symbol=bird_symbol, bird_string=bird_string, bird_host=bird_host, bird_path=bird_path, bird_comment=bird_comment,
        )
        _ENV = env
    return _ENV


# --- names (pure) --------------------------------------------------------------------------------

def protocol_name(asn: int, address: Any) -> str:
    """``as<asn>_<address>`` with ``.``/``:`` as ``_``: stable per session, so adding or removing one
    address of a peer restarts only that session."""
    ip = _ip_strict(address)
    return str(bird_symbol(f"as{int(asn)}_{str(ip).replace('.', '_').replace(':', '_')}"))


def include_line(rs: RouteServer) -> str:
    """The exact line of the main config that pulls in the peer files (plan.py replaces it to
    build check configs, and refuses a main config that lacks it)."""
    return f"include {bird_path(rs.peers_glob)};"


def _rs_name(rs: RouteServer) -> str:
    if not isinstance(rs.name, str) or not models.ROUTE_SERVER_NAME.fullmatch(rs.name):
        raise _fail("route server name", rs.name)
    return rs.name


def server_marker(rs: RouteServer) -> str:
    return f"{MARKER_PREFIX}bird:ServerConfig {_rs_name(rs)}"


def peer_marker(rs: RouteServer, asn: int) -> str:
    return f"{MARKER_PREFIX}bird:PeerFile {_rs_name(rs)}/{bird_int(asn)}"


def _network(value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if isinstance(value, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return value
    raise _fail("prefix", value)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- main config ---------------------------------------------------------------------------------

def render_server_config(rs: RouteServer, rpki: RpkiSource, policy: FilterPolicy | None = None) -> str:
    policy = policy or FilterPolicy()
    roas = rpki.static_roas or []
    ctx = {
        "marker": bird_comment(server_marker(rs)[2:]),
        "rs": rs,
        "policy": policy,
        "rtr": sorted(rpki.rtr or [], key=lambda s: (s.host, s.port)),
        "static": rpki.static_roas is not None,
        "roas4": sorted((r for r in roas if r.prefix.version == 4), key=lambda r: (r.prefix, r.max_length, r.asn)),
        "roas6": sorted((r for r in roas if r.prefix.version == 6), key=lambda r: (r.prefix, r.max_length, r.asn)),
        "bogons_v4": sorted(BOGONS_V4),
        "bogons_v6": sorted(BOGONS_V6),
        "global_v6": GLOBAL_UNICAST_V6,
        "names": {
            "template_v4": TEMPLATE_V4, "template_v6": TEMPLATE_V6, "function_v4": FUNCTION_V4,
            "function_v6": FUNCTION_V6, "roa4": ROA4_TABLE, "roa6": ROA6_TABLE, "reject": REJECT_FUNCTION,
            "state_v4": STATE_V4, "state_v6": STATE_V6,
        },
        "c": {
            "reject": REJECT_CAUSE, "rpki": RPKI_STATE, "info_low": INFORMATIONAL[0], "info_high": INFORMATIONAL[1],
            "afi": int(RejectCause.INVALID_AFI), "bogon": int(RejectCause.BOGON), "length": int(RejectCause.PREFIX_LENGTH),
            "path_length": int(RejectCause.AS_PATH_LENGTH), "left_most": int(RejectCause.LEFT_MOST_ASN),
            "next_hop": int(RejectCause.NEXT_HOP), "rpki_invalid": int(RejectCause.RPKI_INVALID),
            "not_global": int(RejectCause.IPV6_NOT_GLOBAL_UNICAST),
            "not_registered": int(RejectCause.PREFIX_NOT_REGISTERED),
            "valid": int(RpkiState.VALID), "unknown": int(RpkiState.UNKNOWN), "not_checked": int(RpkiState.NOT_CHECKED),
        },
        "include": Token(include_line(rs)),
    }
    return environment().get_template("bird.conf.j2").render(ctx)


# --- peer files ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Limits:
    import_v4: int
    import_v6: int
    receive_v4: int
    receive_v6: int


@dataclass(frozen=True)
class Session:
    name: str
    family: int
    address: str


def peer_sessions(peer: PeerSpec) -> list[Session]:
    out = [Session(protocol_name(peer.asn, a), 4, str(a)) for a in peer.addresses.ipv4]
    out += [Session(protocol_name(peer.asn, a), 6, str(a)) for a in peer.addresses.ipv6]
    return out


def _pattern(pattern: re.Pattern[str], value: Any, what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise _fail(what, value)
    return value


def _as_set(value: Any) -> str:
    """The roster's AS-SET rule again, and the value in its checked (upper-case) form."""
    try:
        ok = isinstance(value, str) and models.check_as_set(value) == value
    except ValueError:
        ok = False
    if not ok:
        raise _fail("AS-SET", value)
    return value


def render_peer_file(rs: RouteServer, peer: PeerSpec, limits: Limits, rpki: bool = True) -> str:
    # the models' patterns again: a bypassed model (model_construct/model_copy) must not render
    _pattern(models.PEER_NAME, peer.name, "peer name")
    if peer.description is not None:
        _pattern(models.DESCRIPTION, peer.description, "description")
    if peer.as_set is not None:
        _as_set(peer.as_set)
    prefixes = peer.prefixes
    header = f"Peer AS{peer.asn} {peer.name}" + (f", AS-SET {peer.as_set}" if peer.as_set else "")
    families = []
    for family, addresses in ((4, peer.addresses.ipv4), (6, peer.addresses.ipv6)):
        if not addresses:
            continue
        families.append({
            "family": family,
            "channel": Token("ipv4" if family == 4 else "ipv6"),
            "template": TEMPLATE_V4 if family == 4 else TEMPLATE_V6,
            "function": FUNCTION_V4 if family == 4 else FUNCTION_V6,
            "state_function": STATE_V4 if family == 4 else STATE_V6,
            "import_limit": limits.import_v4 if family == 4 else limits.import_v6,
            "receive_limit": limits.receive_v4 if family == 4 else limits.receive_v6,
            "prefixes": None if prefixes is None else [p for p in map(_network, prefixes) if p.version == family],
            "sessions": [{"name": protocol_name(peer.asn, a), "address": a} for a in sorted(addresses)],
        })
    ctx = {
        "marker": bird_comment(peer_marker(rs, peer.asn)[2:]),
        "header": bird_comment(header),
        "peer": peer,
        "description": f"AS{peer.asn} {peer.text}",
        "families": families,
        "rpki": rpki,
        "action": Token(_limit_action(rs.limit_action)),
        "reject_function": REJECT_FUNCTION,
        "not_registered": int(RejectCause.PREFIX_NOT_REGISTERED),
    }
    return environment().get_template("peer.conf.j2").render(ctx)


def _limit_action(action: str) -> str:
    if action not in ("restart", "disable", "block", "warn"):
        raise _fail("limit action", action)
    return action
