"""The gate: every check that must pass before the program registers any resource.  ``check`` runs
them all and returns every problem at once; ``program/stack.py`` raises ``GateError`` with them, so
nothing is registered when one fails.  No check reads a host or registers anything; they read the
stack's last deployment (its outputs), the project's files and Authentik's answer, gathered first.

The checks, in the order their problems are listed:

1. **promotion** (``promotion_problems``): a stack with ``keystone:promotion.after`` applies only the
   roster the previous stack has deployed (compared by digest);
2. **deletion** (``deletion_problems``): a person who was deployed here active and is no longer in
   the roster must go through ``offboarded`` (or ``purged``) first, unless the stack sets
   ``keystone:offboarding.allowDeleteWithoutOffboarding``;
3. **peering removed** (``peering_removal_problems``): a stack with peers deployed cannot drop its
   ``keystone:peering`` block (the engine would delete every peer);
4. **peering** (``peering_problems``): peers in the roster need ``keystone:peering.zerotier``, and
   every active peer must be writable for BIRD on every route server of the stack;
5. **port ranges** (``port_range_problems``): every person's sticky port fits its service's range;
6. **host base** (``base_problems``): no host has more active people than
   ``keystone:base.budgets.maxActivePeople`` (a ``source`` missing from the project is a settings
   error, at its line);
7. **Authentik users** (``authentik_problems``, when Authentik is on): every active person's
   Authentik user exists, reported at the roster line that names it.

(The settings and the roster are checked when they load, before the gate: see ``settings/loader.py``
and ``roster/loader.py``.)
"""
from __future__ import annotations

import pathlib
from typing import Any
from collections.abc import Mapping

import pydantic

from components.peer_asn import peer_file_inputs, peer_spec
from marked_issues import one_line
from program.ports import PortRangeExhausted, port_allocation
from providers.bird.peer_file import PeerFileInputs
from roster import Peer, PeerState, PersonState, Roster, locate
from settings import StackSettings
from settings.peering import PeeringSettings


def check(s: StackSettings, roster: Roster, *, digest: str, previous_digest: str | None,
          deployed_people: Any, deployed_peers: Any, authentik_users: Mapping[str, int | None] | None,
          roster_file: pathlib.Path | None) -> list[str]:
    """Every problem of every check above (``authentik_users``: each Authentik username's user pk,
    None when Authentik is off)."""
    problems = promotion_problems(s.promotion.after, previous_digest, digest)
    problems += deletion_problems(roster, deployed_people, s.offboarding.allow_delete_without_offboarding)
    problems += peering_removal_problems(deployed_peers, s.peering.enabled)
    if s.peering.enabled:
        problems += peering_problems(roster.peers, s.peering)[0]
    problems += port_range_problems(s, roster, deployed_people)
    problems += base_problems(s, roster)
    if authentik_users is not None:
        problems += authentik_problems(roster, authentik_users, roster_file)
    return problems


class GateError(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("nothing was applied:\n" + "\n".join(f"  - {p}" for p in problems))


def promotion_problems(after: str | None, previous_digest: str | None, digest: str) -> list[str]:
    if not after:
        return []
    if not previous_digest:
        return [f"promotion: stack {after!r} has no deployed roster digest yet: deploy the roster there first"]
    if previous_digest != digest:
        return [f"promotion: this roster (digest {digest[:12]}) is not the one deployed on {after!r} "
                f"({previous_digest[:12]}): promote only what {after!r} runs — deploy it there first"]
    return []


def deletion_problems(roster: Roster, deployed: Mapping[str, Any] | None, allow: bool) -> list[str]:
    """``deployed``: the ``people`` output of this stack's last deployment (username -> summary)."""
    if allow or not deployed:
        return []
    problems = []
    for username, summary in sorted(deployed.items()):
        state = summary.get("state") if isinstance(summary, Mapping) else None
        if username not in roster.people and state == PersonState.ACTIVE.value:
            problems.append(
                f"roster: person {username!r} was removed while active: set `state: offboarded` first "
                f"(locks the account, keeps the home), apply, and only then remove or purge them "
                f"(or set keystone:offboarding.allowDeleteWithoutOffboarding for this stack)")
    return problems


def peering_removal_problems(deployed_peers: Mapping[str, Any] | None, peering_enabled: bool) -> list[str]:
    """Refuses dropping ``keystone:peering`` from a stack that has peers deployed (the program would
    otherwise register no peers, and the engine would delete them all)."""
    if peering_enabled or not deployed_peers:
        return []
    return [f"peering: this stack has {len(deployed_peers)} peer(s) deployed but no keystone:peering any more: "
            f"restoring the block keeps them; to retire them, set their roster state to removed and apply first"]


def peering_problems(peers: Mapping[int, Peer], s: PeeringSettings,
                     ) -> tuple[list[str], dict[int, dict[str, PeerFileInputs]]]:
    """Every reason the roster's peers cannot go to this stack's route servers, and otherwise the
    validated ``bird:PeerFile`` inputs (ASN → route server → inputs)."""
    problems: list[str] = []
    if peers and s.zerotier is None:
        problems.append(f"the roster has {len(peers)} peer(s) but keystone:peering.zerotier is not set: "
                        "set mode, url and networkId of the peering network")
    route_servers = s.bird_route_servers()
    files: dict[int, dict[str, PeerFileInputs]] = {}
    for asn, p in sorted(peers.items()):
        if p.state != PeerState.ACTIVE:
            continue
        try:
            spec = peer_spec(p)
        except pydantic.ValidationError as e:
            problems.append(f"peer AS{asn} ({p.name}): cannot be written for BIRD: {one_line(e)}")
            continue
        files[asn] = {}
        for rs in route_servers:
            try:
                files[asn][rs.name] = peer_file_inputs(spec, rs)
            except pydantic.ValidationError as e:
                problems.append(f"peer AS{asn} ({p.name}) on route server {rs.name}: {one_line(e)}")
    return problems, files


def port_range_problems(s: StackSettings, roster: Roster, deployed_people: Any) -> list[str]:
    """A service whose port range is full.  (A unit file the settings name that does not exist is
    refused when the settings load, at its line.)"""
    try:
        port_allocation(s, roster, deployed_people)
    except PortRangeExhausted as e:
        return [str(e)]
    return []


def active_on(roster: Roster, host: str) -> list[str]:
    """The active people with an account on ``host``, sorted (the budget cap counts them, the backup names them)."""
    return sorted(p.username for p in roster.people.values() if p.is_active and p.on_host(host))


def base_problems(s: StackSettings, roster: Roster) -> list[str]:
    b = s.base
    problems: list[str] = []
    limit = b.budgets.max_active_people if b.budgets else None
    if limit is not None:
        for host in s.hosts:
            active = active_on(roster, host.name)
            if len(active) > limit:
                problems.append(f"host {host.name}: {len(active)} active people, more than "
                                f"keystone:base.budgets.maxActivePeople ({limit}): move someone to another host "
                                f"(roster `hosts:`) or raise the limit")
    return problems


def authentik_problems(roster: Roster, users: Mapping[str, int | None],
                       roster_file: pathlib.Path | None = None) -> list[str]:
    """Each active person whose Authentik user does not exist, at the roster line that names it
    (``people.<user>.authentik``, or the person's entry when the name is the default)."""
    missing = [p for p in sorted(roster.people.values(), key=lambda p: p.username)
               if p.state == PersonState.ACTIVE and users.get(p.authentik) is None]
    where = locate(roster_file, [("people", p.username, "authentik") for p in missing]) \
        if roster_file is not None and missing else {}
    return [f"{where.get(('people', p.username, 'authentik'), 'roster')}: people.{p.username}.authentik: "
            f"Authentik user {p.authentik!r} does not exist in Authentik: fix `authentik:` in the roster or "
            f"create the user (SSO) first" for p in missing]
