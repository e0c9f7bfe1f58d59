"""Authentik's objects as Keystone sees them (pure): resource inputs, what an answer must look like,
and the gate's expression.

Nothing here talks HTTP (``providers/authentik/client.py`` does).  Every answer the client hands on is
first checked here, so a server that answers with another shape is one clear error, not a traceback.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

import pydantic
from pydantic import AfterValidator, ConfigDict, Field

import validators

MANAGED_BY = "keystone"  # the attribute Keystone sets on a group it creates (goauthentik: free-form attributes)


class AuthentikError(Exception):
    """Anything that went wrong talking to Authentik; the message names the URL and the call, never the token."""


GroupName = Annotated[str, AfterValidator(validators.authentik_group)]
Slug = Annotated[str, AfterValidator(validators.application_slug)]
ApiUrl = Annotated[str, AfterValidator(lambda v: validators.http_url(v).rstrip("/"))]
UserPk = Annotated[int, Field(ge=1)]


class _Inputs(pydantic.BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    api_url: ApiUrl
    """Authentik's base URL (``https://sso.example.org``); the API is under ``/api/v3``."""
    insecure: bool = False
    """Skip TLS verification (test servers only)."""


class GroupInputs(_Inputs):
    name: GroupName
    """The gate group's name: adopted if a group has it, created otherwise; never renamed."""
    known_members: list[UserPk] = []
    """Authentik user pks of every person the roster names (any state): members outside it are reported."""
    exclusive: bool = False
    """Remove members the roster does not name (``authentik.exclusiveMembers``)."""
    strays: list[UserPk] = []
    """Members to remove: always empty as desired; a refresh of an exclusive group fills it with the
    members found outside the roster, so the next preview shows their removal as an update."""
    delete_on_destroy: bool = False
    """Delete the group when the resource is deleted, if Keystone created it (``authentik.deleteGroupOnDestroy``)."""


class MemberInputs(_Inputs):
    group: GroupName
    """The gate group's name (for messages)."""
    group_pk: str
    """The gate group's uuid (an output of the group resource)."""
    person: str
    """The person's OS username (the roster's key)."""
    username: str
    """The person's Authentik username (for messages and the id)."""
    user_pk: UserPk
    """The person's Authentik user pk, looked up by the program."""


class GateInputs(_Inputs):
    application: Slug
    """The workstation's application (its slug) the gate is bound to."""
    group: GroupName
    """The gate group a user must be in to pass."""
    policy_name: GroupName
    """The expression policy's name (adopted if a policy has it)."""
    order: int = Field(0, ge=-2147483648, le=2147483647)
    """The binding's order among the application's bindings."""


def gate_expression(group: str) -> str:
    """The expression policy that passes exactly the gate group's members (Authentik's
    ``ak_is_group_member``); the name is quoted as a Python string literal."""
    return f"return ak_is_group_member(request.user, name={json.dumps(group)})"


def default_policy_name(group: str) -> str:
    return f"keystone-gate-{group}"[:150]


@dataclass(frozen=True)
class Group:
    pk: str
    name: str
    users: frozenset[int]
    attributes: dict[str, Any]
    usernames: dict[int, str]
    """Each member's username (from ``users_obj``, which Authentik includes with ``include_users``)."""


@dataclass(frozen=True)
class Binding:
    pk: str
    policy: str | None
    target: str
    order: int
    enabled: bool
    negate: bool


def field(answer: Any, key: str, kind: type | tuple[type, ...], what: str) -> Any:
    """``answer[key]`` if it is of ``kind``; otherwise the one error of a malformed answer."""
    value = answer.get(key) if isinstance(answer, dict) else None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise AuthentikError(f"{what}: unexpected answer: {key!r} should be {getattr(kind, '__name__', kind)}, "
                             f"got {value!r:.80}")
    return value


def parse_group(answer: Any, what: str) -> Group:
    users = field(answer, "users", list, what)
    if not all(isinstance(u, int) and not isinstance(u, bool) for u in users):
        raise AuthentikError(f"{what}: unexpected answer: 'users' should be a list of user pks, got {users!r:.80}")
    attributes = answer.get("attributes") or {}
    usernames = {u["pk"]: u["username"] for u in answer.get("users_obj") or []
                 if isinstance(u, dict) and isinstance(u.get("pk"), int) and isinstance(u.get("username"), str)}
    return Group(pk=str(field(answer, "pk", str, what)), name=field(answer, "name", str, what),
                 users=frozenset(users), attributes=attributes if isinstance(attributes, dict) else {},
                 usernames={pk: usernames.get(pk, f"(user {pk})") for pk in users})


def parse_binding(answer: Any, what: str) -> Binding:
    policy = answer.get("policy") if isinstance(answer, dict) else None
    return Binding(pk=field(answer, "pk", str, what), policy=str(policy) if policy else None,
                   target=field(answer, "target", str, what), order=field(answer, "order", int, what),
                   enabled=bool(answer.get("enabled", True)), negate=bool(answer.get("negate", False)))


def results(answer: Any, what: str) -> tuple[list[Any], int]:
    """One page of a list answer: its results and the next page's number (0: none, as Authentik says)."""
    items = field(answer, "results", list, what)
    pagination = field(answer, "pagination", dict, what)
    nxt = pagination.get("next", 0)
    return items, nxt if isinstance(nxt, int) and not isinstance(nxt, bool) else 0
