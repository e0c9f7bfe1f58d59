"""The real Pulumi CLI on a throwaway Keystone project: what an admin runs, driven from tests and
the bench.

``Workspace`` makes a project directory whose program is the repository's own (``__main__.py``,
``program/``, ``components/``, ``providers/`` … linked, not copied), with its own ``Pulumi.<stack>.yaml`` and
roster, a private ``PULUMI_HOME`` and a backend: a local file backend by default, or any backend URL
(the team backend: ``postgres://…``, tests/harness/postgres.py).  Every command is a fresh
``python -m engine …`` process — the CLI, a fresh language runtime and fresh provider processes —
and returns the engine's own account of it: the event log (``--event-log``), per resource name.
"""
from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Any

import yaml

from engine import events, paths
from engine.events import read_events

REPO = paths.ROOT

def program_entries() -> list[str]:
    """What a project directory links from the repository: everything at its top level (the program and
    every module it imports, ``.venv`` for the policy pack) except the stacks' own config files."""
    return sorted(p.name for p in REPO.iterdir()
                  if p.name not in (".git", "rosters") and not (p.name.startswith("Pulumi.") and p.name != "Pulumi.yaml"))

PASSPHRASE = "keystone-engine-tests"


@dataclass
class Outcome:
    """One command's result: exit code, output and the engine events it logged."""

    args: list[str]
    rc: int
    stdout: str
    stderr: str
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def steps(self) -> list[tuple[str, str, str]]:
        """(op, type, name) of every step the engine announced, in order."""
        return events.steps(self.events)

    def ops(self, *kinds: str) -> dict[str, str]:
        """Resource name → the step's op for custom resources (``engine.events.ops``)."""
        return events.ops(self.events, *kinds)

    def changed(self, *kinds: str) -> dict[str, str]:
        return events.changed(self.events, *kinds)

    def drift(self) -> dict[str, str]:
        """After ``refresh``: resource name → the change the refresh found (``update``/``delete``)."""
        result = {}
        for e in self.events:
            meta = (e.get("resOutputsEvent") or {}).get("metadata")
            if meta and meta.get("op") == "refresh" and meta.get("diffs"):
                result[meta["urn"].rsplit("::", 1)[-1]] = "update"
            elif meta and meta.get("op") in ("update", "delete") and not meta.get("type", "").startswith(
                    "pulumi:pulumi:Stack"):  # the stack, and the gate's StackReference re-read
                result[meta["urn"].rsplit("::", 1)[-1]] = meta["op"]
        return result

    def summary(self) -> dict[str, int]:
        for e in reversed(self.events):
            if "summaryEvent" in e:
                return e["summaryEvent"].get("resourceChanges") or {}
        return {}

    def errors(self) -> list[str]:
        return [e["diagnosticEvent"]["message"] for e in self.events
                if (e.get("diagnosticEvent") or {}).get("severity") == "error"]

    def policy_violations(self) -> list[dict[str, Any]]:
        return [e["policyEvent"] for e in self.events if "policyEvent" in e]

    def check(self) -> Outcome:
        if self.rc != 0:
            raise AssertionError(f"`pulumi {' '.join(self.args)}` exited {self.rc}:\n{self.output[-6000:]}")
        return self


class Workspace:
    """A project directory + backend + PULUMI_HOME under ``root``."""

    def __init__(self, root: pathlib.Path, name: str = "project", program: pathlib.Path | None = None,
                 backend_url: str | None = None, passphrases: dict[str, str] | None = None,
                 environ: dict[str, str] | None = None):
        """``program``: a directory holding another program (``Pulumi.yaml`` and ``__main__.py``) to run
        instead of Keystone's, with the repository's modules beside it.  ``backend_url``: the backend
        (default: a file backend under ``root``).  ``passphrases``: stack → its own passphrase (a team's
        secrets provider: one passphrase per stack, held by that stack's admins); other stacks use
        ``PASSPHRASE``.  ``environ``: more environment for every command (the database password)."""
        self.root = root
        self.backend_url = backend_url
        self.passphrases = dict(passphrases or {})
        self.environ = dict(environ or {})
        self.project = root / name
        self.state = root / "state"
        self.home = root / "pulumi-home"
        for d in (self.project, self.state, self.home):
            d.mkdir(parents=True, exist_ok=True)
        own = ("Pulumi.yaml", "__main__.py") if program is not None else ()
        entries = [(e, program / e) for e in own] + [(e, REPO / e) for e in program_entries() if e not in own]
        for entry, target in entries:
            link = self.project / entry
            if not link.exists():
                link.symlink_to(target)

    # -- files ---------------------------------------------------------------------------------
    def write_roster(self, text: str, name: str = "roster.yaml") -> pathlib.Path:
        path = self.project / "rosters" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        return path

    def write_stack(self, stack: str, config: dict[str, Any]) -> pathlib.Path:
        """``Pulumi.<stack>.yaml`` with ``config`` (keys without the ``keystone:`` prefix get it);
        secrets already set on the stack (``set_secret``) are kept."""
        path = self.project / f"Pulumi.{stack}.yaml"
        current = yaml.safe_load(path.read_text()) if path.exists() else {}
        kept = {k: v for k, v in (current or {}).get("config", {}).items() if isinstance(v, dict) and "secure" in v}
        doc = {k: v for k, v in (current or {}).items() if k != "config"}
        doc["config"] = {**{(k if ":" in k else f"keystone:{k}"): v for k, v in config.items()}, **kept}
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return path

    def on_another_machine(self, tag: str) -> Workspace:
        """The same project as another admin has it: a checkout of its own (the stack files copied, as
        git brings them), its own ``PULUMI_HOME``, the same backend and passphrases."""
        other = Workspace(self.root / tag, backend_url=self.url, passphrases=self.passphrases, environ=self.environ)
        for f in self.project.glob("Pulumi.*.yaml"):
            if not f.is_symlink():
                (other.project / f.name).write_text(f.read_text())
        return other

    # -- commands ------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.backend_url or f"file://{self.state}?metadata=skip"

    def env(self, stack: str | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.environ)
        env.update(PULUMI_BACKEND_URL=self.url, PULUMI_HOME=str(self.home),
                   PULUMI_CONFIG_PASSPHRASE=self.passphrases.get(stack or "", PASSPHRASE),
                   PULUMI_SKIP_CONFIRMATIONS="true", NO_COLOR="1",
                   PULUMI_DEBUG_COMMANDS="true")  # --event-log, as the Automation API uses it
        env.pop("PULUMI_ACCESS_TOKEN", None)
        return env

    def spawn(self, *args: str, stack: str | None = None, events: pathlib.Path | None = None,
              stdout: Any = subprocess.PIPE, stderr: Any = subprocess.PIPE,
              secrets_of: str | None = None, from_dir: pathlib.Path | None = None) -> subprocess.Popen:
        """Start one command; with the default pipes the caller must read them (``communicate``).
        The passphrase is ``stack``'s (or ``secrets_of``'s, for a command that names no stack).

        ``from_dir``: start it there, naming the project with the CLI's own ``--cwd`` (as an admin
        runs ``pulumi up --cwd ~/keystone`` from elsewhere); by default the CLI starts in the project."""
        env = self.env(stack or secrets_of)
        if from_dir is None:
            argv = [sys.executable, "-m", "engine", "--cwd", str(self.project), *args, "--non-interactive"]
        else:
            argv = [sys.executable, "-m", "engine", *args, "--cwd", str(self.project), "--non-interactive"]
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        if stack:
            argv += ["--stack", stack]
        if events:
            argv += ["--event-log", str(events)]
        return subprocess.Popen(argv, cwd=from_dir or REPO, env=env, stdout=stdout, stderr=stderr,
                                text=True, start_new_session=True)

    def run(self, *args: str, stack: str | None = None, log_events: bool = False, timeout: float = 900,
            check: bool = False, secrets_of: str | None = None, from_dir: pathlib.Path | None = None) -> Outcome:
        with tempfile.TemporaryDirectory() as tmp:
            events = pathlib.Path(tmp) / "events.jsonl" if log_events else None
            proc = self.spawn(*args, stack=stack, events=events, secrets_of=secrets_of, from_dir=from_dir)
            try:
                out, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                out, err = proc.communicate()
                raise AssertionError(f"`pulumi {' '.join(args)}` did not finish in {timeout:.0f} s:\n{(out + err)[-4000:]}") from None
            outcome = Outcome(list(args), proc.returncode, out, err, read_events(events) if events else [])
        return outcome.check() if check else outcome

    def init(self, stack: str) -> None:
        """``stack init`` unless the stack exists (a file backend's state file, else ``stack ls``)."""
        if self.backend_url is None:
            exists = (self.state / ".pulumi" / "stacks" / "keystone" / f"{stack}.json").exists()
        else:
            exists = stack in {s["name"] for s in json.loads(self.run("stack", "ls", "--json", check=True).stdout)}
        if not exists:
            self.run("stack", "init", stack, secrets_of=stack, check=True)

    def set_secret(self, stack: str, key: str, value: str) -> None:
        self.run("config", "set", "--secret", key if ":" in key else f"keystone:{key}", value, stack=stack, check=True)

    def preview(self, stack: str, *extra: str, check: bool = True, from_dir: pathlib.Path | None = None) -> Outcome:
        return self.run("preview", *extra, stack=stack, log_events=True, check=check, from_dir=from_dir)

    def up(self, stack: str, *extra: str, check: bool = True, from_dir: pathlib.Path | None = None) -> Outcome:
        return self.run("up", "--yes", "--skip-preview", *extra, stack=stack, log_events=True, check=check,
                        from_dir=from_dir)

    def refresh(self, stack: str, *extra: str, check: bool = True) -> Outcome:
        return self.run("refresh", "--yes", "--skip-preview", *extra, stack=stack, log_events=True, check=check)

    def destroy(self, stack: str, *extra: str, check: bool = True) -> Outcome:
        return self.run("destroy", "--yes", "--skip-preview", *extra, stack=stack, log_events=True, check=check)

    def export(self, stack: str) -> dict[str, Any]:
        return json.loads(self.run("stack", "export", stack=stack, check=True).stdout)

    def outputs(self, stack: str) -> dict[str, Any]:
        return json.loads(self.run("stack", "output", "--json", "--show-secrets", stack=stack, check=True).stdout)

