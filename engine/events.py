"""The engine's own account of a command: its event log (``pulumi … --event-log FILE``), per resource.

``python -m engine.events FILE [--list]`` prints ``no changes`` when the command's steps changed no
infrastructure, else the count of each kind of step (``create 15, update 2``; ``--list``: then one
line per changed resource).  What counts
is what the test tier counts (``tests/harness/engine.py``): the stack itself, provider instances
and the gate's StackReference reads are not infrastructure (a StackReference to this stack
"updates" in the first preview after an ``up`` that changed the outputs: docs/engine.md).
"""
from __future__ import annotations

import json
import pathlib
import sys
from typing import Any


def read_events(path: pathlib.Path) -> list[dict[str, Any]]:
    """The events, one JSON object a line; while the CLI is still writing, complete lines only."""
    if not path.exists():
        return []
    text = path.read_text()
    return [json.loads(line) for line in text[:text.rfind("\n") + 1].splitlines() if line.strip()]


def steps(events: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(op, type, name) of every step the engine announced, in order."""
    out = []
    for e in events:
        meta = (e.get("resourcePreEvent") or {}).get("metadata")
        if meta:
            out.append((meta["op"], meta.get("type", ""), meta["urn"].rsplit("::", 1)[-1]))
    return out


def ops(events: list[dict[str, Any]], *kinds: str) -> dict[str, str]:
    """Resource name → the step's op for custom resources (``kinds``: type prefixes to keep, e.g.
    ``"pulumi-python:dynamic/"``); ``same`` steps included.  A replacement shows as ``replace``."""
    result: dict[str, str] = {}
    for op, type_, name in steps(events):
        if type_.startswith(("pulumi:pulumi:Stack", "pulumi:providers:")) or ":" not in type_:
            continue
        if kinds and not type_.startswith(kinds):
            continue
        if op in ("create-replacement", "delete-replaced", "replace"):
            op = "replace"
        if result.get(name) == "replace":
            continue
        result[name] = op
    return result


def changed(events: list[dict[str, Any]], *kinds: str) -> dict[str, str]:
    return {n: op for n, op in ops(events, *kinds).items() if op not in ("same", "read", "refresh")}


def describe(found: dict[str, str]) -> str:
    """``no changes``, or the count of each kind of step: ``create 15, update 2``."""
    if not found:
        return "no changes"
    counts: dict[str, int] = {}
    for op in found.values():
        counts[op] = counts.get(op, 0) + 1
    return ", ".join(f"{op} {n}" for op, n in sorted(counts.items()))


def main(argv: list[str]) -> int:
    listing = "--list" in argv
    paths = [a for a in argv if a != "--list"]
    if len(paths) != 1:
        print("usage: python -m engine.events EVENT_LOG [--list]", file=sys.stderr)
        return 2
    found = changed(read_events(pathlib.Path(paths[0])))
    print(describe(found))
    for name, op in sorted(found.items()) if listing else ():
        print(f"  {op} {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
