"""The program's side of Authentik: who the roster's Authentik usernames are (looked up before anything
is registered, so that the gate, ``program/gate.py``, fails ``preview`` on an unknown user naming the
roster line), and the gate group, each
active person's membership and the edge gate registered from them.

The look-ups go through a ``Directory``: in a run, ``HttpDirectory`` over Keystone's Authentik client
(the token is unwrapped only inside the look-up and never leaves it); the program tests give a map.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol
from collections.abc import Iterable, Mapping

import pulumi

from providers.authentik.model import AuthentikError, GateInputs, GroupInputs, default_policy_name
from providers.authentik.resources import AuthentikGate, AuthentikGroup
from roster import Roster
from settings import StackSettings


class Directory(Protocol):
    def user_pks(self, usernames: Iterable[str]) -> dict[str, int | None]:
        """Each Authentik username's user pk, None for one that does not exist."""

    def members(self, group: str) -> dict[int, str] | None:
        """The gate group's members (pk -> username), None when there is no such group yet."""


class HttpDirectory:
    def __init__(self, url: str, insecure: bool, token: str):
        from providers.authentik.client import AuthentikClient, set_token  # the HTTP side, only in a run

        set_token(token)
        self.client = AuthentikClient(url, insecure)

    def user_pks(self, usernames: Iterable[str]) -> dict[str, int | None]:
        return {u: self.client.user_pk(u) for u in usernames}

    def members(self, group: str) -> dict[int, str] | None:
        found = self.client.group_named(group)
        return None if found is None else dict(sorted(found.usernames.items()))


@dataclass(frozen=True)
class Lookup:
    """What the gate and the registration need from Authentik."""

    users: Mapping[str, int | None]
    """Every Authentik username the roster names -> its pk (None: no such user)."""
    members: Mapping[int, str] | None
    """The gate group's members today (None: no such group yet)."""


def lookup(s: StackSettings, roster: Roster, token: pulumi.Input[str] | None,
           directory: Directory | None) -> pulumi.Output[Lookup | None]:
    """The look-up, as an output the gate waits for (None when Authentik is off)."""
    if not s.authentik.enabled:
        return pulumi.Output.from_input(None)
    names = sorted({p.authentik for p in roster.people.values()})

    def run(secret: str | None) -> Lookup:
        d = directory or HttpDirectory(s.authentik.url or "", s.authentik.insecure, secret or "")
        try:
            members = d.members(s.authentik.gate_group)
            in_group = {name: pk for pk, name in (members or {}).items()}  # one answer names every member
            others = d.user_pks([n for n in names if n not in in_group])
        except AuthentikError as e:  # the client's message is the whole story: no traceback under it
            raise pulumi.RunError(f"authentik: nothing was applied: {e}") from None
        return Lookup(users={n: in_group.get(n, others.get(n)) for n in names}, members=members)

    return pulumi.Output.unsecret(pulumi.Output.from_input(token).apply(run))


def unmanaged(found: Lookup) -> dict[int, str]:
    """Members of the gate group the roster does not name."""
    known = {pk for pk in found.users.values() if pk is not None}
    return {pk: name for pk, name in (found.members or {}).items() if pk not in known}


@dataclass(frozen=True)
class Gate:
    """What each person's membership needs: the group resource and the connection settings."""

    group: AuthentikGroup
    api_url: str
    insecure: bool
    name: str
    users: Mapping[str, int | None]

    def member_args(self, person: str, username: str) -> dict[str, Any] | None:
        pk = self.users.get(username)
        if pk is None:
            return None
        return {"api_url": self.api_url, "insecure": self.insecure, "group": self.name, "group_pk": self.group.pk,
                "person": person, "username": username, "user_pk": pk}


def register(s: StackSettings, found: Lookup) -> Gate:
    """The gate group and, with ``authentik.application``, the edge gate; warns about members the
    roster does not name (kept, unless ``exclusiveMembers``)."""
    a = s.authentik
    url = (a.url or "").rstrip("/")
    strays = unmanaged(found)
    if strays:
        names = ", ".join(f"{n} ({pk})" for pk, n in sorted(strays.items()))
        pulumi.log.warn(f"authentik: gate group {a.gate_group!r} has members the roster does not name: {names}; "
                        + ("they will be removed (authentik.exclusiveMembers)" if a.exclusive_members
                           else "kept (Keystone removes only the people it manages)"))
    group = AuthentikGroup("gate-group", GroupInputs(
        api_url=url, insecure=a.insecure, name=a.gate_group, exclusive=a.exclusive_members,
        known_members=sorted({pk for pk in found.users.values() if pk is not None}),
        delete_on_destroy=a.delete_group_on_destroy))
    if a.application:
        AuthentikGate("edge-gate", GateInputs(
            api_url=url, insecure=a.insecure, application=a.application, group=a.gate_group,
            policy_name=a.gate_policy or default_policy_name(a.gate_group)),
            pulumi.ResourceOptions(depends_on=[group]))
    return Gate(group=group, api_url=url, insecure=a.insecure, name=a.gate_group, users=found.users)
