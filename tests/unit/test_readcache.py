"""The providers' one read cache (``providers.readcache.ReadCache``): served while fresh and covering,
grown to the union of what was asked, never keeping a read that overlapped a write."""
from __future__ import annotations

import threading

from providers.readcache import ReadCache


def sets_cache(ttl: float = 60.0) -> ReadCache[str, frozenset, frozenset]:
    """Wants are sets of names; a read returns exactly what was asked."""
    return ReadCache(ttl, covers=lambda have, _value, want: want <= have, union=lambda have, want: have | want)


def test_a_fresh_covering_entry_is_served_without_a_read():
    cache, calls = sets_cache(), []
    read = lambda want: calls.append(want) or want  # noqa: E731
    assert cache.get_or_read("h", frozenset({"a", "b"}), read) == {"a", "b"}
    assert cache.get_or_read("h", frozenset({"a"}), read) == {"a", "b"}
    assert calls == [{"a", "b"}] and cache.reads == 1


def test_a_want_the_entry_does_not_cover_reads_the_union():
    cache, calls = sets_cache(), []
    read = lambda want: calls.append(want) or want  # noqa: E731
    cache.get_or_read("h", frozenset({"a"}), read)
    cache.get_or_read("h", frozenset({"b"}), read)
    assert calls == [{"a"}, {"a", "b"}]
    cache.get_or_read("other", frozenset({"c"}), read)  # keys are apart
    assert calls[-1] == {"c"}


def test_an_entry_expires_after_its_ttl():
    cache, calls = sets_cache(ttl=0.0), []
    read = lambda want: calls.append(want) or want  # noqa: E731
    cache.get_or_read("h", frozenset({"a"}), read)
    assert cache.peek("h") is None
    cache.get_or_read("h", frozenset({"a"}), read)
    assert calls == [{"a"}, {"a"}]


def test_writing_drops_the_entry_before_and_after():
    cache = sets_cache()
    cache.get_or_read("h", frozenset({"a"}), lambda w: w)
    with cache.writing("h"):
        assert cache.peek("h") is None
        cache.get_or_read("h", frozenset({"a"}), lambda w: w)  # read during the write: not kept afterwards
    assert cache.peek("h") is None


def test_a_read_that_overlapped_a_write_is_not_kept():
    cache = sets_cache()

    def read_while_someone_writes(want):
        cache.invalidate("h")  # a write began while this read ran
        return want

    assert cache.get_or_read("h", frozenset({"a"}), read_while_someone_writes) == {"a"}
    assert cache.peek("h") is None


def test_callers_asking_at_once_share_one_read():
    cache, started, release, calls = sets_cache(), threading.Event(), threading.Event(), []

    def slow(want):
        calls.append(want)
        started.set()
        release.wait(5)
        return want

    out = []
    first = threading.Thread(target=lambda: out.append(cache.get_or_read("h", frozenset({"a"}), slow)))
    first.start()
    started.wait(5)
    second = threading.Thread(target=lambda: out.append(cache.get_or_read("h", frozenset({"a"}), slow)))
    second.start()
    release.set()
    first.join(5)
    second.join(5)
    assert out == [{"a"}, {"a"}] and len(calls) == 1


def test_a_callers_own_lock_serializes_the_read():
    cache, lock = sets_cache(), threading.Lock()
    with lock:
        t = threading.Thread(target=lambda: cache.get_or_read("h", frozenset({"a"}), lambda w: w, lock=lock))
        t.start()
        t.join(0.2)
        assert t.is_alive() and cache.reads == 0  # waits for the caller's lock
    t.join(5)
    assert cache.reads == 1


def test_peek_may_accept_an_older_entry_but_never_one_a_write_began_after():
    cache = sets_cache(ttl=0.0)
    cache.get_or_read("h", frozenset({"a"}), lambda w: w)
    assert cache.peek("h") is None                # past the cache's own TTL
    assert cache.peek("h", ttl=60.0) == {"a"}     # a caller that accepts older
    cache.invalidate("h")
    assert cache.peek("h", ttl=60.0) is None      # a write began since the read
