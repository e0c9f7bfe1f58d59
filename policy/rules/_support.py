"""Helpers shared by the rules: reading props without tripping over unknown values, failing closed,
and small parsers. Pure functions; nothing here talks to the engine.

How pulumi_policy hands values to a rule, and what that means here:

* ``args.props`` is an ``unknown_checking_proxy``: reading a value that is unknown during preview
  raises ``UnknownValueError``, and the SDK turns that into an *advisory* "can't run policy during
  preview" note - a mandatory rule would silently pass. :func:`props_of` therefore copies the props
  into plain dicts and lists, replacing each unknown value with an :class:`Unknown` marker, and the
  rules report a violation when a value they need is an :class:`Unknown` (fail closed).
  :func:`fail_closed` is the safety net for any proxy access a rule makes directly.
* Numbers arrive through a protobuf ``Struct``: every number is a ``float`` (``1001.0``), so
  integers are read with :func:`as_int`.
* Secrets arrive as plain values (the pack cannot tell a secret input from a plain one); the only
  secrecy a policy can see is ``args.opts.additional_secret_outputs``.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any
from collections.abc import Callable

from pulumi_policy.proxy import UnknownValueError

from policy.contract import UNKNOWN_SENTINELS
from validators import Invalid, zfs


class Unknown:
    """Marks a value that is not known during preview; ``path`` names where it was found."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"<unknown {self.path}>"

    def __bool__(self) -> bool:  # never mistaken for a true flag
        return False


def is_unknown(value: Any) -> bool:
    return isinstance(value, Unknown)


def _join(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def plain(value: Any, path: str = "") -> Any:
    """Copy ``value`` (a pulumi_policy proxy, or plain data) into plain dicts and lists, with every
    unknown value replaced by :class:`Unknown`. Never raises ``UnknownValueError``."""
    # pulumi_policy.Secret (only seen by remediations) carries the plaintext in .value.
    if type(value).__name__ == "Secret" and hasattr(value, "value"):
        value = value.value
    if isinstance(value, str):
        return Unknown(path or "(value)") if value in UNKNOWN_SENTINELS else value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key in list(iter(value)):
            sub = _join(path, key)
            try:
                item = value[key]
            except UnknownValueError:
                out[key] = Unknown(sub)
                continue
            out[key] = plain(item, sub)
        return out
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        items: list[Any] = []
        for i in range(len(value)):
            sub = _join(path, i)
            try:
                item = value[i]
            except UnknownValueError:
                items.append(Unknown(sub))
                continue
            items.append(plain(item, sub))
        return items
    return value


def props_of(obj: Any) -> dict[str, Any]:
    """Plain props of a ``ResourceValidationArgs`` or ``PolicyResource`` (keys starting with ``__``,
    such as a dynamic resource's ``__provider``, are dropped: the engine never sends them)."""
    raw = plain(obj.props)
    if not isinstance(raw, dict):
        return {}
    return {k: v for k, v in raw.items() if not str(k).startswith("__")}


def unknown_paths(value: Any) -> list[str]:
    """Paths of every :class:`Unknown` inside ``value`` (depth first)."""
    found: list[str] = []
    if isinstance(value, Unknown):
        found.append(value.path)
    elif isinstance(value, dict):
        for v in value.values():
            found.extend(unknown_paths(v))
    elif isinstance(value, list):
        for v in value:
            found.extend(unknown_paths(v))
    return found


def unknown_message(*paths: str) -> str:
    where = ", ".join(paths)
    return (f"cannot verify {where}: the value is unknown during preview, and a mandatory policy fails "
            "closed. Give the program a value known at preview time (derive it from the roster or the "
            "stack config, not from another resource's output).")


def fail_closed(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a ``validate(args, report_violation)`` so that an unknown value read straight from the
    proxy, or an unexpected error, becomes a violation instead of a pass (the SDK would turn the
    first into an advisory note and the second into a failed gRPC call)."""

    @functools.wraps(fn)
    def validate(args: Any, report_violation: Callable[..., None]) -> None:
        try:
            fn(args, report_violation)
        except UnknownValueError as e:
            report_violation(unknown_message(".".join(str(p) for p in getattr(e, "props", []) or ["(value)"])))
        except Exception as e:  # noqa: BLE001 - any crash must block, with the reason shown
            if type(e).__name__ == "_NotApplicableError":
                raise
            report_violation(f"the policy could not evaluate this input ({type(e).__name__}: {e}); "
                             "failing closed.")

    return validate


def as_int(value: Any) -> int | None:
    """``value`` as an int if it is an integral number (not a bool), else None. Numbers come through
    a protobuf Struct as floats in the engine, as ints in direct calls."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def get_path(value: Any, *keys: str) -> Any:
    """``value[k1][k2]...``; None when a level is missing or not a dict; an :class:`Unknown` when a
    level is unknown."""
    for key in keys:
        if isinstance(value, Unknown):
            return value
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def labels_of(props: dict[str, Any]) -> Any:
    """``metadata.labels`` of a Kubernetes object: dict, {} when absent, or Unknown."""
    metadata = props.get("metadata")
    if isinstance(metadata, Unknown):
        return metadata
    if not isinstance(metadata, dict):
        return {}
    labels = metadata.get("labels")
    if labels is None:
        return {}
    return labels  # normally a dict; callers treat anything else as malformed


def one_of(value: Any, allowed: Any) -> bool:
    """``value in allowed`` for a string value; False for anything else (lists are unhashable)."""
    return isinstance(value, str) and value in allowed


def display(value: Any) -> str:
    """A value for a message: ``unknown``, or its repr (integral floats, as numbers arrive from the
    engine, shown as integers)."""
    if isinstance(value, Unknown):
        return "unknown"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return repr(int(value))
    return repr(value)


#: JSON-schema pattern for a size or "none" (the policy-config schema uses it).
SIZE_OR_NONE_PATTERN = zfs.SIZE_PATTERN


class SizeError(ValueError):
    pass


def parse_size(text: Any) -> int | None:
    """A ZFS size (``50G``, ``1.5T``, ``512M``, ``1024``, ``20GiB``; powers of 1024) in bytes, by the
    one rule of ``validators.zfs``; ``None`` for ``none`` (no limit). ``0`` also means no limit for
    a ZFS quota and returns None. Surrounding spaces (a hand-written pack config) are ignored.
    Raises :class:`SizeError` for anything else."""
    if not isinstance(text, str):
        raise SizeError(f"expected a string such as '50G' or 'none', got {type(text).__name__}")
    try:
        return zfs.limit(zfs.parse_size(text.strip()))
    except Invalid as e:
        raise SizeError(f"{text!r} is not a ZFS size such as '50G', '1.5T' or 'none' ({e.message})") from None


format_bytes = zfs.describe_size
