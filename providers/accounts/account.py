"""``os:Account`` — one OS account on one host.  Resource id: ``<host>/<username>``.

* create: adopt an existing account that matches (uid), or create it; a conflicting account (other
  uid, uid taken, missing groups) is refused with a message saying how to resolve it.  The common
  case (nothing there yet) takes one round trip: a guard checks on the host that nothing exists,
  then the commands and the read-back run; anything found sends it down the read-then-plan path;
* read (refresh): the account as it is, returned as inputs too so drift shows in the next preview;
* update: usermod / chpasswd -e / authorized_keys, only what differs, planned from the host's one
  gather of accounts and written with the other changes to the host arriving meanwhile
  (``providers.hostcache``); an account that already matches gets nothing written;
* delete: lock and expire (never userdel: the account's files stay); ``ensure: absent`` deletes it.
"""
from __future__ import annotations

import posixpath
from typing import Any

import pulumi
from pulumi.dynamic import ReadResult, Resource

from providers.accounts.facts import GroupEntry
from providers.accounts.plan import AccountConflict, AccountInputs, observed, plan, retire
from providers.base import PlannedProvider, resource_props
from providers.scripts import script
from providers.hoststate import HostState, Scope, gather_scope
from providers.hostcache import CACHE, write_and_read
from providers.host import Command, CommandError, HostError
from providers.transport import for_host

GUARD_MISS = 100  # the guard's exit when something of the account already exists
_NEW_ACCOUNT_GUARD = script(__file__, "new-account-guard.sh")


def account_id(inputs: AccountInputs) -> str:
    return f"{inputs.host.name}/{inputs.username}"


class OsAccountProvider(PlannedProvider):
    Inputs = AccountInputs
    IDENTITY = ("host", "username")

    def resource_id(self, inputs: AccountInputs) -> str:
        return account_id(inputs)

    def _apply(self, desired: AccountInputs, before: HostState | None = None) -> dict[str, Any]:
        """Read (unless ``before`` is given), plan, write and read back (one round trip)."""
        if before is None:  # every account (one gather for every change to the host): the uid's holder too
            before = CACHE.get(desired.host, Scope(users=None))
        commands = plan(desired, before, desired.host.name)
        if commands:
            _, after = write_and_read(desired.host, commands, Scope(users=(desired.username,)))
        else:
            after = before
        return self._converged(desired, after)

    def _converged(self, desired: AccountInputs, after: HostState) -> dict[str, Any]:
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

    def _create_new(self, desired: AccountInputs) -> dict[str, Any] | None:
        """The common case in one round trip: a guard proves on the host that nothing of this account
        exists yet (no user, uid, group or gid; every supplementary group present), then the
        commands a plan against "nothing yet" gives run, then the read-back.  None when the guard
        finds something: the caller then reads and plans as usual (adoption or a clear conflict)."""
        if desired.ensure != "present":
            return None
        nothing = HostState(groups={g: GroupEntry(g, -1, frozenset()) for g in desired.groups})
        try:
            commands = plan(desired, nothing, desired.host.name)
        except AccountConflict:
            return None
        guard = Command.of("sh", "-c", _NEW_ACCOUNT_GUARD, "keystone-new-account", desired.username,
                           str(desired.uid), str(desired.gid), *desired.groups)
        try:
            _, after = write_and_read(desired.host, [guard, *commands], Scope(users=(desired.username,)))
        except CommandError as e:
            if e.command == guard and e.exit_code == GUARD_MISS:
                return None
            raise
        return self._converged(desired, after)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        desired = self.inputs(props)
        # Every account and the home tree in one gather, shared by every Read of this host.
        state = CACHE.get(desired.host, gather_scope(mount_dirs=(posixpath.dirname(desired.home),)))
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
            with CACHE.writing(desired.host):
                transport.run_batch(retire(desired.username))


class OsAccount(Resource, module="os", name="Account"):
    """An OS account on one host (``pulumi-python:dynamic/os:Account``)."""

    def __init__(self, name: str, args: AccountInputs, opts: pulumi.ResourceOptions | None = None):
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["password_hash"]))
        props = resource_props(args, ("observed_uid",))
        # additional_secret_outputs only covers outputs: the hash is also an input, stored in the
        # state's inputs, so it goes in as a secret (encrypted in state; the provider sees it plain).
        if props["password_hash"] is not None:
            props["password_hash"] = pulumi.Output.secret(props["password_hash"])
        super().__init__(OsAccountProvider(), name, props, opts)
