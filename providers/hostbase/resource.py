"""``host:Base`` — the host base of one host (``providers/hostbase/plan.py``).  Resource id: ``<host>``.

* check: the inputs, and — when packages were added to the list — the host's apt: an added package
  apt does not know although its lists are current fails the preview, naming the host and where the
  package is declared (an unchanged list is not read: such a preview touches no host);
* create/update: gather, plan, run and gather again (the second gather shares the commands' round
  trip), refuse what did not converge; the host's declaration (``declaration.py``: what one gather
  must read to answer every resource of the host) is written when it differs;
* read (refresh), from the host's one gather (``providers.hostcache``): the inputs as the host shows
  them (packages not installed left out, kubelogin or the timer marked missing), so the next
  preview shows what `up` would do — a declaration missing or out of date too (``declaration``);
  outputs: the snapshot ages and the backups' lag of every home, the people whose newest snapshot is
  older than the bound;
* delete: the backup timer is stopped and disabled, the declaration removed; packages, snapshots and
  backups stay.
"""
from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, ReadResult, Resource, UpdateResult

from providers.base import PlannedProvider, resource_props, unknown_keys
from providers.host import Command, HostError
from providers.hostbase.declaration import PATH as DECLARATION_PATH
from providers.hostbase import facet as base_facet
from providers.hostbase.facts import BaseFacts, parse_gather
from providers.hostbase.plan import (
    STALE, BaseInputs, BaseRefused, as_found, declaration, observe, plan_base, plan_declaration, plan_delete,
    unknown_packages, update_command,
)
from providers.hostcache import CACHE
from providers.hostfile import facet as files_facet
from providers.hostfile.plan import PathState, parse_read
from providers.hoststate import base_scope
from providers.transport import for_host

OUTPUTS = ("declared", "installed", "dropped", "missing", "swap_kib", "kubelogin_present", "timer_running", "homes", "stale")


def gather_args(desired: BaseInputs, ours: list[str] | None = None) -> tuple[str, ...]:
    """The base gather's arguments: the listed packages and those Keystone installed before (``ours``)."""
    b = desired.backup
    packages = list(dict.fromkeys([*desired.packages, *(ours or [])]))
    return (desired.kubelogin or "-", desired.timer or "-", b.home_parent if b else "-", b.backup_parent if b else "-",
            *packages)


def gather_command(desired: BaseInputs, ours: list[str] | None = None) -> Command:
    return base_facet.gather_command(gather_args(desired, ours))


def _gather(desired: BaseInputs, commands: list[Command] | None = None,
            ours: list[str] | None = None) -> tuple[BaseFacts, dict[str, PathState]]:
    """The base's facts and the state of its declaration (after ``commands``, in their round trip)."""
    transport = for_host(desired.host)
    reads = [gather_command(desired, ours), files_facet.read_command([DECLARATION_PATH])]
    if commands:
        with CACHE.writing(desired.host):
            _, results = transport.exchange(commands, reads)
    else:
        _, results = transport.exchange([], reads)
    return (parse_gather(results[0].stdout, desired.host.name),
            parse_read(results[1].stdout, [DECLARATION_PATH], desired.host.name))


def declared(desired: BaseInputs) -> dict[str, Any]:
    """What a refresh may mark as missing in the inputs, as declared."""
    return {"kubelogin": desired.kubelogin, "timer": desired.timer, "swap": desired.swap}


class BaseProvider(PlannedProvider):
    Inputs = BaseInputs
    IDENTITY = ("host",)

    def resource_id(self, inputs: BaseInputs) -> str:
        return inputs.host.name

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        result = super().check(olds, news)
        if result.failures or unknown_keys(news):
            return result
        desired = self.inputs(result.inputs)
        added = set(desired.packages) - set((olds or {}).get("packages") or [])
        if not added:  # a preview of an unchanged list touches no host
            return result
        try:
            unknown = [p for p in unknown_packages(desired, _gather(desired)[0]) if p in added]
        except HostError as e:
            return CheckResult(result.inputs, [CheckFailure("host", str(e))])
        if unknown:
            return CheckResult(result.inputs, [CheckFailure("packages", (
                f"host {desired.host.name}: no such package in the host's apt sources (its lists are current): "
                f"{', '.join(desired.where(p) for p in unknown)}"))])
        return result

    def _apply(self, desired: BaseInputs, installed_before: list[str] | None = None) -> dict[str, Any]:
        facts, files = _gather(desired, ours=installed_before)
        try:
            planned = plan_base(desired, facts, installed_before or [])
        except BaseRefused as e:
            raise HostError(desired.host.name, str(e)) from None
        commands = planned.commands + plan_declaration(desired, planned.installed, files)
        if commands:
            facts, files = _gather(desired, commands, installed_before)
            again = plan_base(desired, facts, planned.installed)
            left = [c for c in again.commands if c != update_command()]
            left += plan_declaration(desired, planned.installed, files)
            if left:
                raise HostError(desired.host.name, f"host {desired.host.name}: the base did not converge; still to do: "
                                f"{'; '.join(c.display() for c in left)}")
        return {**desired.model_dump(mode="json"), "declared": declared(desired), "installed": planned.installed,
                "dropped": planned.dropped, **observe(desired, facts)}

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._apply(self.inputs(news), list(olds.get("installed") or [])))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        # a refresh marks a missing kubelogin or timer in the inputs; the host is asked about the
        # declared ones (kept in the outputs), never about the marks
        desired = self.inputs({**props, **(props.get("declared") or {})})
        ours = list(props.get("installed") or [])
        state = CACHE.get(desired.host, base_scope(gather_args(desired, ours)))  # the host's one gather
        facts = state.base
        if facts is None:
            raise HostError(desired.host.name, f"host {desired.host.name}: the base gather gave no facts")
        installed = [p for p in props.get("installed") or [] if p in facts.installed]
        outs = {**props, **observe(desired, facts), "installed": installed,
                "dropped": [p for p in installed if p not in desired.packages]}
        inputs = as_found(desired, facts)
        if state.declaration != declaration(desired, ours):  # none yet, or another base's: `up` writes it
            inputs["declaration"] = STALE
        outs.update(inputs)
        return ReadResult(id_, outs, inputs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        desired = self.inputs(props)
        facts, files = _gather(desired)
        commands = plan_delete(desired, facts) + plan_declaration(desired, [], files, ensure="absent")
        if commands:
            _gather(desired, commands)


class HostBase(Resource, module="host", name="Base"):
    """The host base of one host (``pulumi-python:dynamic/host:Base``)."""

    declared: pulumi.Output[dict]
    installed: pulumi.Output[list]
    dropped: pulumi.Output[list]
    missing: pulumi.Output[list]
    swap_kib: pulumi.Output[int]
    kubelogin_present: pulumi.Output[bool]
    timer_running: pulumi.Output[bool]
    homes: pulumi.Output[dict]
    stale: pulumi.Output[list]

    def __init__(self, name: str, args: BaseInputs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(BaseProvider(), name, resource_props(args, OUTPUTS), opts)
