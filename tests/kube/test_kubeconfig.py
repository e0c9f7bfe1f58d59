"""Each person's own kubeconfig, used by the real kubectl and the real kubelogin against the real API
server, logging in at a real OpenID Connect issuer (dex).

The file is the one Keystone writes into the person's home (``components.kubeconfig.render`` with the
stack's ``peopleKubeconfig`` pointing at the test control plane and its issuer: their URLs, the
cluster's CA), used as written but for the non-interactive grant (``kubectl.with_password_grant``: a
test has no browser).  Its credential is kubelogin's exec plugin (``kubectl oidc-login get-token …``):
kubectl runs kubelogin, kubelogin gets an ID token from dex (asking for the ``email`` scope, as the file
says) and caches it in the person's home, and the API server verifies the token against dex's keys and
names the person ``oidc:<email claim>``, the user Keystone's bindings name.  Nothing is stood in for.
"""
from __future__ import annotations

import json
import os

import pytest
import yaml

from settings import kubeconfig
from settings.kubeconfig import PeopleKubeconfigSettings
from tests.harness import oidc
from tests.harness.kube_stack import identities, sample_roster
from tests.harness.kubectl import QUESTIONS, Kubectl, as_person, expected, password_grant, with_password_grant

pytestmark = pytest.mark.kube
ROSTER = sample_roster()
USERS = identities(ROSTER)


def subject(person: str) -> str:
    return ROSTER["people"][person].get("kubernetes") or person


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
        "issuerUrl": control_plane.issuer.url, "clientId": oidc.CLIENT_ID})


@pytest.fixture(scope="module")
def kubectl_for(kube_binaries, control_plane, people_settings, tmp_path_factory):
    """person -> kubectl with that person's rendered ~/.kube/config, logging in at the issuer as them."""
    made: dict[str, Kubectl] = {}

    def get(person: str) -> Kubectl:
        if person not in made:
            made[person] = as_person(kube_binaries, control_plane.issuer, tmp_path_factory.mktemp(f"home-{person}"),
                                     kubeconfig.render(people_settings, person), subject(person))
        return made[person]
    return get


def test_kubectl_config_view_parses_the_file_as_rendered(kubectl_for, people_settings, control_plane):
    k = kubectl_for("bob")
    view = json.loads(k("config", "view", "--raw", "-o", "json", check=True).stdout)
    rendered = yaml.safe_load(kubeconfig.render(people_settings, "bob"))
    assert view["current-context"] == rendered["current-context"] == "keystone-test"
    assert view["clusters"] == rendered["clusters"]
    assert view["contexts"] == rendered["contexts"]
    exec_ = view["users"][0]["user"]["exec"]
    # the file's own arguments, then only the test's grant
    assert (exec_["command"], exec_["args"], exec_["apiVersion"]) == (
        "kubectl", kubeconfig.exec_args(people_settings) + password_grant("bob", control_plane.issuer.passwords["bob"]),
        "client.authentication.k8s.io/v1beta1")
    assert view["users"][0]["user"]["exec"]["interactiveMode"] == rendered["users"][0]["user"]["exec"]["interactiveMode"]


def test_the_kubeconfig_logs_each_person_in_as_themselves(applied, kubectl_for):
    for person in ROSTER["people"]:
        k = kubectl_for(person)
        who = json.loads(k("auth", "whoami", "-o", "json", check=True).stdout)
        assert who["status"]["userInfo"]["username"] == USERS[person], who
        # the login went through kubelogin: its token, from the issuer, is cached in the person's home
        cached = list((k.home / ".kube" / "cache" / "oidc-login").glob("*"))
        assert cached, f"no kubelogin token cache in {person}'s home"


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
    # holds no secret, and with their binding gone it opens nothing, though the issuer still logs them in
    assert dave("get", "pods", "-n", "team-a").returncode != 0
    assert dave("get", "pods", "-A").returncode != 0


def test_no_login_no_access(applied, kube_binaries, control_plane, people_settings, tmp_path):
    """A wrong password: the issuer refuses the login, kubelogin fails and kubectl gets nothing — the file
    alone is no credential.  An issuer whose certificate kubelogin cannot verify gets no password at all."""
    text = with_password_grant(kubeconfig.render(people_settings, "alice"), "alice@example.org", "not-her-password")
    k = Kubectl(kube_binaries.kubectl, kube_binaries.kubelogin, tmp_path / "home", text, control_plane.issuer.ca)
    r = k("get", "pods", "-A")
    assert r.returncode != 0 and "Invalid username or password" in r.stderr, r.stderr
    assert os.stat(k.config).st_mode & 0o777 == 0o600
    alice = as_person(kube_binaries, control_plane.issuer, tmp_path / "alice", kubeconfig.render(people_settings, "alice"),
                      "alice@example.org")
    alice.env.pop("SSL_CERT_FILE")  # the system's trust store only: it does not know the test CA
    r = alice("get", "pods", "-A")
    assert r.returncode != 0 and "certificate signed by unknown authority" in r.stderr, r.stderr


def test_without_the_email_scope_the_api_server_refuses_the_login(applied, kube_binaries, control_plane,
                                                                  people_settings, tmp_path):
    """Why the file asks for the ``email`` scope: without it dex's ID token has no ``email`` claim, the
    API server's username claim, and kubelogin's token is refused."""
    doc = yaml.safe_load(kubeconfig.render(people_settings, "alice"))
    args = doc["users"][0]["user"]["exec"]["args"]
    args.remove(f"--oidc-extra-scope={kubeconfig.EMAIL_SCOPE}")
    k = as_person(kube_binaries, control_plane.issuer, tmp_path / "home", yaml.safe_dump(doc), "alice@example.org")
    r = k("auth", "whoami")
    assert r.returncode != 0 and "Unauthorized" in r.stderr, r.stderr
