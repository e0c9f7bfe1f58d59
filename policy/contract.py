"""The program's contract as the policies read it: resource type tokens, property names, allowed
values, labels, policy names and config defaults.

This module is named ``contract`` and not ``types`` on purpose: the Pulumi CLI starts a Python
policy pack as ``python -u -m pulumi.policy <engine> .`` with the pack directory as working
directory, so ``policy/`` is ``sys.path[0]`` and a ``policy/types.py`` would shadow the standard
library's ``types`` (``runpy`` itself fails to import). ``tests/policy/test_pack_boot.py`` starts
the pack exactly that way.

Only constants and tiny pure helpers live here; it imports nothing from the rules.
"""
from __future__ import annotations

from typing import Final

# ---------------------------------------------------------------------------------------------
# Unknown values
# ---------------------------------------------------------------------------------------------

#: What a caller of ``policy.offline`` puts in ``props`` for a value that is not known during
#: preview. It is the engine's own wire sentinel for an unknown value (``pulumi.runtime.rpc.UNKNOWN``
#: == ``pulumi_policy.proxy.UNKNOWN_STRING_VALUE``), so raw inputs captured under
#: ``pulumi.runtime.set_mocks`` with ``preview=True`` can be passed through unchanged, and
#: pulumi_policy's own ``unknown_checking_proxy`` recognises it exactly as it does in the engine.
UNKNOWN: Final = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

#: Every sentinel the engine uses for an unknown value (pulumi_policy.proxy UNKNOWN_*_VALUE).
UNKNOWN_SENTINELS: Final = frozenset({
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string (== UNKNOWN)
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
    "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
    "e48ece36-62e2-4504-bad9-02848725956a",  # archive
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
})

# ---------------------------------------------------------------------------------------------
# Resource type tokens (docs/design.md, "Persisted API")
# ---------------------------------------------------------------------------------------------

OS_ACCOUNT: Final = "pulumi-python:dynamic/os:Account"
ZFS_DATASET: Final = "pulumi-python:dynamic/zfs:Dataset"
ZFS_DELEGATION: Final = "pulumi-python:dynamic/zfs:Delegation"
BIRD_PEER_FILE: Final = "pulumi-python:dynamic/bird:PeerFile"
BIRD_SERVER_CONFIG: Final = "pulumi-python:dynamic/bird:ServerConfig"
ZEROTIER_MEMBER: Final = "pulumi-python:dynamic/zerotier:Member"
K8S_CLUSTER_ROLE: Final = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
K8S_CLUSTER_ROLE_BINDING: Final = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
K8S_ROLE_BINDING: Final = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
AUTHENTIK_GROUP: Final = "pulumi-python:dynamic/authentik:Group"
AUTHENTIK_MEMBER: Final = "pulumi-python:dynamic/authentik:GroupMember"
WORKSTATION_INSTANCE: Final = "pulumi-python:dynamic/workstation:ServiceInstance"
WORKSTATION_WORKSPACE: Final = "pulumi-python:dynamic/workstation:Workspace"
HOST_FILE: Final = "pulumi-python:dynamic/host:ManagedFile"
HOST_BASE: Final = "pulumi-python:dynamic/host:Base"

# ---------------------------------------------------------------------------------------------
# Property names and values
# ---------------------------------------------------------------------------------------------

# workstation:ServiceInstance (providers/workstation/plan.py InstanceInputs)
INSTANCE_HOST: Final = "host"                   # dict, at least {"name": ...}
INSTANCE_USER: Final = "user"
INSTANCE_SERVICE: Final = "service"
INSTANCE_PORT: Final = "port"                   # int
INSTANCE_ENABLED: Final = "enabled"             # bool: enabled and running
INSTANCE_ENSURE: Final = "ensure"               # "present" | "absent"
INSTANCE_PERSON_STATE: Final = "person_state"

# host:ManagedFile (providers/hostfile/plan.py FileInputs)
FILE_PATH: Final = "path"
FILE_MODE: Final = "mode"                       # octal string, "0600"
FILE_SEED: Final = "seed"                       # bool: only if absent (a file in a home)
FILE_AS_OWNER: Final = "as_owner"               # bool: written as the owner
FILE_OWNER: Final = "owner"                     # uid
FILE_PRIVATE: Final = "private"                 # bool: the settings' mode has no bits for others

#: A person's budget: a host:ManagedFile at this path (providers/hostbase/budget.py), per uid.
BUDGET_DROPIN: Final = "/etc/systemd/system/user-{uid}.slice.d/keystone.conf"

# host:Base (providers/hostbase/plan.py BaseInputs)
BASE_HOST: Final = "host"                       # dict, at least {"name": ...}
BASE_TIMER: Final = "timer"                     # the backup timer unit, or None
BASE_BACKUP: Final = "backup"                   # {home_parent, backup_parent, max_age_hours, people} or None

# os:Account
ACCOUNT_HOST: Final = "host"                    # dict, at least {"name": ...}
ACCOUNT_USERNAME: Final = "username"
ACCOUNT_UID: Final = "uid"                      # int
ACCOUNT_GROUPS: Final = "groups"
ACCOUNT_SHELL: Final = "shell"
ACCOUNT_PASSWORD_HASH: Final = "password_hash"  # None or "$6$..."/"$y$..."; additional_secret_outputs
ACCOUNT_LOCKED: Final = "locked"                # bool
ACCOUNT_EXPIRED: Final = "expired"              # bool
ACCOUNT_ENSURE: Final = "ensure"                # "present" | "absent"
ACCOUNT_PERSON_STATE: Final = "person_state"
ACCOUNT_TIER: Final = "tier"

ACCOUNT_ENSURE_VALUES: Final = frozenset({"present", "absent"})
#: crypt(5) prefixes accepted for password hashes: SHA-512 crypt and yescrypt.
PASSWORD_HASH_PREFIXES: Final = ("$6$", "$y$")
#: uids below this are system accounts (Debian UID_MIN); 65534 is nobody.
UID_MIN: Final = 1000
UID_FORBIDDEN: Final = frozenset({65534, 4294967295})
UID_MAX: Final = 4294967294

PERSON_ACTIVE: Final = "active"
PERSON_OFFBOARDED: Final = "offboarded"
PERSON_PURGED: Final = "purged"
PERSON_STATES: Final = frozenset({PERSON_ACTIVE, PERSON_OFFBOARDED, PERSON_PURGED})

TIER_ADMIN: Final = "admin"
TIER_POWER_USER: Final = "power-user"
TIER_NAMESPACE_OWNER: Final = "namespace-owner"
TIERS: Final = frozenset({TIER_ADMIN, TIER_POWER_USER, TIER_NAMESPACE_OWNER})

# zfs:Dataset
DATASET_HOST: Final = "host"
DATASET_NAME: Final = "dataset"                 # e.g. rpool/crypt/home/alice
DATASET_OWNER: Final = "owner"
DATASET_PROPERTIES: Final = "properties"        # {quota, compression, recordsize, atime}: strings
DATASET_QUOTA: Final = "quota"                  # "50G", "1.5T", "none"
DATASET_ENSURE: Final = "ensure"                # "present" | "archived" | "destroyed"
DATASET_PERSON_STATE: Final = "person_state"
DATASET_TIER: Final = "tier"
DATASET_ENSURE_VALUES: Final = frozenset({"present", "archived", "destroyed"})
DATASET_DESTROYED: Final = "destroyed"

# zfs:Delegation
DELEGATION_HOST: Final = "host"
DELEGATION_DATASET: Final = "dataset"
DELEGATION_USER: Final = "user"
DELEGATION_PERMISSIONS: Final = "permissions"                      # local+descendent (`zfs allow -u`)
DELEGATION_DESCENDENT_PERMISSIONS: Final = "descendent_permissions"  # descendents only (`zfs allow -d`)
#: Never delegated to anyone: "destroy" on the home itself; the right to (un)delegate.
DELEGATION_NEVER_ON_HOME: Final = frozenset({"destroy"})
DELEGATION_NEVER: Final = frozenset({"allow", "unallow"})
DELEGATION_FORBIDDEN_USERS: Final = frozenset({"everyone"})

# bird:PeerFile / bird:ServerConfig
PEER_ROUTE_SERVER: Final = "route_server"       # dict with "name"
PEER_PEER: Final = "peer"                       # dict with "asn"
PEER_LIMITS: Final = ("import_limit_v4", "import_limit_v6", "receive_limit_v4", "receive_limit_v6")
PEER_RPKI: Final = "rpki"
PEER_BASE_CONFIG_ID: Final = "base_config_id"
SERVER_ROUTE_SERVER: Final = "route_server"     # dict with "name"; the ServerConfig's id is that name
#: providers.bird RpkiSource: {"rtr": [{"host", "port"}] | None, "static_roas": [...] | None}. RPKI is
#: enabled when one of the two lists is non-empty (``true`` is accepted too).
SERVER_RPKI: Final = "rpki"
SERVER_RPKI_SOURCES: Final = ("rtr", "static_roas")
#: Peer files a ServerConfig lays down when it is created: each a PeerFile's inputs less the route server.
SERVER_SEEDS: Final = "seed_peers"
SEED_FIELDS: Final = (PEER_PEER, *PEER_LIMITS, PEER_RPKI)
ASN_MAX: Final = 4294967295

# zerotier:Member
ZT_NETWORK_ID: Final = "network_id"
ZT_MEMBER_ID: Final = "member_id"
ZT_AUTHORIZED: Final = "authorized"
ZT_ASN: Final = "asn"
ZT_PEER_STATE: Final = "peer_state"
PEER_STATE_ACTIVE: Final = "active"

# Kubernetes (property names are the engine's camelCase names)
K8S_LABEL_TIER: Final = "keystone.dev/tier"
K8S_LABEL_PERSON: Final = "keystone.dev/person"
K8S_LABEL_ROLE: Final = "keystone.dev/role"
K8S_READONLY_ROLE_LABEL_VALUE: Final = "power-user-readonly"
K8S_READONLY_VERBS: Final = frozenset({"get", "list", "watch"})
K8S_CLUSTER_ADMIN: Final = "cluster-admin"
#: Built-in groups/users that mean "everybody": never a binding subject.
K8S_FORBIDDEN_SUBJECTS: Final = frozenset({
    ("Group", "system:authenticated"),
    ("Group", "system:unauthenticated"),
    ("User", "system:anonymous"),
})

# Authentik
AUTHENTIK_GROUP_NAME: Final = "name"
AUTHENTIK_MEMBER_GROUP: Final = "group"
AUTHENTIK_MEMBER_PERSON: Final = "person"

# ---------------------------------------------------------------------------------------------
# Policy names (persisted: policy-pack config and CI logs refer to them)
# ---------------------------------------------------------------------------------------------

POLICY_PACK_NAME: Final = "keystone"

P_ACCOUNT_PASSWORD: Final = "os-account-password-hash"
P_ACCOUNT_LIFECYCLE: Final = "os-account-lifecycle"
P_ACCOUNT_IDENTITY: Final = "os-account-identity-unique"
P_DATASET_DESTROY_GATE: Final = "zfs-dataset-destroy-gate"
P_DATASET_QUOTA: Final = "zfs-dataset-quota-ceiling"
P_DELEGATION: Final = "zfs-delegation-safe"
P_DELEGATION_OWN_HOME: Final = "zfs-delegation-own-home"
P_BIRD_PEER_FILE: Final = "bird-peer-file-limits-rpki"
P_BIRD_SERVER_RPKI: Final = "bird-route-server-rpki"
P_BIRD_SEEDS: Final = "bird-seeded-peer-files"
P_BIRD_SEEDS_MATCH: Final = "bird-seeds-match-peer-files"
P_ZEROTIER_MEMBER: Final = "zerotier-member-authorization"
P_K8S_READONLY_ROLE: Final = "k8s-readonly-role-no-secrets"
P_K8S_BINDING: Final = "k8s-binding-tier"
P_AUTHENTIK_GATE: Final = "authentik-gate-group"
P_WS_PORT_UNIQUE: Final = "workstation-port-unique"
P_WS_INSTANCE_ACTIVE: Final = "workstation-instance-active-only"
P_WS_SEED_PRIVATE: Final = "host-file-seed-private"
P_BASE_BUDGET: Final = "base-budget-per-active-person"
P_BASE_BACKUP: Final = "base-backup-per-home"

# ---------------------------------------------------------------------------------------------
# Policy config (names and defaults; the schemas live with the rules)
# ---------------------------------------------------------------------------------------------

CFG_TIER_QUOTA_CEILINGS: Final = "tier_quota_ceilings"
DEFAULT_TIER_QUOTA_CEILINGS: Final = {
    TIER_ADMIN: "2T",
    TIER_POWER_USER: "1T",
    TIER_NAMESPACE_OWNER: "500G",
}
CFG_ALLOW_DESTROY: Final = "allow_destroy"
DEFAULT_ALLOW_DESTROY: Final = False
CFG_GATE_GROUP: Final = "gate_group"
DEFAULT_GATE_GROUP: Final = "keystone"
