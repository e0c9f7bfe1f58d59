"""The one read cache of the providers: what a host (or a daemon on it) looks like, read in one round
trip and shared by every call of the provider process that asks, until a write to it.

``ReadCache`` is the design; each kind of read is an instance of it:

* **key**: what the read is of — a host (``HostTarget``: accounts, datasets, delegations, the
  workstation facts) or a BIRD daemon (its host, control socket and directories:
  ``providers.bird.apply``);
* **want**: what a caller needs read (a host-state ``Scope``; ``None`` where a read is always whole).
  An entry answers a caller when it *covers* the want; when it does not, the next read is the
  *union* of what was read and what is wanted, so a refresh's reads of one host converge on one
  gather instead of one each;
* **freshness**: an entry is served while it is younger than ``ttl`` and no write to its key began
  since it was read.  ``writing(key)`` (or ``invalidate``) bumps the key's *generation* before the
  write starts and after it ends, and a read stores its result only when the generation did not move
  meanwhile: a read that overlapped a write is never kept;
* **one read per key at a time**: callers asking at once wait for the one read (the key's own lock,
  or the caller's when it already serializes that key, as BIRD's per-daemon lock does);
* ``peek(key, ttl=...)``: the fresh entry or ``None``, never a round trip; a caller that only needs
  what nothing but a write changes may accept an entry older than the cache's ``ttl`` (still of the
  current generation: no write to its key began since it was read);
* ``patch(key, fn)``: a write whose read-back is known keeps the entry, with the part it wrote
  replaced (``providers.hostcache.write_and_read``), so the next caller plans without a read.

The TTLs differ by what moves on its own: host state only changes when someone writes (600 s, a
safety net for a long-lived process); a BIRD daemon's protocol states and route counts change by
themselves, so its read is shared only for the few seconds a refresh of its peer files takes (3 s)
— but which files it holds and which protocols it runs change only by a write, so the question "is
this peer file in place and running?" peeks with host state's 600 s (``providers.bird.apply.in_place``).

The instances: ``providers.hostcache.CACHE`` (host state; the pure half — scopes, the read's commands
and its parser — is ``providers.hoststate``, which composes the areas' facets) and ``providers.bird.apply.READS`` (BIRD daemons).
"""
from __future__ import annotations

import contextlib
import threading
import time
from typing import Generic, TypeVar
from collections.abc import Callable, Hashable

UNTIL_WRITTEN = 600.0
"""How long a read of what only a write changes is trusted (host state, which files a BIRD daemon holds
and which protocols it runs): only a safety net for a long-lived process; a write ends it sooner."""

K = TypeVar("K", bound=Hashable)
W = TypeVar("W")
V = TypeVar("V")


def _always(_have: object, _value: object, _want: object) -> bool:
    return True


def _replace(_have: W, want: W) -> W:
    return want


class ReadCache(Generic[K, W, V]):
    """Reads keyed by what they are of, served while fresh and covering (see the module docstring).

    ``covers(have, value, want)``: whether the entry read for ``have`` (giving ``value``) answers
    ``want``; ``union(have, want)``: what to read when it does not.  Thread-safe."""

    def __init__(self, ttl: float, covers: Callable[[W, V, W], bool] = _always,
                 union: Callable[[W, W], W] = _replace) -> None:
        self.ttl = ttl
        self._covers, self._union = covers, union
        self._lock = threading.Lock()
        self._entries: dict[K, tuple[int, float, W, V]] = {}
        self._key_locks: dict[K, threading.Lock] = {}
        self._generation: dict[K, int] = {}
        self.reads = 0  # round trips made (what the tests and benchmarks count)

    def _fresh(self, key: K, ttl: float | None = None) -> tuple[int, float, W, V] | None:
        """The entry of ``key`` if it is of the current generation and younger than ``ttl`` (default: the
        cache's own; lock held)."""
        hit = self._entries.get(key)
        max_age = self.ttl if ttl is None else ttl
        if hit is None or hit[0] != self._generation.get(key, 0) or time.monotonic() - hit[1] >= max_age:
            return None
        return hit

    def get_or_read(self, key: K, want: W, read: Callable[[W], V], lock: threading.Lock | None = None) -> V:
        """The fresh entry of ``key`` if it covers ``want``; else ``read(wanted)`` (kept unless a write
        began meanwhile).  ``lock``: the caller's own per-key lock, held around the check and the read."""
        if lock is None:
            with self._lock:
                lock = self._key_locks.setdefault(key, threading.Lock())
        with lock:
            with self._lock:
                gen = self._generation.get(key, 0)
                hit = self._fresh(key)
                if hit is not None and self._covers(hit[2], hit[3], want):
                    return hit[3]
                wanted = self._union(hit[2], want) if hit is not None else want
            value = read(wanted)
            with self._lock:
                self.reads += 1
                if self._generation.get(key, 0) == gen:
                    self._entries[key] = (gen, time.monotonic(), wanted, value)
            return value

    def peek(self, key: K, ttl: float | None = None) -> V | None:
        """The fresh entry of ``key``, or None; never reads.  ``ttl``: the oldest entry this caller
        accepts (default: the cache's own ``ttl``); an entry a write began after is never served."""
        with self._lock:
            hit = self._fresh(key, ttl)
        return None if hit is None else hit[3]

    def invalidate(self, key: K) -> None:
        with self._lock:
            self._generation[key] = self._generation.get(key, 0) + 1
            self._entries.pop(key, None)

    def patch(self, key: K, fn: Callable[[V], V], scope: W | None = None) -> None:
        """After a write to ``key`` whose read-back is known: the fresh entry becomes ``fn(entry)``
        (read for the union of what it was read for and ``scope``) instead of being dropped, so the
        callers after it are served without a read.  Like ``invalidate``, it moves the generation:
        a read that overlapped the write is not kept."""
        with self._lock:
            hit = self._fresh(key)
            gen = self._generation.get(key, 0) + 1
            self._generation[key] = gen
            if hit is None:
                self._entries.pop(key, None)
                return
            wanted = hit[2] if scope is None else self._union(hit[2], scope)
            self._entries[key] = (gen, hit[1], wanted, fn(hit[3]))

    @contextlib.contextmanager
    def writing(self, key: K):
        """Around a write to ``key``: nothing read before it ends, or while it runs, is served after."""
        self.invalidate(key)
        try:
            yield
        finally:
            self.invalidate(key)
