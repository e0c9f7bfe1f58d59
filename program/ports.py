"""Sticky per-person ports and what is derived from them (pure): the program allocates them from the
roster before it registers anything; the providers only lay down what it decided.

An allocation is ``{host: {service: {user: port}}}``.  It lives in the stack's own outputs: each
person's ``people`` summary carries ``workstation.ports`` (``{host: {service: port}}``), which the
program reads back through the StackReference it already holds for the deletion guard, before it
registers anything (docs/workstation.md says why there and not in the roster or a resource's state).

``allocate`` keeps every port a person already holds while they are in the roster (whatever their
state) and gives people without one the lowest free port of the service's range, in username order,
so the result depends only on the previous allocation and the roster: a preview shows the port a new
person will get, and everybody else's port is unchanged by additions, offboardings, re-activations
and removals.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from collections.abc import Iterable, Mapping

from roster import Roster
from settings import StackSettings

Allocation = dict[str, dict[str, dict[str, int]]]


class PortRangeExhausted(ValueError):
    pass


@dataclass(frozen=True)
class Claimant:
    """A roster person as the allocator sees them."""

    user: str
    hosts: tuple[str, ...]
    services: tuple[str, ...]  # services their tier gets


@dataclass(frozen=True)
class ServiceRange:
    name: str
    base: int
    size: int

    def __contains__(self, port: object) -> bool:
        return isinstance(port, int) and self.base <= port < self.base + self.size


def previous_allocation(deployed_people: Any) -> Allocation:
    """The allocation the last deployment exported (``people.<user>.workstation.ports``); anything
    malformed is ignored (a port that is not a whole number is simply not kept)."""
    out: Allocation = {}
    if not isinstance(deployed_people, Mapping):
        return out
    for user, summary in deployed_people.items():
        ws = summary.get("workstation") if isinstance(summary, Mapping) else None
        ports = ws.get("ports") if isinstance(ws, Mapping) else None
        if not isinstance(ports, Mapping):
            continue
        for host, per_service in ports.items():
            if not isinstance(per_service, Mapping):
                continue
            for service, port in per_service.items():
                # outputs come back through protobuf, where every number is a float
                if isinstance(port, (int, float)) and not isinstance(port, bool) and float(port).is_integer():
                    out.setdefault(str(host), {}).setdefault(str(service), {})[str(user)] = int(port)
    return out


def allocate(previous: Allocation, people: Iterable[Claimant], services: Iterable[ServiceRange],
             hosts: Iterable[str]) -> Allocation:
    people = sorted(people, key=lambda c: c.user)
    services = list(services)
    out: Allocation = {}
    for host in sorted(hosts):
        for svc in services:
            wanting = [c.user for c in people if host in c.hosts and svc.name in c.services]
            if not wanting:
                continue
            before = previous.get(host, {}).get(svc.name, {})
            taken: dict[int, str] = {}
            got: dict[str, int] = {}
            for user in wanting:  # keep what is held (first holder wins a duplicate)
                held = before.get(user)
                if held is not None and held in svc and held not in taken:
                    taken[held] = user
                    got[user] = held
            free = (p for p in range(svc.base, svc.base + svc.size) if p not in taken)
            for user in wanting:
                if user in got:
                    continue
                port = next(free, None)
                if port is None:
                    raise PortRangeExhausted(
                        f"workstation: service {svc.name} on host {host}: its range {svc.base}-"
                        f"{svc.base + svc.size - 1} is full ({svc.size} people hold a port): widen `range`")
                taken[port] = user
                got[user] = port
            out.setdefault(host, {})[svc.name] = dict(sorted(got.items()))
    return out


def person_ports(allocation: Allocation, user: str) -> dict[str, dict[str, int]]:
    """``{host: {service: port}}`` of one person (what their summary exports)."""
    return {h: {s: users[user] for s, users in per.items() if user in users}
            for h, per in allocation.items() if any(user in users for users in per.values())}


def render_map(fmt: str, entries: Mapping[str, int]) -> str:
    """A map file: ``tsv`` ("user<TAB>port" lines, sorted) or ``json`` ({"user": port}, sorted)."""
    items = sorted(entries.items())
    if fmt == "json":
        return json.dumps(dict(items), indent=2, sort_keys=True) + "\n"
    if fmt == "tsv":
        return "".join(f"{u}\t{p}\n" for u, p in items)
    raise ValueError(f"unknown map format {fmt!r}")


def port_allocation(s: StackSettings, roster: Roster, deployed_people: Any) -> Allocation:
    """The stack's allocation: every roster person (any state: a port is never given away while its
    holder is in the roster) × the services of their tier × their hosts, kept from the ``people``
    output of the last deployment."""
    w = s.workstation
    claimants = [Claimant(p.username, tuple(h.name for h in s.hosts if p.on_host(h.name)),
                          tuple(svc.name for svc in w.services_for(p.tier.value)))
                 for p in roster.people.values()]
    return allocate(previous_allocation(deployed_people), claimants,
                    [ServiceRange(svc.name, svc.base_port, svc.range) for svc in w.services],
                    [h.name for h in s.hosts])
