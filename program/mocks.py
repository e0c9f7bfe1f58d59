"""Run the whole Keystone program under ``pulumi.runtime.set_mocks`` and record what it registers
(the offline policy run, ``policy/collect.py``, the program tests and the bench use it).

``RecordingMocks`` answers the engine's calls (stack references), stands in for Authentik's user
directory (``MapDirectory``: the program looks users up before registering anything) and records
every resource with its type, name, inputs and options; ``forward`` (optional) hands each resource
to something else — the e2e harness uses it to apply dynamic resources to the real guest.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable, Iterable

import pulumi

from program.stack import ProgramInputs, build

SECRET_SIG = "4dabf18193072939515e22adb298388d"


def unwrap(value: Any) -> Any:
    """Mock inputs carry secrets as ``{sig: SECRET_SIG, value: ...}``; return plain values."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG) == "1b47061264138c4ac30d75fd1eb44270":
            return unwrap(value.get("value"))
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def secret_keys(inputs: dict[str, Any]) -> frozenset[str]:
    return frozenset(k for k, v in inputs.items()
                     if isinstance(v, dict) and v.get(SECRET_SIG) == "1b47061264138c4ac30d75fd1eb44270")


@dataclass
class Registration:
    type: str
    name: str
    inputs: dict[str, Any]
    secret: frozenset[str] = frozenset()
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class MapDirectory:
    """Authentik's users and the gate group's members as maps (the program's ``Directory``)."""

    users: dict[str, int]
    group_members: dict[int, str] | None = None
    asked: list[str] = field(default_factory=list)

    def user_pks(self, usernames: Iterable[str]) -> dict[str, int | None]:
        names = list(usernames)
        self.asked += names
        return {u: self.users.get(u) for u in names}

    def members(self, group: str) -> dict[int, str] | None:
        return self.group_members


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self, stack_outputs: dict[str, dict[str, Any]] | None = None,
                 authentik_users: dict[str, int] | None = None,
                 forward: Callable[[pulumi.runtime.MockResourceArgs], tuple[str, dict]] | None = None,
                 authentik_members: dict[int, str] | None = None):
        self.stack_outputs = stack_outputs or {}
        self.directory = MapDirectory(dict(authentik_users or {}), authentik_members)
        self.forward = forward
        self.resources: list[Registration] = []
        self.calls: list[tuple[str, dict]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        if args.typ == "pulumi:pulumi:StackReference":
            name = args.inputs["name"]
            return name, {"name": name, "outputs": self.stack_outputs.get(name.split("/")[-1], {})}
        self.resources.append(Registration(args.typ, args.name, unwrap(dict(args.inputs)), secret_keys(args.inputs)))
        if self.forward is not None:
            return self.forward(args)
        if args.typ.endswith("/authentik:Group"):  # the group's uuid, which each membership names
            return f"{args.name}-id", {**args.inputs, "pk": f"{args.name}-uuid"}
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs):
        self.calls.append((args.token, dict(args.args)))
        return {}


@dataclass
class ProgramRun:
    mocks: RecordingMocks
    outputs: dict[str, Any] | None

    def of_type(self, suffix: str) -> list[Registration]:
        return [r for r in self.mocks.resources if r.type.endswith(suffix)]

    def named(self, name: str) -> Registration:
        matches = [r for r in self.mocks.resources if r.name == name]
        assert len(matches) == 1, f"{name}: {len(matches)} registrations"
        return matches[0]


def run_program(inputs: ProgramInputs, mocks: RecordingMocks, preview: bool = False) -> ProgramRun:
    pulumi.runtime.set_mocks(mocks, project="keystone", stack=inputs.stack, preview=preview)
    if inputs.authentik_directory is None:
        inputs = dataclasses.replace(inputs, authentik_directory=mocks.directory)
    options: dict[tuple[str, str], dict[str, Any]] = {}

    def capture(args: pulumi.ResourceTransformationArgs):
        o = args.opts
        options[(args.type_, args.name)] = {
            "protect": bool(o.protect), "retain_on_delete": bool(o.retain_on_delete),
            "delete_before_replace": o.delete_before_replace,
            "replace_on_changes": list(o.replace_on_changes or []),
            "additional_secret_outputs": list(o.additional_secret_outputs or []),
            "parent": getattr(o.parent, "_name", None),
        }
        return None

    pulumi.runtime.register_stack_transformation(capture)
    result: dict[str, Any] = {}

    @pulumi.runtime.test
    def program():
        return build(inputs).apply(lambda out: result.update(out))

    program()
    for r in mocks.resources:
        r.options = options.get((r.type, r.name), {})
    return ProgramRun(mocks, result or None)
