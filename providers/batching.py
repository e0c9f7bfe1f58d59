"""Requests to one host that wait and then go together: the one queue both the transport's shared round
trips (``providers.transport.ssh``) and the batched host writes (``providers.hostcache``) use.

A caller ``submit``s its request and waits.  Whichever waiting caller finds a free slot (fewer than
``in_flight`` batches running) once the oldest waiting request has waited the *window* takes up to
``most`` waiting requests — its own and others' — and runs them as one batch; the others keep
waiting until theirs is done.  The window is ``share`` of the last batch's time, at least ``least``
and at most ``most_wait`` seconds: a lone caller waits that long at most, for company — requests that
arrive within it go in its batch instead of in batches of their own, one by one, each costing a whole
round trip (a host answering in seconds waits a fraction of a second; one answering at once hardly
waits).  ``run``
must mark every request of its batch ``done`` (and set ``error`` where it failed); ``submit`` then
raises that error in the request's own thread.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar


class Request(Protocol):
    done: bool
    error: BaseException | None


R = TypeVar("R", bound=Request)


class Batches(Generic[R]):
    """The waiting requests of one host and how many of its batches are running."""

    def __init__(self, most: int, in_flight: int, share: float = 0.1, least: float = 0.05,
                 most_wait: float = 1.0) -> None:
        self.most, self.in_flight = most, in_flight
        self.share, self.least, self.most_wait = share, least, most_wait
        self.window = least
        self._cond = threading.Condition()
        self._pending: list[R] = []
        self._arrived: list[float] = []  # when each waiting request arrived (monotonic)
        self._running = 0

    def submit(self, request: R, run: Callable[[list[R]], None]) -> None:
        """Returns once ``request`` is done (run in this thread's batch or another's); raises its error."""
        with self._cond:
            self._pending.append(request)
            self._arrived.append(time.monotonic())
            self._cond.notify_all()
        while True:
            with self._cond:
                while not request.done:
                    if self._pending and self._running < self.in_flight:
                        left = self._arrived[0] + self.window - time.monotonic()
                        if left <= 0 or len(self._pending) >= self.most:
                            break
                        self._cond.wait(left)
                    else:
                        self._cond.wait()
                if request.done:
                    break
                batch, self._pending = self._pending[:self.most], self._pending[self.most:]
                self._arrived = self._arrived[self.most:]
                self._running += 1
            started = time.monotonic()
            try:
                run(batch)
            finally:
                with self._cond:
                    self.window = min(self.most_wait, max(self.least, self.share * (time.monotonic() - started)))
                    self._running -= 1
                    self._cond.notify_all()
        if request.error is not None:
            raise request.error
