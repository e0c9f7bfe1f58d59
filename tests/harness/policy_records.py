"""Valid baseline resources for every type the policies read, and ways to build policy args.

Each builder returns a :class:`policy.offline.ResourceRecord` that passes every policy; tests
derive failing inputs with ``with_props``/``dataclasses.replace``.
"""
from __future__ import annotations

import copy
import dataclasses
from typing import Any
from collections.abc import Callable

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)

from policy import contract as c
from policy.offline import ResourceRecord, resource_args, stack_args

# Real hashes of "correct horse" (libxcrypt via Python's crypt module).
SHA512_HASH = ("$6$Zr8fW2nQ$eeyeP5KaGFg4dCqijzXl3LPLLRqubUeAFHgQg1lfUXW5UP/R8Gyliu6uX7Fs57rTYZaU.nFWsbRvPNuH1R9Zc1")
YESCRYPT_HASH = "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$zwtVrjrUCmXcyLTs6oxLTQlzifSUkF8RHJ./tK5KU79"
assert len(SHA512_HASH.rsplit("$", 1)[1]) == 86 and len(YESCRYPT_HASH.rsplit("$", 1)[1]) == 43


def urn(type_: str, name: str, parent_type: str | None = None) -> str:
    qualified = f"{parent_type}${type_}" if parent_type else type_
    return f"urn:pulumi:dev::keystone::{qualified}::{name}"


def record(type_: str, name: str, props: dict[str, Any], parent_type: str | None = None, **kw: Any) -> ResourceRecord:
    return ResourceRecord(type=type_, name=name, urn=urn(type_, name, parent_type), props=props, **kw)


def with_props(rec: ResourceRecord, **changes: Any) -> ResourceRecord:
    """A copy of ``rec`` with top-level props replaced (``None`` values kept; use ``drop=`` to remove)."""
    props = copy.deepcopy(dict(rec.props))
    for key in changes.pop("drop", ()):
        props.pop(key, None)
    props.update(changes)
    return dataclasses.replace(rec, props=props)


USER_TYPE = "keystone:users:WorkstationUser"
PEER_TYPE = "keystone:peering:PeerAsn"


def account(username: str = "alice", uid: int = 1001, host: str = "ws1", **props: Any) -> ResourceRecord:
    base = {
        "host": {"name": host, "address": f"{host}.example.net"},
        "username": username, "uid": uid, "groups": ["users"], "shell": "/bin/bash",
        "password_hash": None, "locked": True, "expired": False, "ensure": "present",
        "person_state": "active", "tier": "power-user",
    }
    base.update(props)
    return record(c.OS_ACCOUNT, f"{username}-account-{host}", base, USER_TYPE,
                  additional_secret_outputs=("password_hash",))


def dataset(owner: str = "alice", host: str = "ws1", tier: str = "power-user", quota: Any = "200G",
            **props: Any) -> ResourceRecord:
    base = {
        "host": {"name": host}, "dataset": f"rpool/crypt/home/{owner}", "owner": owner,
        "properties": {"quota": quota, "compression": "zstd", "recordsize": "128K", "atime": "off"},
        "ensure": "present", "person_state": "active", "tier": tier,
    }
    base.update(props)
    return record(c.ZFS_DATASET, f"{owner}-home-{host}", base, USER_TYPE, protect=True)


DEFAULT_LOCAL = ["create", "snapshot", "rollback", "diff", "send", "receive", "hold", "release", "bookmark",
                 "mount", "compression", "quota", "refquota", "recordsize", "atime", "readonly", "userprop"]


def delegation(user: str = "alice", host: str = "ws1", **props: Any) -> ResourceRecord:
    base = {
        "host": {"name": host}, "dataset": f"rpool/crypt/home/{user}", "user": user,
        "permissions": list(DEFAULT_LOCAL), "descendent_permissions": ["destroy"],
    }
    base.update(props)
    return record(c.ZFS_DELEGATION, f"{user}-delegation-{host}", base, USER_TYPE)


def peer_file(asn: int = 64512, rs: str = "rs1", **props: Any) -> ResourceRecord:
    base = {
        "route_server": {"name": rs, "address": f"{rs}.example.net"},
        "peer": {"asn": asn, "name": f"AS{asn}", "neighbor_v4": "192.0.2.10"},
        "import_limit_v4": 1000, "import_limit_v6": 500, "receive_limit_v4": 2000, "receive_limit_v6": 1000,
        "rpki": True, "base_config_id": f"{rs}",
    }
    base.update(props)
    return record(c.BIRD_PEER_FILE, f"as{asn}-peer-{rs}", base, PEER_TYPE)


def server_config(rs: str = "rs1", **props: Any) -> ResourceRecord:
    base = {"route_server": {"name": rs, "asn": 64500, "router_id": "192.0.2.1"},
            "rpki": {"rtr": [{"host": "rtr.example.net", "port": 323}], "static_roas": None}}
    base.update(props)
    return record(c.BIRD_SERVER_CONFIG, f"{rs}-base", base)


def seed(peer_file_record: ResourceRecord) -> dict[str, Any]:
    """A ServerConfig seed standing for ``peer_file_record`` (its inputs less the route server)."""
    return {k: peer_file_record.props[k] for k in c.SEED_FIELDS}


def zt_member(asn: int = 64512, **props: Any) -> ResourceRecord:
    base = {"network_id": "8056c2e21c000001", "member_id": "a1b2c3d4e5", "authorized": True,
            "asn": asn, "peer_state": "active"}
    base.update(props)
    return record(c.ZEROTIER_MEMBER, f"as{asn}-zt", base, PEER_TYPE)


def readonly_role(rules: list | None = None, **props: Any) -> ResourceRecord:
    base = {
        "metadata": {"name": "keystone-power-user-readonly", "labels": {c.K8S_LABEL_ROLE: "power-user-readonly"}},
        "rules": rules if rules is not None else [
            {"apiGroups": ["", "apps", "batch"], "resources": ["pods", "pods/log", "services", "configmaps",
                                                                "deployments", "jobs"],
             "verbs": ["get", "list", "watch"]},
            {"apiGroups": ["apps"], "resources": ["*"], "verbs": ["get", "list"]},
            {"nonResourceURLs": ["/healthz", "/version"], "verbs": ["get"]},
        ],
    }
    base.update(props)
    return record(c.K8S_CLUSTER_ROLE, "power-user-readonly", base)


def binding(kind: str = "ClusterRoleBinding", tier: str = "admin", person: str = "alice",
            role: str = "cluster-admin", **props: Any) -> ResourceRecord:
    type_ = c.K8S_CLUSTER_ROLE_BINDING if kind == "ClusterRoleBinding" else c.K8S_ROLE_BINDING
    base = {
        "metadata": {"name": f"{person}-{role}", "labels": {c.K8S_LABEL_TIER: tier, c.K8S_LABEL_PERSON: person}},
        "roleRef": {"kind": "ClusterRole", "name": role, "apiGroup": "rbac.authorization.k8s.io"},
        "subjects": [{"kind": "User", "name": f"{person}@example.net", "apiGroup": "rbac.authorization.k8s.io"}],
    }
    if kind == "RoleBinding":
        base["metadata"]["namespace"] = f"ns-{person}"
    base.update(props)
    return record(type_, f"{person}-{kind.lower()}-{role}", base, USER_TYPE)


def group(name: str = "keystone") -> ResourceRecord:
    return record(c.AUTHENTIK_GROUP, f"group-{name}", {"name": name, "api_url": "https://sso.example.org"})


def member(person: Any = "alice", group: Any = "keystone") -> ResourceRecord:
    return record(c.AUTHENTIK_MEMBER, f"{person}-authentik", {"person": person, "group": group,
                                                            "username": person, "user_pk": 7})


# --------------------------------------------------------------------------------------------
# Two ways to build policy args: straight from plain Python values (what a unit test passes), and
# the way the engine/analyzer does (Struct round trip + unknown-checking proxy; policy.offline).
# --------------------------------------------------------------------------------------------

def _plain_opts(rec: ResourceRecord) -> PolicyResourceOptions:
    return PolicyResourceOptions(rec.protect, list(rec.ignore_changes), rec.delete_before_replace, list(rec.aliases),
                                 PolicyCustomTimeouts(0, 0, 0), list(rec.additional_secret_outputs), rec.parent)


def plain_resource_args(rec: ResourceRecord, config: dict | None = None) -> ResourceValidationArgs:
    return ResourceValidationArgs(rec.type, copy.deepcopy(dict(rec.props)), rec.urn, rec.name, _plain_opts(rec),
                                  None, config, {})


def plain_stack_args(recs: list[ResourceRecord], config: dict | None = None) -> StackValidationArgs:
    resources = [PolicyResource(r.type, copy.deepcopy(dict(r.props)), r.urn, r.name, _plain_opts(r), None, None, [], {})
                 for r in recs]
    return StackValidationArgs(resources, config, {})


def instance(user: str = "alice", port: int = 20000, host: str = "ws1", service: str = "web", **props: Any) -> ResourceRecord:
    base = {"host": {"name": host, "address": f"{host}.example.net"}, "service": service, "unit": service,
            "user": user, "uid": 20001, "port": port, "environment": f"PORT={port}\n", "enabled": True,
            "restart": "when-idle", "ensure": "present", "person_state": "active"}
    base.update(props)
    return record(c.WORKSTATION_INSTANCE, f"{user}-{host}-svc-{service}", base, USER_TYPE)


def seeded_file(user: str = "alice", host: str = "ws1", **props: Any) -> ResourceRecord:
    base = {"host": {"name": host, "address": f"{host}.example.net"}, "path": f"/home/{user}/.config/k.sh",
            "content": "x=1\n", "mode": "0600", "owner": 20001, "group": 20001, "as_owner": True, "seed": True,
            "reload": "none", "private": True}
    base.update(props)
    return record(c.HOST_FILE, f"{user}-{host}-file-0", base, USER_TYPE)


def budget_file(uid: int = 1001, host: str = "ws1") -> ResourceRecord:
    base = {"host": {"name": host}, "path": f"/etc/systemd/system/user-{uid}.slice.d/keystone.conf",
            "content": "[Slice]\nMemoryMax=8G\n", "mode": "0644", "owner": 0, "group": 0, "as_owner": False,
            "seed": False, "reload": "systemd", "private": False}
    return record(c.HOST_FILE, f"u{uid}-{host}-budget", base, USER_TYPE)


def host_base(host: str = "ws1", people: list[str] | None = None, timer: str | None = "keystone-backup.timer") -> ResourceRecord:
    backup = None if people is None else {"home_parent": "rpool/crypt/home", "backup_parent": "rpool/crypt/backup",
                                          "max_age_hours": 3, "people": people}
    return record(c.HOST_BASE, f"{host}-base", {"host": {"name": host}, "packages": [], "timer": timer,
                                                 "backup": backup})


ARG_BUILDERS: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "plain": (plain_resource_args, plain_stack_args),
    "engine": (resource_args, stack_args),
}


def baseline() -> list[ResourceRecord]:
    """A small stack that passes every policy: two people on two hosts, one peer on two route servers."""
    recs: list[ResourceRecord] = []
    for username, uid, tier in (("alice", 1001, "admin"), ("bob", 1002, "power-user")):
        for host in ("ws1", "ws2"):
            recs.append(account(username, uid, host, tier=tier))
            recs.append(dataset(username, host, tier=tier))
            recs.append(delegation(username, host))
    recs += [binding(tier="admin", person="alice"),
             binding(tier="power-user", person="bob", role="keystone-power-user-readonly"),
             readonly_role(), group(), member("alice"), member("bob")]
    for rs in ("rs1", "rs2"):
        recs += [server_config(rs), peer_file(64512, rs)]
    recs.append(zt_member(64512))
    return recs


def faulty_stack() -> list[ResourceRecord]:
    """The baseline with one fault per area, plus an advisory one."""
    recs = []
    for r in baseline():
        if r.name == "alice-account-ws2":
            r = with_props(r, password_hash="hunter2")
        elif r.name == "bob-delegation-ws2":
            r = with_props(r, permissions=DEFAULT_LOCAL + ["destroy"])
        elif r.name == "as64512-peer-rs2":
            r = with_props(r, import_limit_v6=0)
        elif r.name == "bob-clusterrolebinding-keystone-power-user-readonly":
            r = binding(tier="power-user", person="bob")
        recs.append(r)
    recs.append(account("carol", 1002, "ws1", tier="namespace-owner"))
    recs.append(member("carol"))
    recs.append(account("dave", 1004, "ws1", person_state="offboarded", expired=True))
    recs.append(member("dave"))  # offboarded, but still let through the SSO gate
    return recs
