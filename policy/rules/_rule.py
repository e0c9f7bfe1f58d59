"""The opening every rule shares, written once: which resources it looks at, their props as plain
values (unknowns as :class:`~policy.rules._support.Unknown`), reporting the props it needs that are
unknown, and failing closed on anything else (:func:`~policy.rules._support.fail_closed`).

* ``@resource_rule(TYPE, ...)`` turns ``body(props, args, report_violation)`` into pulumi_policy's
  ``validate(args, report_violation)``: the body runs for resources of those types only;
* ``@stack_rule`` does the same for a stack policy's ``validate(args, report_violation)``, which
  walks ``resources_of(args, TYPE, ...)`` (each resource with its plain props);
* ``config_of(args)`` is the policy's config as a plain dict;
* ``report_unknown(report_violation, named, urn)`` reports, in one violation, every named value that
  is unknown and says whether there was any.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from typing import Any
from collections.abc import Callable

from pulumi_policy import ReportViolation

from policy.rules._support import fail_closed, is_unknown, plain, props_of, unknown_message

Props = dict[str, Any]
Validate = Callable[[Any, ReportViolation], None]


def resource_rule(*types: str) -> Callable[[Callable[[Props, Any, ReportViolation], None]], Validate]:
    """A resource policy's ``validate`` that runs ``body(props, args, report_violation)`` for the
    resources of ``types`` only, fail closed."""
    if not types:
        raise ValueError("a resource rule names the resource types it checks")

    def wrap(body: Callable[[Props, Any, ReportViolation], None]) -> Validate:
        @functools.wraps(body)
        def validate(args: Any, report_violation: ReportViolation) -> None:
            if args.resource_type not in types:
                return
            body(props_of(args), args, report_violation)

        return fail_closed(validate)

    return wrap


def stack_rule(body: Validate) -> Validate:
    """A stack policy's ``validate``, fail closed (its body walks :func:`resources_of`)."""
    return fail_closed(body)


def resources_of(args: Any, *types: str) -> Iterator[tuple[Any, Props]]:
    """Each resource of the stack whose type is one of ``types``, with its plain props, in order."""
    for res in args.resources:
        if res.resource_type in types:
            yield res, props_of(res)


def config_of(args: Any) -> dict[str, Any]:
    """The policy's config (schema defaults merged by the engine) as a plain dict; {} when absent."""
    cfg = plain(args.get_config() or {})
    return cfg if isinstance(cfg, dict) else {}


def report_unknown(report_violation: ReportViolation, named: Iterable[tuple[str, Any]],
                   urn: str | None = None) -> bool:
    """Report the names whose value is unknown (one violation, under ``urn`` when given); True when any was."""
    unknown = [name for name, value in named if is_unknown(value)]
    if unknown:
        if urn is None:
            report_violation(unknown_message(*unknown))
        else:
            report_violation(unknown_message(*unknown), urn)
    return bool(unknown)
