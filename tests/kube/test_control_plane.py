"""The test control plane itself: loopback only, RBAC enforcing, each roster identity a token."""
from __future__ import annotations

import subprocess

import pytest

from tests.harness import kube

pytestmark = pytest.mark.kube


def test_api_server_answers_on_loopback_only(control_plane):
    cp = control_plane
    assert cp.url.startswith("https://127.0.0.1:")
    version = cp.admin("GET", "/version")
    assert version["gitVersion"] == "v1.34.4", version
    pids = {str(p.pid) for p in cp.procs}
    listening = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, check=True).stdout.splitlines()
    ours = [line for line in listening if any(f"pid={pid}," in line for pid in pids)]
    assert ours, listening
    for line in ours:
        local = line.split()[3]
        assert local.startswith("127.0.0.1:"), f"a control-plane socket listens beyond loopback: {line}"
    print(f"[kube] start-up took {cp.startup_seconds:.1f}s")
    assert cp.startup_seconds < kube.START_TIMEOUT


def test_a_token_authenticates_as_its_roster_identity(control_plane):
    cp = control_plane
    for user, token in cp.tokens.items():
        status, review = cp.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                    {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
                                    token=token)
        assert status == 201, review
        assert review["status"]["userInfo"]["username"] == user


def test_rbac_denies_an_identity_nothing_binds(control_plane):
    cp = control_plane
    token = cp.tokens["oidc:nobody@example.org"]
    status, body = cp.request("GET", "/api/v1/namespaces/default/pods", token=token)
    assert status == 403, body
    assert cp.request("GET", "/api/v1/namespaces/default/pods")[0] == 200  # the admin certificate may
    assert not cp.can("oidc:nobody@example.org", "list", "pods", namespace="default")
    assert cp.can("keystone-test-admin", "list", "pods", namespace="default") is False  # no group: RBAC only
    status, _ = cp.request("GET", "/api/v1/namespaces/default/pods", token="not-a-token")
    assert status == 401
