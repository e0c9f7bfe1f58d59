"""Shell the hosts run lives in ``.sh`` files (checked by shellcheck in ``test_shellcheck.py``), never in
Python strings; the ZFS read script's own property list is the one its parser expects."""
from __future__ import annotations

import ast
import pathlib

import pytest

from engine.paths import ROOT
from providers.zfs import facet as zfs_facet
from providers.zfs.facts import READ_PROPERTIES


def _sh_c_calls() -> list[tuple[str, int, ast.expr]]:
    """Every ``…("sh", "-c", SCRIPT, …)`` call in ``providers/``: (file, line, the SCRIPT argument)."""
    found = []
    for path in sorted(pathlib.Path(ROOT, "providers").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            consts = [a.value if isinstance(a, ast.Constant) else None for a in node.args]
            for i in range(len(consts) - 2):
                if consts[i] == "sh" and consts[i + 1] == "-c":
                    found.append((str(path.relative_to(ROOT)), node.lineno, node.args[i + 2]))
    return found


def test_there_are_sh_c_commands_to_check():
    assert len(_sh_c_calls()) >= 8


@pytest.mark.parametrize("where", _sh_c_calls(), ids=lambda w: f"{w[0]}:{w[1]}")
def test_a_host_script_is_a_name_loaded_from_a_file_never_a_literal(where):
    path, line, arg = where
    assert not isinstance(arg, (ast.Constant, ast.JoinedStr, ast.BinOp)), \
        f"{path}:{line}: shell text inline; put it in a .sh file beside the module (providers.scripts.script)"


def test_the_zfs_read_asks_for_exactly_the_properties_its_parser_reads():
    assert zfs_facet.script_properties(zfs_facet.READ) == READ_PROPERTIES


def test_a_zfs_read_script_without_its_property_line_is_refused():
    with pytest.raises(RuntimeError, match="props="):
        zfs_facet.script_properties(zfs_facet.READ.replace("props=", "properties="))
    assert zfs_facet.script_properties("props=type,quota\n") == ("type", "quota")
