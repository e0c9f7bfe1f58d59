"""Polling for a condition with a deadline, for the tiers that wait on real systems (BIRD in
network namespaces, the engine's processes)."""
from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(what: str, predicate: Callable[[], object], timeout: float = 20.0, interval: float = 0.1):
    """Poll ``predicate`` until it returns something truthy (returned) or fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except AssertionError:
            raise
        except Exception as e:  # noqa: BLE001 - keep polling, report the last error
            last = e
        if last and not isinstance(last, Exception):
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what} (last: {last!r})")
