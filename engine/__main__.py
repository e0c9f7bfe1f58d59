"""``python -m engine [--cwd DIR] PULUMI-ARGS…`` — a ``pulumi`` command on this project's program.

``preview``, ``up``, ``refresh`` and ``destroy`` run with the program hosted in this process (see
``engine/__init__.py``); every other command (``stack init``, ``config set``, ``stack export`` …) is
passed to the CLI as it is.  Program commands run ``--parallel=32`` unless they say otherwise
(``with_parallel``: changes to one host that arrive together share round trips).  Before ``up``,
``refresh`` and ``destroy``, ``KEYSTONE_STACK`` is set to the stack and ``KEYSTONE_UPDATE`` to the
number the stack's history will give the update (for the hosts' journal: providers/journal.py).
The exit code is the CLI's.  One command, one fresh process, as
``pulumi`` itself: nothing is carried over between commands.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from engine import history, host, paths

PROGRAM_COMMANDS = {"preview", "pre", "up", "update", "refresh", "destroy", "down"}
UPDATE_COMMANDS = PROGRAM_COMMANDS - {"preview", "pre"}  # the ones that add an entry to the stack's history
_TARGET_FLAGS = {"--stack": "--stack", "-s": "--stack", "--cwd": "--cwd", "-C": "--cwd"}
PARALLEL = 32  # steps at once unless the command says (the CLI's default is 8)


def with_parallel(argv: list[str]) -> list[str]:
    """A program command with ``--parallel=PARALLEL`` unless it gives ``-p``/``--parallel`` itself:
    Keystone batches the changes to a host that arrive together (providers/hostcache.py), and the
    CLI's default of 8 steps at once would cap a batch at 8."""
    if argv[:1] and argv[0] in PROGRAM_COMMANDS and not any(
            a in ("-p", "--parallel") or a.startswith(("--parallel=", "-p=")) or (a.startswith("-p") and a[2:].isdigit())
            for a in argv[1:]):
        return [*argv, f"--parallel={PARALLEL}"]
    return argv


def target_flags(argv: list[str]) -> list[str]:
    """The ``--stack``/``--cwd`` of a command line, to ask the CLI about the same stack."""
    out = []
    for i, arg in enumerate(argv):
        name, eq, value = arg.partition("=")
        if name in _TARGET_FLAGS and eq:
            out += [_TARGET_FLAGS[name], value]
        elif arg in _TARGET_FLAGS and i + 1 < len(argv):
            out += [_TARGET_FLAGS[arg], argv[i + 1]]
    return out


def _history(cli: str, flags: list[str], cwd: str, env: dict[str, str], page: tuple[str, ...]) -> list | None:
    try:
        p = subprocess.run([cli, "stack", "history", "--json", *page, "--non-interactive", *flags], cwd=cwd, env=env,
                           capture_output=True, text=True, timeout=300)
        entries = json.loads(p.stdout) if p.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError):
        return None
    return entries if isinstance(entries, list) else None


def next_update(cli: str, argv: list[str], cwd: str, env: dict[str, str]) -> str | None:
    """The number this command's update will have in the stack's history (``engine/history.py``), which
    the providers write in each host's journal (``KEYSTONE_UPDATE``, providers/journal.py); None when
    the history cannot be read (the journal then says ``update=?``).  One short CLI call where the
    backend numbers its updates; a DIY backend's whole history is counted."""
    flags = target_flags(argv[1:])
    newest = _history(cli, flags, cwd, env, history.NEWEST)
    if newest is None:
        return None
    own = history.backend_numbers(newest)
    if own is not None or not newest:
        return str((own or 0) + 1)
    entries = _history(cli, flags, cwd, env, history.WHOLE)
    return None if entries is None else str(len(history.numbered(entries)) + 1)


def current_stack(cli: str, argv: list[str], cwd: str, env: dict[str, str]) -> str | None:
    """The stack this command runs on (``--stack``, else the selected one), which the providers write in
    each host's journal (``KEYSTONE_STACK``, providers/journal.py); None when the CLI cannot say."""
    flags = target_flags(argv[1:])
    if "--stack" in flags:
        return flags[flags.index("--stack") + 1].rsplit("/", 1)[-1]
    try:
        p = subprocess.run([cli, "stack", "--show-name", "--non-interactive", *flags], cwd=cwd, env=env,
                           capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return p.stdout.strip() or None if p.returncode == 0 else None


def main(argv: list[str]) -> int:
    cwd = os.getcwd()
    if argv[:1] == ["--cwd"] and len(argv) > 1:
        cwd, argv = argv[1], argv[2:]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        cli = paths.cli()
    except paths.EngineMissing as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    env = paths.command_env()
    server = None
    if argv[0] in UPDATE_COMMANDS and "KEYSTONE_UPDATE" not in env:
        update = next_update(str(cli), argv, cwd, env)
        if update:
            env["KEYSTONE_UPDATE"] = update
    if argv[0] in UPDATE_COMMANDS and "KEYSTONE_STACK" not in env:
        stack = current_stack(str(cli), argv, cwd, env)
        if stack:
            env["KEYSTONE_STACK"] = stack
    if argv[0] in PROGRAM_COMMANDS:
        server, address = host.serve(cwd)
        argv = [*with_parallel(argv), f"--client={address}"]
    child = subprocess.Popen([str(cli), *argv], cwd=cwd, env=env)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda s, _f: child.send_signal(s))
    rc = child.wait()
    if server is not None:
        server.stop(0)
    return rc


if __name__ == "__main__":
    sys.stdout.flush()
    # The program may still hold threads when the CLI is gone (a killed or failed run): leave at once.
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
