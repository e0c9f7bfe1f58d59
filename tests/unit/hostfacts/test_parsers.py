"""Parsers from output captured on the real guest (OpenZFS 2.1.11, Debian bookworm)."""
from __future__ import annotations

import pathlib

import pytest

from providers.accounts.facts import ParseError as AccountParseError, parse_group, parse_passwd, parse_shadow
from providers.zfs.facts import ParseError, normalize, parse_zfs_allow, parse_zfs_get, size_bytes

FIX = pathlib.Path(__file__).parent / "fixtures"


def fixture(name: str) -> str:
    return (FIX / name).read_text()


def test_getent_passwd():
    users = parse_passwd(fixture("getent_passwd.txt"))
    assert users["alice"].uid == 20001 and users["alice"].gid == 20001
    assert users["alice"].gecos == "Alice Example" and users["alice"].home == "/home/alice"
    assert users["root"].uid == 0 and users["bob"].shell in ("/bin/sh", "")


def test_getent_group_members():
    groups = parse_group(fixture("getent_group.txt"))
    assert {"alice"} <= groups["users"].members and "alice" in groups["video"].members
    assert groups["alice"].gid == 20001 and groups["alice"].members == frozenset()


def test_getent_shadow_lock_and_expiry():
    shadow = parse_shadow(fixture("getent_shadow.txt"))
    assert shadow["alice"].hash == "$6$abcdefgh$xyz" and not shadow["alice"].locked
    assert shadow["bob"].locked and shadow["bob"].expired and shadow["bob"].hash is None
    assert not shadow["alice"].expired


@pytest.mark.parametrize("parser,text", [
    (parse_passwd, "alice:x:1000:1000\n"), (parse_passwd, "alice:x:abc:1000:A:/home/a:/bin/sh\n"),
    (parse_group, "g:x:1\n"), (parse_shadow, "a:b\n"),
])
def test_getent_garbage_is_a_clear_error(parser, text):
    with pytest.raises(AccountParseError):
        parser(text)


def test_zfs_get_with_sources():
    ds = parse_zfs_get(fixture("zfs_get.txt"))
    alice = ds["rpool/crypt/home/alice"]
    assert alice.properties["quota"].value == str(50 * 1024**3) and alice.properties["quota"].is_local
    assert alice.properties["compression"].value == "zstd"
    assert alice.properties["mountpoint"].source == "inherited from rpool/crypt/home"
    assert alice.properties["encryption"].value == "aes-256-gcm"
    assert ds["rpool"].properties["quota"].source == "default"


def test_zfs_get_garbage():
    with pytest.raises(ParseError, match="line 1"):
        parse_zfs_get("rpool quota 0 default\n")


def test_zfs_allow_all_sections():
    state = parse_zfs_allow(fixture("zfs_allow_alice.txt"))
    g = state.grants("rpool/crypt/home/alice", "alice")
    assert g.local == {"userprop", "create", "mount", "quota", "snapshot"}
    assert g.descendent == {"destroy", "create", "mount", "quota", "snapshot"}
    assert g.local_and_descendent == {"create", "mount", "quota", "snapshot"}
    parent = state.datasets["rpool/crypt/home"]
    assert parent[("group", "users")].descendent == {"diff"}
    assert parent[("everyone", "")].local == {"hold"}
    assert state.grants("rpool/crypt/home", "alice").is_empty()


def test_zfs_allow_garbage():
    with pytest.raises(ParseError):
        parse_zfs_allow("Local permissions:\n\tuser alice snapshot\n")


@pytest.mark.parametrize("text,expected", [("10G", 10737418240), ("10737418240", 10737418240), ("none", None),
                                           ("0", None), ("1.5K", 1536), ("128K", 131072), ("1M", 1048576)])
def test_sizes(text, expected):
    assert size_bytes(text) == expected


def test_normalized_equality():
    assert normalize("quota", "10G") == normalize("quota", "10737418240")
    assert normalize("compression", "LZ4") == "lz4"
    with pytest.raises(ParseError):
        size_bytes("10X")
