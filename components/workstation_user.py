"""``keystone:users:WorkstationUser`` — one person: on every host an account, a home dataset and its
delegation; their Authentik identity; their Kubernetes RBAC by tier.

Per host the order is dataset → account → delegation: the dataset is created and chowned to the
person's uid first, so the account finds its home (the dataset's mountpoint) and writes the
authorized_keys inside it; ``zfs allow`` needs both.

Lifecycle (the roster's ``state``):
* ``active``: everything present;
* ``offboarded`` (reversible): account locked + expired, delegation removed, no RBAC, not in the
  gate group; account and home with every file stay;
* ``purged`` (explicit): account removed (userdel), home archived — or destroyed only where the
  stack allows it.

Workstation (``keystone:workstation``), per host: the tier's groups added to the account (never
stripped unless ``exclusive_groups``); one ``workstation:ServiceInstance`` per service of the tier
(``<name>-<host>-svc-<service>``: enabled and running on the person's sticky port while active,
disabled and stopped when offboarded, removed when purged); while active, the seeded files
(``<name>-<host>-file-<n>``, ``host:ManagedFile`` written as the person only if absent) and the
workspace (``<name>-<host>-workspace``).  Offboarding drops the files and workspace from the
program but never from the home (their Delete keeps them); re-activation adopts them as they are.

Host base (``keystone:base.budgets``): while active, the person's slice budget on every host
(``<name>-<host>-budget``, the drop-in ``/etc/systemd/system/user-<uid>.slice.d/keystone.conf``).

Kubernetes: while active, the tier's binding(s) (``<name>-k8s``, ``<name>-k8s-<namespace>``) and, when the
stack sets ``kubernetes.peopleKubeconfig``, ``~/.kube/config`` on every host (``<name>-<host>-kubeconfig``,
seeded like the files above; ``settings/kubeconfig.py``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from collections.abc import Sequence

import pulumi
import pulumi_kubernetes as k8s

from settings import kubeconfig
from providers.accounts.account import OsAccount
from providers.authentik.resources import AuthentikGroupMember
from providers.hostbase import budget
from providers.hostfile.file import ManagedFile
from providers.hostfile.plan import FileInputs
from providers.workstation.instance import ServiceInstance
from providers.workstation.plan import InstanceInputs
from providers.workstation.workspace import Workspace, WorkspaceInputs
from providers.workstation.templates import environment_file, render
from providers.accounts.plan import AccountInputs
from providers.zfs.dataset import ZfsDataset
from providers.zfs.delegation import ZfsDelegation
from providers.zfs.plan import (
    DEFAULT_DESCENDENT_PERMISSIONS, DEFAULT_PERMISSIONS, DatasetInputs, DatasetProperties, DelegationInputs,
)
from roster import Person, PersonState, Tier
from settings import HostSettings, StackSettings
from settings.base import BudgetValues
from validators.files import is_private

TYPE = "keystone:users:WorkstationUser"
TIER_LABEL = "keystone.dev/tier"
PERSON_LABEL = "keystone.dev/person"


@dataclass
class KubernetesRbac:
    """What the component needs to bind a person in Kubernetes (None when Kubernetes is off)."""

    provider: k8s.Provider | None
    power_user_role: str
    """Name of the project-owned read-only ClusterRole bound to power users."""
    oidc_prefix: str = "oidc:"
    namespaces: Sequence[pulumi.Resource] = field(default_factory=list)
    """Reads of the namespaces owners are bound in: every binding waits for them (a missing one fails)."""


@dataclass
class WorkstationUserArgs:
    person: Person
    """The roster entry (validated)."""
    hosts: list[HostSettings]
    """Hosts of the stack this person lives on (already filtered by ``person.hosts``)."""
    settings: StackSettings
    """Stack settings: ZFS layout and whether a purge may destroy."""
    kubernetes: KubernetesRbac | None = None
    """Kubernetes RBAC wiring, or None when the stack has Kubernetes off."""
    authentik: dict[str, Any] | None = None
    """The inputs of the person's gate-group membership (``program/authentik.py``), or None when Authentik is off."""
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    """Host preparation resources (parent dataset and such) every host resource waits for."""
    ports: dict[str, dict[str, int]] = field(default_factory=dict)
    """The person's sticky ports: host -> service -> port (``program/ports.py``)."""
    units: dict[str, list[pulumi.Resource]] = field(default_factory=dict)
    """Per host, the template unit files the person's instances wait for."""


class WorkstationUser(pulumi.ComponentResource):
    def __init__(self, name: str, args: WorkstationUserArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        p = args.person
        s = args.settings
        self.hosts: dict[str, dict] = {}
        for host in args.hosts:
            self.hosts[host.name] = self._on_host(name, p, host, s, args.depends_on)
            if s.workstation.services or s.workstation.files or s.workstation.workspace:
                self.hosts[host.name]["summary"]["workstation"] = self._workstation(
                    name, p, host, s, self.hosts[host.name], args.ports.get(host.name, {}),
                    args.units.get(host.name, []))
            if args.kubernetes and s.kubernetes.people_kubeconfig and p.state == PersonState.ACTIVE:
                self.hosts[host.name]["summary"]["kubeconfig"] = self._kubeconfig(name, p, host, s, self.hosts[host.name])

        self.bindings: list[pulumi.CustomResource] = []
        if args.kubernetes and p.state == PersonState.ACTIVE:
            self.bindings = self._rbac(name, p, args.kubernetes)

        self.authentik_member = (AuthentikGroupMember(f"{name}-authentik", args.authentik, pulumi.ResourceOptions(
            parent=self)) if args.authentik is not None and p.state == PersonState.ACTIVE else None)
        self.summary = {
            "uid": p.uid,
            "tier": p.tier.value,
            "state": p.state.value,
            "hosts": {h: v["summary"] for h, v in self.hosts.items()},
            "authentik": p.authentik,
            "kubernetes": f"{args.kubernetes.oidc_prefix}{p.kubernetes}" if args.kubernetes else None,
            "bindings": [b._name for b in self.bindings],
        }
        if s.workstation.services:
            self.summary["workstation"] = {"ports": {h: dict(v) for h, v in args.ports.items() if v}}
        self.register_outputs({"summary": self.summary})

    # -- hosts ---------------------------------------------------------------------------------
    def _on_host(self, name: str, p: Person, host: HostSettings, s: StackSettings,
                 depends_on: list[pulumi.Resource]) -> dict:
        target = host.target()
        child = f"{name}-{host.name}"
        dataset_name = f"{s.zfs.home_parent}/{p.username}"
        home = f"{s.zfs.home_mountpoint.rstrip('/')}/{p.username}"
        purged = p.state == PersonState.PURGED
        ensure = ("destroyed" if s.offboarding.allow_destroy else "archived") if purged else "present"
        dataset = ZfsDataset(f"{child}-home", DatasetInputs(
            host=target, dataset=dataset_name, owner=p.username, owner_uid=p.uid, owner_gid=p.uid,
            properties=DatasetProperties(**p.zfs.model_dump()), ensure=ensure,
            archive_parent=s.zfs.archive_parent, allow_destroy=s.offboarding.allow_destroy,
            person_state=p.state.value, tier=p.tier.value,
        # Kept by retain_on_delete (the engine drops it from state without calling Delete; the
        # provider's Delete never destroys either), never `protect`: the engine refuses to delete a
        # protected resource, which would block removing an offboarded person and `pulumi destroy`.
        ), pulumi.ResourceOptions(parent=self, retain_on_delete=True, depends_on=depends_on))
        account = OsAccount(f"{child}-account", AccountInputs(
            host=target, username=p.username, uid=p.uid,
            groups=sorted(set(p.groups) | set(s.workstation.groups_for(p.tier.value))),
            exclusive_groups=p.exclusive_groups, shell=p.shell, home=home, comment=p.name,
            ssh_keys=list(p.ssh_keys), password_hash=p.password_hash,
            locked=p.state != PersonState.ACTIVE, expired=p.state != PersonState.ACTIVE,
            ensure="absent" if purged else "present", person_state=p.state.value, tier=p.tier.value,
        ), pulumi.ResourceOptions(parent=self, depends_on=[dataset]))
        delegation = None
        if p.state == PersonState.ACTIVE:
            delegation = ZfsDelegation(f"{child}-delegation", DelegationInputs(
                host=target, dataset=dataset_name, user=p.username,
            ), pulumi.ResourceOptions(parent=self, depends_on=[dataset, account]))
        slice_budget = self._budget(child, p, target, s, [account]) if p.state == PersonState.ACTIVE else None
        return {
            "dataset": dataset, "account": account, "delegation": delegation, "budget": slice_budget,
            "summary": {
                "uid": p.uid, "home": dataset_name, "mountpoint": home, "ensure": ensure,
                "account": "removed" if purged else ("locked" if p.state != PersonState.ACTIVE else "active"),
                "delegated": ({"local+descendent": sorted(DEFAULT_PERMISSIONS),
                               "descendent": sorted(DEFAULT_DESCENDENT_PERMISSIONS)} if delegation else None),
                **({"budget": budget.dropin_path(p.uid)} if slice_budget else {}),
            },
        }

    def _budget(self, child: str, p: Person, target, s: StackSettings,
                after: list[pulumi.Resource]) -> ManagedFile | None:
        """The person's slice budget (``<name>-<host>-budget``): their tier's values under
        ``keystone:base.budgets``, their roster ``budget`` over them; only while active (offboarding
        removes the drop-in: a locked account runs nothing)."""
        if s.base.budgets is None:
            return None
        values = s.base.budgets.for_tier(p.tier.value)
        if p.budget:
            values = BudgetValues(**p.budget.model_dump()).over(values)
        limits = values.model_dump()
        return ManagedFile(f"{child}-budget", FileInputs(
            host=target, path=budget.dropin_path(p.uid), mode="0644", reload="systemd",
            content=budget.render_dropin(p.username, p.uid, **limits),
        ), pulumi.ResourceOptions(parent=self, depends_on=after))

    # -- workstation: services, seeded files, workspace ----------------------------------------
    def _workstation(self, name: str, p: Person, host: HostSettings, s: StackSettings, parts: dict,
                     ports: dict[str, int], units: list[pulumi.Resource]) -> dict:
        w = s.workstation
        target = host.target()
        child = f"{name}-{host.name}"
        home = f"{s.zfs.home_mountpoint.rstrip('/')}/{p.username}"
        on_host = [parts["dataset"], parts["account"]]
        values = {"user": p.username, "name": p.name, "uid": p.uid, "home": home, "host": host.name}
        instances = {}
        for svc in w.services_for(p.tier.value):
            port = ports[svc.name]
            instances[svc.name] = ServiceInstance(f"{child}-svc-{svc.name}", InstanceInputs(
                host=target, service=svc.name, unit=svc.unit, user=p.username, uid=p.uid, port=port,
                environment=environment_file(svc.environment, **values, port=port, service=svc.name),
                enabled=p.state == PersonState.ACTIVE, restart=svc.restart, idle_minutes=w.idle_minutes,
                ensure="absent" if p.state == PersonState.PURGED else "present", person_state=p.state.value,
            ), pulumi.ResourceOptions(parent=self, depends_on=on_host + units))
        files = []
        workspace = None
        if p.state == PersonState.ACTIVE:
            for i, f in enumerate(w.files):
                files.append(ManagedFile(f"{child}-file-{i}", FileInputs(
                    host=target, path=f"{home}/{f.path}", mode=f.mode, owner=p.uid, group=p.uid, as_owner=True,
                    seed=True, private=is_private(f.mode),
                    content=render(f.template, **values),
                ), pulumi.ResourceOptions(parent=self, depends_on=on_host)))
            if w.workspace:
                workspace = Workspace(f"{child}-workspace", WorkspaceInputs(
                    host=target, user=p.username, uid=p.uid, home=home, path=w.workspace.path,
                    repository=w.workspace.repository, branch=w.workspace.branch,
                ), pulumi.ResourceOptions(parent=self, depends_on=on_host))
        parts.update(instances=instances, files=files, workspace=workspace)
        return {"services": {n: {"port": ports[n], "enabled": p.state == PersonState.ACTIVE} for n in instances},
                "files": [f.path for f in w.files] if files else [],
                "workspace": w.workspace.path if workspace else None}

    # -- Kubernetes ----------------------------------------------------------------------------
    def _kubeconfig(self, name: str, p: Person, host: HostSettings, s: StackSettings, parts: dict) -> str:
        """``~/.kube/config`` (``<name>-<host>-kubeconfig``): seeded — written as the person only if absent,
        0600 in a 0700 ``~/.kube``; one already there is left untouched (its ``diverged`` output says so).
        Offboarding drops it from the program, never from the home: it holds no secret, and the person's
        access ends with their binding."""
        home = f"{s.zfs.home_mountpoint.rstrip('/')}/{p.username}"
        path = f"{home}/{kubeconfig.PATH}"
        parts["kubeconfig"] = ManagedFile(f"{name}-{host.name}-kubeconfig", FileInputs(
            host=host.target(), path=path, mode=kubeconfig.MODE, owner=p.uid, group=p.uid, as_owner=True,
            seed=True, private=True, content=kubeconfig.render(s.kubernetes.people_kubeconfig, p.username),
        ), pulumi.ResourceOptions(parent=self, depends_on=[parts["dataset"], parts["account"]]))
        return path

    def _rbac(self, name: str, p: Person, kube: KubernetesRbac) -> list[pulumi.CustomResource]:
        subject = k8s.rbac.v1.SubjectArgs(kind="User", name=f"{kube.oidc_prefix}{p.kubernetes}",
                                          api_group="rbac.authorization.k8s.io")
        labels = {TIER_LABEL: p.tier.value, PERSON_LABEL: p.username, "app.kubernetes.io/managed-by": "keystone"}
        # roleRef is immutable, and the API server refuses a changed roleRef even in the dry run a
        # preview makes ("cannot change roleRef"): so the object's name carries the tier, and a tier
        # change is a new object; the old one is deleted first (never a moment with both grants).
        binding = f"keystone-{p.username}-{p.tier.value}"
        opts = pulumi.ResourceOptions(parent=self, provider=kube.provider, replace_on_changes=["roleRef"],
                                      delete_before_replace=True, depends_on=list(kube.namespaces))
        if p.tier == Tier.NAMESPACE_OWNER:
            return [
                k8s.rbac.v1.RoleBinding(
                    f"{name}-k8s-{ns}",
                    metadata=k8s.meta.v1.ObjectMetaArgs(name=binding, namespace=ns, labels=labels),
                    role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="ClusterRole",
                                                     name="admin"),
                    subjects=[subject], opts=opts)
                for ns in sorted(p.namespaces)
            ]
        role = "cluster-admin" if p.tier == Tier.ADMIN else kube.power_user_role
        return [k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-k8s",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=binding, labels=labels),
            role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=role),
            subjects=[subject], opts=opts)]
