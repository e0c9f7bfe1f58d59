"""What every person's own kubeconfig says: ``keystone:kubernetes.peopleKubeconfig`` (camelCase keys).

    keystone:kubernetes:
      enabled: true
      peopleKubeconfig:
        clusterName: prod                         # the kubeconfig's cluster and context name
        server: https://k8s.example.org:6443      # the API server, as people reach it
        certificateAuthority: |                   # the cluster's CA certificate(s), PEM: public, never a key
          -----BEGIN CERTIFICATE-----
          ...
          -----END CERTIFICATE-----
        issuerUrl: https://sso.example.org/application/o/kubernetes/
        clientId: kubernetes

Each active person gets it as ``~/.kube/config`` on each of their hosts (rendered by ``render`` below):
no secret in it — the person logs in with kubelogin (``kubectl oidc-login get-token``) against the
issuer, asking for the ``email`` scope, and the API server maps the token's ``email`` claim (its
``--oidc-username-claim``) to ``<oidcPrefix><subject>``, the user Keystone's bindings name.  Every
field error names ``Pulumi.<stack>.yaml:line:col`` (``settings/loader.py``).
"""
from __future__ import annotations

import base64
import binascii
import datetime
import re
from typing import Annotated, Any

import yaml
from cryptography import x509
from pydantic import Field

import validators

from .fields import SettingsModel, checked, pattern_check

_CLUSTER_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,62})"
_CLIENT_ID = r"[A-Za-z0-9_.:@/+-]{1,255}"
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\s*\n([A-Za-z0-9+/=\s]+?)-----END \1-----")
MAX_CA_BYTES = 64 * 1024


def ca_certificates(value: Any, now: datetime.datetime | None = None) -> str:
    """PEM text of one or more ``CERTIFICATE`` blocks, each an X.509 certificate (read by
    ``cryptography``) valid at ``now``, and nothing else: a private key pasted here would be written
    into every home, an expired CA would make every login fail."""
    v = validators.text(value, "certificateAuthority")
    hint = "the cluster's CA certificate in PEM: -----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----"
    if "PRIVATE KEY" in v:
        raise validators.Invalid("certificateAuthority holds a private key; it must hold certificates only",
                                 "the kubeconfig is written into every home: paste the CA certificate, never a key")
    if len(v.encode()) > MAX_CA_BYTES:
        raise validators.Invalid(f"certificateAuthority is larger than {MAX_CA_BYTES} bytes", hint)
    blocks = list(_PEM_BLOCK.finditer(v))
    if not blocks:
        raise validators.Invalid("certificateAuthority holds no PEM certificate", hint)
    rest = _PEM_BLOCK.sub("", v).strip()
    if rest:
        raise validators.Invalid(f"certificateAuthority has text outside its PEM blocks: {validators.show(rest, 30)}",
                                 hint)
    for n, block in enumerate(blocks, 1):
        if block.group(1) != "CERTIFICATE":
            raise validators.Invalid(f"certificateAuthority block {n} is a {block.group(1)}, not a CERTIFICATE", hint)
        try:
            der = base64.b64decode("".join(block.group(2).split()), validate=True)
        except (binascii.Error, ValueError):
            raise validators.Invalid(f"certificateAuthority block {n} is not valid base64", hint) from None
        if len(der) < 64 or der[0] != 0x30:
            raise validators.Invalid(f"certificateAuthority block {n} is not a DER certificate", hint)
        try:
            cert = x509.load_der_x509_certificate(der)
            not_after, not_before = cert.not_valid_after_utc, cert.not_valid_before_utc
        except ValueError as e:
            raise validators.Invalid(f"certificateAuthority block {n} is not an X.509 certificate "
                                     f"({validators.show(str(e), 60)})", hint) from None
        when = now or datetime.datetime.now(datetime.UTC)
        if not_after < when:
            raise validators.Invalid(f"certificateAuthority block {n} expired on {not_after:%Y-%m-%d %H:%M} UTC",
                                     "paste the cluster's current CA certificate")
        if not_before > when:
            raise validators.Invalid(f"certificateAuthority block {n} is valid only from {not_before:%Y-%m-%d} UTC",
                                     "paste the cluster's current CA certificate")
    return v.strip() + "\n"


def ca_expiry(pem: str) -> list[tuple[str, datetime.datetime]]:
    """Subject and end of validity of each certificate of checked PEM text (``ca_certificates``), for the preview."""
    return [(c.subject.rfc4514_string(), c.not_valid_after_utc) for c in x509.load_pem_x509_certificates(pem.encode())]


class PeopleKubeconfigSettings(SettingsModel):
    """The cluster and the OIDC login every person's ``~/.kube/config`` names (no secret)."""

    cluster_name: Annotated[str, checked(pattern_check(
        _CLUSTER_NAME, "cluster name", "letters, digits and _ . -, at most 63, e.g. prod"))] = Field(
        "keystone", description="Name of the cluster, user and context entries in the kubeconfig.")
    server: Annotated[str, checked(validators.https_url, "server")] = Field(
        description="The API server's URL as people reach it: https://host[:port].")
    certificate_authority: Annotated[str, checked(ca_certificates)] = Field(
        description="The cluster's CA certificate(s), PEM (public; a private key is refused).")
    issuer_url: Annotated[str, checked(validators.https_url, "issuerUrl")] = Field(
        description="The OIDC issuer the API server trusts (its --oidc-issuer-url).")
    client_id: Annotated[str, checked(pattern_check(
        _CLIENT_ID, "client id", "the OIDC client id the API server trusts (--oidc-client-id): letters, "
        "digits and _ . : @ / + -"))] = Field(description="The OIDC client id (a public client: no secret).")


# --- the file these settings describe ---------------------------------------------------------------
# Contract: the file names one cluster (server URL and CA above), one user whose credential is an exec
# plugin — kubelogin as a kubectl plugin, ``kubectl oidc-login get-token --oidc-issuer-url=…
# --oidc-client-id=… --oidc-extra-scope=email`` — and one context joining them, current.  It holds
# **no secret**: no token, no client key, no client secret (the client is public); the person logs in
# in their own browser and kubelogin caches the token in their own home (``~/.kube/cache/oidc-login``).
# The same settings always render the same bytes (golden file: ``tests/unit/kubeconfig``).
# ``components/workstation_user.py`` writes it as a seeded ``host:ManagedFile``: only if absent, as the
# person, 0600 in a 0700 ``~/.kube`` (docs/kubernetes.md, "Each person's kubeconfig").

PATH = ".kube/config"
"""Where, under the home."""
MODE = "0600"
EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"
"""The exec credential API kubelogin's own set-up instructions write (kubectl 1.34 speaks it)."""
EMAIL_SCOPE = "email"
"""The scope the login asks for besides ``openid`` (kubelogin always asks for that one): without it an
issuer leaves the ``email`` claim out of the ID token (dex and Authentik both put it under this scope),
and an API server run with ``--oidc-username-claim=email`` then refuses the token."""


def exec_args(s: PeopleKubeconfigSettings) -> list[str]:
    """kubelogin's command line, as a kubectl plugin (``kubectl oidc-login`` runs ``kubectl-oidc_login``)."""
    return ["oidc-login", "get-token", f"--oidc-issuer-url={s.issuer_url}", f"--oidc-client-id={s.client_id}",
            f"--oidc-extra-scope={EMAIL_SCOPE}"]


def kubeconfig(s: PeopleKubeconfigSettings, user: str) -> dict:
    """The kubeconfig as data; ``user`` (the person's user name) names its user entry."""
    ca = base64.b64encode(s.certificate_authority.encode()).decode()
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": s.cluster_name, "cluster": {"server": s.server, "certificate-authority-data": ca}}],
        "users": [{"name": user, "user": {"exec": {
            "apiVersion": EXEC_API_VERSION,
            "command": "kubectl",
            "args": exec_args(s),
            "interactiveMode": "IfAvailable",
            "provideClusterInfo": False,
        }}}],
        "contexts": [{"name": s.cluster_name, "context": {"cluster": s.cluster_name, "user": user}}],
        "current-context": s.cluster_name,
        "preferences": {},
    }


def render(s: PeopleKubeconfigSettings, user: str) -> str:
    """The file's text (YAML; safe_dump quotes whatever needs quoting)."""
    return ("# Written once by Keystone; yours to change (Keystone never overwrites it).\n"
            "# Log in: kubectl get pods  (opens the browser; needs kubelogin: kubectl-oidc_login on PATH)\n"
            + yaml.safe_dump(kubeconfig(s, user), sort_keys=False, default_flow_style=False, width=1000))
