"""``zfs:Dataset`` — a person's home dataset on one host.  Resource id: ``<host>/<dataset>``.

* create: checks pool and parent, ``zfs create`` with the roster's properties, chown the mountpoint;
  an existing dataset is adopted when it is a filesystem whose mountpoint is root's or the owner's,
  refused otherwise;
* update: ``zfs set`` only for values that differ (inherited values that already hold stay inherited);
* ``ensure: archived`` (a purge): snapshot, rename under the archive parent, readonly;
  ``ensure: destroyed`` only where the stack allows it;
* delete: nothing — removing a person never destroys data (the component also sets retain_on_delete).
"""
from __future__ import annotations

import time
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult

from providers.base import KeystoneProvider
from providers.hoststate import CACHE, Scope, parse_host_state, read_commands
from providers.transport import HostError, for_host
from providers.zfs.plan import DatasetInputs, observed_properties, plan_dataset


def dataset_id(d: DatasetInputs) -> str:
    return f"{d.host.name}/{d.dataset}"


def _scope(d: DatasetInputs) -> Scope:
    return Scope(users=(), datasets=(d.pool, d.parent, d.dataset))


class ZfsDatasetProvider(KeystoneProvider):
    Inputs = DatasetInputs
    IDENTITY = ("host", "dataset")

    def _apply(self, d: DatasetInputs) -> dict[str, Any]:
        transport = for_host(d.host)
        before = parse_host_state(transport.run_batch(read_commands(_scope(d)), stop_on_error=False))
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        commands = plan_dataset(d, before, d.host.name, stamp)
        archived_as = None
        if commands:
            CACHE.invalidate(d.host)
            results = transport.run_batch(commands + read_commands(_scope(d)))
            after = parse_host_state(results[len(commands):])
            if d.ensure == "archived":
                archived_as = commands[2].argv[-1]
        else:
            after = before
        if d.ensure == "present":
            leftover = plan_dataset(d, after, d.host.name, stamp)
            if leftover:
                raise HostError(d.host.name, f"host {d.host.name}: {d.dataset} did not converge; still to do: "
                                             f"{'; '.join(c.display() for c in leftover)}")
        return {**d.model_dump(mode="json"), "observed": observed_properties(after, d.dataset),
                "mountpoint": (after.datasets.get(d.dataset).value("mountpoint")
                               if d.dataset in after.datasets else None),
                "archived_as": archived_as}

    def create(self, props: dict[str, Any]) -> CreateResult:
        d = self.inputs(props)
        return CreateResult(dataset_id(d), self._apply(d))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        d = self.inputs(news)
        outs = self._apply(d)
        if outs["archived_as"] is None and d.ensure == "archived":
            outs["archived_as"] = olds.get("archived_as")
        return UpdateResult(outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        d = self.inputs(props)
        if d.ensure != "present":
            return ReadResult(id_, props, {k: v for k, v in props.items() if k in DatasetInputs.model_fields})
        state = CACHE.get(d.host, Scope(users=(), zfs_roots=(d.parent,)))
        observed = observed_properties(state, d.dataset)
        if observed is None:
            return ReadResult(None, {})
        owner = state.owners.get(d.dataset)
        inputs = {k: v for k, v in props.items() if k in DatasetInputs.model_fields}
        inputs["properties"] = {**inputs.get("properties", {}), **_drifted(d, observed)}
        if owner is not None:
            inputs["owner_uid"], inputs["owner_gid"] = owner[0], owner[1]
            inputs["mode"] = "0" + owner[2] if len(owner[2]) == 3 else owner[2]
        outs = {**props, **inputs, "observed": observed}
        return ReadResult(id_, outs, inputs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        # Retained: data is never destroyed by removing a resource.  Purges go through ensure.
        return None


def _drifted(d: DatasetInputs, observed: dict[str, str]) -> dict[str, str]:
    """Observed values that differ in meaning from the desired ones (so equal spellings stay put)."""
    from providers.zfs.facts import normalize

    want = d.properties.model_dump()
    return {p: v for p, v in observed.items() if normalize(p, v) != normalize(p, want[p])}


class ZfsDataset(Resource, module="zfs", name="Dataset"):
    """A home dataset (``pulumi-python:dynamic/zfs:Dataset``)."""

    def __init__(self, name: str, args: DatasetInputs, opts: pulumi.ResourceOptions | None = None):
        props = {**args.model_dump(mode="json"), "observed": None, "mountpoint": None, "archived_as": None}
        super().__init__(ZfsDatasetProvider(), name, props, opts)
