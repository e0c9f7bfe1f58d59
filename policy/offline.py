"""Run the Keystone policy pack without the Pulumi CLI.

``evaluate(resources, config)`` runs every policy of ``policy.rules.POLICIES`` - the very objects
the pack registers - over resources collected from the program under mocks, and returns the
violations; ``print_violations`` prints them the way ``pulumi preview --policy-pack policy`` does
and returns the exit code (1 when any violation is mandatory).

What the runner reproduces from the engine and pulumi_policy's analyzer servicer (pulumi 3.257,
pulumi_policy 1.21), so that a rule sees here exactly what it sees under the CLI:

* props travel through a protobuf ``Struct`` (numbers become floats; keys starting with ``__``
  such as ``__provider`` are dropped), secrets arrive as plain values, unknowns as the engine's
  sentinel, and the rule gets pulumi_policy's own ``unknown_checking_proxy`` over them;
* ``args`` are real ``ResourceValidationArgs``/``StackValidationArgs`` with real
  ``PolicyResourceOptions``/``PolicyResource`` instances (parents and dependencies linked);
* resource policies see ``protect``, ``ignore_changes``, ``delete_before_replace``, ``aliases``,
  ``additional_secret_outputs`` and ``parent`` - and *not* ``retain_on_delete``, which the engine
  does not send to analyzers;
* stack policies see the same props as resource policies (the engine gives them outputs; for
  Keystone's dynamic providers the outputs are the inputs plus observed fields);
* config: schema defaults, then ``all``, then per-policy values (shallow merge), validated against
  each policy's ``config_schema``; the enforcement level comes from config, else the policy, else
  the pack; ``remediate`` counts as mandatory; ``disabled`` policies do not run;
* a rule's message is printed under the policy description, as the SDK composes it; a stack
  violation without a URN is attributed to the root stack.

Command line (the CI entry point)::

    python -m policy.offline --stack dev [--roster roster/roster.yaml] [--policy-config FILE]

collects the resources with ``tests.harness.collect.collect_resources(stack, roster_path)``
(imported only then) and exits 1 on a mandatory violation, 2 on a usage or config error.
"""
from __future__ import annotations

import argparse
import asyncio
import copy
import dataclasses
import inspect
import json
import pathlib
import sys
from collections.abc import Iterable, Mapping
from typing import Any, Optional, TextIO

from google.protobuf import json_format, struct_pb2
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY, deserialize_properties
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from policy.contract import POLICY_PACK_NAME, UNKNOWN

PACK_DIR = pathlib.Path(__file__).resolve().parent
PROJECT = "keystone"
_SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.HIGH: 1, Severity.MEDIUM: 2, Severity.LOW: 3, None: 4}
_LEVEL_RANK = {"remediate": 0, "mandatory": 1, "advisory": 2, "disabled": 3}


# ----------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ResourceRecord:
    """One resource as the program registered it (collected under ``pulumi.runtime.set_mocks``).

    ``props`` are the resource's inputs; they may be the raw mock inputs (secret values wrapped as
    ``{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": ...}``,
    unknowns as :data:`policy.contract.UNKNOWN`, ``__provider`` present): all of that is handled.
    ``unknown`` names top-level props to treat as unknown; ``secret`` names top-level props that were
    secret inputs (the engine hands secrets to policies as plain values, so this changes nothing a
    rule sees; it is kept for fidelity and for the record). ``retain_on_delete`` is recorded but,
    as in the engine, not visible to the policies.
    """

    type: str
    name: str
    urn: str = ""
    props: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    protect: bool = False
    retain_on_delete: bool = False
    parent: Optional[str] = None
    secret: frozenset[str] = frozenset()
    unknown: frozenset[str] = frozenset()
    additional_secret_outputs: tuple[str, ...] = ()
    ignore_changes: tuple[str, ...] = ()
    delete_before_replace: Optional[bool] = None
    aliases: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    custom: bool = True

    @classmethod
    def coerce(cls, value: "ResourceRecord | Mapping[str, Any]") -> "ResourceRecord":
        if isinstance(value, cls):
            return value
        if isinstance(value, Mapping):
            data = dict(value)
            for key in ("secret", "unknown"):
                if key in data:
                    data[key] = frozenset(data[key] or ())
            for key in ("additional_secret_outputs", "ignore_changes", "aliases", "dependencies"):
                if key in data:
                    data[key] = tuple(data[key] or ())
            return cls(**data)
        raise TypeError(f"expected a ResourceRecord or a mapping, got {type(value).__name__}")


@dataclasses.dataclass(frozen=True)
class Violation:
    """One policy diagnostic, as the engine would receive it."""

    policy_name: str
    description: str
    detail: str                    # what the rule reported (may be empty)
    enforcement_level: str         # "mandatory" | "advisory"
    urn: str                       # the resource's URN; "" for a stack-level violation
    severity: Optional[str] = None  # "critical" | "high" | "medium" | "low"
    policy_pack_name: str = POLICY_PACK_NAME
    policy_pack_version: str = "0.0.1"

    @property
    def message(self) -> str:
        """The message as pulumi_policy composes it: the description, then the rule's detail."""
        return f"{self.description}\n{self.detail}" if self.detail else self.description

    @property
    def mandatory(self) -> bool:
        return self.enforcement_level == "mandatory"


class ConfigError(ValueError):
    """The policy-pack config does not match the policies' config schemas."""


# ----------------------------------------------------------------------------------------------
# Config
# ----------------------------------------------------------------------------------------------

def _level(value: Any) -> Optional[EnforcementLevel]:
    if value is None or isinstance(value, EnforcementLevel):
        return value
    try:
        return EnforcementLevel(value)
    except ValueError as e:
        raise ConfigError(f"{value!r} is not a valid enforcement level") from e


def resolve_config(config: Optional[Mapping[str, Any]], policies: Iterable[Policy],
                   pack_level: EnforcementLevel = EnforcementLevel.MANDATORY,
                   ) -> tuple[dict[str, dict[str, Any]], dict[str, EnforcementLevel]]:
    """Per-policy config properties and enforcement levels, as the CLI reconciles them.

    ``config`` has the shape of ``pulumi preview --policy-pack-config FILE``:
    ``{"all": "advisory", "<policy>": "disabled" | {"enforcementLevel": ..., "<prop>": ...}}``.
    """
    policies = list(policies)
    names = {p.name for p in policies}
    props: dict[str, dict[str, Any]] = {}
    levels: dict[str, EnforcementLevel] = {}
    for p in policies:
        schema = p.config_schema.properties if p.config_schema else {}
        props[p.name] = {k: copy.deepcopy(v["default"]) for k, v in schema.items() if "default" in v}
        levels[p.name] = p.enforcement_level or pack_level
    config = dict(config or {})
    if "all" in config:
        all_value = config.pop("all")
        level = _level(all_value if isinstance(all_value, str) else dict(all_value).get("enforcementLevel"))
        if level is not None:
            levels = {k: level for k in levels}
    for name, value in config.items():
        if name not in names:
            raise ConfigError(f"policy-pack config names {name!r}, which is not a policy of {POLICY_PACK_NAME!r} "
                              f"(policies: {sorted(names)})")
        if isinstance(value, str):
            levels[name] = _level(value)  # type: ignore[assignment]
            continue
        if not isinstance(value, Mapping):
            raise ConfigError(f"config for {name!r} must be an enforcement level or an object, got {value!r}")
        value = dict(value)
        level = _level(value.pop("enforcementLevel", None))
        if level is not None:
            levels[name] = level
        props[name].update(copy.deepcopy(value))
    _validate_config(policies, props)
    return props, levels


def _validate_config(policies: list[Policy], props: dict[str, dict[str, Any]]) -> None:
    try:
        import jsonschema  # noqa: PLC0415 - optional: installed with check-jsonschema (dev requirements)
    except ImportError:  # pragma: no cover - the rules still reject bad values themselves
        return
    errors = []
    for p in policies:
        if not p.config_schema:
            continue
        schema: dict[str, Any] = {"type": "object", "properties": p.config_schema.properties}
        if p.config_schema.required:
            schema["required"] = p.config_schema.required
        for err in jsonschema.Draft7Validator(schema).iter_errors(props[p.name]):
            where = ".".join(str(x) for x in err.absolute_path)
            errors.append(f"{p.name}: {where + ': ' if where else ''}{err.message}")
    if errors:
        raise ConfigError("policy-pack config is invalid: " + "; ".join(errors))


# ----------------------------------------------------------------------------------------------
# Engine-faithful construction of the arguments
# ----------------------------------------------------------------------------------------------

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


def policy_props(record: ResourceRecord, deserialized: Optional[dict[str, Any]] = None) -> Mapping[str, Any]:
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


def resource_args(record: ResourceRecord, config: Optional[Mapping[str, Any]] = None, *,
                  deserialized: Optional[dict[str, Any]] = None) -> ResourceValidationArgs:
    return ResourceValidationArgs(record.type, policy_props(record, deserialized), record.urn, record.name,
                                  policy_options(record), None, dict(config) if config else None, {})


def stack_args(records: list[ResourceRecord], config: Optional[Mapping[str, Any]] = None, *,
               deserialized: Optional[list[dict[str, Any]]] = None) -> StackValidationArgs:
    props = deserialized if deserialized is not None else [analyzer_properties(r) for r in records]
    resources = [PolicyResource(r.type, policy_props(r, d), r.urn, r.name, policy_options(r), None, None, [], {})
                 for r, d in zip(records, props)]
    by_urn = {r.urn: r for r in resources}
    for rec, res in zip(records, resources):
        if rec.parent and rec.parent in by_urn:
            res.parent = by_urn[rec.parent]
        res.dependencies.extend(by_urn[d] for d in rec.dependencies if d in by_urn)
    return StackValidationArgs(resources, dict(config) if config else None, {})


def _run(result: Any) -> None:
    if inspect.isawaitable(result):
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(result)
        finally:
            loop.close()


def _is_not_applicable(exc: BaseException) -> bool:
    return type(exc).__name__ == "_NotApplicableError"


# ----------------------------------------------------------------------------------------------
# Evaluation
# ----------------------------------------------------------------------------------------------

def pack_version(pack_dir: pathlib.Path = PACK_DIR) -> str:
    """The version in PulumiPolicy.yaml (the CLI shows it instead of the SDK's 0.0.1)."""
    try:
        import yaml  # noqa: PLC0415

        data = yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text()) or {}
        return str(data.get("version") or "0.0.1")
    except (OSError, ImportError):
        return "0.0.1"


def evaluate(resources: list[ResourceRecord], config: Optional[dict] = None, *,
             policies: Optional[list[Policy]] = None, stack: str = "dev") -> list[Violation]:
    """Run every policy over ``resources`` and return the violations, in the order they arose.

    ``resources``: :class:`ResourceRecord` instances (or mappings with the same keys); a record
    without ``urn`` gets ``urn:pulumi:<stack>::keystone::<type>::<name>``.
    ``config``: policy-pack config, as for ``pulumi preview --policy-pack-config`` (see
    :func:`resolve_config`); raises :class:`ConfigError` when it does not match the schemas.
    """
    if policies is None:
        from policy.rules import DEFAULT_ENFORCEMENT_LEVEL, POLICIES  # noqa: PLC0415

        policies, pack_level = list(POLICIES), DEFAULT_ENFORCEMENT_LEVEL
    else:
        pack_level = EnforcementLevel.MANDATORY
    records = [ResourceRecord.coerce(r) for r in resources]
    records = [r if r.urn else dataclasses.replace(r, urn=default_urn(stack, r.type, r.name)) for r in records]
    props_by_policy, levels = resolve_config(config, policies, pack_level)
    version = pack_version()
    out: list[Violation] = []

    def reporter(policy: Policy, level: EnforcementLevel, resource_urn: Optional[str]):
        """pulumi_policy's report_violation; for a resource policy the engine files every violation
        under the analyzed resource, whatever urn the rule passes."""
        severity = policy.severity.value if policy.severity else None
        lvl = "mandatory" if level in (EnforcementLevel.MANDATORY, EnforcementLevel.REMEDIATE) else level.value

        def report_violation(message: str, urn: Optional[str] = None) -> None:
            if message and not isinstance(message, str):
                raise TypeError("Expected message to be a string")
            if urn is not None and not isinstance(urn, str):
                raise TypeError("Expected urn to be a string")
            out.append(Violation(policy.name, policy.description, message or "", lvl,
                                 resource_urn if resource_urn is not None else (urn or ""),
                                 severity, POLICY_PACK_NAME, version))
        return report_violation

    def cannot_run(policy: Policy, urn: str, e: UnknownValueError) -> None:
        # pulumi_policy's servicer: an unknown read that escapes a rule is an *advisory* note.
        out.append(Violation(policy.name, policy.description,
                             f"can't run policy '{policy.name}' from policy pack '{POLICY_PACK_NAME}@v{version}' "
                             f"during preview: {e.message}", "advisory", urn, None, POLICY_PACK_NAME, version))

    deserialized = [analyzer_properties(r) for r in records]
    for record, props in zip(records, deserialized):
        for policy in policies:
            level = levels[policy.name]
            if level == EnforcementLevel.DISABLED or not isinstance(policy, ResourceValidationPolicy):
                continue
            args = resource_args(record, props_by_policy.get(policy.name), deserialized=props)
            try:
                _run(policy.validate(args, reporter(policy, level, record.urn)))
            except UnknownValueError as e:
                cannot_run(policy, record.urn, e)
            except Exception as e:  # noqa: BLE001
                if not _is_not_applicable(e):
                    raise

    for policy in policies:
        level = levels[policy.name]
        if level == EnforcementLevel.DISABLED or not isinstance(policy, StackValidationPolicy):
            continue
        args = stack_args(records, props_by_policy.get(policy.name), deserialized=deserialized)
        try:
            _run(policy.validate(args, reporter(policy, level, None)))
        except UnknownValueError as e:
            cannot_run(policy, "", e)
        except Exception as e:  # noqa: BLE001
            if not _is_not_applicable(e):
                raise
    return out


# ----------------------------------------------------------------------------------------------
# Printing
# ----------------------------------------------------------------------------------------------

def display_type(type_: str) -> str:
    """``tokens.Type.DisplayName`` of the Pulumi CLI: ``pkg:mod/file:Name`` -> ``pkg:mod:Name`` when
    ``file`` is ``Name`` in camelCase (``authentik:index/group:Group`` -> ``authentik:index:Group``)."""
    parts = type_.split(":")
    if len(parts) != 3 or not parts[2] or "/" not in parts[1]:
        return type_
    module, _, file = parts[1].rpartition("/")
    name = parts[2]
    if file != name[:1].lower() + name[1:]:
        return type_
    return f"{parts[0]}:{module}:{name}"


def _resource_clause(urn: str) -> str:
    # urn:pulumi:<stack>::<project>::<qualified type>::<name>
    pieces = urn.split("::")
    if not urn.startswith("urn:pulumi:") or len(pieces) < 4:
        return ""
    qualified_type, name = pieces[2], "::".join(pieces[3:])
    return f"  ({display_type(qualified_type.split('$')[-1])}: {name})"


def format_violations(violations: list[Violation], *, pack_path: str = "policy", stack: str = "dev",
                      version: Optional[str] = None) -> str:
    """The ``Policies:`` section of ``pulumi preview --policy-pack <pack_path>`` (without colours)."""
    version = version or (violations[0].policy_pack_version if violations else pack_version())
    if any(v.mandatory for v in violations):
        mark = "❌"
    elif violations:
        mark = "⚠️"
    else:
        mark = "✅"
    lines = ["Policies:", f"    {mark} {POLICY_PACK_NAME}@v{version} (local: {pack_path})"]
    ordered = sorted(violations, key=lambda v: (
        _LEVEL_RANK.get(v.enforcement_level, 99),
        _SEVERITY_RANK.get(Severity(v.severity) if v.severity else None, 99),
        v.policy_name,
        v.urn or root_stack_urn(stack),
    ))
    for v in ordered:
        severity = f" [severity: {v.severity}]" if v.severity else ""
        urn = v.urn or root_stack_urn(stack)
        lines.append(f"        - [{v.enforcement_level}]{severity}  {v.policy_name}{_resource_clause(urn)}")
        for line in v.message.rstrip("\n").split("\n"):
            lines.append(f"          {line}")
    lines.append("")
    return "\n".join(lines) + "\n"


def print_violations(violations: list[Violation], file: Optional[TextIO] = None, **kwargs: Any) -> int:
    """Print the ``Policies:`` section; return 1 if any violation is mandatory, else 0."""
    (file or sys.stdout).write(format_violations(violations, **kwargs))
    return 1 if any(v.mandatory for v in violations) else 0


# ----------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------

def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m policy.offline",
        description="Evaluate the Keystone policy pack over the program's resources, collected under mocks.")
    parser.add_argument("--stack", required=True, help="stack whose settings the program is run with (dev, staging, prod)")
    parser.add_argument("--roster", default="roster/roster.yaml", help="roster file (default: %(default)s)")
    parser.add_argument("--policy-config", metavar="FILE",
                        help="policy-pack config JSON, as for `pulumi preview --policy-pack-config`")
    args = parser.parse_args(argv)

    config: dict[str, Any] = {}
    if args.policy_config:
        try:
            config = json.loads(pathlib.Path(args.policy_config).read_text())
        except (OSError, ValueError) as e:
            print(f"error: cannot read policy config {args.policy_config}: {e}", file=sys.stderr)
            return 2

    try:  # the harness runs the whole program under mocks: load it only when asked to
        from tests.harness.collect import collect_resources  # noqa: PLC0415
    except ImportError as e:
        print(f"error: cannot load tests.harness.collect.collect_resources ({e}); run from the repository root "
              "with the project's virtualenv", file=sys.stderr)
        return 2

    resources = list(collect_resources(args.stack, args.roster))
    try:
        violations = evaluate(resources, config, stack=args.stack)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    code = print_violations(violations, stack=args.stack)
    mandatory = sum(v.mandatory for v in violations)
    print(f"policy.offline: {len(resources)} resources, {mandatory} mandatory and "
          f"{len(violations) - mandatory} advisory violation(s) (stack {args.stack})", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
