"""``HostSettings`` is the transport's ``HostTarget`` read from the stack file: same fields, each with
its domain check, camelCase keys; the settings package has no import cycle."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from pydantic import ValidationError

import settings
from providers.host import HostTarget
from settings.host import _HOST_CHECKS, HostSettings
from settings.peering import RouteServerSettings


def test_every_target_field_is_checked_and_none_is_repeated():
    assert set(_HOST_CHECKS) == set(HostTarget.model_fields) == set(HostSettings.model_fields)
    assert issubclass(HostSettings, HostTarget) and issubclass(RouteServerSettings, HostSettings)
    assert "name" not in HostSettings.__annotations__  # derived, not declared again


def test_camel_case_keys_and_the_plain_target():
    h = HostSettings.model_validate({"name": "ws1", "address": "ws1.example.org", "identityFile": "~/.ssh/k",
                                     "connectTimeout": 15, "sudo": True})
    target = h.target()
    assert type(target) is HostTarget
    assert target == HostTarget(name="ws1", address="ws1.example.org", identity_file="~/.ssh/k", connect_timeout=15,
                                sudo=True)


@pytest.mark.parametrize(("data", "loc", "message"), [
    ({"sudo": "yes"}, "sudo", "valid boolean"), ({"sudo": 1}, "sudo", "valid boolean"),
    ({"port": True}, "port", "whole number"), ({"connectTimeout": False}, "connectTimeout", "whole number"),
    ({"user": "root;id"}, "user", "not allowed"), ({"hostKeyAlias": "a b"}, "hostKeyAlias", "invalid host key alias"),
    ({"knownHostsFile": "known"}, "knownHostsFile", "not an absolute path"), ({"port": 0}, "port", "greater than"),
])
def test_stricter_than_the_target(data, loc, message):
    with pytest.raises(ValidationError) as e:
        HostSettings.model_validate({"name": "ws1", "address": "ws1", **data})
    [error] = e.value.errors()
    assert error["loc"] == (loc,) and message in error["msg"]


def _package_imports(path: Path) -> set[str]:
    """Modules of the settings package that ``path`` imports (``from .x import``), at any depth."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_the_settings_package_has_no_import_cycle():
    """The settings modules import each other as a tree (no late import patched with model_rebuild)."""
    package = Path(settings.__file__).parent
    graph = {p.stem: _package_imports(p) for p in package.glob("*.py") if p.stem != "__init__"}
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import cycle: {' -> '.join((*path, module))}"
        if module not in done:
            for dep in graph.get(module, ()):
                visit(dep, (*path, module))
            done.add(module)

    for module in graph:
        visit(module, ())
    assert {"fields", "host"} <= graph["peering"] and "model" not in graph["peering"] | graph["workstation"]
