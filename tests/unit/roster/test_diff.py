"""diff_rosters classifies every change; render_markdown is readable and never shows secrets."""
from __future__ import annotations

from pathlib import Path

import pytest

from roster import Roster, load_roster, parse_roster_text
from roster.diff import FieldChange, diff_rosters, render_markdown
from tests.harness import keys

SAMPLE = Path(__file__).resolve().parents[3] / "roster" / "roster.yaml"


@pytest.fixture(scope="module")
def old() -> Roster:
    return load_roster(SAMPLE)


def edited(*replacements: tuple[str, str]) -> Roster:
    text = SAMPLE.read_text()
    for before, after in replacements:
        assert text.count(before) == 1, before
        text = text.replace(before, after)
    return parse_roster_text(text)


CAROL_OFFBOARDED = ("    zfs: {quota: 50G}\n", "    zfs: {quota: 50G}\n    state: offboarded\n")
DAVE_BACK = ("    state: offboarded\n\npeers:", "    state: active\n\npeers:")
ERIN = ("\npeers:", f"""
  erin:
    name: Erin Example
    uid: 20005
    tier: namespace-owner
    namespaces: [team-b]
    ssh_keys: ["{keys.ED_3}"]

peers:""")


def test_identical_rosters_have_an_empty_diff(old):
    diff = diff_rosters(old, load_roster(SAMPLE))
    assert diff.is_empty and diff.people_changed == () and diff.warnings == ()
    assert "No changes" in render_markdown(diff)


def test_people_lifecycle_is_classified(old):
    new = edited(CAROL_OFFBOARDED, DAVE_BACK, ERIN)
    diff = diff_rosters(old, new)
    assert diff.people_added == ("erin",)
    assert diff.people_offboarded == ("carol",)
    assert diff.people_reactivated == ("dave",)
    assert diff.people_changed == ()  # state moves are not listed as field changes


def test_field_changes_name_the_fields(old):
    new = edited(("    shell: /usr/bin/zsh\n", "    shell: /bin/bash\n"),
                 ("    groups: [adm, sudo]\n", "    groups: [adm, sudo, video]\n"),
                 ("zfs: {quota: 200G, compression: zstd", "zfs: {quota: 300G, compression: zstd"))
    diff = diff_rosters(old, new)
    (change,) = diff.people_changed
    assert change.key == "alice"
    assert change.fields == ("groups", "shell", "zfs.quota")
    assert FieldChange("shell", "/usr/bin/zsh", "/bin/bash") in change.changes
    text = render_markdown(diff)
    assert "**changed** `alice`: groups +`video`; shell `/usr/bin/zsh` → `/bin/bash`; zfs.quota `200G` → `300G`" in text


def test_deleting_an_active_person_is_flagged(old):
    text = SAMPLE.read_text()
    start, end = text.index("  carol:\n"), text.index("  dave:\n")
    new = parse_roster_text(text[:start] + text[end:])
    diff = diff_rosters(old, new)
    assert diff.people_deleted_without_offboarding == ("carol",)
    assert any("deleted while active" in w for w in diff.warnings)
    markdown = render_markdown(diff)
    assert "[!WARNING]" in markdown and "**deleted without offboarding** `carol`" in markdown


def test_deleting_an_offboarded_person_warns_about_uid_reuse(old):
    text = SAMPLE.read_text()
    start, end = text.index("  dave:\n"), text.index("peers:\n")
    diff = diff_rosters(old, parse_roster_text(text[:start] + text[end:]))
    assert diff.people_deleted == ("dave",) and diff.people_deleted_without_offboarding == ()
    assert any("uid 20004 could be reused" in w for w in diff.warnings)


def test_purge_and_uid_change_warn(old):
    diff = diff_rosters(old, edited(("    state: offboarded\n", "    state: purged\n"),
                                    ("    uid: 20003\n", "    uid: 20013\n")))
    assert diff.people_purged == ("dave",)
    assert any("purged" in w for w in diff.warnings) and any("20003 -> 20013" in w for w in diff.warnings)


def test_secrets_and_keys_are_not_shown(old):
    new = edited((keys.BOB, keys.ED_1), (keys.YESCRYPT, keys.SHA512))
    diff = diff_rosters(old, new)
    (change,) = diff.people_changed
    assert set(change.fields) == {"ssh_keys", "password_hash"}
    text = render_markdown(diff)
    assert keys.SHA512 not in text and keys.YESCRYPT not in text and "password_hash changed" in text
    assert keys.ED_1.split()[1] not in text
    assert "+`SHA256:" in text and "−`SHA256:" in text


def test_peer_lifecycle_is_classified(old):
    new = edited(("    as_set: AS213003:AS-CUSTOMERS\n    state: suspended\n", "    as_set: AS213003:AS-CUSTOMERS\n"),
                 ("    as_set: AS-EXAMPLE\n", "    as_set: AS-EXAMPLE\n    state: suspended\n"),
                 ("max_prefixes: {ipv4: 20, ipv6: 10}", "max_prefixes: {ipv4: 40, ipv6: 10}"))
    diff = diff_rosters(old, new)
    assert diff.peers_resumed == (213003,) and diff.peers_suspended == (213001,)
    (change,) = diff.peers_changed
    assert change.key == 213002 and change.changes == (FieldChange("max_prefixes.ipv4", 20, 40),)
    text = render_markdown(diff)
    assert "**suspended** AS213001" in text and "**resumed** AS213003" in text
    assert "**changed** AS213002: max_prefixes.ipv4 `20` → `40`" in text


def test_peer_added_removed_and_deleted(old):
    text = SAMPLE.read_text().replace("    state: suspended\n", "    state: removed\n")
    start = text.index("  213002:\n")
    end = text.index("  213003:\n")
    text = text[:start] + text[end:] + """
  213004:
    name: New Peer
    contact: noc@new.example
    zerotier_member: "1234567890"
    addresses: [10.99.0.14]
    max_prefixes: {ipv4: 5, ipv6: 5}
"""
    diff = diff_rosters(old, parse_roster_text(text))
    assert diff.peers_added == (213004,) and diff.peers_removed == (213003,) and diff.peers_deleted == (213002,)
    assert any("AS213002 was deleted while active" in w for w in diff.warnings)
    assert "**added** AS213004: `New Peer`, `10.99.0.14`" in render_markdown(diff)


def test_markdown_lists_added_people_with_their_tier(old):
    markdown = render_markdown(diff_rosters(old, edited(ERIN)))
    assert markdown.startswith("## Roster changes\n")
    assert "- **added** `erin`: namespace-owner, uid 20005, namespaces `team-b`" in markdown
    assert "<sub>roster digest" in markdown
