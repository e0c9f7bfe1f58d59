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

``for_host`` gives the process-wide transport of a host.  The pure names are imported from their
own modules (``providers.host``, ``providers.framing``), never from here.
"""
from __future__ import annotations

import threading

from providers.host import HostTarget
from providers.transport.base import Transport
from providers.transport.local import LocalTransport
from providers.transport.ssh import SshTransport


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
