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
from typing import Any
from collections.abc import Iterable

import pydantic
import marked_issues
import marked_yaml
from marked_issues import Issue

from .model import StackSettings, duplicate_host_names

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
    """The settings are invalid: ``found`` holds every ``Issue``, in the file's order; ``issues`` the
    same as the lines the admin reads."""

    def __init__(self, found: Iterable[Issue]):
        self.found = list(found)
        self.issues = [str(i) for i in self.found]
        super().__init__("invalid stack settings:\n" + "\n".join(f"  {i}" for i in self.issues))


def _read(path: pathlib.Path) -> tuple[marked_yaml.Document | None, list[Issue]]:
    """The stack file read with the position of every key, or None and why it cannot be read.
    Duplicate keys and unreadable values are problems at their line (the data still returned)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        return None, [Issue(path.name, 0, 0, (), f"cannot read the stack file: {e.strerror or e}")]
    except UnicodeDecodeError as e:
        return None, [Issue(path.name, 0, 0, (), f"the stack file is not valid UTF-8 (byte {e.start})")]
    doc = marked_yaml.read(text, strict=False)
    issues = []
    for p in doc.problems:
        field = ".".join(str(x) for x in p.path[1:]) if p.path[:1] == ("config",) else ""
        issues.append(Issue(path.name, p.line, p.col, p.path, p.message, p.hint, label=field))
    return (None if doc.data is None and issues else doc), issues


def _field_name(loc: tuple) -> str:
    return f"{NAMESPACE}:" + ".".join(str(p) for p in loc) if loc else NAMESPACE


def _issue(source: pathlib.Path | None, doc: marked_yaml.Document | None, loc: tuple, message: str,
           hint: str | None = None) -> Issue:
    """An issue about the setting at ``loc``, at ``Pulumi.<stack>.yaml:line:col`` (of its nearest
    ancestor in the file when the setting is not written there)."""
    if source is None:
        return Issue("stack config", 0, 0, loc, message, hint, label=_field_name(loc))
    line, col = 0, 0
    if doc is not None:
        line, col = doc.position(("config", f"{NAMESPACE}:{loc[0]}", *loc[1:]) if loc else ("config",))
    return Issue(source.name, line, col, loc, message, hint, label=_field_name(loc))


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


def _whole_hint(value: Any) -> str | None:
    quoted = isinstance(value, str) and value.strip().lstrip("-").isdigit()
    return "write the number without quotes" if quoted else None


WORDING = marked_issues.Wording(
    show=_show,
    missing=("required key {name!r} is missing", "add `{name}:`"),
    unknown=("unknown key {name!r}", "known keys: {names}"),
    mapping=("expected a mapping of keys, got {value}", "indent the keys under this one"),
    list=("expected a list, got {value}", "write a YAML list: one `- item` per line"),
    bounds={"greater_than_equal": "at least {ge}", "less_than_equal": "at most {le}",
            "greater_than": "more than {gt}", "less_than": "less than {lt}"},
    whole_hint=_whole_hint,
    string_hint=lambda value: "put the value in quotes",
    special={"literal_error": lambda e, show: (f"{e['msg']}, got {show(e.get('input'))}", None)},
)
"""How the stack settings word pydantic's errors (in the admin's terms: no jargon, no URL)."""


def _describe(err: Any) -> tuple[str, str | None]:
    """Message and hint of one pydantic error."""
    loc = tuple(err["loc"])
    allowed = _keys_of(_model_at(loc[:-1])) if err["type"] == "extra_forbidden" else []
    return marked_issues.describe(err, loc, loc[-1] if loc else None, allowed, WORDING)


def _issues(e: pydantic.ValidationError, values: dict[str, Any], source, doc: marked_yaml.Document | None) -> list[Issue]:
    issues = []
    hosts = values.get("hosts")
    if isinstance(hosts, list):  # the model's own check does not run when a host is invalid
        dup = duplicate_host_names([h.get("name") for h in hosts if isinstance(h, dict)])
        if dup and not any("must be unique" in str(err["msg"]) for err in e.errors()):
            issues.append(_issue(source, doc, ("hosts",), f"host names must be unique: {', '.join(dup)}",
                                 "each host once, under its own name"))
    for err in e.errors(include_url=False):
        loc = tuple(err["loc"])
        message, hint = _describe(err)
        issues.append(_issue(source, doc, loc, message, hint))
    return issues


def _unexpected(values: dict[str, Any], source, doc: marked_yaml.Document | None, context: dict[str, Any]) -> list[Issue]:
    """A check that failed in an unexpected way: validate key by key to name the setting, and say so
    in one line (never a traceback)."""
    issues = []
    for key in values:
        try:
            StackSettings.model_validate({key: values[key]}, context=context)
        except pydantic.ValidationError:
            continue  # reported with the others
        except Exception as e:  # noqa: BLE001  (whatever it is, the admin gets one line)
            issues.append(_issue(source, doc, (key,), f"this value cannot be checked ({type(e).__name__}); "
                                 "correct it or report it as a Keystone bug"))
    return issues or [Issue(source.name if source else "stack config", 0, 0, (),
                            "the settings cannot be checked; report it as a Keystone bug", label=NAMESPACE)]


def _file_problems(values: dict[str, Any], source: pathlib.Path, doc: marked_yaml.Document | None) -> list[Issue]:
    """What only the file shows: plain-text secrets and ``keystone:`` keys the program does not read."""
    issues: list[Issue] = []
    config = doc.data.get("config") if doc and isinstance(doc.data, dict) else None
    if doc is None or not isinstance(config, dict):
        return issues
    known = set(_keys_of(StackSettings))
    for name, v in config.items():
        if not isinstance(name, str) or not name.startswith(NAMESPACE + ":"):
            continue
        key = name.split(":", 1)[1]
        line, col = doc.position(("config", name), key=True)
        label = f"{NAMESPACE}:{key}"
        if key in SECRET_KEYS:
            secure = isinstance(v, dict) and list(v) == ["secure"]
            if not secure:  # never echo the value
                issues.append(Issue(source.name, line, col, (key,), "a secret in plain text in the stack file",
                                    f"remove it and run `pulumi config set --secret {NAMESPACE}:{key} ...`",
                                    label=label))
        elif key in PROVIDER_KEYS:
            if key not in values and not isinstance(v, (dict, list)):
                problem = _provider_key_problem(key, v)
                if problem:
                    issues.append(_issue(source, doc, (key,), problem))
        elif key not in known and key not in values:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            issues.append(Issue(source.name, line, col, (key,), "unknown key",
                                f"did you mean {close[0]!r}?" if close else "known keys: " + ", ".join(sorted(known)),
                                label=label))
    return issues


def settings_from_config(values: dict[str, Any], source: pathlib.Path | None = None) -> StackSettings:
    """``values`` maps config keys without the namespace (``hosts``, ``minUid`` ...) to values.

    ``source`` is the stack file (``Pulumi.<stack>.yaml``): it gives the line of every problem, the
    stack's name, and the keys the program does not pass in (unknown keys, plain-text secrets).
    Raises ``SettingsError`` listing every problem.
    """
    doc, unreadable = _read(source) if source and source.exists() else (None, [])
    return _settings(values, source, doc, unreadable)


def _settings(values: dict[str, Any], source: pathlib.Path | None, doc: marked_yaml.Document | None,
              unreadable: list[Issue]) -> StackSettings:
    """``settings_from_config`` with the stack file already read (``doc``; its problems in ``unreadable``)."""
    values = dict(values)
    stack = source.name[len("Pulumi."):-len(".yaml")] if source and re.fullmatch(r"Pulumi\..+\.yaml", source.name) else None
    # the project (the stack file's directory) holds the files settings name (template units)
    context = {"stack": stack, "project": source.parent if source else None}
    issues = unreadable + (_file_problems(values, source, doc) if source else [])
    for key in PROVIDER_KEYS:
        if key in values:
            problem = _provider_key_problem(key, values.pop(key))
            if problem:
                issues.append(_issue(source, doc, (key,), problem))
    values = {k: v for k, v in values.items() if k not in SECRET_KEYS}
    settings = None
    try:
        settings = StackSettings.model_validate(values, context=context)
    except pydantic.ValidationError as e:
        issues += _issues(e, values, source, doc)
    except Exception:  # noqa: BLE001
        issues += _unexpected(values, source, doc, context)
    if issues or settings is None:
        unique = {str(i): i for i in issues}  # each line once, in the order found
        raise SettingsError(sorted(unique.values(), key=lambda i: (i.line, i.col)))
    return settings


def load_settings(stack_file: str | pathlib.Path) -> StackSettings:
    """Read ``Pulumi.<stack>.yaml`` directly (for tools and tests that run without the CLI)."""
    path = pathlib.Path(stack_file)
    doc, unreadable = _read(path)
    if doc is None:
        raise SettingsError(unreadable)
    data = doc.data or {}
    config = data.get("config") if isinstance(data, dict) else None
    if not isinstance(config, dict):
        raise SettingsError([Issue(path.name, 1, 1, (), "the stack file needs a `config:` mapping")]
                            if config is None or not isinstance(data, dict) else
                            [Issue(path.name, 0, 0, (), "`config:` must be a mapping of keys")])
    values = {str(k).split(":", 1)[1]: v for k, v in config.items() if str(k).startswith(NAMESPACE + ":")}
    values = {k: v for k, v in values.items() if not (isinstance(v, dict) and set(v) == {"secure"})}
    return _settings(values, path, doc, unreadable)  # the file read once


def setting_position(stack_file: pathlib.Path, loc: tuple) -> str:
    """``Pulumi.<stack>.yaml:line:col: keystone:<key path>`` of one setting, for messages made after
    the settings loaded (a host's answer about a value); the file's name alone when it cannot be read."""
    doc, _ = _read(stack_file) if stack_file.exists() else (None, [])
    issue = _issue(stack_file, doc, loc, "")
    return f"{issue.where}: {issue.label}"
