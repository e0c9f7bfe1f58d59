"""Problems at ``file:line:col``: the one issue type and the one converter from pydantic errors that
the roster and the stack settings share (``marked_yaml`` reads a file with the position of every
key; this module says what is wrong where).

* ``Issue`` — one problem: the file, the 1-based line and column, the path inside the file, the
  field as the admin names it, the message and an optional hint.  ``str(issue)`` is the
  compiler-style line editors and CI annotators understand::

      roster/roster.yaml:12:10: people.alice.uid: uid 0 is root (use a uid >= 1000)

* ``fail``, ``fail_at``, ``check_with`` and ``checked`` — the one adapter from a ``validators`` check (which
  raises ``validators.Invalid``) to pydantic: a pydantic error of type ``ERROR_TYPE`` whose ``ctx``
  carries the hint;
* ``describe`` — one pydantic error as a message and a hint, in a loader's ``Wording`` (the roster
  says "field", the stack settings "key"), never with pydantic's jargon or documentation URL;
* ``one_line`` — the errors of a provider's model, which the admin does not write, as one line;
* ``resolve`` — a pydantic ``loc`` followed through the data read from the file (its keys as the
  file writes them).

Each loader keeps only its model map (the fields allowed at a path, for "did you mean") and its
wording.  Pure: nothing but pydantic and ``validators``.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, NoReturn
from collections.abc import Callable, Iterable

from pydantic import BeforeValidator, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from validators import Invalid

PathElement = str | int
"""A mapping key (always a string, ASNs included) or a list index (an int)."""

ERROR_TYPE = "keystone"
"""pydantic error type of a failed domain check; its ``ctx`` may carry a ``hint``."""


def dotted(path: Iterable[PathElement]) -> str:
    """Render a field path: mapping keys joined by dots, list indices in brackets.

    >>> dotted(("people", "alice", "groups", 1))
    'people.alice.groups[1]'
    """
    out = ""
    for element in path:
        if isinstance(element, int):
            out += f"[{element}]"
        else:
            out += f".{element}" if out else element
    return out


@dataclass(frozen=True, order=True)
class Issue:
    """One problem in a file."""

    file: str
    """The file as it was named to the loader (e.g. ``roster/roster.yaml``, ``Pulumi.dev.yaml``)."""
    line: int
    """1-based line of the offending key or value; 0 when the file's lines are not known."""
    col: int
    """1-based column; 0 when the file's lines are not known."""
    path: tuple[PathElement, ...]
    """Field path inside the file, e.g. ``("people", "alice", "ssh_keys", 0)``; ``()`` for the file."""
    message: str
    """What is wrong.  Never contains a secret (password hashes are not echoed)."""
    hint: str | None = None
    """How to fix it, when there is something useful to say."""
    label: str | None = field(default=None, compare=False)
    """The field as the admin names it (``keystone:hosts.0.user``); ``dotted(path)`` when None."""

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}:{self.col}" if self.line else self.file

    def __str__(self) -> str:
        what = dotted(self.path) if self.label is None else self.label
        return (f"{self.where}: " + (f"{what}: " if what else "") + self.message
                + (f" ({self.hint})" if self.hint else ""))


# --------------------------------------------------------------------------------------------
# validators.Invalid -> pydantic
# --------------------------------------------------------------------------------------------


def custom_error(message: str, hint: str | None = None) -> PydanticCustomError:
    return PydanticCustomError(ERROR_TYPE, message, {"hint": hint} if hint else None)


def fail(message: str, hint: str | None = None) -> NoReturn:
    """Raise a validation error (message and hint, reported at the value's line)."""
    raise custom_error(message, hint)


def error_at(loc: tuple[Any, ...], message: str, hint: str | None = None) -> InitErrorDetails:
    """The same error at ``loc`` below the model that reports it (for model-level checks)."""
    return InitErrorDetails(type=custom_error(message, hint), loc=loc, input=None)


Problem = tuple[tuple[PathElement, ...], str, "str | None"]
"""One problem a model's own check found: where (the key path below the model, in the file's names:
``("files", 0, "path")``), the message and the hint."""


def fail_at(model: str, problems: list[Problem]) -> NoReturn:
    """Raise every problem of a model's own check at once, each at its own key (the loader names the
    line and column of that key, as it does for a field's own check)."""
    raise ValidationError.from_exception_data(model, [error_at(loc, message, hint) for loc, message, hint in problems])


def check_with(check: Callable[..., Any], *args: Any, optional: bool = False, **kw: Any) -> Callable[[Any], Any]:
    """``check(value, *args, **kw)`` with ``validators.Invalid`` turned into a validation error.
    ``optional``: ``None`` passes unchecked."""
    def run(value: Any) -> Any:
        if optional and value is None:
            return None
        try:
            return check(value, *args, **kw)
        except Invalid as e:
            fail(e.message, e.hint)
    return run


def checked(check: Callable[..., Any], *args: Any, optional: bool = False, **kw: Any) -> BeforeValidator:
    """``check_with`` as a pydantic validator (``Annotated[str, checked(validators.host_name)]``)."""
    return BeforeValidator(check_with(check, *args, optional=optional, **kw))


# --------------------------------------------------------------------------------------------
# pydantic errors -> message and hint
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Wording:
    """How a loader words each kind of pydantic error.  Templates take ``{name}`` (a key), ``{value}``
    (the value, shown safely) and ``{names}`` (the keys allowed)."""

    show: Callable[[Any], str]
    """A safe, short rendering of a value."""
    missing: tuple[str, str]
    unknown: tuple[str, str]
    """Message, and the hint when no allowed name is close."""
    mapping: tuple[str, str]
    list: tuple[str, str]
    bounds: dict[str, str]
    """pydantic's bound error kinds the loader words, e.g. ``{"greater_than": "greater than {gt}"}``."""
    whole_hint: Callable[[Any], str | None]
    string_hint: Callable[[Any], str | None]
    special: dict[str, Callable[[dict[str, Any], Callable[[Any], str]], tuple[str, str | None]]] = \
        field(default_factory=dict)
    """Further kinds this loader words in its own way (``enum``, ``literal_error`` ...)."""
    got_in_default: Callable[[tuple[PathElement, ...], Any], bool] = lambda path, value: False
    """Whether a message pydantic words itself ends in ``, got <value>``."""


def describe(error: Any, path: tuple[PathElement, ...], name: Any, allowed: list[str],
             wording: Wording) -> tuple[str, str | None]:
    """Message and hint for one pydantic error: ``path`` is where it is in the file, ``name`` the key
    missing or unknown (a missing error's field, an extra one's key), ``allowed`` the keys allowed at
    the mapping (for "did you mean")."""
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    show = wording.show
    if kind == ERROR_TYPE:
        return error["msg"], ctx.get("hint")
    if kind in wording.special:
        return wording.special[kind](error, show)
    if kind == "missing":
        message, hint = wording.missing
        return message.format(name=name), hint.format(name=name)
    if kind == "extra_forbidden":
        message, fallback = wording.unknown
        close = difflib.get_close_matches(str(name), allowed, n=1)
        suggestion = f"did you mean {close[0]!r}?" if close else fallback.format(names=", ".join(allowed)) if allowed else None
        return message.format(name=name), suggestion
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        message, hint = wording.mapping
        return message.format(value=show(value)), hint
    if kind == "list_type":
        message, hint = wording.list
        return message.format(value=show(value)), hint
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected a whole number, got {show(value)}", wording.whole_hint(value)
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {show(value)}", None
    if kind in wording.bounds:
        return f"must be {wording.bounds[kind].format(**ctx)}, got {show(value)}", None
    if kind == "string_type":
        return f"expected a string, got {show(value)}", wording.string_hint(value)
    message = re.sub(r"^(Value|Assertion) error, ", "", error["msg"])
    if value is not None and not isinstance(value, (dict, list)) and wording.got_in_default(path, value):
        message += f", got {show(value)}"
    return message, None


def one_line(e: ValidationError) -> str:
    """Every error of a model the admin does not write (a provider's), on one line: ``loc: message; ...``."""
    return "; ".join((".".join(map(str, err["loc"])) + ": " if err["loc"] else "")
                     + err["msg"].removeprefix("Value error, ") for err in e.errors())


_MISSING = object()


def same_key(key: Any, element: Any) -> bool:
    """Does a pydantic ``loc`` element name this mapping key? (pydantic may turn True into 1.)"""
    return bool(key == element) or str(key) == str(element)


def resolve(loc: tuple[Any, ...], data: Any) -> tuple[tuple[PathElement, ...], tuple[Any, ...]]:
    """Follow ``loc`` through ``data``: (the path that exists in the file, the rest of ``loc``)."""
    path: list[PathElement] = []
    node = data
    for i, element in enumerate(loc):
        if isinstance(node, dict):
            key = next((k for k in node if same_key(k, element)), _MISSING)
            if key is _MISSING:
                return tuple(path), loc[i:]
            path.append(str(key))
            node = node[key]
        elif isinstance(node, list) and isinstance(element, int) and 0 <= element < len(node):
            path.append(element)
            node = node[element]
        else:
            return tuple(path), loc[i:]
    return tuple(path), ()


def value_at(data: Any, path: tuple[PathElement, ...]) -> Any:
    """The value at a path ``resolve`` returned."""
    node = data
    for element in path:
        node = node[next(k for k in node if same_key(k, element))] if isinstance(node, dict) else node[element]
    return node
