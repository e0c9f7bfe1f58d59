"""A person's kubeconfig: rendered from the stack settings (golden file), no secret inside, and its
settings refused with ``Pulumi.<stack>.yaml:line:col`` when wrong.

``KEYSTONE_UPDATE_GOLDEN=1 pytest tests/unit/kubeconfig`` rewrites the golden file; review the diff.
"""
from __future__ import annotations

import base64
import os
import pathlib

import pytest
import yaml

from settings import kubeconfig
from settings import SettingsError, load_settings
from settings.kubeconfig import PeopleKubeconfigSettings

HERE = pathlib.Path(__file__).parent
GOLDEN = HERE / "golden" / "alice.yaml"
UPDATE = os.environ.get("KEYSTONE_UPDATE_GOLDEN") == "1"
CA = (HERE / "fixtures" / "ca.crt").read_text()
ISSUER = "https://sso.example.org/application/o/kubernetes/"


def settings(**over) -> PeopleKubeconfigSettings:
    values = {"clusterName": "prod", "server": "https://k8s.example.org:6443", "certificateAuthority": CA,
              "issuerUrl": ISSUER, "clientId": "kubernetes", **over}
    return PeopleKubeconfigSettings.model_validate(values)


def test_golden():
    text = kubeconfig.render(settings(), "alice")
    if UPDATE:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text)
    assert GOLDEN.exists(), f"missing golden file {GOLDEN}: run with KEYSTONE_UPDATE_GOLDEN=1"
    assert text == GOLDEN.read_text(), "differs from its golden file: review, then KEYSTONE_UPDATE_GOLDEN=1"


def test_the_cluster_the_login_and_nothing_secret():
    doc = yaml.safe_load(kubeconfig.render(settings(), "bob"))
    (cluster,), (user,), (context,) = doc["clusters"], doc["users"], doc["contexts"]
    assert cluster == {"name": "prod", "cluster": {"server": "https://k8s.example.org:6443",
                                                   "certificate-authority-data": base64.b64encode(CA.encode()).decode()}}
    assert doc["current-context"] == "prod" and context["context"] == {"cluster": "prod", "user": "bob"}
    # the only credential is kubelogin's exec plugin, with the issuer and client id of the settings
    assert list(user["user"]) == ["exec"]
    exec_ = user["user"]["exec"]
    assert exec_["command"] == "kubectl"
    # the email scope: the API server names the person by the token's email claim, which the issuer
    # puts in the token only when the login asks for it
    assert exec_["args"] == ["oidc-login", "get-token", f"--oidc-issuer-url={ISSUER}", "--oidc-client-id=kubernetes",
                             "--oidc-extra-scope=email"]
    assert exec_["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    text = kubeconfig.render(settings(), "bob")
    for secret in ("token", "client-key", "client-certificate", "password", "client-secret", "PRIVATE KEY"):
        assert secret not in text.replace("get-token", ""), secret


def test_the_same_settings_render_the_same_bytes_and_names_stay_quoted():
    assert kubeconfig.render(settings(), "carol") == kubeconfig.render(settings(), "carol")
    # a client id YAML would read as a number or boolean stays a string
    doc = yaml.safe_load(kubeconfig.render(settings(clientId="1234", clusterName="true"), "carol"))
    assert doc["users"][0]["user"]["exec"]["args"][3] == "--oidc-client-id=1234"
    assert doc["clusters"][0]["name"] == "true" and doc["current-context"] == "true"


def test_people_kubeconfig_needs_kubernetes_enabled(tmp_path):
    f = tmp_path / "Pulumi.dev.yaml"
    block = "".join(f"          {line}\n" for line in CA.splitlines())
    f.write_text("config:\n  keystone:kubernetes:\n    enabled: false\n    peopleKubeconfig:\n"
                 "      server: https://k8s.example.org\n      certificateAuthority: |\n" + block +
                 f"      issuerUrl: {ISSUER}\n      clientId: kubernetes\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(f)
    assert any(i.startswith("Pulumi.dev.yaml:3:") and "peopleKubeconfig needs enabled: true" in i
               for i in caught.value.issues), caught.value.issues


@pytest.mark.parametrize("ca, fragment", [
    (CA + "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n", "private key"),
    (CA.replace("CERTIFICATE", "PUBLIC KEY"), "not a CERTIFICATE"),
    (CA + "trailing words\n", "text outside"),
    ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "not a DER certificate"),
    ("-----BEGIN CERTIFICATE-----\nA=A=\n-----END CERTIFICATE-----\n", "not valid base64"),
    ("", "no PEM certificate"),
])
def test_a_ca_that_is_not_certificates_only_is_refused(ca, fragment):
    with pytest.raises(Exception) as caught:
        settings(certificateAuthority=ca)
    assert fragment in str(caught.value)


def test_two_ca_certificates_are_accepted():
    assert settings(certificateAuthority=CA + CA).certificate_authority == (CA + CA).strip() + "\n"
