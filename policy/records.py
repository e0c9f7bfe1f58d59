"""The offline policy run's data: a resource as the program registered it, and a violation as the
engine would receive it (``policy/evaluation.py`` makes the second from the first)."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from policy.contract import POLICY_PACK_NAME


@dataclasses.dataclass(frozen=True)
class ResourceRecord:
    """One resource as the program registered it (collected under ``pulumi.runtime.set_mocks``).

    ``props`` are the resource's inputs; they may be the raw mock inputs (secret values wrapped as
    ``{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": ...}``,
    unknowns as :data:`policy.contract.UNKNOWN`, ``__provider`` present): all of that is handled.
    ``unknown`` names top-level props to treat as unknown; ``secret`` names top-level props that were
    secret inputs (the engine hands secrets to policies as plain values, so this changes nothing a
    rule sees; it is kept for fidelity and for the record). ``retain_on_delete`` is recorded but,
    as in the engine, not visible to the policies.
    """

    type: str
    name: str
    urn: str = ""
    props: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    protect: bool = False
    retain_on_delete: bool = False
    parent: str | None = None
    secret: frozenset[str] = frozenset()
    unknown: frozenset[str] = frozenset()
    additional_secret_outputs: tuple[str, ...] = ()
    ignore_changes: tuple[str, ...] = ()
    delete_before_replace: bool | None = None
    aliases: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    custom: bool = True

    @classmethod
    def coerce(cls, value: ResourceRecord | Mapping[str, Any]) -> ResourceRecord:
        if isinstance(value, cls):
            return value
        if isinstance(value, Mapping):
            data = dict(value)
            for key in ("secret", "unknown"):
                if key in data:
                    data[key] = frozenset(data[key] or ())
            for key in ("additional_secret_outputs", "ignore_changes", "aliases", "dependencies"):
                if key in data:
                    data[key] = tuple(data[key] or ())
            return cls(**data)
        raise TypeError(f"expected a ResourceRecord or a mapping, got {type(value).__name__}")


@dataclasses.dataclass(frozen=True)
class Violation:
    """One policy diagnostic, as the engine would receive it."""

    policy_name: str
    description: str
    detail: str                    # what the rule reported (may be empty)
    enforcement_level: str         # "mandatory" | "advisory"
    urn: str                       # the resource's URN; "" for a stack-level violation
    severity: str | None = None  # "critical" | "high" | "medium" | "low"
    policy_pack_name: str = POLICY_PACK_NAME
    policy_pack_version: str = "0.0.1"

    @property
    def message(self) -> str:
        """The message as pulumi_policy composes it: the description, then the rule's detail."""
        return f"{self.description}\n{self.detail}" if self.detail else self.description

    @property
    def mandatory(self) -> bool:
        return self.enforcement_level == "mandatory"
