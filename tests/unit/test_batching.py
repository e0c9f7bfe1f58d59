"""The queue of requests to one host (``providers.batching.Batches``): who goes together."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from providers.batching import Batches


@dataclass
class Req:
    name: str
    done: bool = False
    error: BaseException | None = None


def run_all(batches: Batches[Req], arrivals: list[tuple[float, str]], seconds: float = 0.0) -> list[list[str]]:
    """Submit each request at its time (seconds from now); each batch takes ``seconds``.  The batches run."""
    ran: list[list[str]] = []

    def run(batch: list[Req]) -> None:
        ran.append([r.name for r in batch])
        time.sleep(seconds)
        for r in batch:
            r.done = True

    start = time.monotonic()

    def one(at: float, name: str) -> None:
        time.sleep(max(0.0, start + at - time.monotonic()))
        batches.submit(Req(name), run)

    threads = [threading.Thread(target=one, args=a) for a in arrivals]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return ran


def test_a_lone_request_waits_for_the_requests_arriving_just_after_it():
    ran = run_all(Batches(8, 1, share=0.1, least=0.2, most_wait=1.0), [(0.0, "a"), (0.03, "b"), (0.06, "c")])
    assert ran == [["a", "b", "c"]]


def test_without_a_window_the_first_goes_alone():
    ran = run_all(Batches(8, 1, share=0.0, least=0.0, most_wait=0.0), [(0.0, "a"), (0.1, "b")], seconds=0.2)
    assert ran == [["a"], ["b"]]


def test_the_window_is_a_share_of_the_last_round_trip_within_its_bounds():
    b: Batches[Req] = Batches(8, 1, share=0.5, least=0.01, most_wait=0.3)
    run_all(b, [(0.0, "a")], seconds=0.2)
    assert 0.1 <= b.window < 0.2  # half of the 0.2 s the batch took
    run_all(b, [(0.0, "a")], seconds=1.0)
    assert b.window == 0.3
    run_all(b, [(0.0, "a")])
    assert b.window == 0.01


def test_a_full_batch_does_not_wait_for_the_window():
    started = time.monotonic()
    ran = run_all(Batches(2, 1, share=0.0, least=5.0, most_wait=5.0), [(0.0, "a"), (0.0, "b")])
    assert sorted(ran[0]) == ["a", "b"] and time.monotonic() - started < 2.0
