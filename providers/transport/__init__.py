"""Run argv lists on a host: locally (no shell) or over OpenSSH with one shared master connection.

This package is the only place in Keystone that runs host commands; everything else builds argv
lists (pure functions) and parses what comes back.  Its parts:

* ``providers.host`` (pure, outside the package): ``HostTarget``, ``Command``, ``Result`` and the
  errors — ``TransportError`` (exit 255 from ``ssh`` or a broken frame: the host could not be
  reached or the connection was cut), ``CommandError`` (a command ran and failed; secrets masked);
* ``providers.framing`` (pure, outside the package): the batch script of one round trip and the
  reading of its marked reply;
* ``base``: ``Transport.run_batch`` (several commands in **one round trip**, by default stopping at
  the first failing checked command) and ``Transport.exchange`` (writes, then shared reads);
  ``KEYSTONE_TRANSPORT_LOG=<file>``: every round trip appends one JSON line (pid, host, commands,
  groups, seconds) — the benchmarks and the round-trip regression test count them;
* ``local``: ``subprocess`` on this machine; ``ssh``: OpenSSH, a shared ControlMaster, long-lived
  sessions carrying the scripts, and round trips shared between concurrent callers.

``for_host`` gives the process-wide transport of a host.  The pure names are re-exported here
(their old home), so ``from providers.transport import Command`` keeps working.
"""
from __future__ import annotations

import threading

from providers.framing import (  # noqa: F401  (re-exported: their old home)
    Group, group_complete, parse_frames, parse_marked, render_batch_script, render_script,
)
from providers.host import (  # noqa: F401  (re-exported: their old home)
    MASK, Command, CommandError, HostError, HostTarget, Result, TransportError, mask,
)
from providers.transport.base import Stats, Transport, log_round_trip  # noqa: F401
from providers.transport.local import LocalTransport
from providers.transport.ssh import SshTransport, _BatchFailed, control_dir  # noqa: F401


_TRANSPORTS: dict[HostTarget, Transport] = {}
_TRANSPORTS_LOCK = threading.Lock()


def for_host(target: HostTarget) -> Transport:
    """The process-wide transport for ``target`` (created lazily; never pickled into state)."""
    with _TRANSPORTS_LOCK:
        t = _TRANSPORTS.get(target)
        if t is None:
            t = LocalTransport(target) if target.is_local else SshTransport(target)
            _TRANSPORTS[target] = t
        return t


def reset_transports() -> None:
    with _TRANSPORTS_LOCK:
        for t in _TRANSPORTS.values():
            if isinstance(t, SshTransport):
                t.close()
        _TRANSPORTS.clear()
