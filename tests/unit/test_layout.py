"""Where code may import from: production code never imports the test tree; a test module imports
test support only from ``tests.harness`` (never another test module or a conftest); the bench
imports test support from ``tests.harness`` only."""
from __future__ import annotations

import ast
import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
SKIP = {".git", ".venv", ".hypothesis", "node_modules"}


def imported_modules(path: pathlib.Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return found


def python_files() -> list[pathlib.Path]:
    found = []
    for top, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if d not in SKIP)  # never walk into the virtualenv
        found += [pathlib.Path(top) / f for f in sorted(files) if f.endswith(".py")]
    return found


def test_imports_of_the_test_tree_go_through_tests_harness():
    wrong = []
    for path in python_files():
        rel = path.relative_to(ROOT)
        top = rel.parts[0]
        for name in imported_modules(path):
            if name != "tests" and not name.startswith("tests."):
                continue
            allowed = top in ("tests", "bench") and (name == "tests.harness" or name.startswith("tests.harness."))
            if not allowed:
                wrong.append(f"{rel}: {name}")
    assert not wrong, "imports of the test tree outside tests.harness (or from production code):\n" + "\n".join(wrong)


def test_test_support_does_not_import_tests():
    wrong = [f"{p.relative_to(ROOT)}: {n}" for p in sorted((ROOT / "tests" / "harness").glob("*.py"))
             for n in imported_modules(p) if n.startswith("tests.") and not n.startswith("tests.harness")]
    assert not wrong, wrong


def test_no_test_skips_itself():
    """Every tier runs or fails: under CI=true a real-system tier whose guest, qemu or bird is missing
    must fail the run, so no test module skips (``pytest.skip``, ``skipif``, ``importorskip``)."""
    calls = {"skip", "skipif", "importorskip", "xfail"}
    found = []
    for path in python_files():
        if path.relative_to(ROOT).parts[0] != "tests":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Attribute) and node.attr in calls and \
                    ast.unparse(node.value) in ("pytest", "pytest.mark"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert not found, "\n".join(found)


def _providers_graph() -> dict[str, set[str]]:
    """Each module of ``providers/`` and the modules of ``providers/`` it imports (a package's
    ``__init__`` that an import passes through is not counted: the packages' faces import nothing)."""
    modules = {}
    for path in sorted((ROOT / "providers").rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    return {name: {m for m in imported_modules(path) if m in modules and m != name} for name, path in modules.items()}


def test_the_providers_import_each_other_without_a_cycle():
    graph = _providers_graph()
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import cycle: {' -> '.join((*path, module))}"
        if module not in done:
            for dep in sorted(graph[module]):
                visit(dep, (*path, module))
            done.add(module)

    for module in graph:
        visit(module, ())


def test_the_host_state_only_composes_the_facets_below_it():
    """``providers.hoststate`` takes from the area packages their facets (and the facts they fill) only,
    and no facet, facts or plan module reaches back up to it or to the cache that runs it: each plan
    takes its own facet's part of the state."""
    graph = _providers_graph()
    areas = {m for m in graph if m.count(".") == 2}
    assert {m for m in graph["providers.hoststate"] if m in areas} <= {m for m in areas if m.endswith((".facet", ".facts"))}
    assert {f"providers.{a}.facet" for a in ("accounts", "zfs", "workstation", "hostfile", "hostbase")} <= \
        graph["providers.hoststate"]

    def reach(module: str) -> set[str]:
        seen, todo = set(), [module]
        while todo:
            for dep in graph[todo.pop()] - seen:
                seen.add(dep)
                todo.append(dep)
        return seen

    wrong = {m: sorted(reach(m) & {"providers.hoststate", "providers.hostcache"}) for m in sorted(areas)
             if m.endswith((".facet", ".facts", ".plan"))}
    assert not {m: up for m, up in wrong.items() if up}, wrong
