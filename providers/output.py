"""The one error of every parser of host output (pure).

A parser is given text a host printed; text of an unexpected shape — a newer tool version, a hand
edit, a broken pipe, a hostile account — raises ``UnexpectedOutput`` (through the parser's own
subclass) and nothing else.  The message names the host (when the caller said which), the command
and the offending line, quoted safely and cut short::

    host ws1: unexpected output of `getent passwd` (line 3): expected 7 fields, got 5: 'alice:x:1000:1000:A'
"""
from __future__ import annotations

QUOTE_LIMIT = 120


def quote(line: str, limit: int = QUOTE_LIMIT) -> str:
    """``repr`` of ``line`` (escapes control characters), cut to ``limit`` characters."""
    return repr(line[:limit]) + ("..." if len(line) > limit else "")


class UnexpectedOutput(ValueError):
    """Output of ``command`` on ``host`` that does not have the shape its parser expects."""

    def __init__(self, command: str, detail: str, host: str | None = None, line: int | None = None):
        self.command, self.detail, self.host, self.line = command, detail, host, line
        where = f"host {host}: " if host else ""
        at = f" (line {line})" if line is not None else ""
        super().__init__(f"{where}unexpected output of `{command}`{at}: {detail}" if command else f"{where}{detail}")
