"""``zfs:Delegation`` — ``zfs allow`` for one user on their own dataset.  Id: ``<host>/<dataset>/<user>``.

Authoritative for that user's entry on that dataset: permissions dropped from the inputs are
unallowed.  Delete removes the user's entry (``zfs unallow -u USER DATASET``).
"""
from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import ReadResult, Resource

from providers.base import PlannedProvider, resource_props
from providers.scripts import script
from providers.hoststate import HostState, Scope, gather_scope
from providers.hostcache import CACHE, read_host_state, write_and_read
from providers.host import Command, CommandError, HostError
from providers.transport import for_host
from providers.zfs.facts import Grants
from providers.zfs.plan import ConflictError, DelegationInputs, plan_delegation

_UNALLOW = script(__file__, "unallow.sh")  # DATASET USER: drop the user's entry (none when the dataset is gone)


def delegation_id(d: DelegationInputs) -> str:
    return f"{d.host.name}/{d.dataset}/{d.user}"


def _granted(state: HostState, d: DelegationInputs) -> dict[str, list[str]]:
    g = state.allows.grants(d.dataset, d.user)
    return {"local": sorted(g.local), "descendent": sorted(g.descendent)}


class ZfsDelegationProvider(PlannedProvider):
    Inputs = DelegationInputs
    IDENTITY = ("host", "dataset", "user")

    def resource_id(self, inputs: DelegationInputs) -> str:
        return delegation_id(inputs)

    def _apply(self, d: DelegationInputs) -> dict[str, Any]:
        before = read_host_state(for_host(d.host), Scope(users=(d.user,), datasets=(d.dataset,), allows=(d.dataset,)))
        if d.dataset not in before.existing:
            raise ConflictError(f"host {d.host.name}: dataset {d.dataset} does not exist: create it first")
        if d.user not in before.passwd:
            raise ConflictError(f"host {d.host.name}: user {d.user} does not exist: create the account first")
        commands = plan_delegation(d, before.allows.grants(d.dataset, d.user))
        after = before
        if commands:
            _, after = write_and_read(d.host, commands, Scope(allows=(d.dataset,)))
            if plan_delegation(d, after.allows.grants(d.dataset, d.user)):
                raise HostError(d.host.name, f"host {d.host.name}: delegation for {d.user} on {d.dataset} "
                                             f"did not converge: {_granted(after, d)}")
        return {**d.model_dump(mode="json"), "granted": _granted(after, d)}

    def _create_new(self, d: DelegationInputs) -> dict[str, Any] | None:
        """The common case in one round trip: grant as if the user had nothing there yet, and read
        back.  ``zfs allow`` itself is the check (it grants nothing when the dataset or the user is
        missing).  None when it failed, or when the read-back shows grants Keystone did not make
        (an adopted entry): the caller then reads and plans as usual (clear errors, authoritative)."""
        commands = plan_delegation(d, Grants())
        if not commands:
            return None
        try:
            _, after = write_and_read(d.host, commands, Scope(allows=(d.dataset,)))
        except CommandError as e:
            if e.command == commands[0]:
                return None
            raise
        if plan_delegation(d, after.allows.grants(d.dataset, d.user)):
            return None
        return {**d.model_dump(mode="json"), "granted": _granted(after, d)}

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        d = self.inputs(props)
        state = CACHE.get(d.host, gather_scope(roots=(d.dataset.rsplit("/", 1)[0],)))  # one gather per host
        if d.dataset not in state.existing:
            return ReadResult(None, {})
        g = state.allows.grants(d.dataset, d.user)
        if g.is_empty():
            return ReadResult(None, {})
        inputs = {k: v for k, v in props.items() if k in DelegationInputs.model_fields}
        inputs["permissions"] = sorted(g.local & g.descendent)
        inputs["descendent_permissions"] = sorted(g.descendent - g.local)
        extra_local = sorted(g.local - g.descendent)
        if extra_local:  # local-only grants Keystone never makes: show them as drift in permissions
            inputs["permissions"] = sorted(set(inputs["permissions"]) | set(extra_local))
        return ReadResult(id_, {**props, **inputs, "granted": _granted(state, d)}, inputs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        d = self.inputs(props)
        transport = for_host(d.host)
        with CACHE.writing(d.host):
            transport.run_batch([Command.of("sh", "-c", _UNALLOW, "keystone-unallow", d.dataset, d.user)])


class ZfsDelegation(Resource, module="zfs", name="Delegation"):
    """``zfs allow`` for a person on their own home (``pulumi-python:dynamic/zfs:Delegation``)."""

    def __init__(self, name: str, args: DelegationInputs, opts: pulumi.ResourceOptions | None = None):
        # outputs add granted (not declared: nothing reads it as an attribute)
        super().__init__(ZfsDelegationProvider(), name, resource_props(args), opts)
