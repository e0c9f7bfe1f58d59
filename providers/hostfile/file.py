"""``host:ManagedFile`` — one file on one host.  Resource id: ``<host>:<path>``.

* create/update: read what is at the path (as the owner for files in a home), plan, write, read back
  — the read-back shares the round trip with the write;
* read (refresh): the file as it is: a changed content or mode shows as drift (a seeded file is
  never drift: the person may change it; its outputs say ``diverged``); a root-owned file is read in
  the host's one gather (``providers.hostcache``), a file in a home as its owner;
* delete: a plain file is removed (``systemctl daemon-reload`` after a unit file); a seeded file
  stays — it belongs to the person.
"""
from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import ReadResult, Resource

from providers.base import PlannedProvider, resource_props
from providers.hostfile.plan import FileInputs, observed, parse_read, plan_file, read_command, read_paths
from providers.hostcache import CACHE
from providers.hoststate import root_file_scope
from providers.host import HostError
from providers.transport import for_host


def file_id(inputs: FileInputs) -> str:
    return f"{inputs.host.name}:{inputs.path}"


def _read(desired: FileInputs):
    _, reads = for_host(desired.host).exchange([], [read_command(desired)])
    return parse_read(reads[0].stdout, read_paths(desired), desired.host.name)


def _refresh_read(desired: FileInputs):
    """A refresh's read: a root-owned file is served from the host's one gather (``providers.hostcache``:
    every root file the host's base declares, the budget drop-ins, the accounts and the home tree); a
    file in a home is read as its owner, and a seeded one with its seed copy, on its own."""
    if desired.as_owner or desired.seed:
        return _read(desired)
    return CACHE.get(desired.host, root_file_scope(desired.path)).files


class ManagedFileProvider(PlannedProvider):
    Inputs = FileInputs
    IDENTITY = ("host", "path")

    def _apply(self, desired: FileInputs, ensure: str = "present") -> dict[str, Any]:
        before = _read(desired)
        commands = plan_file(desired, before, ensure)
        after = before
        if commands:
            with CACHE.writing(desired.host):
                _, reads = for_host(desired.host).exchange(commands, [read_command(desired)])
            after = parse_read(reads[0].stdout, read_paths(desired), desired.host.name)
            remaining = plan_file(desired, after, ensure)
            if remaining:
                raise HostError(desired.host.name, f"host {desired.host.name}: {desired.path} did not converge; "
                                f"still to do: {'; '.join(c.display() for c in remaining)}")
        return {**desired.model_dump(mode="json"), **observed(desired, after)}

    def resource_id(self, inputs: FileInputs) -> str:
        return file_id(inputs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        desired = self.inputs(props)
        state = _refresh_read(desired)
        outs = {**desired.model_dump(mode="json"), **observed(desired, state)}
        inputs = {k: v for k, v in outs.items() if k in FileInputs.model_fields}
        st = state.get(desired.path)
        if not desired.seed:
            if st is None or not st.present:
                return ReadResult(None, {})
            if st.digest != desired.digest:
                inputs["content"] = f"(changed on the host: sha256 {st.digest})"
            if st.mode and st.mode != desired.mode:
                inputs["mode"] = st.mode
        outs.update(inputs)  # the engine diffs the next program against the outputs
        return ReadResult(id_, outs, inputs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        self._apply(self.inputs(props), ensure="absent")


class ManagedFile(Resource, module="host", name="ManagedFile"):
    """A file on one host (``pulumi-python:dynamic/host:ManagedFile``)."""

    digest: pulumi.Output[str]
    diverged: pulumi.Output[bool]
    backup: pulumi.Output[str]

    def __init__(self, name: str, args: FileInputs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(ManagedFileProvider(), name, resource_props(args, ("digest", "kind", "diverged", "backup")),
                         opts)
