"""What every settings model shares: the error a failed check raises (``fail``), the adapter from
``validators`` checks to pydantic (``checked``; both are ``marked_issues``'s, shared with the
roster), the field types of the stack file, and the base
model (camelCase keys, unknown keys refused).  Imported by ``model``, ``host``, ``peering`` and
``workstation``; it imports none of them.
"""
from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar
from collections.abc import Callable

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel

import marked_issues
import validators
from validators import files

M = TypeVar("M", bound=BaseModel)

fail = marked_issues.fail
"""Raise a settings error (message and hint, reported at the value's line)."""
fail_at = marked_issues.fail_at
"""Raise every problem of a model's own check, each at its own key."""
Problem = marked_issues.Problem
check_with = marked_issues.check_with
checked = marked_issues.checked
"""The one adapter from ``validators`` checks to pydantic, shared with the roster."""


def whole(value: Any) -> Any:
    if isinstance(value, bool):
        fail(f"expected a whole number, got {value!r}", "YAML reads yes/no/on/off/true/false as booleans")
    return value


Whole = Annotated[int, BeforeValidator(whole)]
"""An integer (``true`` is not 1 here)."""
KeyFile = Annotated[str | None, checked(validators.absolute_path, "file", home_relative=True, optional=True)]
HomeMountpoint = Annotated[str, checked(validators.directory_for_homes)]
HOME_ROOM = 33
"""Characters kept free after the home parent's name: ``/`` and a user name of up to 32."""
HomeParent = Annotated[str, checked(validators.dataset_name, "dataset", room=HOME_ROOM)]
HOST_KEY_ALIAS = r"[A-Za-z0-9_](?:[A-Za-z0-9_.:-]{0,252})"
KUBE_CONTEXT = r"[A-Za-z0-9_](?:[A-Za-z0-9_.@:/+-]{0,252})"
OIDC_PREFIX = r"[A-Za-z0-9_.@:+-]{0,63}"
STACK_NAME = r"[A-Za-z0-9_.-]{1,100}"
ORGANIZATION = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}"


def pattern_check(pattern: str, what: str, hint: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        v = validators.text(value, what)
        if not re.fullmatch(pattern, v):
            raise validators.Invalid(f"invalid {what} {validators.show(v)}", hint)
        return v
    return check


def roster_path(value: Any) -> str:
    """A ``.yaml`` file: below the project (``validators.files.relative_path``), or an absolute path
    (``validators.absolute_path``)."""
    v = validators.text(value, "roster path")
    if v.startswith("/"):
        validators.absolute_path(v, "roster path")
    else:
        files.relative_path(v, "roster path", inside="the project", example="roster/roster.yaml")
    if not re.fullmatch(r".*[^/]\.ya?ml", v):
        raise validators.Invalid(f"roster path {validators.show(v)} is not a .yaml file",
                                 "e.g. roster/roster.yaml (relative to the project) or an absolute path")
    return v


SETTINGS_CONFIG = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True)
"""Every settings model: camelCase keys in the file, unknown keys refused, frozen."""


class SettingsModel(BaseModel):
    model_config = SETTINGS_CONFIG


class ProviderSettings(BaseModel):
    """A provider's own model read from the stack file (one copy of its fields, defaults, ranges and
    checks): list it before the provider's model, ``class RtrServerSettings(ProviderSettings,
    bird.RtrServer)``, and set ``model_config = SETTINGS_CONFIG``.  It adds the settings' reading:
    camelCase keys, and a whole number never written as true/false."""

    model_config = SETTINGS_CONFIG

    @field_validator("*", mode="before")
    @classmethod
    def _whole(cls, value: Any, info: ValidationInfo) -> Any:
        return whole(value) if cls.model_fields[info.field_name or ""].annotation is int else value

    def provider(self, model: type[M]) -> M:
        """The provider's own model of these values (no settings class in provider inputs)."""
        return model.model_validate(self.model_dump(include=set(model.model_fields)))
