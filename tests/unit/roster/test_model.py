"""The model on its own: accepted values, normalisation, ZFS sizes, digests, direct construction."""
from __future__ import annotations

import json

import pytest
from pydantic import TypeAdapter, ValidationError

from roster import (
    Peer,
    Person,
    PersonState,
    Roster,
    RosterContext,
    Tier,
    ZfsProperties,
    parse_roster_text,
    parse_zfs_size,
    ssh_key_fingerprint,
)
from roster.context import validation_context
from roster.fields import (
    Asn,
    AsSet,
    Compression,
    FullName,
    PasswordHash,
    Recordsize,
    SshKey,
    ZfsSize,
    format_zfs_size,
)
from tests.harness import keys

# --- ZFS sizes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("10G", 10737418240),
        ("10g", 10737418240),
        ("10GB", 10737418240),
        ("10GiB", 10737418240),
        ("512", 512),
        ("512B", 512),
        ("1K", 1024),
        ("1.5K", 1536),
        ("1.5G", 1610612736),
        ("2T", 2 * 1024**4),
        ("1P", 1024**5),
        ("none", None),
        ("NONE", None),
    ],
)
def test_parse_zfs_size(text: str, size: int | None):
    assert parse_zfs_size(text) == size


@pytest.mark.parametrize("text", ["", "10X", "-1G", "1e3", "G", "10 G", "0x10", "1.5", "10iB", "1,5G", "١٠G",
                                  "10\u212a", "99999999999999E"])
def test_parse_zfs_size_rejects(text: str):
    with pytest.raises(ValueError):
        parse_zfs_size(text)


@pytest.mark.parametrize(("size", "text"), [(None, "none"), (0, "0"), (512, "512"), (1536, "1536"),
                                            (1610612736, "1536M"), (10737418240, "10G"), (1024**5, "1P")])
def test_format_zfs_size(size: int | None, text: str):
    assert format_zfs_size(size) == text


@pytest.mark.parametrize(("value", "expected"), [("50G", "50G"), ("51200M", "50G"), ("1.5g", "1536M"),
                                                 (1073741824, "1G"), ("none", "none"), ("100GiB", "100G")])
def test_quota_is_normalised(value, expected):
    assert TypeAdapter(ZfsSize).validate_python(value) == expected


@pytest.mark.parametrize("value", ["512", 512, "4K", "128K", "1M", "16M"])
def test_recordsize_accepts_powers_of_two(value):
    assert parse_zfs_size(TypeAdapter(Recordsize).validate_python(value)) == parse_zfs_size(str(value))


@pytest.mark.parametrize(("value", "expected"), [(False, "off"), (True, "on"), ("LZ4", "lz4"), ("zstd-19", "zstd-19"),
                                                 ("gzip-9", "gzip-9"), ("zstd-fast", "zstd-fast")])
def test_compression_accepts_yaml_booleans_and_case(value, expected):
    assert TypeAdapter(Compression).validate_python(value) == expected


@pytest.mark.parametrize("value", ["gzip-10", "zstd-20", "lz5", "", "on; rm -rf /"])
def test_compression_rejects(value):
    with pytest.raises(ValidationError):
        TypeAdapter(Compression).validate_python(value)


def test_zfs_defaults():
    assert ZfsProperties().model_dump() == {"quota": "100G", "compression": "lz4", "recordsize": "128K", "atime": "off"}
    assert ZfsProperties.model_validate({"atime": True, "compression": False}).model_dump() == {
        "quota": "100G", "compression": "off", "recordsize": "128K", "atime": "on"}


# --- accepted values ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [keys.ALICE_LAPTOP, keys.ECDSA_256, keys.ECDSA_384, keys.ECDSA_521, keys.RSA_3072,
                                 keys.SK_ED25519, keys.SK_ECDSA, keys.ED_1.rsplit(" ", 1)[0]])
def test_every_allowed_key_type_is_accepted(key: str):
    assert TypeAdapter(SshKey).validate_python(key) == key


def test_ssh_key_is_normalised_and_fingerprinted():
    messy = "  " + keys.ALICE_LAPTOP.replace(" ", "   ", 1) + "  "
    assert TypeAdapter(SshKey).validate_python(messy) == keys.ALICE_LAPTOP
    assert TypeAdapter(SshKey).validate_python(keys.ED_1 + " with  spaces") == keys.ED_1 + " with  spaces"
    assert ssh_key_fingerprint(keys.ALICE_LAPTOP) == keys.ALICE_LAPTOP_FINGERPRINT


@pytest.mark.parametrize("value", [keys.YESCRYPT, keys.SHA512, keys.SHA512_ROUNDS])
def test_password_hashes_accepted(value: str):
    assert TypeAdapter(PasswordHash).validate_python(value) == value


def test_password_hash_rounds_out_of_range():
    with pytest.raises(ValidationError, match="rounds"):
        TypeAdapter(PasswordHash).validate_python(keys.SHA512_ROUNDS.replace("rounds=5000", "rounds=10"))


@pytest.mark.parametrize("value", ["Alice Example", "Dave O'Connor", "Zoë Müller-Lüdenscheidt", "José María Aznar",
                                   "李小龙", "J. R. R. Tolkien", "A"])
def test_full_names_accepted(value: str):
    assert TypeAdapter(FullName).validate_python(value) == value


@pytest.mark.parametrize("value", ["Zoe\u0308 Mu\u0308ller", "Alice\u200b", " Alice", "Alice  Example", ""])
def test_full_names_rejected(value: str):
    with pytest.raises(ValidationError):
        TypeAdapter(FullName).validate_python(value)


@pytest.mark.parametrize(("value", "expected"), [("AS-EXAMPLE", "AS-EXAMPLE"), ("as-example", "AS-EXAMPLE"),
                                                 ("AS64500:AS-CUSTOMERS", "AS64500:AS-CUSTOMERS"),
                                                 ("RIPE::AS-EXAMPLE", "RIPE::AS-EXAMPLE"), ("AS213001", "AS213001")])
def test_as_sets_accepted(value: str, expected: str):
    assert TypeAdapter(AsSet).validate_python(value) == expected


@pytest.mark.parametrize("value", [1, 213001, 64495, 131072, 4199999999, "213001"])
def test_public_asns_accepted(value):
    assert TypeAdapter(Asn).validate_python(value) == int(value)


@pytest.mark.parametrize("value", [64496, 64511, 64512, 65534, 65536, 65551, 4200000000, 4294967294])
def test_private_and_documentation_asns_need_the_stack_flag(value: int):
    with pytest.raises(ValidationError):
        TypeAdapter(Asn).validate_python(value)
    allowed = validation_context(RosterContext(allow_private_asns=True))
    assert TypeAdapter(Asn).validate_python(value, context=allowed) == value


@pytest.mark.parametrize("value", [True, 1.5, None, "AS1", "-1"])
def test_asn_types_rejected(value):
    with pytest.raises(ValidationError):
        TypeAdapter(Asn).validate_python(value)


# --- normalisation and digests --------------------------------------------------------------------

ROSTER = f"""\
people:
  bob:
    name: Bob
    uid: 20002
    tier: power-user
    groups: [video, docker]
    ssh_keys: ["{keys.ED_2}", "{keys.ED_1}"]
  alice:
    tier: admin
    uid: 20001
    name: Alice
    zfs: {{atime: off, quota: 51200M}}
peers:
  213002:
    name: Two
    contact: noc@TWO.example
    zerotier_member: "ABCDEF0123"
    addresses: ["FD00:0099:0000:0000:0000:0000:0000:0012", 10.99.0.12]
    max_prefixes: {{ipv6: 5, ipv4: 5}}
    prefixes: ["2001:db8::/32", 203.0.113.0/24, 198.51.100.0/24]
"""

REORDERED = f"""\
# same roster, different order, formatting and explicit defaults
peers:
  213002:
    prefixes:
      - 198.51.100.0/24
      - 203.0.113.0/24
      - 2001:db8::/32
    max_prefixes:
      ipv4: 5
      ipv6: 5
    addresses:
      - 10.99.0.12
      - fd00:99::12
    zerotier_member: 'abcdef0123'
    contact: noc@two.example
    name: Two
    state: active
people:
  alice:
    name: Alice
    uid: 20001
    tier: admin
    authentik: alice
    shell: /bin/bash
    zfs:
      quota: 50G
      atime: "off"
      compression: lz4
  bob:
    ssh_keys:
      - {keys.ED_1}
      - {keys.ED_2}
    groups: [docker, video]
    tier: power-user
    uid: 20002
    name: Bob
    exclusive_groups: false
"""


def test_values_are_normalised():
    roster = parse_roster_text(ROSTER)
    peer = roster.peers[213002]
    assert peer.addresses == ["10.99.0.12", "fd00:99::12"]
    assert peer.zerotier_member == "abcdef0123" and peer.contact == "noc@two.example"
    assert peer.prefixes == ["198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"]
    assert roster.people["bob"].groups == ["docker", "video"]
    assert roster.people["alice"].zfs.quota == "50G" and roster.people["alice"].zfs.atime == "off"


def test_digest_is_stable_across_order_formatting_and_defaults():
    assert parse_roster_text(ROSTER).digest() == parse_roster_text(REORDERED).digest()
    assert len(parse_roster_text(ROSTER).digest()) == 64


def test_digest_changes_with_content():
    changed = ROSTER.replace("uid: 20002", "uid: 20003")
    assert parse_roster_text(ROSTER).digest() != parse_roster_text(changed).digest()


def test_canonical_json_is_sorted_and_compact():
    text = parse_roster_text(ROSTER).canonical_json()
    assert text.startswith('{"peers":{"213002":{"addresses":["10.99.0.12","fd00:99::12"]')
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# --- direct construction (other modules build models in code) -------------------------------------


def person(**fields) -> dict:
    return {"name": "Test Person", "uid": 20001, "tier": "admin", **fields}


def test_person_built_in_code_gets_defaults():
    p = Person.model_validate({"username": "alice", **person()})
    assert (p.authentik, p.kubernetes, p.shell, p.hosts, p.state) == ("alice", "alice", "/bin/bash", None, "active")
    assert p.tier is Tier.ADMIN and p.state is PersonState.ACTIVE and p.zfs == ZfsProperties()
    with pytest.raises(ValidationError, match="frozen"):
        p.uid = 5  # type: ignore[misc]


def test_roster_model_validate_runs_cross_checks():
    data = {"people": {"alice": person(), "bob": person()}}
    with pytest.raises(ValidationError) as caught:
        Roster.model_validate(data)
    locs = {e["loc"] for e in caught.value.errors()}
    assert ("people", "bob", "uid") in locs


def test_roster_rejects_entry_key_mismatch():
    p = Person.model_validate({"username": "alice", **person()})
    with pytest.raises(ValidationError, match="holds person 'alice'"):
        Roster(people={"bob": p})


def test_peer_properties():
    peer = Peer.model_validate({"asn": 213001, "name": "X", "contact": "a@b.example", "zerotier_member": "0123456789",
                                "addresses": ["fd00:99::1", "10.99.0.1"], "max_prefixes": {"ipv4": 1, "ipv6": 1}})
    assert peer.ipv4_addresses == ["10.99.0.1"] and peer.ipv6_addresses == ["fd00:99::1"]
    assert peer.addresses == ["10.99.0.1", "fd00:99::1"]


def test_context_validates_its_lans():
    assert RosterContext(peering_lans=["fd00:0099::/64"]).peering_lans == ["fd00:99::/64"]
    with pytest.raises(ValidationError):
        RosterContext(peering_lans=["10.99.0.1/24"])


def test_hosts_null_means_every_host_and_empty_means_none():
    every = Person.model_validate({"username": "alice", **person()})
    nowhere = Person.model_validate({"username": "alice", **person(hosts=[])})
    some = Person.model_validate({"username": "alice", **person(hosts=["ws2", "ws1"])},
                                 context=validation_context(RosterContext(hosts=["ws1", "ws2"])))
    assert every.on_host("ws1") and not nowhere.on_host("ws1")
    assert some.hosts == ["ws1", "ws2"] and some.on_host("ws2") and not some.on_host("ws3")
