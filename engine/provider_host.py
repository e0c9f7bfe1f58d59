"""Pulumi's dynamic-provider host (``python -m pulumi.dynamic``) with Keystone's error contract.

Since 3.258 the SDK's host answers every failed call with ``traceback.format_exc()``, so an admin's
``pulumi up`` printed a Python traceback where Keystone's message belongs (a uid conflict, a refused
BIRD change).  Keystone's providers raise errors whose message is the whole story (README, "Error
handling"), so this host runs the SDK's own, unchanged, with ``traceback.format_exc`` answering the
exception's message instead.  Nothing else in a provider process formats tracebacks.

The SDK's host serves calls with 4 worker threads; the engine runs up to ``--parallel`` steps at
once (8 by default), so this host serves them with ``WORKERS``: every step in flight reaches the
provider, and the changes to one host that arrive together go in one round trip
(``providers.hostcache.write_and_read``).
"""
from __future__ import annotations

import os
import runpy
import sys
import traceback
from concurrent import futures
from typing import Any

import grpc

WORKERS = int(os.environ.get("KEYSTONE_PROVIDER_WORKERS", "32"))


def message_only(limit: int | None = None, chain: bool = True) -> str:
    """The current exception's message (its type's name when it has none)."""
    e = sys.exc_info()[1]
    if e is None:
        return ""
    return str(e) or type(e).__name__


def with_workers(make_server: Any, workers: int) -> Any:
    """``grpc.server`` serving with a pool of ``workers`` threads whatever pool it is given."""

    def server(_thread_pool: Any = None, *args: Any, **kwargs: Any) -> Any:
        return make_server(futures.ThreadPoolExecutor(max_workers=workers), *args, **kwargs)

    return server


if __name__ == "__main__":
    traceback.format_exc = message_only
    grpc.server = with_workers(grpc.server, WORKERS)
    runpy.run_module("pulumi.dynamic", run_name="__main__", alter_sys=True)
