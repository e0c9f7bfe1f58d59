"""The workstation facet of a host's state (pure: nothing here runs a command): whether it is read
(``WorkstationScope``), what part of the state it is (``WorkstationState``), the command it adds to
the host's one read (``gather.sh``: login sessions, service instances, their environment files,
listening sockets) and the parser of its answer.  ``providers.hoststate`` composes it with the other
facets."""
from __future__ import annotations

from dataclasses import dataclass

from providers.host import Command
from providers.workstation.facts import GATHER, WorkstationFacts, parse_gather


@dataclass(frozen=True)
class WorkstationScope:
    workstation: bool = False  # the workstation facts


def covers(have: WorkstationScope, want: WorkstationScope) -> bool:
    return have.workstation or not want.workstation


def union(a: WorkstationScope, b: WorkstationScope) -> WorkstationScope:
    return WorkstationScope(a.workstation or b.workstation)


@dataclass
class WorkstationState:
    workstation: WorkstationFacts | None = None  # read when the scope asks for it


def read_command() -> Command:
    return Command.of("sh", "-c", GATHER, "keystone-workstation", check=False)


def answers(argv: tuple[str, ...]) -> bool:
    """Whether a command of the round trip is this facet's read."""
    return argv[:3] == ("sh", "-c", GATHER)


def parse(text: str, state: WorkstationState) -> None:
    state.workstation = parse_gather(text)
