"""A person's own kubeconfig (``~/.kube/config``), rendered from the stack settings: pure, no I/O.

Contract: the file names one cluster (server URL and CA from ``keystone:kubernetes.peopleKubeconfig``),
one user whose credential is an exec plugin — kubelogin as a kubectl plugin, ``kubectl oidc-login
get-token --oidc-issuer-url=… --oidc-client-id=…`` — and one context joining them, current.  It holds
**no secret**: no token, no client key, no client secret (the client is public); the person's login
happens in their own browser and kubelogin caches the token in their own home
(``~/.kube/cache/oidc-login``).  The same settings always render the same bytes (golden file test:
``tests/unit/kubeconfig``).

Written by ``components/workstation_user.py`` as a seeded ``host:ManagedFile``: only if absent, as the
person, mode 0600 in a 0700 ``~/.kube`` (docs/kubernetes.md, "Each person's kubeconfig").
"""
from __future__ import annotations

import base64

import yaml

from settings.kubeconfig import PeopleKubeconfigSettings

PATH = ".kube/config"
"""Where, under the home."""
MODE = "0600"
EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"
"""The exec credential API kubelogin's own set-up instructions write (kubectl 1.34 speaks it)."""


def exec_args(s: PeopleKubeconfigSettings) -> list[str]:
    """kubelogin's command line, as a kubectl plugin (``kubectl oidc-login`` runs ``kubectl-oidc_login``)."""
    return ["oidc-login", "get-token", f"--oidc-issuer-url={s.issuer_url}", f"--oidc-client-id={s.client_id}"]


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
