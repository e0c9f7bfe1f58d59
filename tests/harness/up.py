"""``pulumi up`` without the CLI: the program's own graph, applied to real systems.

``Engine`` runs the program under mocks (``program.mocks``) whose ``new_resource`` hands
each dynamic resource to the real dynamic-provider gRPC host, as the engine would: check, then
create (new) or diff → update / replace (known); resources the program no longer registers are
deleted afterwards, dependents first, except those with ``retain_on_delete``.  Other resources
(Kubernetes, Authentik) are recorded only.  State persists between ``up`` calls on the instance.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pulumi

from program.stack import ProgramInputs
from program.mocks import ProgramRun, RecordingMocks, run_program, unwrap
from tests.harness.provider_host import PROVIDER_KEY, DynamicProviderHost, ResourceClient

DYNAMIC = "pulumi-python:dynamic/"


@dataclass
class Entry:
    type: str
    id: str
    outs: dict[str, Any]
    blob: str
    retain_on_delete: bool = False


@dataclass
class Step:
    name: str
    op: str  # create | update | replace | same | delete


@dataclass
class Engine:
    host: DynamicProviderHost
    authentik_users: dict[str, int] = field(default_factory=dict)
    state: dict[str, Entry] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # creation order, for dependents-first deletes
    steps: list[Step] = field(default_factory=list)
    stack_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def up(self, inputs: ProgramInputs) -> ProgramRun:
        self.steps = []
        lock = threading.Condition()
        registered: set[str] = set()
        in_flight = [0]  # provider calls running: a failed run ends once they have, as the engine's does

        def forward(args: pulumi.runtime.MockResourceArgs):
            if not args.typ.startswith(DYNAMIC):
                return f"{args.name}-id", dict(args.inputs)
            news = unwrap(dict(args.inputs))
            blob = news.pop(PROVIDER_KEY)
            client = ResourceClient(self.host, blob, f"urn:pulumi:{inputs.stack}::keystone::{args.typ}::{args.name}")
            prior = self.state.get(args.name)
            with lock:
                in_flight[0] += 1
            try:
                op, id_, outs = client.step(news, (prior.id, prior.outs) if prior else None)
            finally:
                with lock:
                    in_flight[0] -= 1
                    lock.notify_all()
            with lock:
                registered.add(args.name)
                self.steps.append(Step(args.name, op))
                self.state[args.name] = Entry(args.typ, id_, outs, blob)
                if args.name not in self.order:
                    self.order.append(args.name)
            return id_, outs

        mocks = RecordingMocks(stack_outputs=self.stack_outputs, authentik_users=self.authentik_users,
                               forward=forward)
        try:
            run = run_program(inputs, mocks)
        finally:  # the first failure ends the program; steps already sent to the provider finish
            with lock:
                lock.wait_for(lambda: in_flight[0] == 0, timeout=300)
        for r in run.mocks.resources:
            if r.name in self.state:
                self.state[r.name].retain_on_delete = bool(r.options.get("retain_on_delete"))
        for name in reversed(list(self.order)):
            if name in registered:
                continue
            entry = self.state.pop(name)
            self.order.remove(name)
            if not entry.retain_on_delete:
                ResourceClient(self.host, entry.blob, name).delete(entry.id, entry.outs)
            self.steps.append(Step(name, "delete" if not entry.retain_on_delete else "retain"))
        if run.outputs:
            self.stack_outputs[inputs.stack] = run.outputs
        return run

    def ops(self, op: str) -> set[str]:
        return {s.name for s in self.steps if s.op == op}
