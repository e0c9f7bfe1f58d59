"""The policy pack's Kubernetes rules on the real engine's view of the RBAC objects (``--policy-pack``),
and the real preview of a tier change, read from the engine's events.

The violating input is one the roster and the settings each accept alone: the settings refuse an
``oidcPrefix`` starting with ``system:`` and the roster a subject starting with it, but prefix ``sys``
and subject ``tem:anonymous`` join into ``system:anonymous`` — everybody unauthenticated.  Only the
policy pack (``k8s-binding-tier``: no binding names everybody) sees the joined subject.
"""
from __future__ import annotations

import copy

import pytest

from tests.harness.kube_stack import sample_roster

pytestmark = pytest.mark.kube
ROSTER = sample_roster()
CRB = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"


def pack(stack) -> str:
    return str(stack.ws.project / "policy")


def mandatory(outcome) -> list[dict]:
    return [v for v in outcome.policy_violations() if v["enforcementLevel"] == "mandatory"]


def kubernetes_or_mandatory(outcome) -> list[dict]:
    """Violations that fail a run or that a Kubernetes rule reported (the advisory Authentik notice of a
    stack without Authentik is expected here)."""
    return [v for v in outcome.policy_violations()
            if v["enforcementLevel"] == "mandatory" or v["policyName"].startswith("k8s-")]


def test_the_sample_passes_the_policy_pack_on_the_real_engine(kube_stack):
    kube_stack.write_roster(ROSTER)
    preview = kube_stack.preview("--policy-pack", pack(kube_stack))
    assert kubernetes_or_mandatory(preview) == [], preview.policy_violations()
    # the rules had the Kubernetes objects to look at: the engine planned every one of them
    types = {t for _, t, _ in preview.steps()}
    assert {CRB, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"} <= types, types
    up = kube_stack.up("--policy-pack", pack(kube_stack))
    assert kubernetes_or_mandatory(up) == [] and up.errors() == [], up.output


def test_a_binding_that_names_everybody_fails_the_preview_with_the_rule_name(kube_stack, control_plane):
    bad = copy.deepcopy(ROSTER)
    bad["people"]["bob"]["kubernetes"] = "tem:anonymous"
    kube_stack.write_roster(bad, oidcPrefix="sys")
    preview = kube_stack.preview("--policy-pack", pack(kube_stack), check=False)
    violations = mandatory(preview)
    assert preview.rc != 0, preview.output
    assert {v["policyName"] for v in violations} == {"k8s-binding-tier"}, violations
    assert all(v["resourceUrn"].endswith("::bob-k8s") for v in violations), violations
    assert "never grants a role to everybody" in violations[0]["message"]
    # `up` runs the same pack in its preview: refused, nothing changed on the cluster
    up = kube_stack.ws.run("up", "--yes", "--policy-pack", pack(kube_stack), stack="kube", log_events=True)
    assert up.rc != 0 and {v["policyName"] for v in mandatory(up)} == {"k8s-binding-tier"}, up.output
    for name, subject in (("keystone-bob-power-user", "oidc:bob"), ("keystone-alice-admin", "oidc:alice@example.org")):
        binding = control_plane.admin("GET", f"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{name}")
        assert [s["name"] for s in binding["subjects"]] == [subject]  # the run stopped before any update
    kube_stack.write_roster(ROSTER)


def test_the_preview_of_a_tier_change_says_replace_and_passes_the_pack(kube_stack):
    kube_stack.write_roster(ROSTER)
    kube_stack.up()
    promoted = copy.deepcopy(ROSTER)
    promoted["people"]["bob"]["tier"] = "admin"
    kube_stack.write_roster(promoted)
    preview = kube_stack.preview("--policy-pack", pack(kube_stack))
    assert kubernetes_or_mandatory(preview) == []
    assert preview.changed() == {"bob-k8s": "replace"}
    # the engine's own steps for the binding: the old one deleted first, then its replacement
    steps = [op for op, t, name in preview.steps() if name == "bob-k8s" and t == CRB]
    assert "replace" in steps or {"create-replacement", "delete-replaced"} <= set(steps), steps
    summary = preview.summary()
    assert summary.get("replace") == 1 and not summary.get("create") and not summary.get("delete"), summary
    kube_stack.write_roster(ROSTER)
