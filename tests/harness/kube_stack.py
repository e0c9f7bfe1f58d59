"""Keystone's program run by the real Pulumi engine against the test control plane.

A ``KubeStack`` is an engine-tier ``Workspace`` (the repository's program linked into a throw-away
project, a local backend, a private PULUMI_HOME, every command a fresh ``python -m engine`` process)
with the pulumi-kubernetes plugin built by ``scripts/build-kube.sh`` installed in its PULUMI_HOME
and one stack, ``kube``: no host, no peering, no Authentik, Kubernetes on with a kubeconfig that
points at the control plane.
"""
from __future__ import annotations

import pathlib
from typing import Any

import yaml

from tests.harness.engine import Outcome, Workspace
from tests.harness.kube import OIDC_PREFIX, ROOT, ControlPlane, KubeBinaries

STACK = "kube"


def plugin_version(binary: pathlib.Path) -> str:
    """The release the plugin was built from: its cache folder's name (``pulumi-kubernetes-vX.Y.Z-<hash>``)."""
    return binary.parent.parent.name.split("-v", 1)[1].split("-", 1)[0]


class KubeStack:
    def __init__(self, root: pathlib.Path, cp: ControlPlane, binaries: KubeBinaries):
        if binaries.provider is None:
            raise AssertionError("the pulumi-kubernetes plugin was not built (kube.build(provider=True))")
        self.ws = Workspace(root)
        self.cp = cp
        self.version = plugin_version(binaries.provider)
        self.ws.run("plugin", "install", "resource", "kubernetes", self.version, "--file", str(binaries.provider),
                    check=True)
        self.kubeconfig = cp.write_kubeconfig(root / "kubeconfig")
        self.ws.init(STACK)

    def write_roster(self, roster: dict[str, Any], hosts: list[dict[str, Any]] | None = None, **kubernetes: Any) -> None:
        """The roster and the stack file; ``hosts``: ``keystone:hosts`` (default none); ``kubernetes``:
        settings of ``keystone:kubernetes`` to override."""
        path = self.ws.write_roster(yaml.safe_dump(roster, sort_keys=False), "kube.yaml")
        self.ws.write_stack(STACK, {
            "roster": str(path),
            "minUid": 1000,
            "hosts": hosts or [],
            "authentik": {"enabled": False},
            "kubernetes": {"enabled": True, "kubeconfig": str(self.kubeconfig), "oidcPrefix": OIDC_PREFIX,
                           "providerVersion": self.version, **kubernetes},
        })

    def up(self, *extra: str, check: bool = True) -> Outcome:
        return self.ws.up(STACK, *extra, check=check)

    def preview(self, *extra: str, check: bool = True) -> Outcome:
        return self.ws.preview(STACK, *extra, check=check)

    def refresh(self, *extra: str, check: bool = True) -> Outcome:
        return self.ws.refresh(STACK, *extra, check=check)


def sample_roster() -> dict[str, Any]:
    """The sample roster's people (its peers dropped: peering is off here) plus a purged person."""
    roster = yaml.safe_load((ROOT / "roster" / "roster.yaml").read_text())
    people = roster["people"]
    people["erin"] = {"name": "Erin Purged", "uid": 20005, "tier": "power-user",
                      "kubernetes": "erin@example.org", "state": "purged", "ssh_keys": []}
    return {"people": people}


def identities(roster: dict[str, Any], prefix: str = OIDC_PREFIX) -> dict[str, str]:
    """username -> the Kubernetes user name the bindings name (``<prefix><subject>``)."""
    return {u: f"{prefix}{p.get('kubernetes') or u}" for u, p in roster["people"].items()}
