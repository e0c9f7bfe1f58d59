"""Load stack settings from Pulumi config, with errors that name ``Pulumi.<stack>.yaml:line:col``."""
from __future__ import annotations

import pathlib
from typing import Any, Iterable

import pydantic
import yaml

from .model import StackSettings, duplicate_host_names

NAMESPACE = "keystone"


class SettingsError(Exception):
    def __init__(self, issues: Iterable[str]):
        self.issues = list(issues)
        super().__init__("invalid stack settings:\n" + "\n".join(f"  {i}" for i in self.issues))


def _key_marks(path: pathlib.Path) -> dict[tuple, tuple[int, int]]:
    """(key, sub-key, index, ...) -> (line, col) for every node of a stack file."""
    marks: dict[tuple, tuple[int, int]] = {}
    try:
        root = yaml.compose(path.read_text())
    except (OSError, yaml.YAMLError):
        return marks

    def walk(node, prefix: tuple) -> None:
        marks[prefix] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = (k.value,)
                marks[prefix + key] = (k.start_mark.line + 1, k.start_mark.column + 1)
                walk(v, prefix + key)
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                walk(v, prefix + (i,))

    if root is not None:
        walk(root, ())
    return marks


def settings_from_config(values: dict[str, Any], source: pathlib.Path | None = None) -> StackSettings:
    """``values`` maps config keys without the namespace (``hosts``, ``minUid`` ...) to values."""
    marks = _key_marks(source) if source and source.exists() else {}
    try:
        return StackSettings.model_validate(values)
    except pydantic.ValidationError as e:
        issues = []
        hosts = values.get("hosts")
        if isinstance(hosts, list):  # the model's own check does not run when a host is invalid
            dup = duplicate_host_names([h.get("name") for h in hosts if isinstance(h, dict)])
            line = marks.get(("config", f"{NAMESPACE}:hosts"))
            if dup and not any("must be unique" in str(err["msg"]) for err in e.errors()):
                where = (source.name if source else "stack config") + (":%d:%d" % line if line else "")
                issues.append(f"{where}: {NAMESPACE}:hosts: host names must be unique: {', '.join(dup)}")
        for err in e.errors():
            loc = tuple(err["loc"])
            where = source.name if source else "stack config"
            full = ("config", f"{NAMESPACE}:{loc[0]}", *loc[1:]) if loc else ("config",)
            while full and full not in marks:
                full = full[:-1]
            if full in marks:
                where += ":%d:%d" % marks[full]
            field = f"{NAMESPACE}:" + ".".join(str(p) for p in loc) if loc else NAMESPACE
            issues.append(f"{where}: {field}: {err['msg']}")
        raise SettingsError(issues) from None


def load_settings(stack_file: str | pathlib.Path) -> StackSettings:
    """Read ``Pulumi.<stack>.yaml`` directly (for tools and tests that run without the CLI)."""
    path = pathlib.Path(stack_file)
    data = yaml.safe_load(path.read_text()) or {}
    config = data.get("config") or {}
    values = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith(NAMESPACE + ":")}
    secrets = [k for k, v in values.items() if isinstance(v, dict) and set(v) == {"secure"}]
    for k in secrets:
        values.pop(k)
    return settings_from_config(values, path)
