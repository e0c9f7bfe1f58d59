"""``os:Account`` — one OS account on one host.  Resource id: ``<host>/<username>``.

* create: adopt an existing account that matches (uid), or create it; a conflicting account (other
  uid, uid taken, missing groups) is refused with a message saying how to resolve it;
* read (refresh): the account as it is, returned as inputs too so drift shows in the next preview;
* update: usermod / chpasswd -e / authorized_keys, only what differs;
* delete: lock and expire (never userdel: the account's files stay); ``ensure: absent`` deletes it.
"""
from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult

from providers.accounts.plan import AccountInputs, observed, plan, retire
from providers.base import KeystoneProvider
from providers.hoststate import CACHE, Scope, read_commands, parse_host_state
from providers.transport import HostError, for_host


def account_id(inputs: AccountInputs) -> str:
    return f"{inputs.host.name}/{inputs.username}"


class OsAccountProvider(KeystoneProvider):
    Inputs = AccountInputs
    IDENTITY = ("host", "username")

    def _apply(self, desired: AccountInputs) -> dict[str, Any]:
        transport = for_host(desired.host)
        scope = Scope(users=(desired.username,))
        before = parse_host_state(transport.run_batch(read_commands(scope), stop_on_error=False))
        commands = plan(desired, before, desired.host.name)
        if commands:
            CACHE.invalidate(desired.host)
            results = transport.run_batch(commands + read_commands(scope))
            after = parse_host_state(results[len(commands):])
        else:
            after = before
        outs = observed(desired, after) if desired.ensure == "present" else None
        if desired.ensure == "present":
            if outs is None:
                raise HostError(desired.host.name, f"host {desired.host.name}: user {desired.username} "
                                                   f"is missing after it was created")
            remaining = plan(desired, after, desired.host.name)
            if remaining:
                raise HostError(desired.host.name, f"host {desired.host.name}: user {desired.username} did not "
                                f"converge; still to do: {'; '.join(c.display() for c in remaining)}")
        return {**desired.model_dump(mode="json"), "observed_uid": outs["uid"] if outs else None}

    def create(self, props: dict[str, Any]) -> CreateResult:
        desired = self.inputs(props)
        return CreateResult(account_id(desired), self._apply(desired))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._apply(self.inputs(news)))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        desired = self.inputs(props)
        state = CACHE.get(desired.host, Scope(users=None))
        current = observed(desired, state)
        if current is None:
            if desired.ensure == "absent":
                return ReadResult(id_, {**props}, {k: v for k, v in props.items() if k in AccountInputs.model_fields})
            return ReadResult(None, {})
        current["observed_uid"] = current["uid"]
        inputs = {k: v for k, v in current.items() if k in AccountInputs.model_fields}
        return ReadResult(id_, current, inputs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        desired = self.inputs(props)
        if desired.ensure == "absent":
            return
        transport = for_host(desired.host)
        exists = transport.run("getent", "passwd", desired.username, check=False)
        if exists.ok:
            CACHE.invalidate(desired.host)
            transport.run_batch(retire(desired.username))


class OsAccount(Resource, module="os", name="Account"):
    """An OS account on one host (``pulumi-python:dynamic/os:Account``)."""

    def __init__(self, name: str, args: AccountInputs, opts: pulumi.ResourceOptions | None = None):
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["password_hash"]))
        props = args.model_dump(mode="json")
        props["observed_uid"] = None
        super().__init__(OsAccountProvider(), name, props, opts)
