"""A host's state read through the transport, and the per-process cache of it (``CACHE``): the
host-state instance of ``providers.readcache.ReadCache``.  What is read and how it parses is
``providers.hoststate`` (pure)."""
from __future__ import annotations

from providers.host import Command, HostTarget, Result
from providers.hoststate import HostState, Scope, parse_host_state, read_commands
from providers.readcache import ReadCache
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
    reads each host once.  Any write to the host drops it (``writing``).
    """

    TTL = 600.0  # a safety net for a long-lived process; a `pulumi refresh` takes far less

    def __init__(self) -> None:
        super().__init__(self.TTL, covers=lambda have, state, want: have.covers(want, state), union=Scope.union)

    def get(self, target: HostTarget, scope: Scope) -> HostState:
        return self.get_or_read(target, scope, lambda wanted: read_host_state(for_host(target), wanted))


CACHE = HostStateCache()


def write_and_read(target: HostTarget, commands: list[Command], scope: Scope) -> tuple[list[Result], HostState]:
    """``commands`` (stopping at the first failure, which raises ``CommandError``), then the read of
    ``scope``, in one round trip — the read shared with concurrent callers.  Drops the cache."""
    with CACHE.writing(target):
        results, reads = for_host(target).exchange(commands, read_commands(scope))
    return results, parse_host_state(reads, target.name)
