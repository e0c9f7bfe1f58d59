"""The policy-pack config as the CLI reconciles it (``--policy-pack-config FILE``): schema defaults,
then ``all``, then per-policy values (shallow merge), validated against each policy's
``config_schema``; the enforcement level comes from config, else the policy, else the pack.

The schema check is never skipped: ``jsonschema`` is a runtime requirement, and without it every
config (even an empty one) is a :class:`ConfigError` that says so.
"""
from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Policy

from policy.contract import POLICY_PACK_NAME

try:
    import jsonschema
except ImportError:  # reported by every resolve_config call, never skipped
    jsonschema = None


class ConfigError(ValueError):
    """The policy-pack config does not match the policies' config schemas."""


def _level(value: Any) -> EnforcementLevel | None:
    if value is None or isinstance(value, EnforcementLevel):
        return value
    try:
        return EnforcementLevel(value)
    except ValueError as e:
        raise ConfigError(f"{value!r} is not a valid enforcement level") from e


def resolve_config(config: Mapping[str, Any] | None, policies: Iterable[Policy],
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
    if jsonschema is None:
        raise ConfigError("cannot check the policy-pack config: the jsonschema package is missing "
                          "(pip install -r requirements.txt)")
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
