"""``workstation:ServiceInstance`` — one person's instance of one service on one host.
Resource id: ``<host>/<unit>@<user>``.

* create/update: the host's workstation facts (read fresh: sessions and listeners change; instances
  changed at once share the read), plan (``plan.py``), write, and read back in the same round trip —
  shared with the other instances changed on the host meanwhile, their ``systemctl`` calls joined
  into one per verb (``providers.hostcache.write_and_read``);
* read (refresh): the instance as it is; a stopped or disabled instance of an active person, or an
  environment file changed on the host, shows as drift;
* diff: a restart deferred by the last run (``pending_restart``, why in ``pending_reason``) is a
  change, so the next preview shows it and the next ``up`` restarts the instance once the person is
  idle (``idle.py``);
* delete: stopped, disabled, environment file removed (the person's files are not touched).
"""
from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import DiffResult, ReadResult, Resource, UpdateResult

from providers.base import PlannedProvider, resource_props
from providers.hoststate import HostState, Scope
from providers.hostcache import CACHE, read_host_state, write_and_read
from providers.host import HostError
from providers.transport import for_host
from providers.workstation.facts import UnitState, WorkstationFacts
from providers.workstation.plan import InstanceInputs, is_joined, plan_instance

SCOPE = Scope(workstation=True)


def instance_id(inputs: InstanceInputs) -> str:
    return f"{inputs.host.name}/{inputs.unit}@{inputs.user}"


def _facts(state: HostState) -> WorkstationFacts:
    return state.workstation or WorkstationFacts()


def observed(desired: InstanceInputs, facts: WorkstationFacts, pending: bool,
             reason: str | None = None) -> dict[str, Any]:
    unit = facts.units.get(desired.instance, UnitState("inactive", ""))
    return {"running": unit.running, "unit_enabled": unit.is_enabled,
            "env_digest": facts.env_digests.get(desired.env_path), "pending_restart": pending,
            "pending_reason": reason if pending else None,
            "sessions": len(facts.sessions.get(desired.user, []))}


class ServiceInstanceProvider(PlannedProvider):
    Inputs = InstanceInputs
    IDENTITY = ("host", "unit", "user")

    def _apply(self, desired: InstanceInputs, pending: bool = False, ensure: str | None = None) -> dict[str, Any]:
        if ensure:
            desired = desired.model_copy(update={"ensure": ensure})
        # a fresh read, never the cache: sessions and listeners are what they are now (the same read
        # asked by instances changed at once runs once: the transport shares it)
        before = _facts(read_host_state(for_host(desired.host), SCOPE))
        step = plan_instance(desired, before, pending)
        after = before
        if step.commands:
            own = [c for c in step.commands if not is_joined(c)]
            joined = [c for c in step.commands if is_joined(c)]
            results, state = write_and_read(desired.host, own, SCOPE, joined)
            after = _facts(state)
            again = plan_instance(desired, after, step.pending_restart)
            if again.commands:
                failed = "; ".join(f"`{r.command.display()}` exited {r.exit_code}: {r.stderr.strip()[:500]}"
                                   for r in results[len(own):] if not r.ok)
                raise HostError(desired.host.name, f"host {desired.host.name}: {desired.instance} did not converge; "
                                f"still to do: {'; '.join(c.display() for c in again.commands)}"
                                + (f" (systemd: {failed})" if failed else ""))
        return {**desired.model_dump(mode="json"), **observed(desired, after, step.pending_restart, step.reason)}

    def resource_id(self, inputs: InstanceInputs) -> str:
        return instance_id(inputs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._apply(self.inputs(news), pending=bool(olds.get("pending_restart"))))

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        d = super().diff(id_, olds, news)
        if not d.changes and olds.get("pending_restart") and olds.get("restart") == "when-idle":
            return DiffResult(changes=True, replaces=[], stables=list(self.IDENTITY), delete_before_replace=False)
        return d

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        desired = self.inputs(props)
        facts = _facts(CACHE.get(desired.host, SCOPE))
        pending = bool(props.get("pending_restart"))
        outs = {**desired.model_dump(mode="json"), **observed(desired, facts, pending, props.get("pending_reason"))}
        inputs = {k: v for k, v in outs.items() if k in InstanceInputs.model_fields}
        if desired.ensure == "present":
            if outs["env_digest"] is None and not outs["running"] and not outs["unit_enabled"]:
                return ReadResult(None, {})
            if outs["env_digest"] != desired.env_digest:
                inputs["environment"] = f"(changed on the host: sha256 {outs['env_digest']})"
            if desired.enabled and not (outs["running"] and outs["unit_enabled"]):
                inputs["enabled"] = False
            if not desired.enabled and (outs["running"] or outs["unit_enabled"]):
                inputs["enabled"] = True
        outs.update(inputs)
        return ReadResult(id_, outs, inputs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        self._apply(self.inputs(props), ensure="absent")


class ServiceInstance(Resource, module="workstation", name="ServiceInstance"):
    """A person's instance of a service on one host (``pulumi-python:dynamic/workstation:ServiceInstance``)."""

    running: pulumi.Output[bool]
    pending_restart: pulumi.Output[bool]
    pending_reason: pulumi.Output[str | None]

    def __init__(self, name: str, args: InstanceInputs, opts: pulumi.ResourceOptions | None = None):
        outputs = ("running", "unit_enabled", "env_digest", "pending_restart", "pending_reason", "sessions")
        super().__init__(ServiceInstanceProvider(), name, resource_props(args, outputs), opts)
