"""Every rule, on passing and failing inputs, called through the policy's own ``validate``.

Data-driven: each case names a policy, its input (one record for a resource policy, a list for a
stack policy), optional policy config, and the fragments expected in the reported violations, one
per violation and in order ([] = passes). Each case runs twice: with args built from plain Python
values, and with args built the way the analyzer builds them (Struct round trip, numbers as
floats, pulumi_policy's unknown-checking proxy).
"""
from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

from policy import contract as c
from policy.rules import BY_NAME, POLICIES
from tests.harness import policy_records as b
from tests.harness.policy_records import with_props

U = c.UNKNOWN


@dataclasses.dataclass
class Case:
    id: str
    policy: str
    input: Any
    expect: list[str]
    config: dict | None = None


def _replace(rec, **kw):
    return dataclasses.replace(rec, **kw)


def _props(rec, **nested):
    """with_props for one nested dict: _props(rec, properties={"quota": "1T"}) merges into it."""
    props = dict(rec.props)
    for key, changes in nested.items():
        inner = dict(props.get(key) or {})
        inner.update(changes)
        props[key] = inner
    return dataclasses.replace(rec, props=props)


acct = b.account()
ds = b.dataset()
dlg = b.delegation()
pf = b.peer_file()
zt = b.zt_member()
role = b.readonly_role()
crb = b.binding()

CASES = [
    # ---- os-account-password-hash ---------------------------------------------------------
    Case("pw-null", c.P_ACCOUNT_PASSWORD, acct, []),
    Case("pw-sha512", c.P_ACCOUNT_PASSWORD, with_props(acct, password_hash=b.SHA512_HASH), []),
    Case("pw-yescrypt", c.P_ACCOUNT_PASSWORD, with_props(acct, password_hash=b.YESCRYPT_HASH), []),
    Case("pw-absent-key", c.P_ACCOUNT_PASSWORD, with_props(acct, drop=["password_hash"]), []),
    Case("pw-plaintext", c.P_ACCOUNT_PASSWORD, with_props(acct, password_hash="hunter2"), ["not a SHA-512"]),
    Case("pw-md5crypt", c.P_ACCOUNT_PASSWORD, with_props(acct, password_hash="$1$abcdefgh$abcdefghijklmnopqrstuv"),
         ["not a SHA-512"]),
    Case("pw-truncated-sha512", c.P_ACCOUNT_PASSWORD, with_props(acct, password_hash=b.SHA512_HASH[:-1]),
         ["not a SHA-512"]),
    Case("pw-not-string", c.P_ACCOUNT_PASSWORD, with_props(acct, password_hash=123), ["must be null or a crypt hash"]),
    Case("pw-not-secret", c.P_ACCOUNT_PASSWORD,
         _replace(with_props(acct, password_hash=b.SHA512_HASH), additional_secret_outputs=()),
         ["not listed in additional_secret_outputs"]),
    Case("pw-plaintext-not-secret", c.P_ACCOUNT_PASSWORD,
         _replace(with_props(acct, password_hash="hunter2"), additional_secret_outputs=("groups",)),
         ["not a SHA-512", "not listed in additional_secret_outputs"]),
    Case("pw-unknown", c.P_ACCOUNT_PASSWORD, with_props(acct, password_hash=U), ["cannot verify password_hash"]),

    # ---- os-account-lifecycle -------------------------------------------------------------
    Case("life-active", c.P_ACCOUNT_LIFECYCLE, acct, []),
    Case("life-offboarded-locked", c.P_ACCOUNT_LIFECYCLE, with_props(acct, person_state="offboarded", locked=True), []),
    Case("life-purged-absent", c.P_ACCOUNT_LIFECYCLE,
         with_props(acct, person_state="purged", ensure="absent", locked=False), []),
    Case("life-active-unlocked", c.P_ACCOUNT_LIFECYCLE, with_props(acct, locked=False), []),
    Case("life-offboarded-unlocked", c.P_ACCOUNT_LIFECYCLE, with_props(acct, person_state="offboarded", locked=False),
         ["not locked"]),
    Case("life-offboarded-locked-unknown", c.P_ACCOUNT_LIFECYCLE,
         with_props(acct, person_state="offboarded", locked=U), ["cannot verify locked"]),
    Case("life-uid-root", c.P_ACCOUNT_LIFECYCLE, with_props(acct, uid=0), ["outside the range"]),
    Case("life-uid-nobody", c.P_ACCOUNT_LIFECYCLE, with_props(acct, uid=65534), ["outside the range"]),
    Case("life-uid-string", c.P_ACCOUNT_LIFECYCLE, with_props(acct, uid="1001"), ["must be an integer"]),
    Case("life-uid-bool", c.P_ACCOUNT_LIFECYCLE, with_props(acct, uid=True), ["must be an integer"]),
    Case("life-bad-username", c.P_ACCOUNT_LIFECYCLE, with_props(acct, username="Alice!"), ["not a valid login name"]),
    Case("life-bad-enums", c.P_ACCOUNT_LIFECYCLE, with_props(acct, ensure="gone", person_state="left", tier="root"),
         ["ensure must be one of", "person_state must be one of", "tier must be one of"]),
    Case("life-unknown-uid", c.P_ACCOUNT_LIFECYCLE, with_props(acct, uid=U), ["cannot verify uid"]),

    # ---- os-account-identity-unique (stack) ------------------------------------------------
    Case("id-same-person-two-hosts", c.P_ACCOUNT_IDENTITY,
         [b.account("alice", 1001, "ws1"), b.account("alice", 1001, "ws2"), b.account("bob", 1002, "ws1")], []),
    Case("id-two-uids-one-user", c.P_ACCOUNT_IDENTITY,
         [b.account("alice", 1001, "ws1"), b.account("alice", 1003, "ws2")],
         ["username 'alice' has 2 different uids [1001, 1003]"]),
    Case("id-shared-uid", c.P_ACCOUNT_IDENTITY,
         [b.account("alice", 1001, "ws1"), b.account("bob", 1001, "ws1")],
         ["uid 1001 is shared by usernames ['alice', 'bob']"]),
    Case("id-unknown-uid", c.P_ACCOUNT_IDENTITY,
         [b.account("alice", 1001, "ws1"), with_props(b.account("bob", 1002, "ws1"), uid=U)],
         ["cannot verify uid"]),
    Case("id-ignores-other-types", c.P_ACCOUNT_IDENTITY, [ds, dlg, pf], []),

    # ---- zfs-dataset-destroy-gate ----------------------------------------------------------
    Case("gate-present", c.P_DATASET_DESTROY_GATE, ds, []),
    Case("gate-archived", c.P_DATASET_DESTROY_GATE, with_props(ds, ensure="archived", person_state="offboarded"), []),
    Case("gate-purged-allowed", c.P_DATASET_DESTROY_GATE, with_props(ds, ensure="destroyed", person_state="purged"),
         [], {"allow_destroy": True}),
    Case("gate-purged-not-allowed", c.P_DATASET_DESTROY_GATE,
         with_props(ds, ensure="destroyed", person_state="purged"), ["does not allow it"]),
    Case("gate-purged-allow-false", c.P_DATASET_DESTROY_GATE,
         with_props(ds, ensure="destroyed", person_state="purged"), ["does not allow it"], {"allow_destroy": False}),
    Case("gate-offboarded-allowed", c.P_DATASET_DESTROY_GATE,
         with_props(ds, ensure="destroyed", person_state="offboarded"), ["the person is 'offboarded'"],
         {"allow_destroy": True}),
    Case("gate-active-not-allowed", c.P_DATASET_DESTROY_GATE,
         with_props(ds, ensure="destroyed", person_state="active"), ["the person is 'active'", "does not allow it"]),
    Case("gate-allow-not-bool", c.P_DATASET_DESTROY_GATE,
         with_props(ds, ensure="destroyed", person_state="purged"), ["does not allow it"], {"allow_destroy": "yes"}),
    Case("gate-ensure-unknown", c.P_DATASET_DESTROY_GATE, with_props(ds, ensure=U), ["cannot verify ensure"]),
    Case("gate-state-unknown", c.P_DATASET_DESTROY_GATE, with_props(ds, ensure="destroyed", person_state=U),
         ["cannot verify person_state"], {"allow_destroy": True}),
    Case("gate-ensure-invalid", c.P_DATASET_DESTROY_GATE, with_props(ds, ensure="deleted"), ["must be one of"]),

    # ---- zfs-dataset-quota-ceiling ---------------------------------------------------------
    Case("quota-within", c.P_DATASET_QUOTA, ds, []),
    Case("quota-admin-at-ceiling", c.P_DATASET_QUOTA, b.dataset(tier="admin", quota="2T"), []),
    Case("quota-power-user-1024G", c.P_DATASET_QUOTA, b.dataset(tier="power-user", quota="1024G"), []),
    Case("quota-lowercase-and-iB", c.P_DATASET_QUOTA, b.dataset(tier="namespace-owner", quota="500GiB"), []),
    Case("quota-over", c.P_DATASET_QUOTA, b.dataset(tier="power-user", quota="1.5T"),
         ["quota 1.5T above the power-user ceiling of 1T"]),
    Case("quota-namespace-owner-over", c.P_DATASET_QUOTA, b.dataset(tier="namespace-owner", quota="501G"),
         ["above the namespace-owner ceiling of 500G"]),
    Case("quota-none", c.P_DATASET_QUOTA, b.dataset(quota="none"), ["quota none above"]),
    Case("quota-zero-means-none", c.P_DATASET_QUOTA, b.dataset(quota="0"), ["quota 0 above"]),
    Case("quota-missing", c.P_DATASET_QUOTA, with_props(ds, properties={"compression": "zstd"}),
         ["has no properties.quota"]),
    Case("quota-garbage", c.P_DATASET_QUOTA, b.dataset(quota="lots"), ["is not a ZFS size"]),
    Case("quota-unknown-tier", c.P_DATASET_QUOTA, b.dataset(tier="guest"),
         ["no quota ceiling is configured for tier 'guest'"]),
    Case("quota-unknown-value", c.P_DATASET_QUOTA, b.dataset(quota=U), ["cannot verify properties.quota"]),
    Case("quota-config-lower", c.P_DATASET_QUOTA, b.dataset(tier="power-user", quota="200G"),
         ["above the power-user ceiling of 100G"],
         {"tier_quota_ceilings": {"admin": "2T", "power-user": "100G", "namespace-owner": "50G"}}),
    Case("quota-config-no-ceiling", c.P_DATASET_QUOTA, b.dataset(tier="admin", quota="none"), [],
         {"tier_quota_ceilings": {"admin": "none", "power-user": "1T", "namespace-owner": "500G"}}),
    Case("quota-config-invalid", c.P_DATASET_QUOTA, b.dataset(tier="power-user", quota="200G"),
         ["policy config tier_quota_ceilings.admin"],
         {"tier_quota_ceilings": {"admin": "big", "power-user": "1T"}}),
    Case("quota-destroyed-skipped", c.P_DATASET_QUOTA,
         with_props(ds, ensure="destroyed", properties={}), []),

    # ---- zfs-delegation-safe ---------------------------------------------------------------
    Case("dlg-default", c.P_DELEGATION, dlg, []),
    Case("dlg-destroy-on-home", c.P_DELEGATION, with_props(dlg, permissions=b.DEFAULT_LOCAL + ["destroy"]),
         ["'destroy' is delegated on 'rpool/crypt/home/alice' itself"]),
    Case("dlg-destroy-comma-form", c.P_DELEGATION, with_props(dlg, permissions=["create,destroy", "mount"]),
         ["'destroy' is delegated on"]),
    Case("dlg-everyone", c.P_DELEGATION, with_props(dlg, user="everyone"), ["is to 'everyone'"]),
    Case("dlg-Everyone", c.P_DELEGATION, with_props(dlg, user="Everyone"), ["is to 'Everyone'"]),
    Case("dlg-empty-user", c.P_DELEGATION, with_props(dlg, user=""), ["must be a username"]),
    Case("dlg-allow", c.P_DELEGATION, with_props(dlg, descendent_permissions=["destroy", "allow"]),
         ["'allow' is delegated on 'rpool/crypt/home/alice' (descendent_permissions)"]),
    Case("dlg-unallow", c.P_DELEGATION, with_props(dlg, permissions=["create", "unallow"]),
         ["'unallow' is delegated on 'rpool/crypt/home/alice' (permissions)"]),
    Case("dlg-permission-set", c.P_DELEGATION, with_props(dlg, permissions=["@homeperms"]), ["permission set '@homeperms'"]),
    Case("dlg-not-a-list", c.P_DELEGATION, with_props(dlg, permissions="create"), ["must be a list of permission names"]),
    Case("dlg-unknown-permission", c.P_DELEGATION, with_props(dlg, permissions=["create", "mount", U]),
         ["cannot verify permissions[2]"]),
    Case("dlg-unknown-user", c.P_DELEGATION, with_props(dlg, user=U), ["cannot verify user"]),

    # ---- zfs-delegation-own-home (stack) ---------------------------------------------------
    Case("own-home", c.P_DELEGATION_OWN_HOME, [ds, dlg, b.dataset("bob"), b.delegation("bob")], []),
    Case("own-home-other-user", c.P_DELEGATION_OWN_HOME,
         [ds, b.dataset("bob"), with_props(dlg, dataset="rpool/crypt/home/bob")],
         ["gives 'alice' rights on 'rpool/crypt/home/bob', owned by ['bob']"]),
    Case("own-home-parent", c.P_DELEGATION_OWN_HOME, [ds, with_props(dlg, dataset="rpool/crypt/home")],
         ["targets 'rpool/crypt/home' on host 'ws1', which is not a home dataset"]),
    Case("own-home-other-host", c.P_DELEGATION_OWN_HOME, [ds, b.delegation("alice", "ws3")],
         ["on host 'ws3', which is not a home dataset"]),
    Case("own-home-unknown", c.P_DELEGATION_OWN_HOME, [ds, with_props(dlg, dataset=U)], ["cannot verify dataset"]),

    # ---- bird-peer-file-limits-rpki --------------------------------------------------------
    Case("peer-ok", c.P_BIRD_PEER_FILE, pf, []),
    *[Case(f"peer-{key}-{label}", c.P_BIRD_PEER_FILE, with_props(pf, **{key: value}),
           [f"{key} must be an integer > 0"])
      for key in c.PEER_LIMITS for label, value in (("zero", 0), ("negative", -5), ("string", "1000"), ("bool", True))],
    Case("peer-limit-missing", c.P_BIRD_PEER_FILE, with_props(pf, drop=["receive_limit_v6"]),
         ["receive_limit_v6 must be an integer > 0, got None"]),
    Case("peer-rpki-off", c.P_BIRD_PEER_FILE, with_props(pf, rpki=False), ["rpki must be true"]),
    Case("peer-rpki-missing", c.P_BIRD_PEER_FILE, with_props(pf, drop=["rpki"]), ["rpki must be true"]),
    Case("peer-no-base", c.P_BIRD_PEER_FILE, with_props(pf, base_config_id=""), ["base_config_id must name"]),
    Case("peer-base-unknown", c.P_BIRD_PEER_FILE, with_props(pf, base_config_id=U), ["cannot verify base_config_id"]),
    Case("peer-bad-asn", c.P_BIRD_PEER_FILE, _props(pf, peer={"asn": 0}), ["peer.asn must be an AS number"]),
    Case("peer-no-rs-name", c.P_BIRD_PEER_FILE, with_props(pf, route_server={"address": "x"}),
         ["route_server.name must name the route server"]),

    # ---- bird-seeded-peer-files / bird-seeds-match-peer-files ------------------------------
    Case("seeds-ok", c.P_BIRD_SEEDS, b.server_config("rs1", seed_peers=[b.seed(pf)]), []),
    Case("seeds-none", c.P_BIRD_SEEDS, b.server_config("rs1"), []),
    Case("seeds-rpki-off", c.P_BIRD_SEEDS, b.server_config("rs1", seed_peers=[{**b.seed(pf), "rpki": False}]),
         ["seed_peers[0] (AS64512): rpki must be true"]),
    Case("seeds-limit-zero", c.P_BIRD_SEEDS, b.server_config("rs1", seed_peers=[{**b.seed(pf), "import_limit_v6": 0}]),
         ["seed_peers[0] (AS64512): import_limit_v6 must be an integer > 0"]),
    Case("seeds-not-a-list", c.P_BIRD_SEEDS, b.server_config("rs1", seed_peers="as64512"), ["must be a list"]),
    Case("seeds-unknown", c.P_BIRD_SEEDS, b.server_config("rs1", seed_peers=[{**b.seed(pf), "rpki": U}]),
         ["cannot verify seed_peers[0].rpki"]),
    Case("seeds-match", c.P_BIRD_SEEDS_MATCH, [b.server_config("rs1", seed_peers=[b.seed(pf)]), pf], []),
    Case("seeds-without-peer-file", c.P_BIRD_SEEDS_MATCH, [b.server_config("rs1", seed_peers=[b.seed(b.peer_file(64999))]), pf],
         ["seeds AS64999 (seed_peers[0]), but the stack has no"]),
    Case("seeds-other-route-server", c.P_BIRD_SEEDS_MATCH,
         [b.server_config("rs2", seed_peers=[b.seed(pf)]), pf], ["route server 'rs2' seeds AS64512"]),
    Case("seeds-differ", c.P_BIRD_SEEDS_MATCH,
         [b.server_config("rs1", seed_peers=[{**b.seed(pf), "import_limit_v4": 999999}]), pf],
         ["unlike its pulumi-python:dynamic/bird:PeerFile (import_limit_v4 differ)"]),

    # ---- bird-route-server-rpki (stack) ----------------------------------------------------
    Case("rs-ok", c.P_BIRD_SERVER_RPKI, [b.server_config("rs1"), pf, b.peer_file(64513)], []),
    Case("rs-missing", c.P_BIRD_SERVER_RPKI, [b.server_config("rs1"), pf, b.peer_file(64512, "rs3")],
         ["is for route server 'rs3', which has no pulumi-python:dynamic/bird:ServerConfig"]),
    Case("rs-static-roas", c.P_BIRD_SERVER_RPKI,
         [b.server_config("rs1", rpki={"rtr": None, "static_roas": [{"prefix": "192.0.2.0/24", "max_length": 24,
                                                                     "asn": 64512}]}), pf], []),
    Case("rs-rpki-true", c.P_BIRD_SERVER_RPKI, [b.server_config("rs1", rpki=True), pf], []),
    Case("rs-rpki-off", c.P_BIRD_SERVER_RPKI, [b.server_config("rs1", rpki=False), pf],
         ["route server 'rs1' has RPKI off (rpki=False)"]),
    Case("rs-rpki-empty-roas", c.P_BIRD_SERVER_RPKI, [b.server_config("rs1", rpki={"rtr": None, "static_roas": []}), pf],
         ["route server 'rs1' has RPKI off"]),
    Case("rs-rpki-missing", c.P_BIRD_SERVER_RPKI, [b.server_config("rs1", rpki=None), pf], ["has RPKI off"]),
    Case("rs-rpki-unknown", c.P_BIRD_SERVER_RPKI, [b.server_config("rs1", rpki=U), pf], ["cannot verify rpki"]),
    Case("rs-rtr-unknown", c.P_BIRD_SERVER_RPKI, [b.server_config("rs1", rpki={"rtr": [U], "static_roas": None}), pf],
         ["cannot verify rpki.rtr[0]"]),
    Case("rs-base-config-mismatch", c.P_BIRD_SERVER_RPKI,
         [b.server_config("rs1"), b.server_config("rs2"), with_props(pf, base_config_id="rs2")],
         ["has base_config_id='rs2', but the base config of route server 'rs1' is 'rs1'"]),

    # ---- zerotier-member-authorization -----------------------------------------------------
    Case("zt-active", c.P_ZEROTIER_MEMBER, zt, []),
    Case("zt-deauthorized-offboarded", c.P_ZEROTIER_MEMBER,
         with_props(zt, authorized=False, peer_state="offboarded", asn=None), []),
    Case("zt-authorized-suspended", c.P_ZEROTIER_MEMBER, with_props(zt, peer_state="suspended"),
         ["the peer is 'suspended', not 'active'"]),
    Case("zt-authorized-no-asn", c.P_ZEROTIER_MEMBER, with_props(zt, asn=None), ["without a roster ASN"]),
    Case("zt-authorized-string", c.P_ZEROTIER_MEMBER, with_props(zt, authorized="yes"), ["must be a boolean"]),
    Case("zt-authorized-unknown", c.P_ZEROTIER_MEMBER, with_props(zt, authorized=U), ["cannot verify authorized"]),
    Case("zt-state-unknown", c.P_ZEROTIER_MEMBER, with_props(zt, peer_state=U), ["cannot verify peer_state"]),

    # ---- k8s-readonly-role-no-secrets ------------------------------------------------------
    Case("role-ok", c.P_K8S_READONLY_ROLE, role, []),
    Case("role-unlabelled-may-grant-secrets", c.P_K8S_READONLY_ROLE,
         with_props(role, metadata={"name": "other"},
                    rules=[{"apiGroups": [""], "resources": ["secrets"], "verbs": ["*"]}]), []),
    Case("role-secrets", c.P_K8S_READONLY_ROLE,
         b.readonly_role([{"apiGroups": [""], "resources": ["pods", "secrets"], "verbs": ["get"]}]),
         ["grants Secrets (resource 'secrets'"]),
    Case("role-core-wildcard", c.P_K8S_READONLY_ROLE,
         b.readonly_role([{"apiGroups": [""], "resources": ["*"], "verbs": ["list"]}]),
         ["wildcard resource '*' in the core API group"]),
    Case("role-all-groups-wildcard", c.P_K8S_READONLY_ROLE,
         b.readonly_role([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["get"]}]), ["wildcard resource '*'"]),
    Case("role-all-groups-secrets", c.P_K8S_READONLY_ROLE,
         b.readonly_role([{"apiGroups": ["*"], "resources": ["secrets"], "verbs": ["watch"]}]),
         ["grants Secrets (resource 'secrets'"]),
    Case("role-write-verbs", c.P_K8S_READONLY_ROLE,
         b.readonly_role([{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "create", "patch"]}]),
         ["grants verbs ['create', 'patch']"]),
    Case("role-star-verb", c.P_K8S_READONLY_ROLE,
         b.readonly_role([{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]}]),
         ["grants verbs ['*']"]),
    Case("role-nonresource-wildcard", c.P_K8S_READONLY_ROLE,
         b.readonly_role([{"nonResourceURLs": ["/metrics", "/*"], "verbs": ["get"]}]),
         ["wildcard nonResourceURLs ['/*']"]),
    Case("role-aggregation", c.P_K8S_READONLY_ROLE,
         with_props(role, aggregationRule={"clusterRoleSelectors": [{"matchLabels": {"x": "y"}}]}),
         ["aggregationRule"]),
    Case("role-rules-unknown", c.P_K8S_READONLY_ROLE, with_props(role, rules=U), ["cannot verify rules"]),
    Case("role-label-unknown", c.P_K8S_READONLY_ROLE,
         with_props(role, metadata={"name": "x", "labels": {c.K8S_LABEL_ROLE: U}}),
         ["cannot verify metadata.labels[keystone.dev/role]"]),

    # ---- k8s-binding-tier ------------------------------------------------------------------
    Case("bind-admin-cluster-admin", c.P_K8S_BINDING, crb, []),
    Case("bind-power-user-readonly", c.P_K8S_BINDING,
         b.binding(tier="power-user", person="bob", role="keystone-power-user-readonly"), []),
    Case("bind-namespace-owner-rolebinding", c.P_K8S_BINDING,
         b.binding("RoleBinding", tier="namespace-owner", person="carol", role="admin"), []),
    Case("bind-power-user-cluster-admin", c.P_K8S_BINDING, b.binding(tier="power-user", person="bob"),
         ["only tier 'admin' may be cluster admin"]),
    Case("bind-no-tier-cluster-admin", c.P_K8S_BINDING,
         with_props(crb, metadata={"name": "x", "labels": {c.K8S_LABEL_PERSON: "alice"}}),
         ["label keystone.dev/tier must be one of", "only tier 'admin' may be cluster admin"]),
    Case("bind-no-person", c.P_K8S_BINDING, with_props(crb, metadata={"name": "x", "labels": {c.K8S_LABEL_TIER: "admin"}}),
         ["label keystone.dev/person must name the person"]),
    Case("bind-namespace-owner-clusterwide", c.P_K8S_BINDING,
         b.binding(tier="namespace-owner", person="carol", role="view"),
         ["namespace owners are bound per namespace"]),
    Case("bind-everybody", c.P_K8S_BINDING,
         with_props(crb, subjects=[{"kind": "Group", "name": "system:authenticated",
                                    "apiGroup": "rbac.authorization.k8s.io"}]),
         ["never grants a role to everybody"]),
    Case("bind-roleref-unknown", c.P_K8S_BINDING,
         with_props(crb, roleRef={"kind": "ClusterRole", "name": U, "apiGroup": "rbac.authorization.k8s.io"}),
         ["cannot verify roleRef.name"]),

    # ---- authentik-gate-group (stack, advisory) --------------------------------------------
    Case("gate-group-ok", c.P_AUTHENTIK_GATE,
         [b.account("alice", 1001, "ws1"), b.account("alice", 1001, "ws2"), b.account("bob", 1002, "ws1"),
          b.group(), b.member("alice"), b.member("bob")], []),
    Case("gate-group-offboarded-not-counted", c.P_AUTHENTIK_GATE,
         [b.account("alice", 1001), b.account("bob", 1002, person_state="offboarded"), b.group(), b.member("alice")],
         []),
    Case("gate-group-custom-name", c.P_AUTHENTIK_GATE, [b.account("alice"), b.group("sso"), b.member("alice", "sso")],
         [], {"gate_group": "sso"}),
    Case("gate-group-missing", c.P_AUTHENTIK_GATE, [b.account("alice"), b.group("staff"), b.member("alice", "staff")],
         ["no pulumi-python:dynamic/authentik:Group named 'keystone'"]),
    Case("gate-group-authentik-off", c.P_AUTHENTIK_GATE, [b.account("alice"), b.account("bob", 1002)], []),
    Case("gate-group-member-missing", c.P_AUTHENTIK_GATE, [b.account("alice"), b.account("bob", 1002), b.group(),
                                                            b.member("alice")],
         ["gate group 'keystone': bob active but not in the gate group"]),
    Case("gate-group-offboarded-member", c.P_AUTHENTIK_GATE,
         [b.account("alice"), b.account("bob", 1002, person_state="offboarded"), b.group(), b.member("alice"),
          b.member("bob")],
         ["gate group 'keystone' has people in, but not active: bob"]),
    Case("gate-group-member-twice", c.P_AUTHENTIK_GATE, [b.account("alice"), b.group(), b.member("alice"),
                                                          b.member("alice")],
         ["gate group 'keystone' has people in twice: alice"]),
    Case("gate-group-wrong-group", c.P_AUTHENTIK_GATE, [b.account("alice"), b.group(), b.member("alice", "staff")],
         ["alice is made a member of 'staff', not of the gate group 'keystone'",
          "gate group 'keystone': alice active but not in the gate group"]),
    Case("gate-group-duplicate", c.P_AUTHENTIK_GATE, [b.account("alice"), b.group(), b.group(), b.member("alice")],
         ["2 Authentik groups are named 'keystone'"]),
    Case("gate-group-person-unknown", c.P_AUTHENTIK_GATE, [b.account("alice"), b.group(), b.member(U)],
         ["cannot verify person", "gate group 'keystone': alice active but not in the gate group"]),

    # ---- workstation ------------------------------------------------------------------------
    Case("ws-ports-distinct", c.P_WS_PORT_UNIQUE,
         [b.instance("alice", 20000, "ws1"), b.instance("bob", 20001, "ws1"), b.instance("bob", 20000, "ws2"),
          b.instance("alice", 20000, "ws1", service="other")], []),
    Case("ws-port-shared", c.P_WS_PORT_UNIQUE,
         [b.instance("alice", 20000, "ws1"), b.instance("bob", 20000, "ws1", person_state="offboarded", enabled=False)],
         ["host ws1: port 20000 is given to 2 people (alice, bob)"]),
    Case("ws-port-unknown", c.P_WS_PORT_UNIQUE, [b.instance("alice", U, "ws1")], ["cannot verify port"]),
    Case("ws-instance-active", c.P_WS_INSTANCE_ACTIVE, b.instance(), []),
    Case("ws-instance-offboarded-disabled", c.P_WS_INSTANCE_ACTIVE,
         b.instance(person_state="offboarded", enabled=False), []),
    Case("ws-instance-offboarded-enabled", c.P_WS_INSTANCE_ACTIVE, b.instance(person_state="offboarded"),
         ["the instance is enabled but the person is 'offboarded'"]),
    Case("ws-instance-purged-present", c.P_WS_INSTANCE_ACTIVE, b.instance(person_state="purged", enabled=False),
         ["a purge removes it"]),
    Case("ws-seed-private-ok", c.P_WS_SEED_PRIVATE, b.seeded_file(), []),
    Case("ws-map-public-ok", c.P_WS_SEED_PRIVATE,
         b.seeded_file(seed=False, as_owner=False, owner=0, private=False, mode="0644"), []),
    Case("ws-seed-private-world-readable", c.P_WS_SEED_PRIVATE, b.seeded_file(mode="0604"),
         ["is private but its mode 0604 lets others read or write it"]),
    Case("ws-seed-as-root", c.P_WS_SEED_PRIVATE, b.seeded_file(as_owner=False),
         ["must be written as its owner"]),
    # ---- host base ----------------------------------------------------------------------------
    Case("base-budget-everyone", c.P_BASE_BUDGET, [b.account(), b.budget_file(1001)], []),
    Case("base-no-budgets-in-the-stack", c.P_BASE_BUDGET, [b.account()], []),
    Case("base-budget-missing", c.P_BASE_BUDGET,
         [b.account(), b.account("bob", 1002), b.budget_file(1001), b.budget_file(1002, "ws2")],
         ["host ws1: bob (uid 1002) is active without a budget"]),
    Case("base-budget-offboarded-needs-none", c.P_BASE_BUDGET,
         [b.budget_file(1001), b.account(), b.account("bob", 1002, person_state="offboarded")], []),
    Case("base-backup-everyone", c.P_BASE_BACKUP, [b.account(), b.host_base(people=["alice"])], []),
    Case("base-no-backups-in-the-stack", c.P_BASE_BACKUP, [b.account(), b.host_base(people=None)], []),
    Case("base-backup-person-missing", c.P_BASE_BACKUP,
         [b.account(), b.account("bob", 1002), b.host_base(people=["alice"])],
         ["host ws1: the home of bob has no backup schedule"]),
    Case("base-backup-host-missing", c.P_BASE_BACKUP,
         [b.account(), b.account(host="ws2"), b.host_base(people=["alice"])],
         ["host ws2: the home of alice has no backup schedule"]),
]


def _run(case: Case, builder: str) -> tuple[list[str], list[str | None]]:
    policy = BY_NAME[case.policy]
    resource_builder, stack_builder = b.ARG_BUILDERS[builder]
    messages: list[str] = []
    urns: list[str | None] = []

    def report_violation(message: str, urn: str | None = None) -> None:
        messages.append(message)
        urns.append(urn)

    if isinstance(policy, StackValidationPolicy):
        args = stack_builder(list(case.input), case.config)
    else:
        args = resource_builder(case.input, case.config)
    assert policy.validate(args, report_violation) is None
    return messages, urns


@pytest.mark.parametrize("builder", sorted(b.ARG_BUILDERS))
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_rule(case: Case, builder: str) -> None:
    messages, urns = _run(case, builder)
    assert len(messages) == len(case.expect), messages
    for fragment, message in zip(case.expect, messages):
        assert fragment in message, f"{fragment!r} not in {message!r}"
    if isinstance(BY_NAME[case.policy], StackValidationPolicy):
        # stack violations name the resource at fault, except "the group is missing"
        assert all(u for u, m in zip(urns, messages) if "no pulumi-python:dynamic/authentik" not in m), urns


def test_plaintext_password_never_echoed() -> None:
    messages, _ = _run(Case("x", c.P_ACCOUNT_PASSWORD, with_props(acct, password_hash="hunter2-secret"), ["x"]),
                       "engine")
    assert messages and all("hunter2" not in m for m in messages)


def test_every_policy_has_a_passing_and_a_failing_case() -> None:
    passing = {case.policy for case in CASES if not case.expect}
    failing = {case.policy for case in CASES if case.expect}
    names = {p.name for p in POLICIES}
    assert names - passing == set(), "policies without a passing case"
    assert names - failing == set(), "policies without a failing case"


def test_every_case_is_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))


def test_malformed_inputs_are_reported_not_crashed_on() -> None:
    messages, _ = _run(Case("x", c.P_K8S_BINDING, b.binding(metadata={"labels": ["x"]}), []), "engine")
    assert messages[0].startswith("metadata.labels must be an object")
    messages, _ = _run(Case("x", c.P_ACCOUNT_LIFECYCLE, with_props(acct, tier=["admin"]), []), "engine")
    assert messages == ["tier must be one of ['admin', 'namespace-owner', 'power-user'], got ['admin']."]
    messages, _ = _run(Case("x", c.P_BIRD_SERVER_RPKI, [b.peer_file(rs={"x": 1})], []), "engine")
    assert len(messages) == 1 and "which has no" in messages[0]


def test_an_unexpected_error_fails_closed() -> None:
    from policy.rules._support import fail_closed

    @fail_closed
    def broken(args, report_violation):
        raise KeyError("boom")

    messages: list[str] = []
    broken(b.plain_resource_args(acct), lambda m, urn=None: messages.append(m))
    assert messages == ["the policy could not evaluate this input (KeyError: 'boom'); failing closed."]


def test_an_unknown_read_straight_from_the_proxy_fails_closed() -> None:
    from policy.rules._support import fail_closed

    @fail_closed
    def reads_proxy(args, report_violation):
        args.props["uid"]  # raises UnknownValueError through pulumi_policy's proxy

    messages: list[str] = []
    reads_proxy(b.ARG_BUILDERS["engine"][0](with_props(acct, uid=U)), lambda m, urn=None: messages.append(m))
    assert len(messages) == 1 and messages[0].startswith("cannot verify uid")


def test_registered_callables_are_the_rule_functions() -> None:
    from policy.rules import accounts, authentik, base, kubernetes, peering, workstation, zfs

    functions = {getattr(m, n) for m in (accounts, authentik, base, kubernetes, peering, workstation, zfs)
                 for n in dir(m)
                 if n.startswith("validate_")}
    for policy in POLICIES:
        attr = ("_ResourceValidationPolicy__validate" if isinstance(policy, ResourceValidationPolicy)
                else "_StackValidationPolicy__validate")
        assert getattr(policy, attr) in functions, policy.name
