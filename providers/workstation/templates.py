"""The templates of the workstation and the host base (environment files, seeded files, base files):
Jinja in its **sandboxed** environment, strictly.  The one renderer: the settings ``check`` each
template when they load, the program and the components ``render`` them into the files the
workstation's providers lay down.

* ``StrictUndefined``: a name the template does not get is an error naming it; a value that would
  render as ``None`` (``finalize``) is an error naming the variables that are ``None``;
* no ``include``/``import``/``from``/``extends`` (refused when the template is checked: there is no
  loader, and a template never reads a file);
* the sandbox refuses attributes that reach Python's internals (``__class__``, ``mro``, a
  function's globals …) and ranges above 100,000; ``*``/``**``/``+``/``%`` whose result would be
  larger than ``MAX_OUTPUT`` characters (or an exponent above 64) are refused, as is a rendered
  text larger than ``MAX_OUTPUT``; the only global is ``range``;
* a width is measured before the text is made: a filter or a string method given a number above
  ``MAX_OUTPUT`` (``center(…)``, ``indent(…)``, ``ljust(…)``, ``zfill(…)`` …), and a format string
  (``%``, ``|format``, ``.format``) with a width or precision above it, are refused — they would
  build the whole text before the output limit could see it;
* ``check`` renders with sample values and turns *every* failure into ``TemplateProblem`` (one
  line: what failed), never an exception of its own.
"""
from __future__ import annotations

import functools
import re
from typing import Any
from collections.abc import Callable

import jinja2
from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment

MAX_OUTPUT = 64 * 1024
"""The largest text a template may render (an environment file, a seeded file)."""
_FORBIDDEN = {nodes.Include: "include", nodes.Import: "import", nodes.FromImport: "from … import",
              nodes.Extends: "extends"}


class TemplateProblem(ValueError):
    """A template that cannot be rendered: the message says why, in one line."""


def _finalize(value: Any) -> Any:
    if value is None:
        raise TemplateProblem("a value renders as None")
    return value


# a width or precision in a printf-style (``%-300000000s``) or a str.format (``{:>300000000}``) format
_FORMAT_NUMBERS = re.compile(r"%[-#0 +]*(\d*)(?:\.(\d+))?|\{[^{}]*:[^{}]*?(\d+)(?:\.(\d+))?[^{}]*\}")


def _bounded(args: tuple[Any, ...], kwargs: dict[str, Any], fmt: Any = None) -> None:
    """Refuse a number above ``MAX_OUTPUT`` among a call's arguments, or as a width in ``fmt``."""
    for v in (*args, *kwargs.values()):
        if isinstance(v, int) and not isinstance(v, bool) and v > MAX_OUTPUT:
            raise TemplateProblem(f"a width or count of {v} is too large")
    if isinstance(fmt, str):
        for m in _FORMAT_NUMBERS.finditer(fmt):
            for n in m.groups():
                if n and int(n) > MAX_OUTPUT:
                    raise TemplateProblem(f"a width of {n} in a format is too large")


def _guard(f: Callable[..., Any]) -> Callable[..., Any]:
    """A filter whose numbers (and, for ``format``, whose format string) are bounded first."""
    @functools.wraps(f)  # keeps Jinja's pass_context/pass_environment mark
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _bounded(args, kwargs, args[0] if f.__name__ == "do_format" and args else None)
        return f(*args, **kwargs)
    return guarded


class _Sandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if __obj is not self.globals.get("range"):  # range has the sandbox's own bound (100,000)
            _bounded(args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Any:
        """``str.format``/``format_map``, as the sandbox wraps them, with their format string bounded."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        _bounded((), {}, value.__self__)
        return wrapped

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "%":
            _bounded((), {}, left)
        if operator_ == "**" and isinstance(right, (int, float)) and abs(right) > 64:
            raise TemplateProblem(f"exponent {right!r} is too large")
        if operator_ == "*":  # a repetition is measured before it is made
            items, times = (right, left) if isinstance(left, int) else (left, right)
            if isinstance(items, (str, list, tuple)) and isinstance(times, int) and len(items) * times > MAX_OUTPUT:
                raise TemplateProblem(f"a repetition of {len(items) * times} items is too large")
        result = self.binop_table[operator_](left, right)
        if isinstance(result, (str, list, tuple)) and len(result) > MAX_OUTPUT:
            raise TemplateProblem(f"a value of {len(result)} items is too large")
        return result


ENVIRONMENT = _Sandbox(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True,
                       finalize=_finalize)
ENVIRONMENT.globals = {"range": ENVIRONMENT.globals["range"]}  # no lipsum, cycler, joiner, namespace, dict
ENVIRONMENT.filters = {name: _guard(f) for name, f in ENVIRONMENT.filters.items()}


def _parse(template: str) -> jinja2.Template:
    tree = ENVIRONMENT.parse(template)
    for kind, what in _FORBIDDEN.items():
        if next(tree.find_all(kind), None) is not None:
            raise TemplateProblem(f"'{what}' is not allowed: a template never reads another file")
    return ENVIRONMENT.from_string(tree)


def render(template: str, **values: Any) -> str:
    """The template rendered strictly; raises ``TemplateProblem`` naming what is wrong."""
    try:
        text = _parse(template).render(**values)
    except TemplateProblem as e:
        if "renders as None" in str(e):
            nones = sorted(k for k, v in values.items() if v is None)
            raise TemplateProblem(f"{e}" + (f" (no value for: {', '.join(nones)})" if nones else "")) from None
        raise
    except jinja2.TemplateSyntaxError as e:
        raise TemplateProblem(f"line {e.lineno}: {e.message}") from None
    except jinja2.UndefinedError as e:
        raise TemplateProblem(f"{e.message}") from None
    except jinja2.exceptions.SecurityError as e:
        raise TemplateProblem(f"not allowed in a template: {e}") from None
    except RecursionError:
        raise TemplateProblem("the template nests too deeply") from None
    except Exception as e:  # noqa: BLE001  (whatever a template does, the admin gets one line)
        raise TemplateProblem(f"{type(e).__name__}: {str(e)[:120]}") from None
    if len(text) > MAX_OUTPUT:
        raise TemplateProblem(f"it renders {len(text)} characters, more than {MAX_OUTPUT}")
    return text


def environment_file(template: str, **values: Any) -> str:
    """An instance's environment file: Keystone's own variables, then the service's template."""
    return f"PORT={values['port']}\n" + render(template, **values)


def check(template: str, variables: dict[str, Any]) -> str:
    """``render`` with sample ``variables``: the rendered text, or ``TemplateProblem`` saying which
    variables the template may use."""
    try:
        return render(template, **variables)
    except TemplateProblem as e:
        raise TemplateProblem(f"template error: {e} (variables: {', '.join(variables)})") from None
