"""Keystone's Authentik resources (dynamic providers on ``providers/authentik/client.py``).

``authentik:Group`` — the gate group.  Resource id: the group's uuid.
  * create: a group with that name is **adopted** (never renamed, its attributes and members left as
    they are); else it is created (attribute ``managed-by: keystone``).
  * read (refresh): the group as it is (one read, its members' usernames included, shared for a few
    seconds with the memberships' reads); members outside ``known_members`` are the output
    ``unmanaged_members`` (pk and username).  With ``exclusive`` they also go into the ``strays``
    input, so the next preview shows their removal as an update.  A group that is gone drops from
    state (the next ``up`` makes it again).
  * update: with ``exclusive``, removes members outside ``known_members``; nothing else is written.
  * delete: the group stays, unless ``delete_on_destroy`` and Keystone created it.
``authentik:GroupMember`` — one person in the gate group.  Resource id: ``<group uuid>/<username>``.
  * create/update: ``add_user`` (Authentik answers 204 whether or not the user was in).
  * read: a person who is no longer a member drops from state: the refresh reports it, ``up`` restores it.
  * delete (offboarded, purged, out of the roster, ``destroy``): ``remove_user``.
``authentik:Gate`` — the workstation's edge gate.  Resource id: the binding's uuid.
  * create: the expression policy passing only the gate group's members (adopted by name, refused if
    an adopted one says something else) and its binding to the application (adopted if one exists).
    Other bindings of the application are never touched.
  * delete: removes the binding and the policy only where Keystone created them.
The token is never an input: each provider reads ``keystone:authentikToken`` in ``configure``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import pulumi
from pulumi.dynamic import ConfigureRequest, CreateResult, ReadResult, Resource, UpdateResult

from providers.authentik.model import (
    MANAGED_BY,
    AuthentikError,
    Group,
    GateInputs,
    GroupInputs,
    MemberInputs,
    gate_expression,
)
from providers.base import KeystoneProvider, resource_props
from providers.readcache import ReadCache

if TYPE_CHECKING:
    from providers.authentik.client import AuthentikClient

GROUP_OUTPUTS = ("pk", "adopted", "unmanaged_members")
MEMBER_OUTPUTS = ("member",)
GATE_OUTPUTS = ("policy_pk", "binding_pk", "created_policy", "created_binding")


# A refresh reads every membership of the gate group at once: they share one read of the group (the
# providers' one read-cache design, ``providers.readcache``) for READ_TTL seconds, dropped by any write
# to it.  Keyed by (API URL, group uuid).
READ_TTL = 3.0
GROUPS: ReadCache[tuple[str, str], None, Group | None] = ReadCache(READ_TTL)


def read_group(client: AuthentikClient, pk: str) -> Group | None:
    return GROUPS.get_or_read((client.url, pk), None, lambda _: client.group(pk))


def writing_group(client: AuthentikClient, pk: str):
    return GROUPS.writing((client.url, pk))


class _AuthentikProvider(KeystoneProvider):
    # The HTTP side (``providers.authentik.client``, and with it the generated client, whose import
    # builds a validator for each of its thousands of API methods: seconds) is imported where a
    # provider talks to Authentik, never by the program, which only registers these resources.
    def configure(self, req: ConfigureRequest) -> None:
        from providers.authentik.client import TOKEN_CONFIG_KEY, set_token

        set_token(req.config.get(TOKEN_CONFIG_KEY))

    def client(self, inputs: Any) -> AuthentikClient:
        from providers.authentik.client import AuthentikClient

        return AuthentikClient(inputs.api_url, inputs.insecure)


# -- the gate group -------------------------------------------------------------------------------
class GroupProvider(_AuthentikProvider):
    Inputs = GroupInputs
    IDENTITY = ("api_url", "name")
    DELETE_BEFORE_REPLACE: ClassVar[bool] = False
    OUTPUTS = GROUP_OUTPUTS

    def _outputs(self, inputs: GroupInputs, group: Group, members: frozenset[int], adopted: bool) -> dict[str, Any]:
        outside = sorted(members - set(inputs.known_members))
        return {**inputs.model_dump(mode="json"), "strays": [], "pk": group.pk, "adopted": adopted,
                "unmanaged_members": [{"pk": u, "username": group.usernames.get(u, f"(user {u})")} for u in outside]}

    def _remove_strays(self, inputs: GroupInputs, client: AuthentikClient, group: Group) -> frozenset[int]:
        if not inputs.exclusive:
            return group.users
        with writing_group(client, group.pk):
            for u in sorted(group.users - set(inputs.known_members)):
                client.remove_user(group.pk, u)
        return group.users & frozenset(inputs.known_members)

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = self.inputs(props)
        client = self.client(inputs)
        group = client.group_named(inputs.name)
        adopted = group is not None
        if group is None:
            group = client.create_group(inputs.name)
        members = self._remove_strays(inputs, client, group)
        return CreateResult(group.pk, self._outputs(inputs, group, members, adopted))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = self.inputs(props)
        client = self.client(inputs)
        group = read_group(client, id_)
        if group is None:
            return ReadResult("", {})
        if group.name != inputs.name:
            raise AuthentikError(f"Authentik at {client.url}: group {id_} is now named {group.name!r}, not "
                                 f"{inputs.name!r}: Keystone never renames the gate group; rename it back or "
                                 "change authentik.gateGroup")
        outs = self._outputs(inputs, group, group.users, bool(props.get("adopted")))
        strays = [m["pk"] for m in outs["unmanaged_members"]] if inputs.exclusive else []
        refreshed = {**inputs.model_dump(mode="json"), "strays": strays}
        return ReadResult(id_, {**outs, "strays": strays}, refreshed)

    def update(self, id_: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs = self.inputs(news)
        client = self.client(inputs)
        group = client.group(id_)
        if group is None:
            raise AuthentikError(f"Authentik at {client.url}: the gate group {inputs.name!r} ({id_}) is gone; "
                                 "run `pulumi refresh`, then `pulumi up` makes it again")
        members = self._remove_strays(inputs, client, group)
        return UpdateResult(self._outputs(inputs, group, members, bool(_olds.get("adopted"))))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        inputs = self.inputs(props)
        if not inputs.delete_on_destroy or props.get("adopted"):
            return  # the group stays (with whoever is still in it)
        client = self.client(inputs)
        group = client.group(id_)
        if group is not None and group.attributes.get("managed-by") == MANAGED_BY:
            with writing_group(client, id_):
                client.delete_group(id_)


class AuthentikGroup(Resource, module="authentik", name="Group"):
    """The gate group (``pulumi-python:dynamic/authentik:Group``), id: the group's uuid."""

    name: pulumi.Output[str]
    pk: pulumi.Output[str]
    adopted: pulumi.Output[bool]
    unmanaged_members: pulumi.Output[list[dict[str, Any]]]

    def __init__(self, resource_name: str, args: GroupInputs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(GroupProvider(), resource_name, resource_props(args, GROUP_OUTPUTS), opts)


# -- one person in the gate group -----------------------------------------------------------------
class MemberProvider(_AuthentikProvider):
    Inputs = MemberInputs
    IDENTITY = ("api_url", "group_pk", "user_pk")
    OUTPUTS = MEMBER_OUTPUTS

    def _add(self, inputs: MemberInputs) -> dict[str, Any]:
        client = self.client(inputs)
        with writing_group(client, inputs.group_pk):
            client.add_user(inputs.group_pk, inputs.user_pk)
        return {**inputs.model_dump(mode="json"), "member": True}

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = self.inputs(props)
        return CreateResult(f"{inputs.group_pk}/{inputs.username}", self._add(inputs))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = self.inputs(props)
        group = read_group(self.client(inputs), inputs.group_pk)
        if group is None or inputs.user_pk not in group.users:
            return ReadResult("", {})
        return ReadResult(id_, {**inputs.model_dump(mode="json"), "member": True}, inputs.model_dump(mode="json"))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._add(self.inputs(news)))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        inputs = self.inputs(props)
        client = self.client(inputs)
        if read_group(client, inputs.group_pk) is not None:
            with writing_group(client, inputs.group_pk):
                client.remove_user(inputs.group_pk, inputs.user_pk)


class AuthentikGroupMember(Resource, module="authentik", name="GroupMember"):
    """One person in the gate group (``pulumi-python:dynamic/authentik:GroupMember``)."""

    username: pulumi.Output[str]
    user_pk: pulumi.Output[int]
    member: pulumi.Output[bool]

    def __init__(self, resource_name: str, args: dict[str, Any], opts: pulumi.ResourceOptions | None = None):
        super().__init__(MemberProvider(), resource_name, resource_props(args, MEMBER_OUTPUTS), opts)


# -- the edge gate --------------------------------------------------------------------------------
class GateProvider(_AuthentikProvider):
    Inputs = GateInputs
    IDENTITY = ("api_url", "application", "policy_name")
    DELETE_BEFORE_REPLACE: ClassVar[bool] = False
    OUTPUTS = GATE_OUTPUTS

    def _apply(self, inputs: GateInputs, created_policy: bool = False) -> dict[str, Any]:
        client = self.client(inputs)
        target = client.application_pk(inputs.application)
        if target is None:
            raise AuthentikError(f"Authentik at {client.url}: no application with slug {inputs.application!r} "
                                 "(authentik.application): create the workstation's application first")
        expression = gate_expression(inputs.group)
        found = client.expression_policy(inputs.policy_name)
        if found is None:
            policy, created_policy = client.create_expression_policy(inputs.policy_name, expression), True
        else:
            policy, existing = found
            if existing.strip() != expression:
                raise AuthentikError(
                    f"Authentik at {client.url}: expression policy {inputs.policy_name!r} exists with another "
                    f"expression ({existing.strip()[:120]!r}); Keystone adopts it only when it is exactly "
                    f"{expression!r}: fix it by hand or choose another name")
        bindings = client.bindings(target, policy)
        created_binding = not bindings
        binding = bindings[0] if bindings else client.create_binding(policy, target, inputs.order)
        return {**inputs.model_dump(mode="json"), "policy_pk": policy, "binding_pk": binding.pk,
                "created_policy": created_policy, "created_binding": created_binding}

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = self._apply(self.inputs(props))
        return CreateResult(outs["binding_pk"], outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = self.inputs(props)
        client = self.client(inputs)
        target = client.application_pk(inputs.application)
        policy = props.get("policy_pk")
        found = client.expression_policy(inputs.policy_name)
        if target is None or found is None or found[0] != policy or found[1].strip() != gate_expression(inputs.group):
            return ReadResult("", {})  # the gate is gone or altered: the next up puts it back
        if not any(b.pk == id_ and b.enabled and not b.negate for b in client.bindings(target, policy)):
            return ReadResult("", {})
        return ReadResult(id_, dict(props), inputs.model_dump(mode="json"))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._apply(self.inputs(news), bool(olds.get("created_policy"))))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        inputs = self.inputs(props)
        client = self.client(inputs)
        if props.get("created_binding"):
            client.delete_binding(id_)
        if props.get("created_policy") and props.get("policy_pk"):
            client.delete_expression_policy(props["policy_pk"])


class AuthentikGate(Resource, module="authentik", name="Gate"):
    """The edge gate (``pulumi-python:dynamic/authentik:Gate``): the gate group's policy bound to the application."""

    application: pulumi.Output[str]
    policy_pk: pulumi.Output[str]
    binding_pk: pulumi.Output[str]

    def __init__(self, resource_name: str, args: GateInputs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(GateProvider(), resource_name, resource_props(args, GATE_OUTPUTS), opts)
