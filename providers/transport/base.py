"""The transport's contract and what every transport shares: one round trip per batch, its count
(``Stats``) and its log line (``KEYSTONE_TRANSPORT_LOG``).  ``local`` and ``ssh`` implement
``_execute``; ``providers.transport.for_host`` picks one per host."""
from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from collections.abc import Iterable, Sequence

from providers import journal
from providers.host import Command, CommandError, HostTarget, Result, TransportError


@dataclass
class Stats:
    round_trips: int = 0
    commands: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, commands: int) -> None:
        with self._lock:
            self.round_trips += 1
            self.commands += commands


_LOG_LOCK = threading.Lock()


def log_round_trip(host: str, commands: int, groups: int, seconds: float) -> None:
    """Append one line to ``$KEYSTONE_TRANSPORT_LOG`` (when set): what the benchmarks and tests count."""
    path = os.environ.get("KEYSTONE_TRANSPORT_LOG")
    if not path:
        return
    line = json.dumps({"pid": os.getpid(), "host": host, "commands": commands, "groups": groups,
                       "seconds": round(seconds, 4), "t": round(time.time(), 4)}) + "\n"
    with _LOG_LOCK, open(path, "a") as fh:
        fh.write(line)


class Transport:
    """Runs commands on one host.  Thread-safe; one instance per host per process (see ``for_host``)."""

    def __init__(self, target: HostTarget):
        self.target = target
        self.stats = Stats()

    def run(self, *argv: str, stdin: str | None = None, check: bool = True, secrets: Iterable[str] = ()) -> Result:
        return self.run_batch([Command.of(*argv, stdin=stdin, check=check, secrets=secrets)])[0]

    def run_batch(self, commands: Sequence[Command], stop_on_error: bool = True) -> list[Result]:
        """Run ``commands`` in one round trip.  Raises ``CommandError`` for the first failed checked
        command (later ones did not run when ``stop_on_error``)."""
        if not commands:
            return []
        results, _ = self._journaled_round_trip(list(commands), stop_on_error, ())
        return self._checked(commands, results, stop_on_error)

    def exchange(self, commands: Sequence[Command], reads: Sequence[Command]) -> tuple[list[Result], list[Result]]:
        """``commands`` (stopping at the first failed checked one), then ``reads`` — read-only,
        unchecked commands that may be shared with concurrent callers — in one round trip.
        Raises ``CommandError`` as ``run_batch`` does."""
        if any(r.check or r.stdin is not None for r in reads):
            raise ValueError("shared reads must be unchecked and take no stdin")
        if not commands and not reads:
            return [], []
        results, read_results = self._journaled_round_trip(list(commands), True, tuple(reads))
        return self._checked(commands, results, True), read_results

    def exchange_groups(self, groups: Sequence[Sequence[Command]],
                        reads: Sequence[Command]) -> tuple[list[list[Result]], list[Result]]:
        """Several independent command groups — each stopping at its own first failed checked
        command, the others going on — then ``reads`` (read-only, unchecked, shared with concurrent
        callers as ``exchange``'s are), in one round trip.  Adds no journal line (the caller puts
        each change's in) and checks nothing: each group's results are its caller's to check
        (``providers.hostcache.write_and_read``)."""
        if any(r.check or r.stdin is not None for r in reads):
            raise ValueError("shared reads must be unchecked and take no stdin")
        if not any(groups) and not reads:
            return [[] for _ in groups], []
        return self._groups_round_trip([list(g) for g in groups], tuple(reads))

    def _groups_round_trip(self, groups: list[list[Command]],
                           reads: tuple[Command, ...]) -> tuple[list[list[Result]], list[Result]]:
        """One round trip of several groups and reads (here: each in turn; ``ssh`` sends one script
        and shares it with the callers waiting meanwhile)."""
        n = sum(len(g) for g in groups) + len(reads)
        self.stats.count(n)
        started = time.monotonic()
        try:
            return ([self._execute(g, True) if g else [] for g in groups],
                    self._execute(list(reads), False) if reads else [])
        finally:
            log_round_trip(self.target.name, n, len(groups) + (1 if reads else 0), time.monotonic() - started)

    def _journaled_round_trip(self, commands: list[Command], stop_on_error: bool,
                              reads: tuple[Command, ...]) -> tuple[list[Result], list[Result]]:
        """The round trip, with the open change's journal line first when this batch carries
        commands of the change's own (read or write: only ``reads`` are known to be reads) to a host
        that has not had it yet (``providers.journal``); its own result is not returned."""
        line = journal.command_for(self.target.name) if commands else None
        if line is None:
            return self._round_trip(commands, stop_on_error, reads)
        results, read_results = self._round_trip([line, *commands], stop_on_error, reads)
        return results[1:], read_results

    def _checked(self, commands: Sequence[Command], results: list[Result], stop_on_error: bool) -> list[Result]:
        for r in results:
            if r.command.check and not r.ok:
                raise CommandError(self.target.name, r.command, r.exit_code, r.stderr, r.stdout)
        if len(results) != len(commands) and not stop_on_error:
            raise TransportError(self.target.name, f"host {self.target.name}: the command batch ended early")
        return results

    def _round_trip(self, commands: list[Command], stop_on_error: bool,
                    reads: tuple[Command, ...]) -> tuple[list[Result], list[Result]]:
        """One round trip of this caller's own (the default: no sharing between callers)."""
        everything = commands + list(reads)
        self.stats.count(len(everything))
        started = time.monotonic()
        try:
            results = self._execute(everything, stop_on_error)
        finally:
            log_round_trip(self.target.name, len(everything), 1, time.monotonic() - started)
        return results[:len(commands)], results[len(commands):]

    def _execute(self, commands: Sequence[Command], stop_on_error: bool) -> list[Result]:
        raise NotImplementedError
