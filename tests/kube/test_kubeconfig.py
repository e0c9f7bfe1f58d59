"""Each person's own kubeconfig, used by the real kubectl against the real API server.

The file is the one Keystone writes into the person's home (``components.kubeconfig.render`` with the
stack's ``peopleKubeconfig`` pointing at the test control plane: its URL, its CA), used unchanged.  Its
credential is kubelogin's exec plugin (``kubectl oidc-login get-token …``); there is no OIDC issuer
here, so ``kubectl-oidc_login`` on PATH is ``kubelogin-standin.sh``: it refuses to answer unless kubectl
calls it with exactly the kubeconfig's arguments, and answers with the person's static token (which the
API server maps to ``oidc:<subject>``, as it would map the OIDC token).  Everything else — kubectl, its
exec-credential machinery, TLS against the CA of the file, authentication, the RBAC authorizer — is real.
"""
from __future__ import annotations

import json
import os
import subprocess

import pytest
import yaml

from settings import kubeconfig
from settings.kubeconfig import PeopleKubeconfigSettings
from tests.harness.kube_stack import identities, sample_roster
from tests.harness.kubectl import QUESTIONS, Kubectl, expected

pytestmark = pytest.mark.kube
ROSTER = sample_roster()
USERS = identities(ROSTER)
ISSUER = "https://sso.example.org/application/o/kubernetes/"


@pytest.fixture(scope="module")
def applied(kube_stack):
    """The sample roster applied by the real engine (bindings of every tier present)."""
    kube_stack.write_roster(ROSTER)
    outcome = kube_stack.up()
    assert outcome.errors() == [], outcome.output
    return kube_stack


@pytest.fixture(scope="module")
def people_settings(control_plane) -> PeopleKubeconfigSettings:
    return PeopleKubeconfigSettings.model_validate({
        "clusterName": "keystone-test", "server": control_plane.url,
        "certificateAuthority": (control_plane.dir / "ca.crt").read_text(),
        "issuerUrl": ISSUER, "clientId": "kubernetes"})


@pytest.fixture(scope="module")
def kubectl_for(kube_binaries, control_plane, people_settings, tmp_path_factory):
    """person -> kubectl with that person's rendered ~/.kube/config and their token behind the login."""
    made: dict[str, Kubectl] = {}

    def get(person: str) -> Kubectl:
        if person not in made:
            home = tmp_path_factory.mktemp(f"home-{person}")
            config = home / ".kube" / "config"
            config.parent.mkdir(mode=0o700)
            config.write_text(kubeconfig.render(people_settings, person))
            config.chmod(0o600)
            made[person] = Kubectl(kube_binaries.kubectl, config, home, control_plane.tokens[USERS[person]],
                                   people_settings)
        return made[person]
    return get


def test_kubectl_config_view_parses_the_file_as_rendered(kubectl_for, people_settings):
    k = kubectl_for("bob")
    view = json.loads(k("config", "view", "--raw", "-o", "json", check=True).stdout)
    rendered = yaml.safe_load(kubeconfig.render(people_settings, "bob"))
    assert view["current-context"] == rendered["current-context"] == "keystone-test"
    assert view["clusters"] == rendered["clusters"]
    assert view["contexts"] == rendered["contexts"]
    exec_ = view["users"][0]["user"]["exec"]
    assert (exec_["command"], exec_["args"], exec_["apiVersion"]) == (
        "kubectl", kubeconfig.exec_args(people_settings), "client.authentication.k8s.io/v1beta1")


def test_the_kubeconfig_logs_each_person_in_as_themselves(applied, kubectl_for):
    for person in ROSTER["people"]:
        who = json.loads(kubectl_for(person)("auth", "whoami", "-o", "json", check=True).stdout)
        assert who["status"]["userInfo"]["username"] == USERS[person], who


def test_kubectl_as_each_person_gets_exactly_the_tier_answers(applied, kubectl_for, control_plane):
    wrong = []
    for person, p in ROSTER["people"].items():
        k = kubectl_for(person)
        for q in QUESTIONS:
            verb, resource, ns = q[0]
            got = k.can_i(verb, resource, ns)
            if got != expected(p, q):
                wrong.append(f"{person} ({p['tier']}, {p.get('state', 'active')}): kubectl auth can-i {verb} "
                             f"{resource} {ns or 'cluster-wide'} said {'yes' if got else 'no'}")
    assert wrong == [], "\n".join(wrong)


def test_real_requests_through_the_kubeconfig(applied, kubectl_for):
    bob, carol, dave = kubectl_for("bob"), kubectl_for("carol"), kubectl_for("dave")
    assert bob("get", "pods", "-n", "team-a").returncode == 0
    denied = bob("get", "secrets", "-n", "team-a")
    assert denied.returncode != 0 and 'User "oidc:bob" cannot list resource "secrets"' in denied.stderr
    assert carol("create", "configmap", "carol-was-here", "-n", "team-a").returncode == 0
    assert carol("delete", "configmap", "carol-was-here", "-n", "team-a").returncode == 0
    assert carol("get", "pods", "-n", "team-b").returncode != 0
    # an offboarded person's kubeconfig (one written while they were active stays in their home): it
    # holds no secret, and with their binding gone it opens nothing
    assert dave("get", "pods", "-n", "team-a").returncode != 0
    assert dave("get", "pods", "-A").returncode != 0


def test_no_login_no_access(applied, kubectl_for, tmp_path):
    """Without the login's token (kubelogin fails) kubectl gets nothing: the file alone is no credential."""
    k = kubectl_for("alice")
    env = dict(k.env, KEYSTONE_EXPECT_ARGS="something else")
    r = subprocess.run(["kubectl", "--kubeconfig", str(k.config), "get", "pods", "-A"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "kubelogin stand-in: called with" in r.stderr
    assert os.stat(k.config).st_mode & 0o777 == 0o600
