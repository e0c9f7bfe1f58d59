"""Keystone's Kubernetes RBAC applied by the real Pulumi engine, every promise asked of the API server.

The tests of this module share one stack and run in order; each writes the roster it needs and runs
``up`` itself, so each states its own starting point.
"""
from __future__ import annotations

import copy

import pytest

from program.stack import POWER_USER_ROLE
from tests.harness import kube_authz as authz
from tests.harness.kube_stack import identities, sample_roster
from tests.harness.wait import wait_for

pytestmark = pytest.mark.kube
RBAC = "/apis/rbac.authorization.k8s.io/v1"
ROSTER = sample_roster()
USERS = identities(ROSTER)  # alice admin, bob and dave power users (dave offboarded), carol owner, erin purged


def roster(**changes: dict) -> dict:
    """The sample roster with some people's fields changed."""
    r = copy.deepcopy(ROSTER)
    for person, fields in changes.items():
        r["people"][person].update(fields)
    return r


def up(stack, r: dict):
    """``pulumi up`` of roster ``r``: it must succeed with no failed step and no error."""
    stack.write_roster(r)
    outcome = stack.up()
    assert outcome.errors() == [], outcome.output
    failed = [e for e in outcome.events if (e.get("resOpFailedEvent") or {})]
    assert failed == [], failed
    return outcome


def sample_problems(cp, r: dict) -> list[str]:
    """Every person of roster ``r`` against the promise of their tier and state."""
    wrong: list[str] = []
    for name, p in r["people"].items():
        user = USERS[name]
        if p.get("state", "active") != "active":
            wrong += authz.nothing_problems(cp, user)
        elif p["tier"] == "admin":
            wrong += authz.admin_problems(cp, user)
        elif p["tier"] == "power-user":
            wrong += authz.power_user_problems(cp, user)
        else:
            wrong += authz.namespace_owner_problems(cp, user, p["namespaces"])
    return wrong


def test_up_binds_every_tier_and_the_api_server_enforces_exactly_the_tier(kube_stack, control_plane):
    cp = control_plane
    before = cp.requests
    up(kube_stack, ROSTER)
    crb = {b["metadata"]["name"]: b for b in cp.admin("GET", f"{RBAC}/clusterrolebindings")["items"]
           if b["metadata"].get("labels", {}).get("app.kubernetes.io/managed-by") == "keystone"}
    assert set(crb) == {"keystone-alice-admin", "keystone-bob-power-user"}
    assert crb["keystone-alice-admin"]["roleRef"]["name"] == "cluster-admin"
    assert crb["keystone-bob-power-user"]["roleRef"]["name"] == POWER_USER_ROLE
    assert crb["keystone-bob-power-user"]["subjects"] == [{"kind": "User", "name": "oidc:bob",
                                                "apiGroup": "rbac.authorization.k8s.io"}]
    for ns in ("team-a", "team-a-staging"):
        rb = cp.admin("GET", f"{RBAC}/namespaces/{ns}/rolebindings/keystone-carol-namespace-owner")
        assert rb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"}
    assert sample_problems(cp, ROSTER) == []
    print(f"[kube] {cp.requests - before} authorization questions asked of the API server")


def test_people_act_as_themselves_with_their_own_credentials(kube_stack, control_plane):
    cp = control_plane
    up(kube_stack, ROSTER)

    def status(user: str, path: str, method: str = "GET", body=None) -> int:
        return cp.request(method, path, body, token=cp.tokens[USERS[user]])[0]

    assert status("bob", "/api/v1/namespaces/team-a/pods") == 200
    assert status("bob", "/api/v1/pods") == 200
    assert status("bob", "/api/v1/namespaces/team-a/secrets") == 403
    assert status("bob", "/api/v1/secrets") == 403
    assert status("bob", "/api/v1/namespaces/team-a/configmaps", "POST",
                  {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bob-was-here"}}) == 403
    assert status("carol", "/api/v1/namespaces/team-a/secrets") == 200
    assert status("carol", "/api/v1/namespaces/team-b/secrets") == 403
    assert status("carol", "/api/v1/namespaces/default/pods") == 403
    assert status("alice", "/api/v1/namespaces/kube-system/secrets") == 200
    for gone in ("dave", "erin"):
        assert status(gone, "/api/v1/namespaces/team-a/pods") == 403
        assert status(gone, "/api/v1/namespaces/default/configmaps") == 403


def test_a_tier_change_replaces_the_binding_and_access_follows(kube_stack, control_plane):
    cp = control_plane
    up(kube_stack, ROSTER)
    promoted = roster(bob={"tier": "admin"})
    kube_stack.write_roster(promoted)
    assert kube_stack.preview().changed() == {"bob-k8s": "replace"}
    assert up(kube_stack, promoted).changed() == {"bob-k8s": "replace"}
    assert authz.admin_problems(cp, USERS["bob"]) == []
    # power user -> namespace owner -> power user: a ClusterRoleBinding becomes a RoleBinding and back
    owner = roster(bob={"tier": "namespace-owner", "namespaces": ["team-b"]})
    up(kube_stack, owner)
    assert authz.namespace_owner_problems(cp, USERS["bob"], ["team-b"]) == []
    for tier in ("power-user", "admin"):
        assert cp.request("GET", f"{RBAC}/clusterrolebindings/keystone-bob-{tier}")[0] == 404
    up(kube_stack, ROSTER)
    assert authz.power_user_problems(cp, USERS["bob"]) == []
    assert cp.request("GET", f"{RBAC}/namespaces/team-b/rolebindings/keystone-bob-namespace-owner")[0] == 404


def test_an_offboard_removes_access_at_once(kube_stack, control_plane):
    cp = control_plane
    up(kube_stack, ROSTER)
    assert cp.can(USERS["carol"], "get", "secrets", namespace="team-a")
    up(kube_stack, roster(carol={"state": "offboarded"}, bob={"state": "offboarded"}))
    assert authz.nothing_problems(cp, USERS["carol"]) == []
    assert authz.nothing_problems(cp, USERS["bob"]) == []
    up(kube_stack, ROSTER)
    assert authz.namespace_owner_problems(cp, USERS["carol"], ["team-a", "team-a-staging"]) == []


@pytest.mark.parametrize("edit", ["wildcard-first", "wildcard-in-place"])
def test_a_wildcard_added_by_hand_is_reported_by_refresh_and_removed_by_up(kube_stack, control_plane, edit):
    """A hand edit (``kubectl edit``: an Update by another field manager) that puts a wildcard rule in
    the power-user role, before its rules or in place of one.  (A rule *appended* after the program's
    rules is not seen: see docs/kubernetes.md, "Drift".)"""
    cp = control_plane
    up(kube_stack, ROSTER)
    path = f"{RBAC}/clusterroles/{POWER_USER_ROLE}"
    role = cp.admin("GET", path)
    intended = role["rules"]
    wildcard = {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}
    role["rules"] = [wildcard, *intended] if edit == "wildcard-first" else [wildcard, *intended[1:]]
    cp.admin("PUT", path + "?fieldManager=kubectl-edit", role)
    # the hand edit did open Secrets (once the authorizer's cache has seen it: its informer follows a watch)
    wait_for("the hand edit to reach the authorizer", lambda: cp.can(USERS["bob"], "get", "secrets",
                                                                     namespace="kube-system"), timeout=10)
    drift = kube_stack.refresh().drift()
    # the owners' namespace reads are re-read on every refresh and always show as updated
    assert {n: op for n, op in drift.items() if not n.startswith("namespace-")} == {"power-user-readonly": "update"}
    assert up(kube_stack, ROSTER).changed() == {"power-user-readonly": "update"}
    assert cp.admin("GET", path)["rules"] == intended
    assert authz.power_user_problems(cp, USERS["bob"]) == []


def test_a_namespace_missing_from_the_cluster_stops_the_run_before_any_kubernetes_change(kube_stack, control_plane):
    cp = control_plane
    up(kube_stack, ROSTER)
    # carol gains a namespace the cluster lacks; bob's promotion would be applied if the run went ahead
    broken = roster(carol={"namespaces": ["team-a", "team-gone"]}, bob={"tier": "admin"})
    kube_stack.write_roster(broken)
    preview = kube_stack.preview(check=False)
    assert preview.rc != 0 and any("team-gone" in e for e in preview.errors()), preview.output
    outcome = kube_stack.up(check=False)
    assert outcome.rc != 0 and any("team-gone" in e for e in outcome.errors()), outcome.output
    assert outcome.changed() == {}, outcome.steps()
    assert cp.admin("GET", f"{RBAC}/clusterrolebindings/keystone-bob-power-user")["roleRef"]["name"] == POWER_USER_ROLE
    assert cp.request("GET", f"{RBAC}/clusterrolebindings/keystone-bob-admin")[0] == 404
    assert authz.power_user_problems(cp, USERS["bob"]) == []
    cp.ensure_namespace("team-gone")  # the admin creates it: the same roster now applies
    up(kube_stack, broken)
    assert authz.namespace_owner_problems(cp, USERS["carol"], ["team-a", "team-gone"]) == []
    assert authz.admin_problems(cp, USERS["bob"]) == []
    up(kube_stack, ROSTER)
