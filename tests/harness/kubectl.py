"""The real kubectl and the real kubelogin as one person: the kubeconfig Keystone writes, their own HOME
(kubelogin's token cache) and the test issuer's CA as their trust store.  Plus the questions
``kubectl auth can-i`` asks, with the tier table's answers.

The file is used as Keystone writes it but for one change, ``with_password_grant``: three arguments
appended to kubelogin's command line (``--grant-type=password --username=… --password=…``).  A person
logs in in their browser (kubelogin's default grant, the authorization code flow); no browser takes
part in a test, so the login uses the issuer's password grant instead — everything else of the login
(the issuer URL, the client id, the ``email`` scope, kubectl's exec plugin, the token cache) is the
file's.  The issuer's certificate chains to a test CA, given to kubelogin the way a person's system
trust store would: ``SSL_CERT_FILE`` (Go's TLS reads it on Linux), not an argument in the file.
"""
from __future__ import annotations

import pathlib
import subprocess

import yaml

from tests.harness.kube import KubeBinaries
from tests.harness.oidc import Issuer

# (verb, resource, namespace or None for cluster-wide / "*" for all namespaces) -> expected per tier
RBACG = "clusterroles.rbac.authorization.k8s.io"
QUESTIONS: list[tuple[tuple[str, str, str | None], dict[str, bool]]] = [
    (("get", "pods", "team-a"), {"admin": True, "power-user": True, "namespace-owner": True}),
    (("get", "pods/log", "team-a"), {"admin": True, "power-user": True, "namespace-owner": True}),
    (("list", "pods", "*"), {"admin": True, "power-user": True, "namespace-owner": False}),
    (("get", "pods", "team-b"), {"admin": True, "power-user": True, "namespace-owner": False}),
    (("get", "pods", "default"), {"admin": True, "power-user": True, "namespace-owner": False}),
    (("get", "secrets", "team-a"), {"admin": True, "power-user": False, "namespace-owner": True}),
    (("get", "secrets", "team-b"), {"admin": True, "power-user": False, "namespace-owner": False}),
    (("list", "secrets", "*"), {"admin": True, "power-user": False, "namespace-owner": False}),
    (("create", "configmaps", "team-a"), {"admin": True, "power-user": False, "namespace-owner": True}),
    (("delete", "deployments.apps", "team-a-staging"), {"admin": True, "power-user": False, "namespace-owner": True}),
    (("delete", "deployments.apps", "team-b"), {"admin": True, "power-user": False, "namespace-owner": False}),
    (("list", "nodes", None), {"admin": True, "power-user": True, "namespace-owner": False}),
    (("create", "namespaces", None), {"admin": True, "power-user": False, "namespace-owner": False}),
    (("impersonate", "users", None), {"admin": True, "power-user": False, "namespace-owner": False}),
    (("escalate", RBACG, None), {"admin": True, "power-user": False, "namespace-owner": False}),
    (("bind", RBACG, None), {"admin": True, "power-user": False, "namespace-owner": False}),
]


def expected(person: dict, question) -> bool:
    """The tier table's answer for ``person`` (offboarded and purged: nothing)."""
    _, by_tier = question
    return person.get("state", "active") == "active" and by_tier[person["tier"]]


def password_grant(username: str, password: str) -> list[str]:
    """kubelogin's arguments for the non-interactive login the tests use (the module's docstring says why)."""
    return ["--grant-type=password", f"--username={username}", f"--password={password}"]


def with_password_grant(text: str, username: str, password: str) -> str:
    """The kubeconfig ``text`` with ``password_grant`` appended to its one user's kubelogin arguments;
    nothing else changes."""
    doc = yaml.safe_load(text)
    (user,) = doc["users"]
    user["user"]["exec"]["args"] += password_grant(username, password)
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=1000)


class Kubectl:
    """The real kubectl as one person, ``kubectl-oidc_login`` (the real kubelogin) beside it on PATH."""

    def __init__(self, kubectl: pathlib.Path, kubelogin: pathlib.Path, home: pathlib.Path, text: str,
                 issuer_ca: pathlib.Path):
        """``text``: the kubeconfig to use (written to ``home/.kube/config``, 0600 in a 0700 folder)."""
        bin_dir = home / "bin"
        bin_dir.mkdir(parents=True, exist_ok=True)
        for name, target in (("kubectl", kubectl), ("kubectl-oidc_login", kubelogin)):
            if not (bin_dir / name).exists():
                (bin_dir / name).symlink_to(target)
        self.home = home
        self.config = home / ".kube" / "config"
        self.config.parent.mkdir(mode=0o700, exist_ok=True)
        self.config.write_text(text)
        self.config.chmod(0o600)
        self.env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(home), "SSL_CERT_FILE": str(issuer_ca)}

    def __call__(self, *args: str, check: bool = False) -> subprocess.CompletedProcess:
        r = subprocess.run(["kubectl", "--kubeconfig", str(self.config), *args], env=self.env,
                           capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} -> {r.returncode}: {r.stderr}")
        return r

    def can_i(self, verb: str, resource: str, ns: str | None) -> bool:
        res, _, sub = resource.partition("/")
        args = ["auth", "can-i", verb, res] + ([f"--subresource={sub}"] if sub else [])
        args += ["--all-namespaces"] if ns == "*" else (["-n", ns] if ns else [])
        r = self(*args)
        answer = r.stdout.strip()
        if answer not in ("yes", "no"):
            raise AssertionError(f"kubectl {' '.join(args)}: {r.stdout!r} {r.stderr!r}")
        return answer == "yes"


def as_person(binaries: KubeBinaries, issuer: Issuer, home: pathlib.Path, text: str, subject: str) -> Kubectl:
    """kubectl with the kubeconfig Keystone wrote (``text``), logging in at ``issuer`` as ``subject``."""
    return Kubectl(binaries.kubectl, binaries.kubelogin, home,
                   with_password_grant(text, subject, issuer.passwords[subject]), issuer.ca)
