"""``python -m engine [--cwd DIR] PULUMI-ARGS…`` — a ``pulumi`` command on this project's program.

``preview``, ``up``, ``refresh`` and ``destroy`` run with the program hosted in this process (see
``engine/__init__.py``); every other command (``stack init``, ``config set``, ``stack export`` …) is
passed to the CLI as it is.  The exit code is the CLI's.  One command, one fresh process, as
``pulumi`` itself: nothing is carried over between commands.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys

from engine import host, paths

PROGRAM_COMMANDS = {"preview", "pre", "up", "update", "refresh", "destroy", "down"}


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
    if argv[0] in PROGRAM_COMMANDS:
        server, address = host.serve(cwd)
        argv = [*argv, f"--client={address}"]
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
