"""Drive Keystone's dynamic providers through the real dynamic-provider gRPC host.

The Pulumi engine runs the dynamic-provider host (Keystone's launcher: ``python -m engine.provider_host``,
the SDK's ``pulumi.dynamic`` with messages instead of tracebacks) and talks to it over gRPC with the SDK's
protobuf messages; this module does the same, so a provider test exercises exactly the code path
of ``pulumi up``: serialization of inputs and outputs, pickling of the provider by reference,
``Configure`` with stack config, and the 4-thread executor.
"""
from __future__ import annotations

import asyncio
import os
import pathlib
import subprocess
import sys
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

import grpc
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import ResourceProvider, serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from providers.base import PROVIDER_KEY

PROJECT_ROOT = pathlib.Path(__file__).resolve().parents[2]


def _serialize(props: dict[str, Any]) -> struct_pb2.Struct:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()


def _deserialize(struct: struct_pb2.Struct) -> dict[str, Any]:
    return {k: rpc.unwrap_rpc_secret(v) for k, v in rpc.deserialize_properties(struct, True).items()}


@dataclass
class Diff:
    changes: bool | None
    replaces: list[str]
    delete_before_replace: bool


class ProviderError(RuntimeError):
    """A CRUD call failed inside the provider host; ``details`` is what the engine would show."""

    def __init__(self, method: str, details: str):
        self.method = method
        self.details = details
        super().__init__(f"{method}: {details}")


class DynamicProviderHost:
    """One ``python -m engine.provider_host`` process, as the engine launches it."""

    def __init__(self, config: dict[str, Any] | None = None, env: dict[str, str] | None = None):
        environ = dict(os.environ)
        environ["PYTHONPATH"] = os.pathsep.join([str(PROJECT_ROOT), environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        environ["PULUMI_PROJECT"] = "keystone"
        environ.update(env or {})
        self.process = subprocess.Popen(
            [sys.executable, "-u", "-m", "engine.provider_host"], stdout=subprocess.PIPE, env=environ, cwd=PROJECT_ROOT
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().decode().strip()
        if not line.isdigit():
            self.process.kill()
            raise RuntimeError(f"dynamic provider host did not print its port (got {line!r})")
        self.port = int(line)
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)
        self.stub.Configure(provider_pb2.ConfigureRequest(args=_serialize(dict(config or {}))))

    def close(self) -> None:
        self.channel.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def __enter__(self) -> DynamicProviderHost:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _call(self, method: str, request):
        try:
            return getattr(self.stub, method)(request)
        except grpc.RpcError as e:  # the engine shows exactly this text to the admin
            raise ProviderError(method, e.details() or str(e)) from None

    # --- the engine's calls -------------------------------------------------------------------
    def resource(self, provider: ResourceProvider, urn: str = "urn:pulumi:test::keystone::x::r") -> ResourceClient:
        return ResourceClient(self, serialize_provider(provider), urn)


class ResourceClient:
    """The engine's view of one dynamic resource: inputs in, id and outputs out."""

    def __init__(self, host: DynamicProviderHost, provider_blob: str, urn: str):
        self.host = host
        self.blob = provider_blob
        self.urn = urn

    def _with_provider(self, props: dict[str, Any]) -> dict[str, Any]:
        return {**props, PROVIDER_KEY: self.blob}

    @staticmethod
    def _strip(props: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in props.items() if k != PROVIDER_KEY}

    def check(self, news: dict[str, Any], olds: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        resp = self.host._call("Check", provider_pb2.CheckRequest(
            urn=self.urn, olds=_serialize(self._with_provider(olds or {})) if olds else struct_pb2.Struct(),
            news=_serialize(self._with_provider(news))))
        return self._strip(_deserialize(resp.inputs)), [(f.property, f.reason) for f in resp.failures]

    def create(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        resp = self.host._call("Create", provider_pb2.CreateRequest(urn=self.urn, properties=_serialize(self._with_provider(inputs))))
        return resp.id, self._strip(_deserialize(resp.properties))

    def read(self, id_: str, state: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
        resp = self.host._call("Read", provider_pb2.ReadRequest(id=id_, urn=self.urn, properties=_serialize(self._with_provider(state))))
        inputs = self._strip(_deserialize(resp.inputs)) if resp.HasField("inputs") else None
        return resp.id, self._strip(_deserialize(resp.properties)), inputs

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> Diff:
        resp = self.host._call("Diff", provider_pb2.DiffRequest(
            id=id_, urn=self.urn, olds=_serialize(self._with_provider(olds)), news=_serialize(self._with_provider(news))))
        changes = {provider_pb2.DiffResponse.DIFF_SOME: True, provider_pb2.DiffResponse.DIFF_NONE: False}.get(resp.changes)
        return Diff(changes, list(resp.replaces), resp.deleteBeforeReplace)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        resp = self.host._call("Update", provider_pb2.UpdateRequest(
            id=id_, urn=self.urn, olds=_serialize(self._with_provider(olds)), news=_serialize(self._with_provider(news))))
        return self._strip(_deserialize(resp.properties))

    def delete(self, id_: str, state: dict[str, Any]) -> None:
        self.host._call("Delete", provider_pb2.DeleteRequest(id=id_, urn=self.urn, properties=_serialize(self._with_provider(state))))

    # --- what `pulumi up` does for one resource ----------------------------------------------
    def step(self, news: dict[str, Any], prior: tuple[str, dict[str, Any]] | None = None,
             deleted: Callable[[], None] | None = None) -> tuple[str, str, dict[str, Any]]:
        """Check, then create (no prior state) or diff + update/replace, like the engine's step generator:
        returns the operation (create | same | update | replace), the id and the outputs.  ``deleted`` is
        called once a delete-before-replace has deleted the old resource (the engine drops it from state
        then, so a failing create leaves nothing behind)."""
        # As the engine: Check gets the old *inputs* (a dynamic resource's outputs carry its inputs, so
        # they are the outputs under the input keys); a Diff that answers "unknown" makes the engine
        # compare old and new inputs itself.
        old_inputs = {k: v for k, v in prior[1].items() if k in news} if prior else None
        inputs, failures = self.check(news, old_inputs)
        if failures:
            raise ProviderError("Check", "; ".join(f"{p}: {r}" for p, r in failures))
        if prior is None:
            return ("create", *self.create(inputs))
        id_, state = prior
        d = self.diff(id_, state, inputs)
        if d.changes is None:
            d = Diff(old_inputs != {k: v for k, v in inputs.items() if k != PROVIDER_KEY}, d.replaces,
                     d.delete_before_replace)
        if not d.changes:
            return "same", id_, state
        if d.replaces:
            if d.delete_before_replace:
                self.delete(id_, state)
                if deleted is not None:
                    deleted()
                return ("replace", *self.create(inputs))
            new = self.create(inputs)
            self.delete(id_, state)
            return ("replace", *new)
        return "update", id_, self.update(id_, state, inputs)

    def up(self, news: dict[str, Any], prior: tuple[str, dict[str, Any]] | None = None) -> tuple[str, dict[str, Any]]:
        """``step`` without the operation: the id and the outputs."""
        _op, id_, outs = self.step(news, prior)
        return id_, outs
