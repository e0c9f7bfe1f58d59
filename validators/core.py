"""What every check shares: the ``Invalid`` error, the safe rendering of a bad value (``show``),
the string check YAML needs (``text``) and a check as a yes/no question (``passes``).  Standard library only."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any


class Invalid(ValueError):
    """A value that does not pass a check: ``message`` says what is wrong, ``hint`` how to fix it."""

    def __init__(self, message: str, hint: str | None = None):
        self.message, self.hint = message, hint
        super().__init__(message)

    def __str__(self) -> str:
        return self.message + (f" ({self.hint})" if self.hint else "")


def passes(check: Callable[..., Any], value: Any, *args: Any, **kw: Any) -> bool:
    """True if ``check(value, *args, **kw)`` accepts ``value`` (a check as a yes/no question)."""
    try:
        check(value, *args, **kw)
    except Invalid:
        return False
    return True


def show(value: Any, limit: int = 60) -> str:
    """A safe, short rendering of a value for a message: ``repr`` escapes newlines and control characters."""
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + f"... ({len(value)} characters)"
    text = repr(value)
    return text if len(text) <= limit + 2 else text[: limit + 2] + "..."


def text(value: Any, what: str) -> str:
    """``value`` if it is a string; otherwise why not (YAML reads ``yes``, ``on``, ``null``, ``22`` as non-strings)."""
    if isinstance(value, str):
        return value
    hint = None
    if isinstance(value, bool) or value is None:
        hint = "YAML reads yes/no/on/off/true/false/null as non-strings: put the value in quotes"
    elif isinstance(value, (int, float)):
        hint = "put the value in quotes"
    raise Invalid(f"{what} must be a string, got {show(value)}", hint)


def bad_character(value: str, allowed: re.Pattern[str]) -> str | None:
    for ch in value:
        if not allowed.fullmatch(ch):
            return ch
    return None
