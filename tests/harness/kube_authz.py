"""What each tier may and may not do, asked of the API server (SubjectAccessReview).

Each ``*_problems`` function asks every question of its tier and returns the answers that differ
from the promise, so one failing test names every wrong answer at once.  The resources a power user
may read come from the program's own list (``program.stack.POWER_USER_RULES``): the promise is
checked against what the engine created, not against a copy of it.
"""
from __future__ import annotations

from program.stack import POWER_USER_RULES
from tests.harness.kube import ControlPlane

READ = ("get", "list", "watch")
WRITE = ("create", "update", "patch", "delete", "deletecollection")
# escalation: verbs that grant more than a binding gives, on the resources they apply to
ESCALATION = [("escalate", "clusterroles", "rbac.authorization.k8s.io"),
              ("escalate", "roles", "rbac.authorization.k8s.io"),
              ("bind", "clusterroles", "rbac.authorization.k8s.io"),
              ("bind", "roles", "rbac.authorization.k8s.io"),
              ("impersonate", "users", ""), ("impersonate", "groups", ""),
              ("impersonate", "serviceaccounts", ""), ("impersonate", "uids", "authentication.k8s.io")]
SECRETS = ("secrets", "")
# a namespace owner's everyday work inside a namespace: the built-in `admin` role allows it all
OWNER_WORK = [(v, r, g) for r, g in [("pods", ""), ("secrets", ""), ("configmaps", ""), ("services", ""),
                                     ("deployments", "apps"), ("jobs", "batch"),
                                     ("rolebindings", "rbac.authorization.k8s.io"),
                                     ("roles", "rbac.authorization.k8s.io")]
              for v in READ + WRITE]
# what an admin may do anywhere (cluster-admin: every verb on every resource)
ADMIN_WORK = [("*", "*", "*", None), ("get", "secrets", "", "kube-system"), ("list", "secrets", "", None),
              ("delete", "nodes", "", None), ("create", "namespaces", "", None),
              ("escalate", "clusterroles", "rbac.authorization.k8s.io", None),
              ("bind", "clusterroles", "rbac.authorization.k8s.io", None),
              ("impersonate", "users", "", None), ("create", "clusterrolebindings", "rbac.authorization.k8s.io", None),
              ("update", "deployments", "apps", "team-a")]


def listed_resources() -> list[tuple[str, str]]:
    """(resource, group) of every resource the power-user role lists; subresources as ``pods/log``."""
    return [(r, g) for g, resources in POWER_USER_RULES for r in resources]


def namespaces(cp: ControlPlane) -> list[str]:
    return sorted(n["metadata"]["name"] for n in cp.admin("GET", "/api/v1/namespaces")["items"])


def _ask(cp: ControlPlane, user: str, verb: str, resource: str, group: str, ns: str | None) -> bool:
    res, _, sub = resource.partition("/")
    return cp.can(user, verb, res, group, ns, subresource=sub)


def _where(ns: str | None) -> str:
    return f"in {ns}" if ns else "cluster-wide"


def _expect(cp, user, checks, allowed: bool) -> list[str]:
    wrong = []
    for verb, resource, group, ns in checks:
        if _ask(cp, user, verb, resource, group, ns) != allowed:
            wrong.append(f"{user} {'cannot' if allowed else 'CAN'} {verb} {group + '/' if group else ''}{resource} "
                         f"{_where(ns)}")
    return wrong


def admin_problems(cp: ControlPlane, user: str) -> list[str]:
    return _expect(cp, user, ADMIN_WORK, True)


def power_user_problems(cp: ControlPlane, user: str) -> list[str]:
    scopes = [None, *namespaces(cp)]
    listed = listed_resources()
    wrong = _expect(cp, user, [(v, r, g, ns) for r, g in listed for v in READ for ns in scopes], True)
    wrong += _expect(cp, user, [(v, *SECRETS, ns) for v in READ + WRITE for ns in scopes], False)
    wrong += _expect(cp, user, [(v, r, g, ns) for r, g in listed for v in WRITE for ns in (None, "team-a")], False)
    wrong += _expect(cp, user, [(v, r, g, ns) for v, r, g in ESCALATION for ns in (None, "team-a")], False)
    return wrong


def namespace_owner_problems(cp: ControlPlane, user: str, owned: list[str]) -> list[str]:
    others = [ns for ns in namespaces(cp) if ns not in owned]
    wrong = _expect(cp, user, [(v, r, g, ns) for v, r, g in OWNER_WORK for ns in owned], True)
    wrong += _expect(cp, user, [(v, r, g, ns) for v, r, g in OWNER_WORK for ns in [None, *others]], False)
    wrong += _expect(cp, user, [("list", "namespaces", "", None), ("get", "nodes", "", None),
                                ("create", "namespaces", "", None),
                                ("list", "clusterroles", "rbac.authorization.k8s.io", None),
                                *[(v, r, g, None) for v, r, g in ESCALATION]], False)
    return wrong


def nothing_problems(cp: ControlPlane, user: str) -> list[str]:
    """Someone without access: no read, no write, nothing escalating, anywhere."""
    scopes = [None, *namespaces(cp)]
    checks = [(v, r, g, ns) for r, g in [*listed_resources(), SECRETS] for v in ("get", "list", "create", "delete")
              for ns in scopes]
    checks += [(v, r, g, None) for v, r, g in ESCALATION]
    return _expect(cp, user, checks, False)
