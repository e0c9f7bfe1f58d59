"""Checks that must pass before the program registers any resource (pure).

* the promotion guard: a stack with ``promotion.after`` applies only the roster the previous stack
  has deployed (compared by digest);
* the deletion guard: a person who was deployed here and is no longer in the roster must have gone
  through ``offboarded`` (or ``purged``) first, unless the stack opts in;
(Authentik's check, that every active person exists there, lives with its look-up in ``program/authentik.py``.)
"""
from __future__ import annotations

from typing import Any
from collections.abc import Mapping

from roster import PersonState, Roster


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
