"""Hostile and mistaken roster values, one per case (shared by the roster unit tests and the e2e
pipeline).

Every case edits one line of a valid base roster (``BASE``) and names the issue that must appear:
the dotted field path, a fragment of its message or hint, and the text of the line it must point at
(by default the first line of the replacement).
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from roster import RosterContext
from tests.harness import keys

CTX = RosterContext(min_uid=1000, hosts=["ws1", "ws2"], peering_lans=["10.99.0.0/24", "fd00:99::/64"])

BASE = f"""\
people:
  alice:
    name: Alice Example
    uid: 20001
    tier: admin
    groups: [docker, video]
    shell: /bin/bash
    ssh_keys:
      - {keys.ALICE_LAPTOP}
    password_hash: null
    zfs: {{quota: 50G, compression: lz4, recordsize: 128K, atime: "off"}}
  carol:
    name: Carol Ng
    uid: 20003
    tier: namespace-owner
    namespaces: [team-a]
    hosts: [ws1]
peers:
  213001:
    name: Example Networks
    contact: noc@example.net
    zerotier_member: "a1b2c3d4e5"
    addresses: [10.99.0.11, "fd00:99::11"]
    max_prefixes: {{ipv4: 100, ipv6: 50}}
    as_set: AS-EXAMPLE
    prefixes: [203.0.113.0/24]
  213002:
    name: Second Peer
    contact: noc@second.example
    zerotier_member: "0f1e2d3c4b"
    addresses: [10.99.0.12]
    max_prefixes: {{ipv4: 10, ipv6: 10}}
"""


@dataclass(frozen=True)
class Case:
    id: str
    old: str
    """A whole line of BASE (unique) to replace."""
    new: str
    """Its replacement (may be several lines, or empty to delete it)."""
    path: str
    """The dotted field path the issue must name."""
    fragment: str
    """Text that must appear in the issue's message or hint."""
    anchor: str | None = None
    """Start of the line the issue must point at, in the edited file; default: the replacement's first line."""


def case(id: str, old: str, new: str, path: str, fragment: str, anchor: str | None = None):
    return pytest.param(Case(id, old, new, path, fragment, anchor), id=id)


ALICE_KEY_LINE = f"      - {keys.ALICE_LAPTOP}"
Q = '"'  # a double quote, for YAML strings with escapes

CASES = [
    # --- usernames (the entry key) --------------------------------------------------------------
    case("username-uppercase", "  alice:", "  Alice:", "people.Alice", "lower case: 'alice'"),
    case("username-shell-metachar", "  alice:", "  alice;reboot:", "people.alice;reboot", "invalid username"),
    case("username-dotdot-slash", "  alice:", '  "../alice":', "people.../alice", "invalid username"),
    case("username-non-ascii", "  alice:", "  álice:", "people.álice", "invalid username"),
    case("username-root", "  alice:", "  root:", "people.root", "reserved for the system"),
    case("username-overlong", "  alice:", f"  {'a' * 33}:", f"people.{'a' * 33}", "at most 32 characters"),
    case("username-yaml-boolean", "  alice:", "  on:", "people.True", "put the value in quotes"),
    case("username-explicit-field", "    tier: admin", "    tier: admin\n    username: alice",
         "people.alice.username", "the entry's key is the username", "    username: alice"),
    # --- full name ------------------------------------------------------------------------------
    case("name-command-substitution", "    name: Alice Example", '    name: "Alice $(id)"', "people.alice.name",
         "contains '$'"),
    case("name-backtick", "    name: Alice Example", "    name: Alice `id`", "people.alice.name", "contains '`'"),
    case("name-semicolon", "    name: Alice Example", '    name: "Alice; rm -rf"', "people.alice.name", "contains ';'"),
    case("name-colon", "    name: Alice Example", '    name: "Alice: admin"', "people.alice.name", "contains ':'"),
    case("name-comma", "    name: Alice Example", '    name: "Example, Alice"', "people.alice.name", "contains ','"),
    case("name-equals", "    name: Alice Example", '    name: "Alice=root"', "people.alice.name", "contains '='"),
    case("name-newline", "    name: Alice Example", f"    name: {Q}Alice\\nroot::0:0::/:/bin/sh{Q}",
         "people.alice.name", "contains '\\n'"),
    case("name-dotdot-slash", "    name: Alice Example", "    name: ../../etc/passwd", "people.alice.name",
         "contains '/'"),
    case("name-overlong", "    name: Alice Example", f"    name: {'A' * 65}", "people.alice.name", "65 characters"),
    case("name-bidi-override", "    name: Alice Example", f"    name: {Q}Alice \\u202eevil{Q}", "people.alice.name",
         "contains '\\u202e'"),
    case("name-number", "    name: Alice Example", "    name: 12345", "people.alice.name", "must be a string"),
    # --- uid ------------------------------------------------------------------------------------
    case("uid-zero", "    uid: 20001", "    uid: 0", "people.alice.uid", "uid 0 is root"),
    case("uid-below-min", "    uid: 20001", "    uid: 999", "people.alice.uid", "below this stack's minimum 1000"),
    case("uid-above-max", "    uid: 20001", "    uid: 65534", "people.alice.uid", "above 60000"),
    case("uid-negative", "    uid: 20001", "    uid: -5", "people.alice.uid", "below this stack's minimum"),
    case("uid-quoted", "    uid: 20001", '    uid: "20001"', "people.alice.uid", "whole number"),
    case("uid-float", "    uid: 20001", "    uid: 20001.0", "people.alice.uid", "whole number"),
    case("uid-duplicate", "    uid: 20003", "    uid: 20001", "people.carol.uid", "already used by people.alice"),
    # --- tier / state / unknown fields ----------------------------------------------------------
    case("tier-unknown", "    tier: admin", "    tier: root", "people.alice.tier", "unknown value 'root'"),
    case("state-unknown", "    tier: admin", "    tier: admin\n    state: deleted", "people.alice.state",
         "unknown value 'deleted'", "    state: deleted"),
    case("field-unknown", "    tier: admin", "    tier: admin\n    sudo: true", "people.alice.sudo",
         "unknown field 'sudo'", "    sudo: true"),
    case("field-typo", "    shell: /bin/bash", "    shel: /bin/bash", "people.alice.shel", "did you mean 'shell'"),
    case("exclusive-groups-string", "    tier: admin", "    tier: admin\n    exclusive_groups: sometimes",
         "people.alice.exclusive_groups", "true or false", "    exclusive_groups: sometimes"),
    # --- groups ---------------------------------------------------------------------------------
    case("group-shell-metachar", "    groups: [docker, video]", '    groups: [docker, "video;reboot"]',
         "people.alice.groups[1]", "invalid group name"),
    case("group-duplicate", "    groups: [docker, video]", "    groups: [docker, docker]", "people.alice.groups[1]",
         "duplicate group 'docker'"),
    case("group-root", "    groups: [docker, video]", "    groups: [root]", "people.alice.groups[0]",
         "group 'root'"),
    case("groups-not-a-list", "    groups: [docker, video]", "    groups: docker", "people.alice.groups",
         "expected a list"),
    # --- shell ----------------------------------------------------------------------------------
    case("shell-metachar", "    shell: /bin/bash", "    shell: /bin/bash;id", "people.alice.shell",
         "not an allowed path"),
    case("shell-dotdot", "    shell: /bin/bash", "    shell: /bin/../../tmp/evil", "people.alice.shell",
         "not an allowed path"),
    case("shell-dotdot-name", "    shell: /bin/bash", "    shell: /usr/bin/..", "people.alice.shell",
         "not an allowed path"),
    case("shell-relative", "    shell: /bin/bash", "    shell: bash", "people.alice.shell", "not an allowed path"),
    case("shell-outside-bin", "    shell: /bin/bash", "    shell: /tmp/sh", "people.alice.shell",
         "not an allowed path"),
    # --- SSH keys -------------------------------------------------------------------------------
    case("ssh-option-command", ALICE_KEY_LINE, f'      - command="/bin/sh" {keys.ALICE_LAPTOP}',
         "people.alice.ssh_keys[0]", "options are not allowed"),
    case("ssh-option-no-pty", ALICE_KEY_LINE, f"      - no-pty {keys.ALICE_LAPTOP}", "people.alice.ssh_keys[0]",
         "options are not allowed"),
    case("ssh-option-from", ALICE_KEY_LINE, f'      - from="10.0.0.0/8",no-agent-forwarding {keys.ALICE_LAPTOP}',
         "people.alice.ssh_keys[0]", "remove everything before 'ssh-ed25519'"),
    case("ssh-embedded-newline", ALICE_KEY_LINE, f'      - "{keys.ALICE_LAPTOP}\\n{keys.ED_1}"',
         "people.alice.ssh_keys[0]", "newline or control character"),
    case("ssh-base64-garbage", ALICE_KEY_LINE, "      - ssh-ed25519 AAAA$$$notbase64 x@y", "people.alice.ssh_keys[0]",
         "not valid base64"),
    case("ssh-base64-bad-padding", ALICE_KEY_LINE, "      - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5A x@y",
         "people.alice.ssh_keys[0]", "not valid base64"),
    case("ssh-inner-type-mismatch", ALICE_KEY_LINE, f"      - {keys.ED25519_WITH_RSA_BLOB} x@y",
         "people.alice.ssh_keys[0]", "is a 'ssh-rsa' key, not ssh-ed25519"),
    case("ssh-truncated", ALICE_KEY_LINE, f"      - {keys.ED25519_TRUNCATED}", "people.alice.ssh_keys[0]",
         "truncated"),
    case("ssh-trailing-data", ALICE_KEY_LINE, f"      - {keys.ED25519_TRAILING}", "people.alice.ssh_keys[0]",
         "trailing data"),
    case("ssh-dsa", ALICE_KEY_LINE, f"      - {keys.DSA}", "people.alice.ssh_keys[0]", "unsupported SSH key type"),
    case("ssh-rsa-1024", ALICE_KEY_LINE, f"      - {keys.RSA_1024}", "people.alice.ssh_keys[0]", "too weak"),
    case("ssh-sk-bad-application", ALICE_KEY_LINE, f"      - {keys.SK_BAD_APPLICATION}", "people.alice.ssh_keys[0]",
         "application must start with 'ssh:'"),
    case("ssh-no-data", ALICE_KEY_LINE, "      - ssh-ed25519", "people.alice.ssh_keys[0]", "has no key data"),
    case("ssh-duplicate-in-person", ALICE_KEY_LINE, f"{ALICE_KEY_LINE}\n      - {keys.ALICE_LAPTOP} again",
         "people.alice.ssh_keys[1]", "duplicate SSH key", f"      - {keys.ALICE_LAPTOP} again"),
    case("ssh-shared-between-people", "    hosts: [ws1]", f"    hosts: [ws1]\n    ssh_keys: [{keys.ALICE_LAPTOP}]",
         "people.carol.ssh_keys[0]", "already used by people.alice", "    ssh_keys: ["),
    # --- password hash --------------------------------------------------------------------------
    case("password-plaintext", "    password_hash: null", "    password_hash: hunter2", "people.alice.password_hash",
         "plaintext password"),
    case("password-md5", "    password_hash: null", f"    password_hash: '{keys.MD5}'", "people.alice.password_hash",
         "MD5-crypt"),
    case("password-sha512-truncated", "    password_hash: null", f"    password_hash: '{keys.SHA512[:-5]}'",
         "people.alice.password_hash", "malformed $6$"),
    case("password-yescrypt-malformed", "    password_hash: null", "    password_hash: '$y$j9T$salt$short'",
         "people.alice.password_hash", "malformed $y$"),
    case("password-locked-marker", "    password_hash: null", "    password_hash: '!'", "people.alice.password_hash",
         "use null"),
    # --- namespaces -----------------------------------------------------------------------------
    case("namespace-owner-empty", "    namespaces: [team-a]", "    namespaces: []", "people.carol.namespaces",
         "needs at least one namespace"),
    case("namespace-owner-missing", "    namespaces: [team-a]", "", "people.carol.namespaces",
         "needs at least one namespace", "  carol:"),
    case("namespace-bad-name", "    namespaces: [team-a]", "    namespaces: [Team_A]", "people.carol.namespaces[0]",
         "DNS-1123"),
    case("namespace-dotdot", "    namespaces: [team-a]", "    namespaces: [../kube-system]",
         "people.carol.namespaces[0]", "invalid namespace"),
    case("namespace-kube-system", "    namespaces: [team-a]", "    namespaces: [kube-system]",
         "people.carol.namespaces[0]", "belongs to Kubernetes"),
    case("namespaces-for-admin", "    tier: admin", "    tier: admin\n    namespaces: [team-b]", "people.alice.namespaces",
         "only apply to namespace-owner", "    namespaces: [team-b]"),
    # --- hosts ----------------------------------------------------------------------------------
    case("host-unknown", "    hosts: [ws1]", "    hosts: [ws9]", "people.carol.hosts[0]", "not a host of this stack"),
    case("host-metachar", "    hosts: [ws1]", '    hosts: ["ws1;reboot"]', "people.carol.hosts[0]",
         "invalid host name"),
    # --- identities -----------------------------------------------------------------------------
    case("kubernetes-system-prefix", "    tier: admin", "    tier: admin\n    kubernetes: system:admin",
         "people.alice.kubernetes", "reserved 'system:' prefix", "    kubernetes: system:admin"),
    case("kubernetes-space", "    tier: admin", "    tier: admin\n    kubernetes: alice admin",
         "people.alice.kubernetes", "invalid Kubernetes subject", "    kubernetes: alice admin"),
    case("authentik-quote", "    tier: admin", "    tier: admin\n    authentik: 'alice\" OR 1=1'",
         "people.alice.authentik", "invalid Authentik username", "    authentik:"),
    case("authentik-duplicate", "    uid: 20003", "    uid: 20003\n    authentik: alice", "people.carol.authentik",
         "already used by people.alice", "    authentik: alice"),
    # --- ZFS ------------------------------------------------------------------------------------
    case("zfs-compression-unknown", "    zfs: {quota: 50G, compression: lz4, recordsize: 128K, atime: \"off\"}",
         "    zfs: {quota: 50G, compression: lz5}", "people.alice.zfs.compression", "unknown compression 'lz5'"),
    case("budget-memory-fraction", "    zfs: {quota: 50G, compression: lz4, recordsize: 128K, atime: \"off\"}",
         "    budget: {memory_max: 1.5G}", "people.alice.budget.memory_max", "not a memory size"),
    case("budget-memory-unit-injection", "    zfs: {quota: 50G, compression: lz4, recordsize: 128K, atime: \"off\"}",
         "    budget: {memory_max: \"1G\\nExecStartPre=/bin/sh\"}", "people.alice.budget.memory_max",
         "not a memory size"),
    case("budget-cpu-weight-high", "    zfs: {quota: 50G, compression: lz4, recordsize: 128K, atime: \"off\"}",
         "    budget: {cpu_weight: 20000}", "people.alice.budget.cpu_weight", "not a CPU weight"),
    case("budget-tasks-negative", "    zfs: {quota: 50G, compression: lz4, recordsize: 128K, atime: \"off\"}",
         "    budget: {tasks_max: -5}", "people.alice.budget.tasks_max", "not a task limit"),
    case("budget-unknown-key", "    zfs: {quota: 50G, compression: lz4, recordsize: 128K, atime: \"off\"}",
         "    budget: {memoryMax: 1G}", "people.alice.budget.memoryMax", "unknown"),
    case("zfs-quota-bad-suffix", "    zfs: {quota: 50G, compression: lz4, recordsize: 128K, atime: \"off\"}",
         "    zfs: {quota: 10X}", "people.alice.zfs.quota", "invalid ZFS size '10X'"),
    case("zfs-quota-negative", "    zfs: {quota: 50G, compression: lz4, recordsize: 128K, atime: \"off\"}",
         "    zfs: {quota: -1G}", "people.alice.zfs.quota", "invalid ZFS size '-1G'"),
    case("zfs-quota-fraction-of-byte", "    zfs: {quota: 50G, compression: lz4, recordsize: 128K, atime: \"off\"}",
         "    zfs: {quota: 0.3K}", "people.alice.zfs.quota", "not a whole number of bytes"),
    case("zfs-quota-zero", "    zfs: {quota: 50G, compression: lz4, recordsize: 128K, atime: \"off\"}",
         "    zfs: {quota: 0}", "people.alice.zfs.quota", "write none"),
    case("zfs-recordsize-not-power-of-two", "    zfs: {quota: 50G, compression: lz4, recordsize: 128K, atime: \"off\"}",
         "    zfs: {recordsize: 3K}", "people.alice.zfs.recordsize", "not a power of two"),
    case("zfs-recordsize-too-large", "    zfs: {quota: 50G, compression: lz4, recordsize: 128K, atime: \"off\"}",
         "    zfs: {recordsize: 32M}", "people.alice.zfs.recordsize", "from 512 to 16M"),
    case("zfs-atime-unknown", "    zfs: {quota: 50G, compression: lz4, recordsize: 128K, atime: \"off\"}",
         "    zfs: {atime: relatime}", "people.alice.zfs.atime", "on or off"),
    case("zfs-unknown-property", "    zfs: {quota: 50G, compression: lz4, recordsize: 128K, atime: \"off\"}",
         "    zfs: {dedup: on}", "people.alice.zfs.dedup", "unknown field 'dedup'"),
    # --- ASNs (entry keys of peers) -------------------------------------------------------------
    case("asn-zero", "  213001:", "  0:", "peers.0", "AS0 is reserved"),
    case("asn-as-trans", "  213001:", "  23456:", "peers.23456", "AS_TRANS"),
    case("asn-65535", "  213001:", "  65535:", "peers.65535", "reserved"),
    case("asn-4294967295", "  213001:", "  4294967295:", "peers.4294967295", "reserved"),
    case("asn-private-16bit", "  213001:", "  64512:", "peers.64512", "private ASN"),
    case("asn-private-32bit", "  213001:", "  4200000000:", "peers.4200000000", "private ASN"),
    case("asn-documentation", "  213001:", "  64500:", "peers.64500", "documentation ASN"),
    case("asn-iana-reserved", "  213001:", "  100000:", "peers.100000", "reserved by IANA"),
    case("asn-too-large", "  213001:", "  4294967296:", "peers.4294967296", "out of range"),
    case("asn-with-as-prefix", "  213001:", "  AS213001:", "peers.AS213001", "without 'AS'"),
    # --- peers ----------------------------------------------------------------------------------
    case("peer-name-quote", "    name: Example Networks", '    name: Evil "Networks"', "peers.213001.name",
         "invalid peer name"),
    case("peer-name-brace", "    name: Example Networks", '    name: "Evil } Networks"', "peers.213001.name",
         "invalid peer name"),
    case("peer-name-semicolon", "    name: Example Networks", '    name: "Evil; include x"', "peers.213001.name",
         "invalid peer name"),
    case("peer-name-newline", "    name: Example Networks", f"    name: {Q}Evil\\n}}{Q}", "peers.213001.name",
         "invalid peer name"),
    case("peer-contact-invalid", "    contact: noc@example.net", "    contact: noc at example", "peers.213001.contact",
         "invalid e-mail address"),
    case("zerotier-short", '    zerotier_member: "a1b2c3d4e5"', '    zerotier_member: "a1b2c3d4"',
         "peers.213001.zerotier_member", "exactly 10 hexadecimal digits"),
    case("zerotier-non-hex", '    zerotier_member: "a1b2c3d4e5"', '    zerotier_member: "a1b2c3d4zz"',
         "peers.213001.zerotier_member", "exactly 10 hexadecimal digits"),
    case("zerotier-unquoted-number", '    zerotier_member: "a1b2c3d4e5"', "    zerotier_member: 1234567890",
         "peers.213001.zerotier_member", "quoted string"),
    case("zerotier-zero", '    zerotier_member: "a1b2c3d4e5"', '    zerotier_member: "0000000000"',
         "peers.213001.zerotier_member", "reserved"),
    case("zerotier-duplicate-case-insensitive", '    zerotier_member: "0f1e2d3c4b"',
         '    zerotier_member: "A1B2C3D4E5"', "peers.213002.zerotier_member", "already used by peers.213001"),
    case("address-outside-lan", '    addresses: [10.99.0.11, "fd00:99::11"]', '    addresses: [10.98.0.11]',
         "peers.213001.addresses[0]", "outside this stack's peering LANs"),
    case("address-v6-outside-lan", '    addresses: [10.99.0.11, "fd00:99::11"]', '    addresses: ["fd00:98::11"]',
         "peers.213001.addresses[0]", "outside this stack's peering LANs"),
    case("address-network-address", '    addresses: [10.99.0.11, "fd00:99::11"]', "    addresses: [10.99.0.0]",
         "peers.213001.addresses[0]", "network or broadcast"),
    case("address-duplicate-across-peers", "    addresses: [10.99.0.12]", "    addresses: [10.99.0.11]",
         "peers.213002.addresses[0]", "already used by peers.213001"),
    case("address-duplicate-in-peer", '    addresses: [10.99.0.11, "fd00:99::11"]',
         '    addresses: [10.99.0.11, "fd00:99::11", 10.99.0.11]', "peers.213001.addresses[2]", "duplicate address"),
    case("address-not-ip", '    addresses: [10.99.0.11, "fd00:99::11"]', "    addresses: [10.99.0.300]",
         "peers.213001.addresses[0]", "invalid IP address"),
    case("address-zone-id", '    addresses: [10.99.0.11, "fd00:99::11"]', '    addresses: ["fd00:99::11%eth0"]',
         "peers.213001.addresses[0]", "invalid IP address"),
    case("addresses-empty", '    addresses: [10.99.0.11, "fd00:99::11"]', "    addresses: []",
         "peers.213001.addresses", "must not be empty"),
    case("as-set-quotes", "    as_set: AS-EXAMPLE", "    as_set: 'AS-FOO\" ; include \"/etc/passwd'",
         "peers.213001.as_set", "invalid AS-SET"),
    case("as-set-braces", "    as_set: AS-EXAMPLE", "    as_set: 'AS-FOO{}'", "peers.213001.as_set", "invalid AS-SET"),
    case("as-set-newline", "    as_set: AS-EXAMPLE", f"    as_set: {Q}AS-FOO\\nAS-BAR{Q}", "peers.213001.as_set",
         "invalid AS-SET"),
    case("as-set-include", "    as_set: AS-EXAMPLE", "    as_set: include /etc/bird/secrets.conf",
         "peers.213001.as_set", "invalid AS-SET"),
    case("prefix-host-bits", "    prefixes: [203.0.113.0/24]", "    prefixes: [203.0.113.1/24]",
         "peers.213001.prefixes[0]", "host bits set"),
    case("prefix-invalid", "    prefixes: [203.0.113.0/24]", "    prefixes: [203.0.113.0/33]",
         "peers.213001.prefixes[0]", "invalid prefix"),
    case("prefix-default-route", "    prefixes: [203.0.113.0/24]", '    prefixes: ["::/0"]',
         "peers.213001.prefixes[0]", "default route"),
    case("prefix-too-specific", "    prefixes: [203.0.113.0/24]", "    prefixes: [203.0.113.0/25]",
         "peers.213001.prefixes[0]", "longer than /24"),
    case("max-prefixes-zero", "    max_prefixes: {ipv4: 100, ipv6: 50}", "    max_prefixes: {ipv4: 0, ipv6: 50}",
         "peers.213001.max_prefixes.ipv4", "must be greater than 0"),
    case("max-prefixes-v6-over-the-cap", "    max_prefixes: {ipv4: 100, ipv6: 50}", "    max_prefixes: {ipv4: 100, ipv6: 600000}",
         "peers.213001.max_prefixes.ipv6", "500000"),
    case("max-prefixes-missing-family", "    max_prefixes: {ipv4: 100, ipv6: 50}", "    max_prefixes: {ipv4: 100}",
         "peers.213001.max_prefixes.ipv6", "required field 'ipv6' is missing"),
    case("peer-state-unknown", "    as_set: AS-EXAMPLE", "    as_set: AS-EXAMPLE\n    state: paused",
         "peers.213001.state", "unknown value 'paused'", "    state: paused"),
    case("peer-field-unknown", "    as_set: AS-EXAMPLE", "    as_set: AS-EXAMPLE\n    password: x",
         "peers.213001.password", "unknown field 'password'", "    password: x"),
    case("peer-explicit-asn", "    as_set: AS-EXAMPLE", "    as_set: AS-EXAMPLE\n    asn: 213001",
         "peers.213001.asn", "the entry's key is the asn", "    asn: 213001"),
]


def edit(case: Case) -> tuple[str, int]:
    """The edited roster and the 1-based line the issue must point at."""
    lines = BASE.splitlines()
    assert lines.count(case.old) == 1, f"{case.old!r} must be exactly one line of BASE"
    index = lines.index(case.old)
    lines[index: index + 1] = case.new.splitlines()
    text = "\n".join(lines) + "\n"
    if case.anchor is None:
        return text, index + 1
    hits = [n for n, line in enumerate(lines, 1) if line.startswith(case.anchor)]
    assert len(hits) == 1, f"anchor {case.anchor!r} must start exactly one line of the edited roster"
    return text, hits[0]
