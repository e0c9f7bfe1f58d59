"""Loading: the sample roster, every problem at once, and YAML-level hostility (keys, tags, bytes)."""
from __future__ import annotations

from pathlib import Path

import pytest

from roster import (
    Issue,
    PeerState,
    PersonState,
    RosterContext,
    RosterError,
    Tier,
    load_roster,
    parse_roster_text,
)

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "roster" / "roster.yaml"
FIXTURES = Path(__file__).parent / "fixtures"
STACK = RosterContext(min_uid=1000, hosts=["guest"], peering_lans=["10.99.0.0/24", "fd00:99::/64"])


# --- the sample -----------------------------------------------------------------------------------


def test_sample_roster_loads_for_a_stack():
    roster = load_roster(SAMPLE, STACK)
    assert sorted(roster.people) == ["alice", "bob", "carol", "dave"]
    assert {p.tier for p in roster.people.values()} == set(Tier)
    assert roster.people["dave"].state == PersonState.OFFBOARDED
    assert sorted(roster.peers) == [213001, 213002, 213003]
    assert [p.state for p in roster.peers.values()].count(PeerState.ACTIVE) == 2
    assert roster.peers[213003].state == PeerState.SUSPENDED


def test_sample_roster_has_the_schema_comment_first():
    assert SAMPLE.read_text().splitlines()[0] == "# yaml-language-server: $schema=./roster.schema.json"


def test_sample_values_are_normalised_and_defaulted():
    roster = load_roster(SAMPLE, STACK)
    alice, bob, carol = roster.people["alice"], roster.people["bob"], roster.people["carol"]
    assert alice.authentik == "alice.example" and alice.kubernetes == "alice@example.org"
    assert bob.authentik == "bob" and bob.kubernetes == "bob"  # default: the username
    assert alice.zfs.atime == "off"  # unquoted YAML `off` is the boolean False
    assert bob.zfs.quota == "500G" and bob.zfs.recordsize == "1M" and bob.zfs.compression == "lz4"
    assert carol.zfs.quota == "50G" and carol.namespaces == ["team-a", "team-a-staging"]
    assert carol.shell == "/bin/bash" and carol.hosts is None and carol.on_host("guest")
    assert bob.password_hash.startswith("$y$") and "password_hash" not in repr(bob)
    peer = roster.peers[213001]
    assert peer.asn == 213001 and peer.ipv4_addresses == ["10.99.0.11"] and peer.ipv6_addresses == ["fd00:99::11"]
    assert roster.peers[213002].zerotier_member == "0f1e2d3c4b"


def test_validate_without_context_checks_nothing_stack_specific():
    text = (FIXTURES / "multi_error.yaml").read_text()
    with pytest.raises(RosterError) as caught:
        parse_roster_text(text)
    assert not any("outside this stack's peering LANs" in i.message for i in caught.value.issues)


def test_stack_context_is_applied():
    with pytest.raises(RosterError) as caught:
        load_roster(SAMPLE, RosterContext(min_uid=20003, hosts=["guest"], peering_lans=["10.99.0.0/25"]))
    text = str(caught.value)
    assert "people.alice.uid: uid 20001 is below this stack's minimum 20003" in text
    assert "people.bob.uid" in text and "people.carol.uid" not in text
    assert "peers.213001.addresses[1]: fd00:99::11 is outside" in text


def test_private_asns_are_allowed_when_the_stack_says_so():
    text = SAMPLE.read_text().replace("213001:", "64512:").replace("213002:", "64500:")
    roster = parse_roster_text(text, RosterContext(allow_private_asns=True))
    assert {64512, 64500} <= set(roster.peers)


# --- every problem at once ------------------------------------------------------------------------

MULTI_ERROR_EXPECTED = {
    (7, "people.alice.shell"),
    (9, "people.alice.ssh_keys[0]"),
    (10, "people.alice.zfs.quota"),
    (13, "people.bob.uid"),
    (14, "people.bob.tier"),
    (15, "people.bob.password_hash"),
    (16, "people.carol.namespaces"),
    (20, "people.carol"),  # duplicate key
    (31, "peers.64512"),  # private ASN
    (32, "peers.64512.name"),
    (34, "peers.64512.zerotier_member"),
    (35, "peers.64512.addresses[0]"),  # duplicate across peers
    (35, "peers.64512.addresses[1]"),  # outside the LAN
    (36, "peers.64512.max_prefixes.ipv6"),  # missing
    (37, "peers.64512.as_set"),
}


def test_all_errors_of_a_file_are_reported_at_once_with_their_lines():
    path = FIXTURES / "multi_error.yaml"
    with pytest.raises(RosterError) as caught:
        load_roster(path, RosterContext(peering_lans=["10.99.0.0/24"]))
    error = caught.value
    from roster.errors import dotted

    assert {(i.line, dotted(i.path)) for i in error.issues} == MULTI_ERROR_EXPECTED
    lines = str(error).splitlines()
    assert len(lines) == len(MULTI_ERROR_EXPECTED)
    assert all(line.startswith(f"{path}:") for line in lines)
    assert lines == sorted(lines, key=lambda s: (int(s.split(":")[1]), int(s.split(":")[2])))
    assert "hunter2" not in str(error)


# --- YAML-level hostility -------------------------------------------------------------------------

YAML_CASES = [
    pytest.param("", 1, (), "the roster is empty", id="empty"),
    pytest.param("# nothing but a comment\n", 1, (), "the roster is empty", id="only-comment"),
    pytest.param("- alice\n- bob\n", 1, (), "must be a mapping", id="top-level-list"),
    pytest.param("just a string\n", 1, (), "must be a mapping", id="top-level-scalar"),
    pytest.param("people: {}\n---\npeople: {}\n", 2, (), "expected a single document", id="two-documents"),
    pytest.param("people:\n\talice: {}\n", 2, (), "YAML syntax error", id="tab-indent"),
    pytest.param("people: {alice: [}\n", 1, (), "YAML syntax error", id="syntax-error"),
    pytest.param("people: []\n", 1, ("people",), "expected a mapping", id="people-not-a-mapping"),
    pytest.param("people:\npeers: {}\n", 1, ("people",), "expected a mapping", id="people-null"),
    pytest.param("people: {}\nusers: {}\n", 2, ("users",), "unknown field 'users'", id="unknown-top-level"),
    pytest.param("people: {}\npeople: {}\n", 2, ("people",), "duplicate key 'people' (first on line 1)",
                 id="duplicate-top-level-key"),
    pytest.param("people:\n  alice: {}\n  bob: {}\n  alice: {}\n", 4, ("people", "alice"),
                 "duplicate key 'alice' (first on line 2)", id="duplicate-person"),
    pytest.param("people:\n  alice:\n    name: A\n    name: B\n", 4, ("people", "alice", "name"),
                 "duplicate key 'name'", id="duplicate-field"),
    pytest.param("peers:\n  213001: {}\n  '213001': {}\n", 3, ("peers", "213001"), "duplicate key",
                 id="duplicate-asn-quoted-and-unquoted"),
    pytest.param("peers:\n  213001: {}\n  0x34009: {}\n", 3, ("peers", "213001"), "duplicate key",
                 id="duplicate-asn-hex-spelling"),
    pytest.param("people: &p {}\npeers: *p\n", 1, (), "YAML anchor &p is not allowed", id="anchor"),
    pytest.param("people: &p {}\npeers: *p\n", 2, (), "YAML alias *p is not allowed", id="alias"),
    pytest.param("a: &a [x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n", 3, (), "YAML alias *b",
                 id="alias-bomb"),
    pytest.param("people: !!python/object/apply:os.system [id]\n", 1, (), "YAML tag", id="python-tag"),
    pytest.param("people:\n  alice:\n    name: !!binary aGk=\n", 3, (), "YAML tag", id="binary-tag"),
    pytest.param("people: !custom {}\n", 1, (), "YAML tag '!custom' is not allowed", id="custom-tag"),
    pytest.param("people:\n  alice:\n    <<: {name: A}\n", 3, ("people", "alice"), "merge keys", id="merge-key"),
    pytest.param("people:\n  ? [a, b]\n  : {}\n", 2, ("people",), "a key must be a plain name", id="complex-key"),
    pytest.param("people:\n  a\x07lice: {}\n", 2, (), "U+0007 is not allowed", id="control-character"),
    pytest.param("people:\n  alice: 2024-13-45\n", 2, ("people", "alice"), "cannot read", id="bad-timestamp"),
    pytest.param("people:\n  alice:\n" + "    " + "[" * 3000 + "\n", 1, (), "nested too deeply", id="deep-nesting"),
]


@pytest.mark.parametrize(("text", "line", "path", "fragment"), YAML_CASES)
def test_yaml_level_problems_are_reported(text: str, line: int, path: tuple, fragment: str):
    with pytest.raises(RosterError) as caught:
        parse_roster_text(text, filename="r.yaml")
    hits = [i for i in caught.value.issues if i.path == path and fragment in f"{i.message} ({i.hint})"]
    assert hits, str(caught.value)
    assert hits[0].line == line, str(caught.value)


def test_duplicate_keys_never_silently_keep_the_last_value():
    text = "people:\n  alice:\n    name: Alice\n    uid: 20001\n    tier: admin\n    tier: power-user\n"
    with pytest.raises(RosterError) as caught:
        parse_roster_text(text)
    assert [str(i) for i in caught.value.issues] == [
        "roster.yaml:6:5: people.alice.tier: duplicate key 'tier' (first on line 5) "
        "(PyYAML would silently keep only the last one: remove or rename one)"
    ]


def test_non_utf8_file_names_the_byte_position():
    path = FIXTURES / "not_utf8.yaml"
    with pytest.raises(RosterError) as caught:
        load_roster(path)
    (issue,) = caught.value.issues
    assert (issue.line, issue.col) == (3, 14) and "not valid UTF-8 (byte 0xe9)" in issue.message


def test_utf8_bom_is_tolerated():
    assert parse_roster_text("\ufeffpeople: {}\n".encode()).people == {}


def test_missing_file_is_a_roster_error(tmp_path: Path):
    with pytest.raises(RosterError) as caught:
        load_roster(tmp_path / "nope.yaml")
    assert "cannot read the roster" in str(caught.value)


def test_oversized_file_is_refused():
    with pytest.raises(RosterError, match="more than"):
        parse_roster_text(b"people: {}\n" + b"#" * (5 * 1024 * 1024))


def test_minimal_roster_is_valid():
    roster = load_roster(FIXTURES / "valid_minimal.yaml")
    assert roster.people == {} and roster.peers == {}


def test_issue_rendering():
    issue = Issue("roster.yaml", 3, 5, ("people", "alice", "groups", 1), "bad group", "fix it")
    assert str(issue) == "roster.yaml:3:5: people.alice.groups[1]: bad group (fix it)"
    assert str(Issue("f.yaml", 1, 1, (), "empty")) == "f.yaml:1:1: empty"
    error = RosterError([issue, Issue("roster.yaml", 1, 1, (), "first")])
    assert str(error).splitlines() == ["roster.yaml:1:1: first", str(issue)]


def test_mutated_rosters_never_crash_the_loader():
    """Seeded fuzzing: random edits of the sample give a Roster or a RosterError, nothing else."""
    import random

    base = SAMPLE.read_text()
    rng = random.Random(20001)
    alphabet = list(" :-[]{}\"'#&*!|>%@`,?\n\t\\09azé\x00\x07\u202e$;/.")
    for _ in range(300):
        text = list(base)
        for _ in range(rng.randint(1, 5)):
            i = rng.randrange(len(text))
            if rng.random() < 0.5:
                del text[i]
            else:
                text.insert(i, rng.choice(alphabet))
        try:
            parse_roster_text("".join(text), STACK)
        except RosterError as e:
            assert all(i.line >= 1 and i.col >= 1 and i.message for i in e.issues)
