"""The field types the providers' inputs share, each one ``validators`` rule as a pydantic type.

The rule sees the raw value first, as the stack settings' fields do (so a number where a name belongs
gets the rule's own message and hint); its ``Invalid`` is a ``ValueError``, which pydantic reports at
the field.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BeforeValidator

import validators
from validators import budget, files


def rule(check: Callable[..., Any], *args: Any) -> BeforeValidator:
    """The value as ``check(value, *args)`` returns it (normalised where the rule normalises)."""
    return BeforeValidator(lambda v: check(v, *args))


def given(check: Callable[..., Any], value: Any, *args: Any) -> Any:
    """``value`` unchanged, once ``check(value, *args)`` accepts it."""
    check(value, *args)
    return value


def as_given(check: Callable[..., Any], *args: Any) -> BeforeValidator:
    """The value unchanged, once ``check(value, *args)`` accepts it."""
    return BeforeValidator(lambda v: given(check, v, *args))


Dataset = Annotated[str, rule(validators.dataset_name)]
"""A ZFS dataset below a pool."""
AbsolutePath = Annotated[str, rule(validators.absolute_path)]
"""An absolute path of plain components on the host."""
HostPath = Annotated[str, rule(files.host_file_path)]
"""An absolute path of any names but newline and NUL (a file passed as one argument)."""
Mode = Annotated[str, as_given(files.file_mode)]
"""An octal file mode, kept as written (``0700``)."""
Package = Annotated[str, rule(budget.debian_package)]
"""A Debian package name."""
