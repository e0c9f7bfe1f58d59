"""The test control plane itself: loopback only, RBAC enforcing, people authenticated only by the OIDC
issuer's ID tokens (their ``email`` claim, prefixed ``oidc:``)."""
from __future__ import annotations

import subprocess

import pytest

from tests.harness import kube, oidc

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


def test_the_issuer_serves_on_loopback_with_its_own_ca(control_plane):
    issuer = control_plane.issuer
    assert issuer.url.startswith("https://127.0.0.1:")
    assert issuer.discovery()["issuer"] == issuer.url
    assert "password" in issuer.discovery()["grant_types_supported"]
    assert issuer.ca != control_plane.dir / "ca.crt"  # not the cluster's CA


def test_an_id_token_authenticates_as_oidc_and_its_email(control_plane):
    cp = control_plane
    assert len(cp.tokens) == len(cp.issuer.passwords) - 1  # every subject but the unverified one
    for user, token in cp.tokens.items():
        assert oidc.claims(token)["aud"] == oidc.CLIENT_ID
        assert cp.whoami(token) == user == f"{kube.OIDC_PREFIX}{oidc.claims(token)['email']}"


def test_the_api_server_refuses_what_the_issuer_signs_for_others(control_plane):
    """Tokens the issuer signs but the API server must not take: another client's (audience), one without
    the email claim (no ``email`` scope asked), one whose email is not verified."""
    cp, issuer = control_plane, control_plane.issuer
    other = issuer.id_token("nobody@example.org", client_id=oidc.OTHER_CLIENT_ID)
    no_email = issuer.id_token("nobody@example.org", scope="openid")
    unverified = issuer.id_token(oidc.UNVERIFIED)
    assert "email" not in oidc.claims(no_email) and oidc.claims(unverified)["email_verified"] is False
    for token in (other, no_email, unverified):
        assert cp.whoami(token) is None


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
