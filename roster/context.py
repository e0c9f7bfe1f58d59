"""What the stack says about *where* the roster applies (``RosterContext``), and how it travels
through a pydantic validation run (``validation_context``, ``context_of``)."""
from __future__ import annotations

import ipaddress
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from validators import peering

MAX_UID = 60000
"""Highest uid the roster accepts: Debian's ``UID_MAX`` (login.defs).  Above it live 65534
(nobody) and the 16-bit boundary that old tools and NFS still mishandle."""
DEFAULT_MIN_UID = 1000
CONTEXT_KEY = "roster_context"
"""Key of the ``RosterContext`` in a pydantic validation context."""
SKIP_CROSS_CHECKS_KEY = "roster_skip_cross_checks"
"""Validation-context flag: the loader runs ``cross_check`` itself (on partly invalid data too)."""


class RosterContext(BaseModel):
    """What the stack says about *where*, used to check the roster's stack-dependent fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_uid: int = Field(DEFAULT_MIN_UID, ge=1, le=MAX_UID, description="Lowest uid a person may have.")
    hosts: list[str] | None = Field(None, description="Host names of the stack; None: do not check `hosts`.")
    peering_lans: list[str] | None = Field(
        None, description="Peering LANs (CIDR); peer addresses must lie inside one. None: do not check."
    )
    allow_private_asns: bool = Field(
        False, description="Accept private (RFC 6996) and documentation (RFC 5398) ASNs (lab stacks)."
    )

    @field_validator("peering_lans")
    @classmethod
    def _networks(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        return [peering.peering_lan(v) for v in value]

    @property
    def networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """The peering LANs as network objects ([] when unchecked)."""
        return [ipaddress.ip_network(n) for n in self.peering_lans or []]


def context_of(info: ValidationInfo | None) -> RosterContext:
    """The ``RosterContext`` of a validation run, or the defaults."""
    ctx = (info.context or {}).get(CONTEXT_KEY) if info is not None else None
    return ctx if isinstance(ctx, RosterContext) else RosterContext()


def validation_context(ctx: RosterContext | None = None, *, cross_checks: bool = True) -> dict[str, Any]:
    """The pydantic validation context carrying ``ctx`` (``model_validate(data, context=...)``)."""
    return {CONTEXT_KEY: ctx or RosterContext(), SKIP_CROSS_CHECKS_KEY: not cross_checks}
