"""The program process runs with the cyclic collector off (program/gc_pause.py), switched off
before the program's imports."""
import ast
import gc
import pathlib

from program.gc_pause import pause_for_program

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_pause_for_program_turns_the_collector_off():
    was = gc.isenabled()
    try:
        gc.enable()
        pause_for_program()
        assert not gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()


def test_main_pauses_the_collector_before_importing_the_program():
    body = ast.parse((ROOT / "__main__.py").read_text()).body
    statements = [s for s in body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    calls = [i for i, s in enumerate(statements)
             if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call)
             and getattr(s.value.func, "id", None) == "pause_for_program"]
    program_import = [i for i, s in enumerate(statements)
                      if isinstance(s, ast.ImportFrom) and s.module == "program.stack"]
    assert calls and program_import, "__main__.py must call pause_for_program() and import program.stack"
    assert calls[0] < program_import[0]
