"""The pure code imports nothing effectful: the providers' plans, parsers, host-state facets and the
types they share, the port allocator and the template renderer, and every module of the domain values
(``validators``), the YAML reader and its issues (``marked_yaml``, ``marked_issues``), the roster and
the stack settings.  Each is importable, in a fresh interpreter, without the transport, the read
cache, ``subprocess`` or the Pulumi SDK in sight.

(``selectors`` and ``socket`` are not on the list: pydantic's field machinery imports ``email.utils``,
which imports them; neither runs anything.)"""
from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest

from engine.paths import ROOT

EFFECTFUL = ("subprocess", "providers.transport", "providers.hostcache", "pulumi", "grpc", "urllib.request",
             "http.client", "providers.zerotier.client", "providers.authentik.client", "authentik_client")

PURE = ["providers.host", "providers.framing", "providers.hoststate", "providers.output",
        "providers.scripts", "providers.bird.parse", "providers.bird.render", "providers.bird.report",
        "providers.bird.models", "providers.bird.communities", "providers.journal", "ops.people", "engine.events",
        "engine.history", "providers.authentik.model"]
PURE += sorted(".".join(p.relative_to(ROOT).with_suffix("").parts)
               for pattern in ("providers/*/plan.py", "providers/*/facts.py", "providers/*/facet.py") for p in pathlib.Path(ROOT).glob(pattern))
PURE += ["marked_yaml", "marked_issues", "program.ports", "providers.workstation.templates"]
PURE += sorted(".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
               for package in ("roster", "settings", "validators") for p in pathlib.Path(ROOT, package).glob("*.py"))
# (the roster's command line included: its commands read files only, the reports that reach route
# servers are ``python -m ops``)

_PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(m for m in sys.modules if any(m == e or m.startswith(e + ".") for e in sys.argv[2:]))))
"""


def effectful_imports(module: str) -> list[str]:
    p = subprocess.run([sys.executable, "-c", _PROBE, module, *EFFECTFUL], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_every_plan_facts_and_facet_module_is_on_the_list():
    assert {"providers.zfs.plan", "providers.zfs.facts", "providers.accounts.plan", "providers.bird.plan",
            "providers.accounts.facet", "providers.zfs.facet", "providers.workstation.facet", "providers.hostfile.facet",
            "providers.hostbase.facet"} <= set(PURE)


def test_the_pure_packages_are_on_the_list():
    """What docs/design.md calls pure: the domain values, the YAML reader and its issues, the roster
    and the stack settings, every module of each."""
    assert {"validators", "validators.names", "marked_yaml", "marked_issues", "roster", "roster.loader",
            "settings", "settings.loader", "settings.peering"} <= set(PURE)


@pytest.mark.parametrize("module", PURE)
def test_a_pure_module_imports_nothing_effectful(module):
    assert effectful_imports(module) == []


def test_the_probe_sees_an_effectful_import():
    assert "providers.transport" in effectful_imports("providers.hostcache")


@pytest.mark.parametrize("module", ["program.stack", "components.workstation_user", "providers.authentik.resources"])
def test_the_program_does_not_import_the_authentik_http_side(module):
    """The program registers Authentik resources and never talks to Authentik unless its gate looks
    users up (``program.authentik.HttpDirectory`` imports the client then): the generated client's
    import alone costs the program seconds on every run (it builds a validator per API method)."""
    assert [m for m in effectful_imports(module) if "authentik" in m] == []
