"""``workstation:Workspace`` — a git clone in a person's home, made as the person, only if absent.
Resource id: ``<host>/<user>:<path>``.

Whatever is at the path is the person's: it is never pulled, reset or removed (delete keeps it).
Read reports whether the path holds a git work tree (``present``); an absent workspace of an active
person is drift, and the next ``up`` clones it again.
"""
from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import ReadResult, Resource
from pydantic import BaseModel, ConfigDict, Field

from providers.base import PlannedProvider, resource_props
from providers.scripts import script
from providers.host import Command, HostTarget
from providers.transport import for_host

CLONE = script(__file__, "clone.sh")


class WorkspaceInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: HostTarget
    user: str
    uid: int = Field(ge=1000)
    home: str
    path: str = Field(description="Under the home.")
    repository: str
    branch: str = "main"

    @property
    def dest(self) -> str:
        return f"{self.home.rstrip('/')}/{self.path}"


def _as(w: WorkspaceInputs, *argv: str, check: bool = True) -> Command:
    return Command.of("setpriv", f"--reuid={w.uid}", f"--regid={w.uid}", "--clear-groups", "--", *argv, check=check)


def clone_command(w: WorkspaceInputs) -> Command:
    return _as(w, "sh", "-c", CLONE, "keystone-clone", w.home.rstrip("/"), w.path, w.repository, w.branch)


def probe_command(w: WorkspaceInputs) -> Command:
    return _as(w, "test", "-d", f"{w.dest}/.git", check=False)


class WorkspaceProvider(PlannedProvider):
    Inputs = WorkspaceInputs
    IDENTITY = ("host", "user", "path")

    def _apply(self, w: WorkspaceInputs) -> dict[str, Any]:
        (result,) = for_host(w.host).run_batch([clone_command(w)])
        return {**w.model_dump(mode="json"), "cloned": result.stdout.strip() == "cloned", "present": True}

    def resource_id(self, inputs: WorkspaceInputs) -> str:
        return f"{inputs.host.name}/{inputs.user}:{inputs.path}"

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        w = self.inputs(props)
        _, (probe,) = for_host(w.host).exchange([], [probe_command(w)])
        if not probe.ok:
            return ReadResult(None, {})
        outs = {**w.model_dump(mode="json"), "cloned": bool(props.get("cloned")), "present": True}
        return ReadResult(id_, outs, {k: v for k, v in outs.items() if k in WorkspaceInputs.model_fields})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None  # the person's work stays


class Workspace(Resource, module="workstation", name="Workspace"):
    """A person's git workspace on one host (``pulumi-python:dynamic/workstation:Workspace``)."""

    def __init__(self, name: str, args: WorkspaceInputs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(WorkspaceProvider(), name, resource_props(args, ("cloned", "present")), opts)
