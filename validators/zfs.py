"""ZFS property values Keystone sets on homes: sizes (quota, recordsize), compression, atime.

One rule for a size, everywhere (the roster, the stack settings, the providers' host facts, the
policy pack).  It is ZFS's own grammar (``zfs_nicestrtonum`` in libzfs), made stricter only where
ZFS would silently store a value other than the one written:

* digits, an optional fraction, and an optional suffix ``K M G T P E`` (powers of 1024, any case)
  that may be followed by ``B`` or ``iB``, or a bare ``B``: ``50G``, ``1.5T``, ``20GiB``, ``512``;
* ``none`` means no value (``None``);
* ``Z`` is refused: ZFS refuses every ``Z`` size as too large for 64 bits;
* a fraction must come out as whole bytes (``1.5K`` is 1536): ZFS would truncate ``0.3K`` to 307
  bytes, Keystone refuses it instead;
* at most ``2**64 - 1`` bytes (ZFS's limit);
* no spaces, no sign, no leading ``.`` (ZFS reads ``.5K``; Keystone asks for ``0.5K``).

``0`` parses as 0 bytes.  What 0 *means* belongs to the property: ZFS refuses ``quota=0`` (``use
'none' to disable quota``) and prints an unset quota as ``0`` in parsable output, so ``quota``
refuses 0 and ``limit`` reads a stored 0 as no limit.

Sizes are compared as bytes (``parse_size``), never as text; ``format_size`` renders bytes back as
exact text ZFS accepts; ``describe_size`` rounds for messages only.
"""
from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from .core import Invalid, show, text

UNITS = "KMGTPE"
"""Suffixes ZFS accepts, in order of powers of 1024 (``Z`` is parsed by ZFS but never fits 64 bits)."""
MAX_SIZE = 2**64 - 1
"""The largest size ZFS parses (UINT64_MAX)."""
SIZE_PATTERN = r"^(?i:none|[0-9]+(\.[0-9]+)?([KMGTPE](i?B)?|B)?)$"
"""JSON-schema pattern of a size or ``none`` (what ``parse_size`` accepts, for editors and config schemas)."""
SIZE_HINT = "a number with an optional K, M, G, T or P suffix, e.g. 50G"

MIN_RECORDSIZE = 512
MAX_RECORDSIZE = 16 * 1024**2
COMPRESSION_VALUES = (
    ("on", "off", "lz4", "gzip", "zle", "lzjb", "zstd", "zstd-fast")
    + tuple(f"gzip-{n}" for n in range(1, 10))
    + tuple(f"zstd-{n}" for n in range(1, 20))
)
"""The ``compression`` values Keystone sets (OpenZFS 2.x)."""
ON_OFF = ("on", "off")

_SIZE = re.compile(r"([0-9]+(?:\.[0-9]+)?)(?:([KMGTPEZ])(?:i?B)?|B)?", re.IGNORECASE | re.ASCII)


def parse_size(value: Any) -> int | None:
    """Bytes of a ZFS size (``"10G"`` -> 10737418240, ``"1.5K"`` -> 1536); ``None`` for ``none``.
    Raises ``Invalid`` for anything the module docstring's rule refuses."""
    if not isinstance(value, str):
        raise Invalid(f"a ZFS size must be a string, got {show(value)}", SIZE_HINT)
    if value.lower() == "none":
        return None
    match = _SIZE.fullmatch(value)
    if not match:
        raise Invalid(f"invalid ZFS size {show(value)}", SIZE_HINT)
    number, unit = match.groups()
    if unit and unit.upper() == "Z":
        raise Invalid(f"ZFS size {value!r} is too large", "ZFS refuses Z sizes: more than 64 bits")
    size = Fraction(number) * 1024 ** (UNITS.index(unit.upper()) + 1 if unit else 0)
    if size.denominator != 1:
        raise Invalid(f"ZFS size {value!r} is not a whole number of bytes", "ZFS would truncate it: write it exactly")
    if size > MAX_SIZE:
        raise Invalid(f"ZFS size {value!r} is too large", f"at most {MAX_SIZE} bytes")
    return int(size)


def format_size(size: int | None) -> str:
    """Exact text of a size with the largest whole suffix (``10737418240`` -> ``10G``, ``1536`` ->
    ``1536``... ``1.5K`` comes back as ``1536``); ``None`` -> ``none``.  ``parse_size`` reads it back
    to the same bytes."""
    if size is None:
        return "none"
    for power in range(len(UNITS), 0, -1):
        if size and size % 1024**power == 0:
            return f"{size // 1024 ** power}{UNITS[power - 1]}"
    return str(size)


def describe_size(size: int | None) -> str:
    """A size for a message, rounded to the largest unit it reaches (``1.5T``, ``100B``): not exact."""
    if size is None:
        return "none"
    for power in range(len(UNITS), 0, -1):
        if size >= 1024**power:
            return f"{size / 1024 ** power:g}{UNITS[power - 1]}"
    return f"{size}B"


def limit(size: int | None) -> int | None:
    """A limit (quota) as ZFS stores it: 0 and ``none`` both mean no limit (``None``)."""
    return size or None


def size_text(value: Any, what: str) -> str:
    """The text of a size written in YAML: a string, or a whole non-negative number (``quota: 0``)."""
    if isinstance(value, bool) or (isinstance(value, int) and value < 0):
        raise Invalid(f"{what} must be a size, got {show(value)}", SIZE_HINT)
    if isinstance(value, int):
        return str(value)
    return text(value, what)


def quota(value: Any) -> str:
    """A quota as written (``50G``, ``none``; YAML may give a number) -> its exact text."""
    written = size_text(value, "the quota")
    try:
        size = parse_size(written)
    except Invalid as e:
        raise Invalid(f"invalid quota: {e.message}", f"{SIZE_HINT}, or none") from None
    if size == 0:
        raise Invalid("quota 0 means no quota in ZFS", "write none if that is what you mean")
    return format_size(size)


def recordsize(value: Any) -> str:
    """A recordsize: a power of two from 512 to 16M -> its exact text."""
    written = size_text(value, "the recordsize")
    try:
        size = parse_size(written)
    except Invalid as e:
        raise Invalid(f"invalid recordsize: {e.message}", "a power of two from 512 to 16M, e.g. 128K") from None
    if size is None or size < MIN_RECORDSIZE or size > MAX_RECORDSIZE or size & (size - 1):
        raise Invalid(f"recordsize {written!r} is not a power of two from 512 to 16M", "e.g. 16K, 128K or 1M")
    return format_size(size)


def _on_off(value: Any, what: str) -> str:
    if isinstance(value, bool):  # YAML reads unquoted on/off as booleans
        return "on" if value else "off"
    return text(value, what).lower()


def compression(value: Any) -> str:
    """A ``compression`` value (``lz4``, ``zstd-3``, ``off``; YAML booleans read as on/off), lower case."""
    v = _on_off(value, "compression")
    if v not in COMPRESSION_VALUES:
        raise Invalid(f"unknown compression {show(v)}", "e.g. lz4, zstd, zstd-3, gzip-6, off")
    return v


def atime(value: Any) -> str:
    """``atime``: on or off (YAML booleans too)."""
    v = _on_off(value, "atime")
    if v not in ON_OFF:
        raise Invalid(f"atime must be on or off, got {show(v)}")
    return v
