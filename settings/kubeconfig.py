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

Each active person gets it as ``~/.kube/config`` on each of their hosts (``components/kubeconfig.py``):
no secret in it — the person logs in with kubelogin (``kubectl oidc-login get-token``) against the
issuer, and the API server maps the token's subject to ``<oidcPrefix><subject>``, the user Keystone's
bindings name.  Every field error names ``Pulumi.<stack>.yaml:line:col`` (``settings/loader.py``).
"""
from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any

from pydantic import Field

import validators

from .fields import SettingsModel, checked, pattern_check

_CLUSTER_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,62})"
_CLIENT_ID = r"[A-Za-z0-9_.:@/+-]{1,255}"
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\s*\n([A-Za-z0-9+/=\s]+?)-----END \1-----")
MAX_CA_BYTES = 64 * 1024


def https_url(value: Any, what: str) -> str:
    """An ``https://`` URL (``validators.http_url`` with TLS required: a login or API call in clear text
    would expose the person's token)."""
    v = validators.http_url(value, what)
    if not v.startswith("https://"):
        raise validators.Invalid(f"{what} {validators.show(v)} is not https",
                                 "the person's token travels to it: https://host[:port][/path]")
    return v


def ca_certificates(value: Any) -> str:
    """PEM text of one or more ``CERTIFICATE`` blocks, each a DER sequence, and nothing else: a private key
    pasted here would be written into every home."""
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
    return v.strip() + "\n"


class PeopleKubeconfigSettings(SettingsModel):
    """The cluster and the OIDC login every person's ``~/.kube/config`` names (no secret)."""

    cluster_name: Annotated[str, checked(pattern_check(
        _CLUSTER_NAME, "cluster name", "letters, digits and _ . -, at most 63, e.g. prod"))] = Field(
        "keystone", description="Name of the cluster, user and context entries in the kubeconfig.")
    server: Annotated[str, checked(https_url, "server")] = Field(
        description="The API server's URL as people reach it: https://host[:port].")
    certificate_authority: Annotated[str, checked(ca_certificates)] = Field(
        description="The cluster's CA certificate(s), PEM (public; a private key is refused).")
    issuer_url: Annotated[str, checked(https_url, "issuerUrl")] = Field(
        description="The OIDC issuer the API server trusts (its --oidc-issuer-url).")
    client_id: Annotated[str, checked(pattern_check(
        _CLIENT_ID, "client id", "the OIDC client id the API server trusts (--oidc-client-id): letters, "
        "digits and _ . : @ / + -"))] = Field(description="The OIDC client id (a public client: no secret).")
