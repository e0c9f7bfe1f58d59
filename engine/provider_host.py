"""Pulumi's dynamic-provider host (``python -m pulumi.dynamic``) with Keystone's error contract.

Since 3.258 the SDK's host answers every failed call with ``traceback.format_exc()``, so an admin's
``pulumi up`` printed a Python traceback where Keystone's message belongs (a uid conflict, a refused
BIRD change).  Keystone's providers raise errors whose message is the whole story (README, "Error
handling"), so this host runs the SDK's own, unchanged, with ``traceback.format_exc`` answering the
exception's message instead.  Nothing else in a provider process formats tracebacks.
"""
from __future__ import annotations

import runpy
import sys
import traceback


def message_only(limit: int | None = None, chain: bool = True) -> str:
    """The current exception's message (its type's name when it has none)."""
    e = sys.exc_info()[1]
    if e is None:
        return ""
    return str(e) or type(e).__name__


if __name__ == "__main__":
    traceback.format_exc = message_only
    runpy.run_module("pulumi.dynamic", run_name="__main__", alter_sys=True)
