"""The Kubernetes tier's fixtures: the binaries (built once, cached), one control plane per session,
and a Keystone stack on it run by the real engine.  Nothing here skips: a piece that cannot be built
or started makes the tests error, so CI fails instead of passing without a real API server."""
from __future__ import annotations

import pytest

from tests.harness import kube
from tests.harness.kube_stack import KubeStack, identities, sample_roster

NAMESPACES = ("team-a", "team-a-staging", "team-b")


@pytest.fixture(scope="session")
def kube_binaries() -> kube.KubeBinaries:
    return kube.build(provider=True, log=lambda m: print(m))


@pytest.fixture(scope="session")
def control_plane(kube_binaries):
    """The control plane and its issuer, which knows every sample roster subject and one nothing binds."""
    subjects = [user.removeprefix(kube.OIDC_PREFIX) for user in identities(sample_roster()).values()]
    cp = kube.start(kube_binaries, [*subjects, "nobody@example.org"], log=lambda m: print(m))
    try:
        for ns in NAMESPACES:
            cp.ensure_namespace(ns)
        yield cp
    finally:
        cp.stop()


@pytest.fixture(scope="module")
def kube_stack(control_plane, kube_binaries, tmp_path_factory):
    """A Keystone stack on the control plane (created, nothing applied yet); its objects are removed
    from the cluster after the module (``ControlPlane.remove_keystone_objects`` says why)."""
    yield KubeStack(tmp_path_factory.mktemp("kube-stack"), control_plane, kube_binaries)
    control_plane.remove_keystone_objects(NAMESPACES)
