"""Load stack settings from Pulumi config, with errors that name ``Pulumi.<stack>.yaml:line:col``.

Every problem is reported at once, one line each, in the roster's form::

    Pulumi.dev.yaml:9:13: keystone:hosts.0.user: invalid user name 'ro ot': ' ' is not allowed (lower-case ...)

The key path uses the file's camelCase names (list items by index).  Nothing here ever lets a
pydantic traceback, a pydantic documentation URL or a secret reach the admin: an unexpected
failure of a check becomes one line naming the setting (``_unexpected``).
"""
from __future__ import annotations

import difflib
import pathlib
import re
from typing import Any, Iterable

import pydantic
import yaml

from .model import ERROR_TYPE, StackSettings, duplicate_host_names

NAMESPACE = "keystone"
SECRET_KEYS = ("authentikToken", "zerotierToken")
"""Keys that hold secrets: only ever ``pulumi config set --secret`` (a ``secure:`` value in the file)."""
PROVIDER_KEYS = {"zerotierTimeout": (float, 0.1, 600, "seconds to wait for the ZeroTier API"),
                 "zerotierRetries": (int, 0, 20, "retries of a failed ZeroTier call")}
"""Keys the ZeroTier provider reads from stack config itself (``providers/zerotier/member.py``): checked here too."""


def _provider_key_problem(key: str, value: Any) -> str | None:
    kind, low, high, what = PROVIDER_KEYS[key]
    try:
        if isinstance(value, bool):
            raise ValueError
        n = kind(value)
    except (TypeError, ValueError, OverflowError):
        return f"expected a number, got {_show(value)} ({what}, from {low} to {high})"
    if not low <= n <= high:
        return f"must be from {low} to {high}, got {_show(value)} ({what})"
    return None


class SettingsError(Exception):
    def __init__(self, issues: Iterable[str]):
        self.issues = list(issues)
        super().__init__("invalid stack settings:\n" + "\n".join(f"  {i}" for i in self.issues))


Marks = dict[tuple, tuple[int, int]]


def _compose(path: pathlib.Path) -> tuple[yaml.Node | None, list[str]]:
    """The stack file's node tree, or None and why it cannot be read."""
    try:
        return yaml.compose(path.read_text(encoding="utf-8")), []
    except OSError as e:
        return None, [f"{path.name}: cannot read the stack file: {e.strerror or e}"]
    except UnicodeDecodeError as e:
        return None, [f"{path.name}: the stack file is not valid UTF-8 (byte {e.start})"]
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"{path.name}:{mark.line + 1}:{mark.column + 1}" if mark else path.name
        return None, [f"{where}: YAML syntax error: {e.problem or e.context}"]
    except yaml.YAMLError as e:
        return None, [f"{path.name}: YAML error: {str(e).splitlines()[0] if str(e) else type(e).__name__}"]


def _walk(root: yaml.Node | None, name: str) -> tuple[Marks, list[str]]:
    """(key, sub-key, index, ...) -> (line, col) for every node, and the duplicate keys found
    (PyYAML would silently keep the last one; Pulumi's own reader refuses them)."""
    marks: Marks = {}
    duplicates: list[str] = []

    def walk(node, prefix: tuple) -> None:
        marks[prefix] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for k, v in node.value:
                if not isinstance(k, yaml.ScalarNode):
                    continue
                line = k.start_mark.line + 1
                if k.value in seen:
                    field = ".".join(str(p) for p in prefix[1:] + (k.value,)) or k.value
                    duplicates.append(f"{name}:{line}:{k.start_mark.column + 1}: {field}: duplicate key "
                                      f"(first on line {seen[k.value]}; only one would count)")
                    continue
                seen[k.value] = line
                key = (k.value,)
                marks[prefix + key] = (line, k.start_mark.column + 1)
                walk(v, prefix + key)
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                walk(v, prefix + (i,))

    if root is not None:
        walk(root, ())
    return marks, duplicates


def _field_name(loc: tuple) -> str:
    return f"{NAMESPACE}:" + ".".join(str(p) for p in loc) if loc else NAMESPACE


def _where(source: pathlib.Path | None, marks: Marks, loc: tuple) -> str:
    where = source.name if source else "stack config"
    full = ("config", f"{NAMESPACE}:{loc[0]}", *loc[1:]) if loc else ("config",)
    while full and full not in marks:
        full = full[:-1]
    if full in marks:
        where += ":%d:%d" % marks[full]
    return where


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 62 else text[:62] + "..."


def _model_at(loc: tuple) -> type[pydantic.BaseModel] | None:
    """The settings model of the mapping at ``loc`` (to suggest a key for a typo)."""
    model: Any = StackSettings
    for element in loc:
        if isinstance(element, int):
            continue
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == element or n == element), None)
        if field is None:
            return None
        inner = field.annotation
        for _ in range(3):  # list[X] | None -> X
            args = [a for a in getattr(inner, "__args__", ()) if a is not type(None)]
            if isinstance(inner, type) and issubclass(inner, pydantic.BaseModel) or not args:
                break
            inner = args[0]
        if not (isinstance(inner, type) and issubclass(inner, pydantic.BaseModel)):
            return None
        model = inner
    return model


def _keys_of(model: type[pydantic.BaseModel] | None) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()] if model else []


def _describe(err: dict[str, Any]) -> tuple[str, str | None]:
    """Message and hint of one pydantic error, in the admin's terms (no pydantic jargon, no URL)."""
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    loc = tuple(err["loc"])
    if kind == ERROR_TYPE:
        return err["msg"], ctx.get("hint")
    if kind == "missing":
        return f"required key {loc[-1]!r} is missing", f"add `{loc[-1]}:`"
    if kind == "extra_forbidden":
        known = _keys_of(_model_at(loc[:-1]))
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else (f"known keys: {', '.join(known)}" if known else None)
        return f"unknown key {str(loc[-1])!r}", hint
    if kind == "literal_error":
        return f"{err['msg']}, got {_show(value)}", None
    if kind in ("int_type", "int_parsing", "int_from_float"):
        quoted = isinstance(value, str) and value.strip().lstrip("-").isdigit()
        return f"expected a whole number, got {_show(value)}", "write the number without quotes" if quoted else None
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {_show(value)}", None
    if kind in ("string_type",):
        return f"expected a string, got {_show(value)}", "put the value in quotes"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = {"greater_than_equal": "at least {ge}", "less_than_equal": "at most {le}",
                 "greater_than": "more than {gt}", "less_than": "less than {lt}"}[kind].format(**ctx)
        return f"must be {bound}, got {_show(value)}", None
    if kind == "list_type":
        return f"expected a list, got {_show(value)}", "write a YAML list: one `- item` per line"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected a mapping of keys, got {_show(value)}", "indent the keys under this one"
    message = re.sub(r"^(Value|Assertion) error, ", "", err["msg"])
    return message, None


def _issues(e: pydantic.ValidationError, values: dict[str, Any], source, marks: Marks) -> list[str]:
    issues = []
    hosts = values.get("hosts")
    if isinstance(hosts, list):  # the model's own check does not run when a host is invalid
        dup = duplicate_host_names([h.get("name") for h in hosts if isinstance(h, dict)])
        if dup and not any("must be unique" in str(err["msg"]) for err in e.errors()):
            issues.append(f"{_where(source, marks, ('hosts',))}: {NAMESPACE}:hosts: host names must be unique: "
                          f"{', '.join(dup)} (each host once, under its own name)")
    for err in e.errors(include_url=False):
        loc = tuple(err["loc"])
        message, hint = _describe(err)
        issues.append(f"{_where(source, marks, loc)}: {_field_name(loc)}: {message}" + (f" ({hint})" if hint else ""))
    return issues


def _unexpected(values: dict[str, Any], source, marks: Marks, context: dict[str, Any]) -> list[str]:
    """A check that failed in an unexpected way: validate key by key to name the setting, and say so
    in one line (never a traceback)."""
    issues = []
    for key in values:
        try:
            StackSettings.model_validate({key: values[key]}, context=context)
        except pydantic.ValidationError:
            continue  # reported with the others
        except Exception as e:  # noqa: BLE001  (whatever it is, the admin gets one line)
            issues.append(f"{_where(source, marks, (key,))}: {_field_name((key,))}: this value cannot be checked "
                          f"({type(e).__name__}); correct it or report it as a Keystone bug")
    return issues or [f"{source.name if source else 'stack config'}: {NAMESPACE}: the settings cannot be checked; "
                      "report it as a Keystone bug"]


def _file_problems(values: dict[str, Any], source: pathlib.Path, root: yaml.Node | None, marks: Marks) -> list[str]:
    """What only the file shows: plain-text secrets and ``keystone:`` keys the program does not read."""
    issues = []
    if root is None or not isinstance(root, yaml.MappingNode):
        return issues
    config = next((v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "config"), None)
    if not isinstance(config, yaml.MappingNode):
        return issues
    known = set(_keys_of(StackSettings))
    for k, v in config.value:
        if not isinstance(k, yaml.ScalarNode) or not k.value.startswith(NAMESPACE + ":"):
            continue
        key = k.value.split(":", 1)[1]
        where = f"{source.name}:{k.start_mark.line + 1}:{k.start_mark.column + 1}"
        if key in SECRET_KEYS:
            secure = isinstance(v, yaml.MappingNode) and [x.value for x, _ in v.value] == ["secure"]
            if not secure:  # never echo the value
                issues.append(f"{where}: {NAMESPACE}:{key}: a secret in plain text in the stack file "
                              f"(remove it and run `pulumi config set --secret {NAMESPACE}:{key} ...`)")
        elif key in PROVIDER_KEYS:
            if key not in values and isinstance(v, yaml.ScalarNode):
                problem = _provider_key_problem(key, v.value)
                if problem:
                    issues.append(f"{source.name}:{v.start_mark.line + 1}:{v.start_mark.column + 1}: "
                                  f"{NAMESPACE}:{key}: {problem}")
        elif key not in known and key not in values:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            issues.append(f"{where}: {NAMESPACE}:{key}: unknown key "
                          f"({f'did you mean {close[0]!r}?' if close else 'known keys: ' + ', '.join(sorted(known))})")
    return issues


def settings_from_config(values: dict[str, Any], source: pathlib.Path | None = None) -> StackSettings:
    """``values`` maps config keys without the namespace (``hosts``, ``minUid`` ...) to values.

    ``source`` is the stack file (``Pulumi.<stack>.yaml``): it gives the line of every problem, the
    stack's name, and the keys the program does not pass in (unknown keys, plain-text secrets).
    Raises ``SettingsError`` listing every problem.
    """
    values = dict(values)
    root, unreadable = _compose(source) if source and source.exists() else (None, [])
    marks, duplicates = _walk(root, source.name) if source else ({}, [])
    stack = source.name[len("Pulumi."):-len(".yaml")] if source and re.fullmatch(r"Pulumi\..+\.yaml", source.name) else None
    context = {"stack": stack}
    issues = unreadable + duplicates + (_file_problems(values, source, root, marks) if source else [])
    for key in PROVIDER_KEYS:
        if key in values:
            problem = _provider_key_problem(key, values.pop(key))
            if problem:
                issues.append(f"{_where(source, marks, (key,))}: {NAMESPACE}:{key}: {problem}")
    values = {k: v for k, v in values.items() if k not in SECRET_KEYS}
    settings = None
    try:
        settings = StackSettings.model_validate(values, context=context)
    except pydantic.ValidationError as e:
        issues += _issues(e, values, source, marks)
    except Exception:  # noqa: BLE001
        issues += _unexpected(values, source, marks, context)
    if issues:
        raise SettingsError(sorted(dict.fromkeys(issues), key=_position))
    return settings


def _position(issue: str) -> tuple[int, int]:
    m = re.match(r"^[^:]*:(\d+):(\d+): ", issue)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def load_settings(stack_file: str | pathlib.Path) -> StackSettings:
    """Read ``Pulumi.<stack>.yaml`` directly (for tools and tests that run without the CLI)."""
    path = pathlib.Path(stack_file)
    root, unreadable = _compose(path)
    if unreadable:
        raise SettingsError(unreadable)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:  # composed, but not constructible (e.g. a bad timestamp)
        raise SettingsError([f"{path.name}: YAML error: {str(e).splitlines()[0]}"]) from None
    config = data.get("config") if isinstance(data, dict) else None
    if not isinstance(config, dict):
        raise SettingsError([f"{path.name}:1:1: the stack file needs a `config:` mapping"]
                            if config is None or not isinstance(data, dict) else
                            [f"{path.name}: `config:` must be a mapping of keys"])
    values = {str(k).split(":", 1)[1]: v for k, v in config.items() if str(k).startswith(NAMESPACE + ":")}
    values = {k: v for k, v in values.items() if not (isinstance(v, dict) and set(v) == {"secure"})}
    return settings_from_config(values, path)
