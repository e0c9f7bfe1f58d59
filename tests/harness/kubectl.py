"""The real kubectl as one person: their kubeconfig as Keystone renders it, their own HOME, and
``kubectl-oidc_login`` on PATH standing in for kubelogin (``kubelogin-standin.sh``: no OIDC issuer
here; it checks kubectl called it with exactly the file's arguments and hands over the person's static
token).  Plus the questions ``kubectl auth can-i`` asks, with the tier table's answers."""
from __future__ import annotations

import pathlib
import subprocess

from settings import kubeconfig
from settings.kubeconfig import PeopleKubeconfigSettings

HERE = pathlib.Path(__file__).parent

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


class Kubectl:
    """The real kubectl with one person's kubeconfig and their own HOME (token cache and all)."""

    def __init__(self, binary: pathlib.Path, config: pathlib.Path, home: pathlib.Path, token: str,
                 s: PeopleKubeconfigSettings):
        bin_dir = home / "bin"
        bin_dir.mkdir(parents=True, exist_ok=True)
        for name, target in (("kubectl", binary), ("kubectl-oidc_login", HERE / "kubelogin-standin.sh")):
            if not (bin_dir / name).exists():
                (bin_dir / name).symlink_to(target)
        self.config = config
        self.env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(home), "KEYSTONE_PERSON_TOKEN": token,
                    "KEYSTONE_EXPECT_ARGS": " ".join(kubeconfig.exec_args(s)[1:])}

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
