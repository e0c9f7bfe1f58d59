"""``zfs:Dataset`` — a person's home dataset on one host.  Resource id: ``<host>/<dataset>``.

* create: checks pool and parent, ``zfs create`` with the roster's properties, chown the mountpoint;
  an existing dataset is adopted when it is a filesystem whose mountpoint is root's or the owner's,
  refused otherwise.  The common case takes one round trip: ``zfs create`` itself is the check (it
  writes nothing when the dataset exists or the parent is missing; then read, plan, and adopt or
  refuse as above);
* update: ``zfs set`` only for values that differ (inherited values that already hold stay inherited),
  planned from the host's one gather and written with the other changes to the host that arrive
  meanwhile (``providers.hostcache``): nothing is written for a dataset that already matches;
* ``ensure: archived`` (a purge): snapshot, rename under the archive parent, readonly;
  ``ensure: destroyed`` only where the stack allows it;
* delete: nothing — removing a person never destroys data (the component also sets retain_on_delete).
"""
from __future__ import annotations

import time
from typing import Any

import pulumi
from pulumi.dynamic import ReadResult, Resource, UpdateResult

from providers.base import PlannedProvider, resource_props
from providers.hoststate import HostState, Scope, gather_scope
from providers.hostcache import CACHE, read_host_state, write_and_read
from providers.host import CommandError, HostError
from providers.transport import for_host
from providers.zfs.plan import DatasetInputs, chown_new_mountpoint, create_command, observed_properties, plan_dataset


def dataset_id(d: DatasetInputs) -> str:
    return f"{d.host.name}/{d.dataset}"


def _scope(d: DatasetInputs) -> Scope:
    """What planning needs: the pool, the parent, the dataset (one ``zfs get``, one ``stat``)."""
    return Scope(users=(), datasets=(d.pool, d.parent, d.dataset))


def _plan_scope(d: DatasetInputs) -> Scope:
    """What planning a present dataset reads, from the host's gather (``CACHE``) shared by every
    change to the host in the process: the pool and the tree of homes (one ``zfs get`` for all)."""
    return Scope(users=(), datasets=(d.pool,), zfs_roots=(d.parent,))


def _after(d: DatasetInputs) -> Scope:
    """What the read-back after a write needs: the dataset itself."""
    return Scope(users=(), datasets=(d.dataset,))


class ZfsDatasetProvider(PlannedProvider):
    Inputs = DatasetInputs
    IDENTITY = ("host", "dataset")

    def resource_id(self, inputs: DatasetInputs) -> str:
        return dataset_id(inputs)

    def _apply(self, d: DatasetInputs) -> dict[str, Any]:
        """Plan from the host's gather (a present dataset; one read for every change to the host, each
        write's read-back kept in it), a fresh read for a purge; write and read back (batched)."""
        if d.ensure == "present":
            before = CACHE.get(d.host, _plan_scope(d))
        else:
            before = read_host_state(for_host(d.host), _scope(d))
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        commands = plan_dataset(d, before, d.host.name, stamp)
        archived_as = None
        if commands:
            _, after = write_and_read(d.host, commands, _after(d))
            if d.ensure == "archived":
                archived_as = commands[2].argv[-1]
        else:
            after = before
        return self._outputs(d, after, stamp, archived_as)

    def _outputs(self, d: DatasetInputs, after: HostState, stamp: str, archived_as: str | None) -> dict[str, Any]:
        if d.ensure == "present":
            leftover = plan_dataset(d, after, d.host.name, stamp)
            if leftover:
                raise HostError(d.host.name, f"host {d.host.name}: {d.dataset} did not converge; still to do: "
                                             f"{'; '.join(c.display() for c in leftover)}")
        return {**d.model_dump(mode="json"), "observed": observed_properties(after, d.dataset),
                "mountpoint": (after.datasets.get(d.dataset).value("mountpoint")
                               if d.dataset in after.datasets else None),
                "archived_as": archived_as}

    def _create_new(self, d: DatasetInputs) -> dict[str, Any] | None:
        """The common case in one round trip: ``zfs create`` (which fails, writing nothing, when the
        dataset exists or the parent is missing), chown the new mount point, read back.  None when
        ``zfs create`` failed: the caller then reads and plans as usual (adoption or a clear error)."""
        if d.ensure != "present":
            return None
        create, chown = create_command(d), chown_new_mountpoint(d)
        try:
            _, after = write_and_read(d.host, [create, chown], _after(d))
        except CommandError as e:
            if e.command == create:
                return None
            raise
        return self._outputs(d, after, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()), None)

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
        state = CACHE.get(d.host, gather_scope(roots=(d.parent,)))  # one gather per host, shared
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
        # outputs add observed, mountpoint, archived_as (not declared: nothing reads them as attributes)
        super().__init__(ZfsDatasetProvider(), name, resource_props(args), opts)
