"""The templates of the workstation settings (environment files, seeded files): Jinja in its
**sandboxed** environment, strictly.

* ``StrictUndefined``: a name the template does not get is an error naming it; a value that would
  render as ``None`` (``finalize``) is an error naming the variables that are ``None``;
* no ``include``/``import``/``from``/``extends`` (refused when the template is checked: there is no
  loader, and a template never reads a file);
* the sandbox refuses attributes that reach Python's internals (``__class__``, ``mro``, a
  function's globals …) and ranges above 100,000; ``*``/``**``/``+``/``%`` whose result would be
  larger than ``MAX_OUTPUT`` characters (or an exponent above 64) are refused, as is a rendered
  text larger than ``MAX_OUTPUT``; the only global is ``range``;
* ``check`` renders with sample values and turns *every* failure into ``TemplateProblem`` (one
  line: what failed), never an exception of its own.
"""
from __future__ import annotations

from typing import Any

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


class _Sandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
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


def check(template: str, variables: dict[str, Any]) -> str:
    """``render`` with sample ``variables``: the rendered text, or ``TemplateProblem`` saying which
    variables the template may use."""
    try:
        return render(template, **variables)
    except TemplateProblem as e:
        raise TemplateProblem(f"template error: {e} (variables: {', '.join(variables)})") from None
