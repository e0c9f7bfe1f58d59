"""``python -m bench.peering_host``: the dynamic-provider host (``python -m pulumi.dynamic``, unchanged)
with every transport batch counted, for ``bench.peering``.

Each ``Transport.run_batch`` (one round trip: the BIRD providers make every call through it) appends a
JSON line to ``$KEYSTONE_BENCH_BATCH_LOG``: the host, the number of commands, and the ``birdc ...
configure`` sub-commands it carried.  Production code is not touched: the wrapper is installed in
this process only.
"""
from __future__ import annotations

import json
import os
import threading

from providers import transport

LOG = os.environ["KEYSTONE_BENCH_BATCH_LOG"]
_LOCK = threading.Lock()


def configure_calls(commands) -> list[str]:
    """``birdc -s SOCK configure [check|timeout N|confirm|undo|status]`` → the sub-command (``""``: plain)."""
    out = []
    for c in commands:
        argv = c.argv
        if argv[:1] == ("birdc",) and "configure" in argv:
            rest = argv[argv.index("configure") + 1:]
            out.append(rest[0] if rest else "")
    return out


def _install() -> None:
    original = transport.Transport.run_batch

    def run_batch(self, commands, stop_on_error: bool = True):
        line = json.dumps({"host": self.target.name, "commands": len(commands), "configure": configure_calls(commands)})
        with _LOCK, open(LOG, "a") as fh:
            fh.write(line + "\n")
        return original(self, commands, stop_on_error)

    transport.Transport.run_batch = run_batch


if __name__ == "__main__":
    import runpy

    _install()
    runpy.run_module("pulumi.dynamic", run_name="__main__")  # serves until terminated
