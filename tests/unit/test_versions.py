"""What runs in production is what the tests run: the Pulumi CLI version (requirements.txt's SDK pin,
the CLI wrapper module scripts/build-engine.sh builds, the CI workflow's install) and the
pulumi-kubernetes plugin version (the module scripts/build-kube.sh builds, every stack file's
``keystone:kubernetes.providerVersion``) are each one number."""
from __future__ import annotations

import re

import pytest
import yaml

from engine.paths import ROOT

STACK_FILES = sorted(p for p in ROOT.glob("Pulumi.*.yaml") if p.name != "Pulumi.yaml")


def sdk_pin() -> str:
    (pin,) = re.findall(r"^pulumi==(\S+)", (ROOT / "requirements.txt").read_text(), re.M)
    return pin


def kubernetes_plugin_release() -> str:
    """The release engine/pulumi-kubernetes/go.mod builds (its ``// release:`` line, as build-kube.sh reads it)."""
    (release,) = re.findall(r"^// release: v(\S+)", (ROOT / "engine" / "pulumi-kubernetes" / "go.mod").read_text(), re.M)
    return release


def test_the_cli_wrapper_module_builds_the_sdk_s_version():
    (required,) = re.findall(r"^require github\.com/pulumi/pulumi/pkg/v3 v(\S+)",
                             (ROOT / "engine" / "cli" / "go.mod").read_text(), re.M)
    assert required == sdk_pin()


def test_ci_installs_the_cli_at_the_sdk_s_version():
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert workflows, "the CI workflow moved: point this test at it"
    for path in workflows:
        doc = yaml.safe_load(path.read_text())
        assert str(doc.get("env", {}).get("PULUMI_VERSION")) == sdk_pin(), path.name
        installs = re.findall(r"pulumi-version:\s*(\S+)", path.read_text())
        assert installs and set(installs) == {"${{"}, f"{path.name}: every install must use env.PULUMI_VERSION"
        assert path.read_text().count("pulumi-version: ${{ env.PULUMI_VERSION }}") == len(installs)


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=lambda p: p.name)
def test_every_stack_pins_the_kubernetes_plugin_the_tests_run(stack_file):
    config = yaml.safe_load(stack_file.read_text())["config"]
    kubernetes = config.get("keystone:kubernetes") or {}
    assert kubernetes.get("providerVersion") == kubernetes_plugin_release(), (
        f"{stack_file.name}: keystone:kubernetes.providerVersion must be {kubernetes_plugin_release()} "
        f"(engine/pulumi-kubernetes/go.mod), the plugin the kube tier runs")


def test_there_are_stack_files():
    assert {p.name for p in STACK_FILES} >= {"Pulumi.dev.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"}
