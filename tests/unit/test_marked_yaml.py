"""The one YAML reader: positions of keys and values, every problem at once, strict and full modes."""
from __future__ import annotations

import pytest

import marked_yaml


def test_positions_of_keys_and_values_are_one_based():
    doc = marked_yaml.read("a:\n  b: 1\n  c:\n    - x\n    - y\n")
    assert doc.problems == []
    assert doc.data == {"a": {"b": 1, "c": ["x", "y"]}}
    assert doc.marks[("a", "b")] == ((2, 3), (2, 6))
    assert doc.marks[("a", "c", 1)] == (None, (5, 7))
    assert doc.position(("a", "c", 1, "missing")) == (5, 7)
    assert doc.position(("a", "b"), key=True) == (2, 3)


def test_every_duplicate_key_is_reported_and_the_first_value_kept():
    doc = marked_yaml.read("a: 1\nb: 2\na: 3\nb: 4\n")
    assert [(p.line, p.path, p.message) for p in doc.problems] == [
        (3, ("a",), "duplicate key 'a' (first on line 1)"),
        (4, ("b",), "duplicate key 'b' (first on line 2)"),
    ]
    assert doc.data == {"a": 1, "b": 2}


def test_keys_are_compared_by_their_string_form():
    doc = marked_yaml.read("213001: x\n'213001': y\n")
    assert [p.message for p in doc.problems] == ["duplicate key '213001' (first on line 1)"]


@pytest.mark.parametrize("text, fragment", [
    ("a: &x 1\nb: *x\n", "alias *x"),
    ("a: !!str 1\n", "tag"),
    ("base: {x: 1}\nc:\n  <<: {x: 1}\n", "merge keys"),
])
def test_strict_mode_refuses_anchors_tags_and_merge_keys(text, fragment):
    doc = marked_yaml.read(text, strict=True)
    assert any(fragment in p.message for p in doc.problems), doc.problems


def test_full_mode_follows_aliases_and_merge_keys_as_pulumi_does():
    doc = marked_yaml.read("base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\nd: *b\n", strict=False)
    assert doc.problems == []
    assert doc.data == {"base": {"x": 1}, "c": {"x": 1, "y": 2}, "d": {"x": 1}}


def test_an_alias_bomb_never_expands_in_strict_mode():
    bomb = "a: &a [x, x]\n" + "".join(f"{c}: &{c} [*{p}, *{p}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
    doc = marked_yaml.read(bomb, strict=True)
    assert doc.problems and doc.data["i"] == [None, None]


def test_unreadable_values_syntax_errors_and_characters_are_problems_at_their_line():
    assert [(p.line, p.col) for p in marked_yaml.read("a: 1\nb: 2026-13-45\n").problems] == [(2, 4)]
    assert [p.line for p in marked_yaml.read("a: [1\nb: 2\n").problems] == [2]
    assert "U+0007" in marked_yaml.read("a: 1\nb: \x07\n").problems[0].message


def test_empty_text_is_flagged_not_an_error():
    doc = marked_yaml.read("# only a comment\n")
    assert doc.empty and doc.data is None and doc.problems == []


def test_decode_names_the_byte_and_its_position():
    text, problem = marked_yaml.decode(b"a: 1\nb: caf\xe9\n", 100)
    assert text is None and (problem.line, problem.col) == (2, 7) and "0xe9" in problem.message
    assert marked_yaml.decode(b"\xef\xbb\xbfa: 1\n", 100) == ("a: 1\n", None)
    assert "more than 3" in marked_yaml.decode(b"a: 1\n", 3)[1].message


def _laughs(indent: str = "") -> str:
    """Nine levels of nine aliases: 9**9 (387 million) values once expanded."""
    lols = ", ".join(["lol"] * 9)
    return (f"{indent}a: &a [{lols}]\n"
            + "".join(f"{indent}{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi")))


def test_a_billion_laughs_is_refused_in_full_mode_before_it_expands():
    doc = marked_yaml.read("x: 1\n" + _laughs(), strict=False)
    assert doc.data is None
    (problem,) = doc.problems
    assert (problem.line, problem.col) == (10, 8) and "more than 100,000" in problem.message  # the last row's first alias


def test_merge_keys_cannot_multiply_either():
    keys = ", ".join(f"k{i}: 1" for i in range(10))
    text = f"a: &a {{{keys}}}\n" + "".join(
        f"{c}: &{c} {{<<: [{', '.join(['*' + p] * 10)}]}}\n" for p, c in zip("abcdefgh", "bcdefghi"))
    doc = marked_yaml.read(text, strict=False)
    assert doc.data is None and "aliases expand to" in doc.problems[0].message and doc.problems[0].line == 9


def test_aliases_within_the_bound_are_followed():
    doc = marked_yaml.read("a: &a [1, 2, 3]\n" + "".join(f"b{i}: *a\n" for i in range(100)), strict=False)
    assert doc.problems == [] and doc.data["b99"] == [1, 2, 3]


@pytest.mark.parametrize("text", ["a: &a [*a]\n", "a: &a [*a, *a, *a, *a, *a, *a, *a, *a]\n",
                                  "x: 1\nb: &b {c: &c [1, *b]}\nd: *c\n"])
def test_an_alias_inside_its_own_value_is_refused_not_expanded(text):
    """A recursive alias expands without end: refused at the alias (it once hung the count)."""
    doc = marked_yaml.read(text, strict=False)
    assert doc.data is None
    (problem,) = doc.problems
    assert "expand without end" in problem.message and problem.line == text.count("\n", 0, text.index("*")) + 1
