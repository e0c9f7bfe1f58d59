"""The large communities the route server sets, one home for their numbers (pure).

* ``<RS ASN>:65520:<cause>`` on every route the import policy rejects; the route is kept (``import keep
  filtered on``) but never exported.  Cause numbers are arouteserver's published reject-reason codes, so
  tools that already read them (invalidroutesreporter, looking glasses) need no mapping.
* ``<RS ASN>:1000:<state>`` on every accepted route: its RPKI origin-validation state, in the Euro-IX
  informational range (1 valid, 2 unknown, 3 not checked).  RPKI-invalid routes are never accepted:
  they carry the reject cause 14 instead.

Both ranges are deleted from what a peer sends before the policy runs, so a peer cannot forge them.
"""
from __future__ import annotations

import enum
import re

#: Second field of the reject-cause community.
REJECT_CAUSE = 65520
#: Second field of the RPKI-state informational community.
RPKI_STATE = 1000
#: The cause a filtered route is counted under when it carries none (arouteserver's "unknown"): a route
#: blocked by an import limit, or rejected by a peer file written before the causes existed.
UNKNOWN_CAUSE = 65535
#: The Euro-IX informational range the route server scrubs from received routes (with REJECT_CAUSE).
INFORMATIONAL = (1000, 1999)


class RejectCause(enum.IntEnum):
    """Why the import policy rejected a route (arouteserver's codes; only those this policy sets)."""

    AS_PATH_LENGTH = 1
    BOGON = 2
    INVALID_AFI = 4
    NEXT_HOP = 5
    LEFT_MOST_ASN = 6
    IPV6_NOT_GLOBAL_UNICAST = 10
    PREFIX_NOT_REGISTERED = 12
    PREFIX_LENGTH = 13
    RPKI_INVALID = 14

    @property
    def text(self) -> str:
        return _TEXT[self]


_TEXT = {
    RejectCause.AS_PATH_LENGTH: "AS path longer than allowed",
    RejectCause.BOGON: "bogon prefix",
    RejectCause.INVALID_AFI: "wrong address family for the session",
    RejectCause.NEXT_HOP: "next hop is not the peer's own address",
    RejectCause.LEFT_MOST_ASN: "first AS in the path is not the peer's ASN",
    RejectCause.IPV6_NOT_GLOBAL_UNICAST: "IPv6 prefix outside global unicast (2000::/3)",
    RejectCause.PREFIX_NOT_REGISTERED: "prefix not in the peer's registered prefix list",
    RejectCause.PREFIX_LENGTH: "prefix length out of bounds (too specific or too short)",
    RejectCause.RPKI_INVALID: "RPKI invalid (a ROA covers the prefix, not for this origin AS or length)",
}


class RpkiState(enum.IntEnum):
    VALID = 1
    UNKNOWN = 2
    NOT_CHECKED = 3


def cause_text(code: int) -> str:
    """A cause code as an operator reads it (``14 RPKI invalid ...``); unknown codes say so."""
    if code == UNKNOWN_CAUSE:
        return f"{code} no reject cause recorded (import limit, or a file from before reject causes)"
    try:
        return f"{code} {RejectCause(code).text}"
    except ValueError:
        return f"{code} (cause not set by this policy)"


_LARGE = re.compile(r"\((\d+),\s*(\d+),\s*(\d+)\)")


def large_communities(text: str) -> list[tuple[int, int, int]]:
    """``(64511, 65520, 2) (64511, 1000, 1)`` (BIRD's ``BGP.large_community`` value) → triples."""
    return [(int(a), int(b), int(c)) for a, b, c in _LARGE.findall(text)]


def reject_causes(rs_asn: int, communities: list[tuple[int, int, int]]) -> list[int]:
    return sorted(c for a, b, c in communities if a == rs_asn and b == REJECT_CAUSE)


def rpki_state(rs_asn: int, communities: list[tuple[int, int, int]]) -> RpkiState | None:
    states = [c for a, b, c in communities if a == rs_asn and b == RPKI_STATE]
    try:
        return RpkiState(states[0]) if len(states) == 1 else None
    except ValueError:
        return None
