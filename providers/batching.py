"""Requests to one host that wait and then go together: the one queue both the transport's shared round
trips (``providers.transport.ssh``) and the batched host writes (``providers.hostcache``) use.

A caller ``submit``s its request and waits.  Whichever waiting caller finds a free slot (fewer than
``in_flight`` batches running) takes up to ``most`` waiting requests — its own and others' — and runs
them as one batch; the others keep waiting until theirs is done.  A lone caller never waits.  ``run``
must mark every request of its batch ``done`` (and set ``error`` where it failed); ``submit`` then
raises that error in the request's own thread.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, Protocol, TypeVar


class Request(Protocol):
    done: bool
    error: BaseException | None


R = TypeVar("R", bound=Request)


class Batches(Generic[R]):
    """The waiting requests of one host and how many of its batches are running."""

    def __init__(self, most: int, in_flight: int) -> None:
        self.most, self.in_flight = most, in_flight
        self._cond = threading.Condition()
        self._pending: list[R] = []
        self._running = 0

    def submit(self, request: R, run: Callable[[list[R]], None]) -> None:
        """Returns once ``request`` is done (run in this thread's batch or another's); raises its error."""
        with self._cond:
            self._pending.append(request)
        while True:
            with self._cond:
                while not request.done and not (self._pending and self._running < self.in_flight):
                    self._cond.wait()
                if request.done:
                    break
                batch, self._pending = self._pending[:self.most], self._pending[self.most:]
                self._running += 1
            try:
                run(batch)
            finally:
                with self._cond:
                    self._running -= 1
                    self._cond.notify_all()
        if request.error is not None:
            raise request.error

    @contextmanager
    def slot(self) -> Iterator[None]:
        """A round trip of the caller's own, counted among the batches running (waits for a free slot)."""
        with self._cond:
            while self._running >= self.in_flight:
                self._cond.wait()
            self._running += 1
        try:
            yield
        finally:
            with self._cond:
                self._running -= 1
                self._cond.notify_all()
