"""A host's state read through the transport, the per-process cache of it (``CACHE``: the
host-state instance of ``providers.readcache.ReadCache``), and the writes to a host batched across
concurrent changes (``write_and_read``).  What is read and how it parses is ``providers.hoststate``
(pure).

Writes: every change a provider process makes to a host goes through ``write_and_read``.  Changes
that arrive while the host's round trips are busy wait and then go together in one round trip
(``MAX_BATCH`` at most): each change's commands are a group of their own (a failure stops only its
group and is raised to its change alone), their journal lines go first as one ``logger``, then the
*joined* commands of every change — commands that take many operands, such as ``systemctl start
UNIT``: one command per verb with every change's operands (``systemctl start a b c``: systemd runs the
jobs together), unchecked, each change getting its result — and the read-backs are one read of the
union of what they asked for, parsed once.  The read-back then
replaces the part of the cached gather it read (``ReadCache.patch``) instead of dropping the gather,
so the next change to the host plans from it without a read.
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from providers import journal
from providers.batching import Batches
from providers.host import Command, CommandError, HostTarget, Result, TransportError
from providers.hoststate import HostState, Scope, parse_host_state, patched, read_commands
from providers.readcache import UNTIL_WRITTEN, ReadCache
from providers.transport import Transport, for_host


def read_host_state(transport: Transport, scope: Scope) -> HostState:
    """One round trip; reads are shared with concurrent callers asking for the same thing."""
    _, reads = transport.exchange([], read_commands(scope))
    return parse_host_state(reads, transport.target.name)


class HostStateCache(ReadCache[HostTarget, Scope, HostState]):
    """Every ``Read`` of a host in the provider process is served from one gather of that host.

    The gather is the union of what the ``Read`` calls asked for (an account's ``Read`` asks for all
    accounts and the tree mounted on its home's parent directory, a dataset's or delegation's
    ``Read`` for all accounts and its parent's tree, a root-owned file's for its path, the base's for
    its gather; every one of them also for what the host's base declaration names), so a refresh
    reads each host once.  Changes plan from it too (an account's from every account, a dataset's
    from the pool and its parent's tree, a service instance's from the workstation facts).  A write
    through ``write_and_read`` replaces the part of it that the write read back (``patch``); any other
    write to the host drops it (``writing``).
    """

    TTL = UNTIL_WRITTEN  # a `pulumi refresh` takes far less

    def __init__(self) -> None:
        super().__init__(self.TTL, covers=lambda have, state, want: have.covers(want, state), union=Scope.union)

    def get(self, target: HostTarget, scope: Scope) -> HostState:
        return self.get_or_read(target, scope, lambda wanted: read_host_state(for_host(target), wanted))


CACHE = HostStateCache()


MAX_BATCH = 64  # changes per round trip
MAX_IN_FLIGHT = 2  # batched round trips at once per host (the guest's and the host's two cores)


@dataclass
class _Write:
    """One change's part of a batched round trip."""

    commands: list[Command]
    scope: Scope
    line: Command | None  # its journal line (taken in the change's own thread)
    joined: list[Command] = field(default_factory=list)
    done: bool = False
    results: list[Result] = field(default_factory=list)
    state: HostState | None = None
    error: BaseException | None = None


_HOSTS: dict[HostTarget, Batches[_Write]] = {}
_HOSTS_LOCK = threading.Lock()


def _writes_of(target: HostTarget) -> Batches[_Write]:
    with _HOSTS_LOCK:
        return _HOSTS.setdefault(target, Batches(MAX_BATCH, MAX_IN_FLIGHT))


def write_and_read(target: HostTarget, commands: list[Command], scope: Scope,
                   joined: Sequence[Command] = ()) -> tuple[list[Result], HostState]:
    """``commands`` (stopping at the first failure, which raises ``CommandError``), then ``joined``
    (each ``argv[:-1]`` the command, ``argv[-1]`` its one operand; run with the other changes' as
    one command, after every change's own commands; unchecked: the caller judges by the read-back),
    then the read of ``scope``, in one round trip shared with the changes to the same host that
    arrive meanwhile (see the module docstring).  Returns the results (``commands``', then one per
    ``joined`` command: the joined command's) and the host's state as read back (for at least
    ``scope``); the cached gather of the host gets the read-back."""
    w = _Write(list(commands), scope, journal.command_for(target.name) if commands or joined else None,
               list(joined))
    _writes_of(target).submit(w, lambda batch: _run_batch(target, batch))
    assert w.state is not None
    return w.results, w.state


def _run_batch(target: HostTarget, batch: list[_Write]) -> None:
    """One round trip for ``batch``: the journal lines, each change's group, the union read-back."""
    scope = batch[0].scope
    for w in batch[1:]:
        scope = scope.union(w.scope)
    line = journal.one_command([w.line for w in batch if w.line is not None])
    operands: dict[tuple[str, ...], list[str]] = {}
    for w in batch:
        for c in w.joined:
            operands.setdefault(c.argv[:-1], []).append(c.argv[-1])
    together = [Command.of(*verb, *dict.fromkeys(args), check=False) for verb, args in operands.items()]
    groups = ([[line]] if line is not None else []) + [w.commands for w in batch] + ([together] if together else [])
    try:
        per_group, reads = for_host(target).exchange_groups(groups, read_commands(scope))
        state = parse_host_state(reads, target.name)
    except BaseException as e:  # noqa: BLE001 - every change of the round trip learns it
        CACHE.invalidate(target)
        for w in batch:
            w.error, w.done = e, True
        return
    CACHE.patch(target, lambda cached: patched(cached, state, scope), scope)
    first = 1 if line is not None else 0
    joined_results = dict(zip(operands, per_group[-1])) if together else {}
    for w, results in zip(batch, per_group[first:first + len(batch)]):
        failed = next((r for r in results if r.command.check and not r.ok), None)
        if failed is not None:
            w.error = CommandError(target.name, failed.command, failed.exit_code, failed.stderr, failed.stdout)
        elif len(results) != len(w.commands):
            w.error = TransportError(target.name, f"host {target.name}: the command batch ended early")
        w.results = results + [joined_results[c.argv[:-1]] for c in w.joined]
        w.state, w.done = state, True
