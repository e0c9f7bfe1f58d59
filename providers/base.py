"""What every Keystone dynamic provider shares: typed inputs, a diff that ignores ``__provider``,
identity fields that force a replacement, and errors that carry their detail to the engine.

A provider subclass declares:

* ``Inputs``: a pydantic model of its inputs (``extra="forbid"``); ``check`` validates with it and
  reports every failure at once, naming the property;
* ``IDENTITY``: the input fields that name the object (changing one means a different object:
  replace, deleting the old one first where the names collide);
* ``create``/``read``/``update``/``delete`` built from pure plan/parse functions and the transport.

Provider instances hold no connections or clients (they are pickled into state); those live in
module-level caches (``providers.transport.for_host``).
"""
from __future__ import annotations

import dataclasses
from typing import Any, ClassVar
from collections.abc import Mapping

import pydantic
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ResourceProvider, UpdateResult
from pulumi.output import Unknown
from pulumi.runtime import rpc

from providers import journal

PROVIDER_KEY = "__provider"


def strip_internal(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if not k.startswith("__")}


#: What the engine sends for a value not known yet in a preview (an unresolved output).
UNKNOWN = rpc.UNKNOWN


def is_unknown(value: Any) -> bool:
    """A value not known yet (a preview with unresolved outputs), anywhere inside ``value``.  The one
    test of unknowns for every provider."""
    if isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN):
        return True
    if isinstance(value, dict):
        return any(is_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(is_unknown(v) for v in value)
    return False


def unknown_keys(props: dict[str, Any]) -> set[str]:
    """The inputs of ``props`` holding an unknown value (at any depth)."""
    return {k for k, v in strip_internal(props).items() if is_unknown(v)}


def resource_props(args: Any, outputs: tuple[str, ...] = ()) -> dict[str, Any]:
    """The props a dynamic resource registers: its inputs, and each of ``outputs`` as None (so the
    engine knows it as an output and the resource class can declare it as an attribute).

    The one way every Keystone resource class builds them, whatever its ``args`` are: a pydantic
    inputs model (dumped as JSON: what ``check`` validates again), a dataclass of ``pulumi.Input``
    values (kept as they are, so outputs of other resources resolve), or a mapping whose values may
    be pydantic models (each dumped)."""
    if isinstance(args, pydantic.BaseModel):
        props = args.model_dump(mode="json")
    elif dataclasses.is_dataclass(args) and not isinstance(args, type):
        props = {f.name: getattr(args, f.name) for f in dataclasses.fields(args)}
    elif isinstance(args, Mapping):
        props = {k: (v.model_dump(mode="json") if isinstance(v, pydantic.BaseModel) else v) for k, v in args.items()}
    else:
        raise TypeError(f"resource args must be a pydantic model, a dataclass or a mapping, not {type(args).__name__}")
    return {**dict.fromkeys(outputs), **props}


def check_failures(model: type[pydantic.BaseModel], news: dict[str, Any]) -> tuple[dict[str, Any], list[CheckFailure]]:
    """Validate ``news`` with ``model``; return the normalized inputs or one failure per bad field."""
    try:
        parsed = model.model_validate(strip_internal(news))
    except pydantic.ValidationError as e:
        failures = []
        for err in e.errors():
            prop = ".".join(str(p) for p in err["loc"]) or "(inputs)"
            failures.append(CheckFailure(prop, f"{err['msg']} (got {err.get('input')!r:.80})"))
        return strip_internal(news), failures
    return parsed.model_dump(mode="json"), []


class KeystoneProvider(ResourceProvider):
    Inputs: ClassVar[type[pydantic.BaseModel]]
    IDENTITY: ClassVar[tuple[str, ...]] = ()
    DELETE_BEFORE_REPLACE: ClassVar[bool] = True
    OUTPUTS: ClassVar[tuple[str, ...]] = ()

    # No instance attributes: the SDK pickles each provider instance into its resource's
    # ``__provider``, and pickling an instance's attributes goes through a pickler hook that the
    # SDK (3.260) wraps once more on every resource, so a few thousand resources overflow the stack.

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every create/update/delete a subclass defines runs with a journal entry open
        (``providers.journal``): its first write to each host is logged there."""
        super().__init_subclass__(**kwargs)
        for op in ("create", "update", "delete"):
            fn = cls.__dict__.get(op)
            if fn is not None and not getattr(fn, "__keystone_journaled__", False):
                setattr(cls, op, journal.journaled(op, fn))

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Every failure at once.  In a preview with values not known yet, what is known is checked
        now (a bad uid is reported before ``up``) and the inputs pass through as given; the unknown
        ones, and rules that span fields, are checked when the values are known.  The ``OUTPUTS``
        (observed fields the resource class declares, registered as inputs by ``resource_props``)
        are not inputs: they are dropped first."""
        news = {k: v for k, v in news.items() if k not in self.OUTPUTS}
        unknown = unknown_keys(news)
        inputs, failures = check_failures(self.Inputs, news)
        if not unknown:
            return CheckResult(inputs, failures)
        known = set(self.Inputs.model_fields) - unknown
        return CheckResult(strip_internal(news), [f for f in failures if f.property.split(".")[0] in known])

    def inputs(self, props: dict[str, Any]) -> pydantic.BaseModel:
        """Typed inputs from state or checked inputs (outputs carry the inputs plus observed fields)."""
        fields = self.Inputs.model_fields
        return self.Inputs.model_validate({k: v for k, v in props.items() if k in fields})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        fields = self.Inputs.model_fields
        old_given = {k: v for k, v in olds.items() if k in fields}
        new_given = {k: v for k, v in strip_internal(news).items() if k in fields}
        old = self.Inputs.model_validate(old_given)
        unknown = unknown_keys(new_given)
        if unknown:
            return self._preview_diff(old, old_given, new_given, unknown)
        new = self.Inputs.model_validate(new_given)
        o, n = old.model_dump(mode="json"), new.model_dump(mode="json")
        changed = sorted(k for k in fields if o.get(k) != n.get(k))
        replaces = self._replaces(old, new)
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=[k for k in self.IDENTITY if k not in changed],
            delete_before_replace=bool(replaces) and self.DELETE_BEFORE_REPLACE,
        )

    def _preview_diff(self, old: pydantic.BaseModel, old_given: dict[str, Any], new_given: dict[str, Any],
                      unknown: set[str]) -> DiffResult:
        """A preview with values not known yet: something changes.  An identity field that is unknown
        is a replacement; so is one whose known value makes another object (``_replaces`` on the
        validated inputs, the old values standing in for the unknown ones)."""
        known = {k: v for k, v in new_given.items() if k not in unknown}
        try:
            replaces = self._replaces(old, self.Inputs.model_validate({**old_given, **known}))
        except pydantic.ValidationError:  # an old value that no longer fits the rest: compare as given
            dumped = old.model_dump(mode="json")
            replaces = [k for k in self.IDENTITY if k in known and dumped.get(k) != known[k]]
        replaces = [k for k in self.IDENTITY if k in unknown] + [k for k in replaces if k not in unknown]
        return DiffResult(changes=True, replaces=replaces,
                          stables=[k for k in self.IDENTITY if k not in replaces],
                          delete_before_replace=bool(replaces) and self.DELETE_BEFORE_REPLACE)

    def _replaces(self, old: pydantic.BaseModel, new: pydantic.BaseModel) -> list[str]:
        """The inputs whose change makes this another object: the ``IDENTITY`` fields that differ (a
        host is the same host when its name is: a new address or port is an update)."""
        replaces = []
        for k in self.IDENTITY:
            a, b = getattr(old, k), getattr(new, k)
            if a != b and not (k == "host" and getattr(a, "name", a) == getattr(b, "name", b)):
                replaces.append(k)
        return replaces


class PlannedProvider(KeystoneProvider):
    """The CRUD shape of a resource planned against a host's state (accounts, datasets, delegations,
    files, workstation instances and workspaces).

    A subclass gives ``resource_id`` and ``_apply`` (read, plan, write and read back, refuse what did
    not converge; returns the outputs) and may give ``_create_new``: the common case of a create in
    one round trip, returning None when the host holds something already (then ``_apply`` adopts or
    refuses it).  ``create`` is ``_create_new`` or else ``_apply``; ``update`` is ``_apply`` of the
    new inputs.  ``read`` and ``delete`` are the subclass's own.
    """

    def resource_id(self, inputs: Any) -> str:
        raise NotImplementedError

    def _apply(self, inputs: Any) -> dict[str, Any]:
        raise NotImplementedError

    def _create_new(self, inputs: Any) -> dict[str, Any] | None:
        return None

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = self.inputs(props)
        outs = self._create_new(inputs)
        return CreateResult(self.resource_id(inputs), outs if outs is not None else self._apply(inputs))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._apply(self.inputs(news)))
