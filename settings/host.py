"""A managed host as the stack file names it (``keystone:hosts``): the transport's ``HostTarget``
(its fields, defaults, ranges and descriptions) read with camelCase keys and each field's domain
check, so the two never drift apart."""
from __future__ import annotations

from typing import Any
from collections.abc import Callable

from pydantic import ValidationInfo, field_validator
from pydantic_core import PydanticKnownError

import validators
from providers.host import HostTarget

from .fields import HOST_KEY_ALIAS, SETTINGS_CONFIG, check_with, pattern_check, whole


def _strict_bool(value: Any) -> bool:
    if not isinstance(value, bool):  # ``sudo: yes`` is a string once quoted, ``sudo: 1`` a number
        raise PydanticKnownError("bool_type")
    return value


_HOST_CHECKS: dict[str, Callable[[Any], Any]] = {
    "name": check_with(validators.host_name),
    "address": check_with(validators.ssh_address),
    "port": whole,
    "user": check_with(validators.posix_name, "user name", optional=True),
    "identity_file": check_with(validators.absolute_path, "file", home_relative=True, optional=True),
    "known_hosts_file": check_with(validators.absolute_path, "file", home_relative=True, optional=True),
    "host_key_alias": check_with(pattern_check(
        HOST_KEY_ALIAS, "host key alias", "letters, digits and _ . : -, as the host is listed in known_hosts"),
        optional=True),
    "sudo": _strict_bool,
    "connect_timeout": whole,
}
"""The stack file's check of every ``HostTarget`` field (a test keeps the two lists equal)."""


class HostSettings(HostTarget):
    """One workstation/server whose accounts and home datasets Keystone manages (SSH user: root, or
    a user with ``sudo: true``)."""

    model_config = SETTINGS_CONFIG

    @field_validator("*", mode="before")
    @classmethod
    def _domain(cls, value: Any, info: ValidationInfo) -> Any:
        check = _HOST_CHECKS.get(info.field_name or "")
        return check(value) if check else value

    def target(self) -> HostTarget:
        """The transport's own ``HostTarget`` (no settings class in provider inputs)."""
        return HostTarget(**{k: getattr(self, k) for k in HostTarget.model_fields})
