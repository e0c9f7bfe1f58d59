"""Keystone as the engine drives it: the real ``python -m pulumi.dynamic`` gRPC host (4 worker threads),
every independent step in flight at once, each dependent step as soon as its dependencies are done
(per person: dataset → account → delegation, as components/workstation_user.py orders them).

Each phase is a new provider process, as each ``pulumi`` command starts one:

* ``create``: Check of every resource, then the create chains;
* ``preview``: Check + Diff of every resource against its state — must touch no host (0 round trips);
* ``refresh``: Read of every resource, then a check that the refreshed state diffs clean;
* ``change``: every person's quota doubled: Check + Diff of every resource, Update of what changed.

Round trips are counted from ``KEYSTONE_TRANSPORT_LOG`` (one JSON line per round trip, written by the
provider process's transport); peak memory is the provider process's VmHWM.
"""
from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bench.people import Person
from providers.accounts.account import OsAccountProvider
from providers.zfs.dataset import ZfsDatasetProvider
from providers.zfs.delegation import ZfsDelegationProvider
from tests.harness.provider_host import DynamicProviderHost

KINDS = ("dataset", "account", "delegation")  # dependency order per person


@dataclass
class Resource:
    person: str
    kind: str
    id: str = ""
    outs: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Phase:
    name: str
    seconds: float
    round_trips: int
    commands: int
    vm_hwm_kb: int
    detail: dict[str, Any] = field(default_factory=dict)


def _provider(kind: str):
    return {"dataset": ZfsDatasetProvider, "account": OsAccountProvider, "delegation": ZfsDelegationProvider}[kind]()


def _inputs(p: Person, kind: str, host: dict) -> dict:
    return {"dataset": p.dataset_inputs, "account": p.account_inputs, "delegation": p.delegation_inputs}[kind](host)


def vm_hwm_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def count_round_trips(log: str, pid: int) -> tuple[int, int]:
    trips = commands = 0
    if os.path.exists(log):
        with open(log) as fh:
            for line in fh:
                rec = json.loads(line)
                if rec["pid"] == pid:
                    trips += 1
                    commands += rec["commands"]
    return trips, commands


class KeystoneContender:
    def __init__(self, target_fields: dict, workdir: str, workers: int | None = None):
        self.host = dict(target_fields)
        self.workdir = workdir
        self.log = os.path.join(workdir, "keystone-round-trips.jsonl")
        self.env = {"KEYSTONE_TRANSPORT_LOG": self.log}
        self.workers = workers
        self.state: dict[tuple[str, str], Resource] = {}

    def _phase(self, name: str, body) -> Phase:
        with DynamicProviderHost(env=self.env) as ph:
            started = time.perf_counter()
            detail = body(ph) or {}
            seconds = time.perf_counter() - started
            hwm = vm_hwm_kb(ph.pid)
            trips, commands = count_round_trips(self.log, ph.pid)
        return Phase(name, seconds, trips, commands, hwm, detail)

    def _pool(self, n: int) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=self.workers or max(4, n))

    def create(self, people: list[Person]) -> Phase:
        def body(ph: DynamicProviderHost):
            clients = {(p.username, k): ph.resource(_provider(k), urn=f"urn:pulumi:bench::keystone::{k}::{p.username}")
                       for p in people for k in KINDS}
            checked: dict[tuple[str, str], dict] = {}

            def check(p: Person, kind: str):
                inputs, failures = clients[(p.username, kind)].check(_inputs(p, kind, self.host))
                if failures:
                    raise RuntimeError(f"Check {kind} {p.username}: {failures}")
                checked[(p.username, kind)] = inputs

            def chain(p: Person):
                for kind in KINDS:
                    id_, outs = clients[(p.username, kind)].create(checked[(p.username, kind)])
                    self.state[(p.username, kind)] = Resource(p.username, kind, id_, outs, checked[(p.username, kind)])

            with self._pool(3 * len(people)) as pool:
                list(pool.map(lambda pk: check(*pk), [(p, k) for p in people for k in KINDS]))
            with self._pool(len(people)) as pool:
                list(pool.map(chain, people))
            return {"resources": len(self.state)}

        return self._phase("create", body)

    def preview(self, people: list[Person]) -> Phase:
        """`pulumi preview` of an unchanged roster: Check + Diff only."""
        def body(ph: DynamicProviderHost):
            changed = []

            def one(p: Person, kind: str):
                r = self.state[(p.username, kind)]
                c = ph.resource(_provider(kind))
                inputs, _ = c.check(_inputs(p, kind, self.host), r.outs)
                if c.diff(r.id, r.outs, inputs).changes:
                    changed.append((p.username, kind))

            with self._pool(3 * len(people)) as pool:
                list(pool.map(lambda pk: one(*pk), [(p, k) for p in people for k in KINDS]))
            return {"changed": len(changed)}

        return self._phase("preview", body)

    def refresh(self, people: list[Person]) -> Phase:
        """`pulumi refresh`: Read of every resource (all in flight), then the refreshed state must diff clean."""
        reads: dict[tuple[str, str], tuple[str, dict, dict | None]] = {}

        def body(ph: DynamicProviderHost):
            def one(key):
                r = self.state[key]
                reads[key] = ph.resource(_provider(key[1])).read(r.id, r.outs)

            with self._pool(3 * len(people)) as pool:
                list(pool.map(one, list(self.state)))
            return {}

        phase = self._phase("refresh", body)
        # Not timed: the refreshed state must be what Keystone wrote (pure Diff calls).
        drift = []
        with DynamicProviderHost(env=self.env) as ph:
            for key, (id_, outs, _) in reads.items():
                r = self.state[key]
                if id_ != r.id or ph.resource(_provider(key[1])).diff(id_, outs, r.inputs).changes:
                    drift.append("/".join(key))
        phase.detail = {"drift": drift}
        return phase

    def change(self, people: list[Person]) -> Phase:
        """`pulumi up` after every quota changed: Check + Diff of every resource, Update where it differs."""
        def body(ph: DynamicProviderHost):
            updated = []

            def chain(p: Person):
                for kind in KINDS:
                    r = self.state[(p.username, kind)]
                    c = ph.resource(_provider(kind))
                    inputs, failures = c.check(_inputs(p, kind, self.host), r.outs)
                    if failures:
                        raise RuntimeError(f"Check {kind} {p.username}: {failures}")
                    d = c.diff(r.id, r.outs, inputs)
                    if d.replaces:
                        raise RuntimeError(f"unexpected replacement of {kind} {p.username}: {d.replaces}")
                    if d.changes:
                        r.outs = c.update(r.id, r.outs, inputs)
                        r.inputs = inputs
                        updated.append((p.username, kind))

            with self._pool(len(people)) as pool:
                list(pool.map(chain, people))
            return {"updated": len(updated)}

        return self._phase("change", body)
