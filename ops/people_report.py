"""``python -m ops people-report --stack S [--format markdown|json] [--no-hosts]``: who exists where.

Reads the stack's state and history through the CLI (``pulumi stack export``, ``pulumi stack history
--json --page-size 0``: every update, not the CLI's default newest 10; the backend and project of the
current directory, as ``pulumi`` itself; secrets stay encrypted, no passphrase is needed) and renders
one row per person and host (``ops.people``).  The space each home uses is not in the state: it is
read live, one read-only round trip per host (``zfs list -p -o name,used``) through Keystone's
transport, with the host's connection settings from the state itself; ``--no-hosts`` skips it (used
shows as ``?``), and a host that cannot be read shows ``?`` and is named on stderr.

Exit codes: 0 report printed; 1 the state or history could not be read (or a host could not be
read: the report is still printed); 2 usage error.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from engine import history as engine_history
from engine import paths
from ops.people import ReportError, parse_used, people_view, render_json, render_markdown, used_command
from providers.host import Command, HostError, HostTarget


def pulumi(*args: str, cwd: str | None = None) -> str:
    """One CLI command's stdout (the cached CLI, else a ``pulumi`` on PATH); raises ``ReportError``."""
    try:
        cli = str(paths.cli())
    except paths.EngineMissing:
        cli = shutil.which("pulumi") or ""
        if not cli:
            raise ReportError("no Pulumi CLI: run `bash scripts/setup.sh`") from None
    p = subprocess.run([cli, *args, "--non-interactive"], cwd=cwd, env=paths.command_env(), capture_output=True,
                       text=True)
    if p.returncode != 0:
        raise ReportError(f"`pulumi {' '.join(args)}` exited {p.returncode}: {(p.stderr or p.stdout).strip()[-1500:]}")
    return p.stdout


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ReportError(f"{what}: not JSON ({e})") from None


def homes_by_host(deployment: dict[str, Any]) -> dict[str, tuple[HostTarget, set[str]]]:
    """host name -> (its target as the state records it, the parents of the homes Keystone manages there)."""
    found: dict[str, tuple[HostTarget, set[str]]] = {}
    for r in deployment.get("resources") or []:
        out = r.get("outputs") or {}
        if str(r.get("type", "")).endswith("zfs:Dataset") and isinstance(out.get("host"), dict) and out.get("dataset"):
            try:
                target = HostTarget.model_validate(out["host"])
            except ValueError:
                continue
            parent = str(out["dataset"]).rsplit("/", 1)[0]
            found.setdefault(target.name, (target, set()))[1].add(parent)
    return found


def read_used(deployment: dict[str, Any], err: Any) -> tuple[dict[tuple[str, str], int | None], list[str]]:
    """(host, dataset) -> bytes used, read live; and the hosts that could not be read."""
    from providers.transport import for_host  # reaches the hosts: loaded only when they are read

    hosts = homes_by_host(deployment)

    def one(item: tuple[str, tuple[HostTarget, set[str]]]) -> tuple[str, dict[str, int] | None]:
        name, (target, parents) = item
        try:
            results = for_host(target).run_batch([Command.of(*used_command(p), check=False) for p in sorted(parents)])
        except (HostError, OSError) as e:
            print(f"host {name}: used space not read: {str(e).splitlines()[0][:300]}", file=err)
            return name, None
        used: dict[str, int] = {}
        for r in results:
            used.update(parse_used(r.stdout))
        return name, used

    used: dict[tuple[str, str], int | None] = {}
    failed = []
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(hosts)))) as pool:
        for name, found in pool.map(one, sorted(hosts.items())):
            if found is None:
                failed.append(name)
                continue
            used.update({(name, ds): n for ds, n in found.items()})
    return used, failed


def run(stack: str, fmt: str = "markdown", hosts: bool = True, cwd: str | None = None, out=None, err=None) -> int:
    out, err = out or sys.stdout, err or sys.stderr  # bound at call time (tests capture them)
    cwd = cwd or os.getcwd()
    try:
        exported = _json(pulumi("stack", "export", "--stack", stack, cwd=cwd), "stack export")
        history = _json(pulumi("stack", "history", "--json", *engine_history.WHOLE, "--stack", stack, cwd=cwd),
                        "stack history")
        deployment = exported.get("deployment") or {} if isinstance(exported, dict) else {}
        used, failed = read_used(deployment, err) if hosts else ({}, [])
        view = people_view(stack, deployment, history or [], used)
    except ReportError as e:
        print(f"people-report: {e}", file=err)
        return 1
    out.write(render_json(view) if fmt == "json" else render_markdown(view))
    return 1 if failed else 0
