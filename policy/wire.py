"""What the engine and pulumi_policy's analyzer servicer (pulumi 3.260, pulumi_policy 1.21) make of
a resource before a rule sees it, so that a rule sees offline exactly what it sees under the CLI:

* props travel through a protobuf ``Struct`` (numbers become floats; keys starting with ``__``
  such as ``__provider`` are dropped), secrets arrive as plain values, unknowns as the engine's
  sentinel, and the rule gets pulumi_policy's own ``unknown_checking_proxy`` over them;
* ``args`` are real ``ResourceValidationArgs``/``StackValidationArgs`` with real
  ``PolicyResourceOptions``/``PolicyResource`` instances (parents and dependencies linked);
* resource policies see ``protect``, ``ignore_changes``, ``delete_before_replace``, ``aliases``,
  ``additional_secret_outputs`` and ``parent`` - and *not* ``retain_on_delete``, which the engine
  does not send to analyzers;
* stack policies see the same props as resource policies (the engine gives them outputs; for
  Keystone's dynamic providers the outputs are the inputs plus observed fields).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY, deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy

from policy.contract import UNKNOWN
from policy.records import ResourceRecord

PROJECT = "keystone"


def default_urn(stack: str, type_: str, name: str) -> str:
    return f"urn:pulumi:{stack}::{PROJECT}::{type_}::{name}"


def root_stack_urn(stack: str) -> str:
    return f"urn:pulumi:{stack}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{stack}"


def _jsonable(value: Any) -> Any:
    if type(value).__name__ == "Unknown" and hasattr(value, "path"):  # policy.rules._support.Unknown
        return UNKNOWN
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    return value


def wire_properties(record: ResourceRecord) -> dict[str, Any]:
    """The record's props as the engine marshals them for an analyzer: internal keys dropped, unknown
    props replaced by the sentinel, secret props wrapped with the secret signature."""
    props = {k: v for k, v in _jsonable(record.props).items() if not k.startswith("__")}
    for key in record.unknown:
        props[key] = UNKNOWN
    for key in record.secret:
        value = props.get(key)
        if key in props and not (isinstance(value, dict) and SPECIAL_SIG_KEY in value):
            props[key] = {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": value}
    return props


def to_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(props)
    return struct


def analyzer_properties(record: ResourceRecord) -> dict[str, Any]:
    """The record's props as the analyzer deserializes them: Struct -> dict -> deserialize (numbers
    are floats, secrets unwrapped, unknowns still sentinels)."""
    return deserialize_properties(json_format.MessageToDict(to_struct(wire_properties(record))))


def policy_props(record: ResourceRecord, deserialized: dict[str, Any] | None = None) -> Mapping[str, Any]:
    """What ``args.props`` is in the analyzer: a fresh unknown-checking proxy (it copies every
    container, so a rule writing into it cannot affect another rule)."""
    return unknown_checking_proxy(deserialized if deserialized is not None else analyzer_properties(record))


def policy_options(record: ResourceRecord) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=bool(record.protect),
        ignore_changes=list(record.ignore_changes),
        delete_before_replace=record.delete_before_replace,
        aliases=list(record.aliases),
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=list(record.additional_secret_outputs),
        parent=record.parent or None,
    )


def resource_args(record: ResourceRecord, config: Mapping[str, Any] | None = None, *,
                  deserialized: dict[str, Any] | None = None) -> ResourceValidationArgs:
    return ResourceValidationArgs(record.type, policy_props(record, deserialized), record.urn, record.name,
                                  policy_options(record), None, dict(config) if config else None, {})


def stack_args(records: list[ResourceRecord], config: Mapping[str, Any] | None = None, *,
               deserialized: list[dict[str, Any]] | None = None) -> StackValidationArgs:
    props = deserialized if deserialized is not None else [analyzer_properties(r) for r in records]
    resources = [PolicyResource(r.type, policy_props(r, d), r.urn, r.name, policy_options(r), None, None, [], {})
                 for r, d in zip(records, props)]
    by_urn = {r.urn: r for r in resources}
    for rec, res in zip(records, resources):
        if rec.parent and rec.parent in by_urn:
            res.parent = by_urn[rec.parent]
        res.dependencies.extend(by_urn[d] for d in rec.dependencies if d in by_urn)
    return StackValidationArgs(resources, dict(config) if config else None, {})
