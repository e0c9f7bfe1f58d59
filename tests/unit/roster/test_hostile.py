"""Hostile and mistaken values, one per case: each must be reported with its field path and line.

Every case edits one line of a valid base roster (``BASE``) and names the issue that must appear:
the dotted field path, a fragment of its message or hint, and the text of the line it must point at
(by default the first line of the replacement).  One generic runner checks them all.
"""
from __future__ import annotations

import pytest

from roster import RosterError, parse_roster_text
from tests.harness.hostile_roster import BASE, CASES, CTX, Case, edit


def test_base_is_valid():
    roster = parse_roster_text(BASE, CTX)
    assert set(roster.people) == {"alice", "carol"} and set(roster.peers) == {213001, 213002}


def test_there_are_enough_hostile_cases():
    assert len(CASES) >= 35
    assert len({c.values[0].id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES)
def test_hostile_value_is_reported_at_its_line(case: Case):
    text, line = edit(case)
    with pytest.raises(RosterError) as caught:
        parse_roster_text(text, CTX, filename="roster.yaml")
    issues = caught.value.issues
    matching = [i for i in issues if ".".join(_flat(i.path)) == case.path]
    assert matching, f"no issue for {case.path}; got:\n{caught.value}"
    found = [i for i in matching if case.fragment in f"{i.message} ({i.hint})"]
    assert found, f"no issue for {case.path} mentions {case.fragment!r}; got:\n{caught.value}"
    assert found[0].line == line, f"expected line {line}; got:\n{caught.value}"
    assert f"roster.yaml:{line}:" in str(caught.value)
    assert f"roster.yaml:{line}:{found[0].col}: {case.path}: " in str(caught.value)


def _flat(path: tuple) -> list[str]:
    """Dotted rendering with list indices attached to the previous element (``groups[1]``)."""
    out: list[str] = []
    for element in path:
        if isinstance(element, int):
            out[-1] += f"[{element}]"
        else:
            out.append(element)
    return out


def test_plaintext_password_is_never_echoed():
    text, _ = edit(CASES[[c.values[0].id for c in CASES].index("password-plaintext")].values[0])
    with pytest.raises(RosterError) as caught:
        parse_roster_text(text.replace("hunter2", "S3cret-Passw0rd"), CTX)
    assert "S3cret-Passw0rd" not in str(caught.value)
    assert "S3cret-Passw0rd" not in repr(caught.value.issues)
