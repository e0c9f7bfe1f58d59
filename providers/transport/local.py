"""Commands on this machine (``HostTarget.address == "local"``): argv lists run by ``subprocess``, no shell."""
from __future__ import annotations

import subprocess

from providers.host import Result
from providers.transport.base import Transport


class LocalTransport(Transport):
    """Runs argv lists on this machine with ``subprocess`` (no shell)."""

    def _execute(self, commands, stop_on_error):
        results = []
        for cmd in commands:
            argv = (["sudo", "-n", "--"] if self.target.sudo else []) + list(cmd.argv)
            try:
                p = subprocess.run(argv, input=cmd.stdin if cmd.stdin is not None else "", capture_output=True,
                                   text=True, errors="replace")
            except FileNotFoundError as e:
                results.append(Result(cmd, 127, "", str(e)))
            else:
                results.append(Result(cmd, p.returncode, p.stdout, p.stderr))
            if stop_on_error and cmd.check and results[-1].exit_code != 0:
                break
        return results
