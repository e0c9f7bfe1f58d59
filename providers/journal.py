"""Every change Keystone makes on a host is written to that host's journal (``logger -t keystone``),
so the host alone tells what Keystone did to it: ``journalctl -t keystone``.

One line per create, update or delete of a Keystone resource, on each host the operation sends a
batch of its own to, in the same round trip as that first batch (the line goes first: it records
what is about to be done, as configuration tools log the invocation of a change; a failed change is
the engine's to report).  A ``read`` (``refresh``) writes no line, nor does the shared read of
``Transport.exchange`` (the read before a plan through ``providers.hostcache``), so an operation
that only reads that way and finds nothing to do writes none.  The transport cannot tell a read
from a write in a batch of the operation's own, so an operation whose first batch is a read writes
its line there even when it then changes nothing (an account's delete asks ``getent`` first; a
BIRD file's update sends its gather first).  The line names the stack, the update,
the operation, the resource and the person — names Keystone validated, never an input's value, so
never a secret:

    keystone: stack=dev update=7 op=update resource=os:Account id=guest/alice person=alice

Where the names come from: ``KEYSTONE_STACK`` and ``KEYSTONE_UPDATE`` in the provider's environment,
which ``python -m engine`` sets before ``up``/``refresh``/``destroy`` (the stack the command names or
has selected; the number its update will have in the stack's history).  Under an official ``pulumi``
started directly they are not set and the line says ``stack=?``/``update=?``; its time matches the
history's.

``providers.base.KeystoneProvider`` opens an ``Entry`` around every create/update/delete
(``journaled``); ``providers.transport.base.Transport`` adds ``command_for`` to the first batch of
the operation's own commands (``run``, ``run_batch``, ``exchange``'s commands) to each host while
one is open.  ``providers.hostcache.write_and_read`` sends several changes to a host in one round
trip: it takes each change's line in the change's own thread and sends them as one ``logger``
(``one_command``), first.
"""
from __future__ import annotations

import contextvars
import functools
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from providers.host import Command

TAG = "keystone"
_SAFE = re.compile(r"[^A-Za-z0-9_.:/@+-]")


def _token(value: Any) -> str:
    """A value as one safe word (names Keystone validated; anything else is cut to that alphabet)."""
    text = _SAFE.sub("_", str(value))[:120]
    return text or "?"


@dataclass
class Entry:
    stack: str | None
    update: str | None
    op: str
    resource: str
    ident: str | None = None
    person: str | None = None
    written: set[str] = field(default_factory=set)  # hosts that already have this operation's line
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def message(self) -> str:
        parts = [f"stack={_token(self.stack) if self.stack else '?'}",
                 f"update={_token(self.update) if self.update else '?'}", f"op={self.op}",
                 f"resource={_token(self.resource)}"]
        if self.ident:
            parts.append(f"id={_token(self.ident)}")
        if self.person:
            parts.append(f"person={_token(self.person)}")
        return " ".join(parts)


_CURRENT: contextvars.ContextVar[Entry | None] = contextvars.ContextVar("keystone_journal", default=None)


@contextmanager
def entry(e: Entry) -> Iterator[Entry]:
    token = _CURRENT.set(e)
    try:
        yield e
    finally:
        _CURRENT.reset(token)


def command_for(host: str) -> Command | None:
    """The journal line for ``host``, once per open operation; None outside one or when written."""
    e = _CURRENT.get()
    if e is None:
        return None
    with e.lock:
        if host in e.written:
            return None
        e.written.add(host)
    return Command.of("logger", "-t", TAG, "--", e.message(), check=False)


def one_command(lines: list[Command]) -> Command | None:
    """Several changes' lines (each from ``command_for``) as one ``logger`` reading them from stdin,
    one journal entry a line: what a round trip carrying several changes sends first."""
    messages = [c.argv[-1] for c in lines]
    if not messages:
        return None
    if len(messages) == 1:
        return lines[0]
    return Command.of("logger", "-t", TAG, stdin="".join(m + "\n" for m in messages), check=False)


def current_update() -> str | None:
    value = os.environ.get("KEYSTONE_UPDATE", "").strip()
    return value or None


def current_stack() -> str | None:
    value = os.environ.get("KEYSTONE_STACK", "").strip()
    return value or None


PERSON_KEYS = ("username", "user", "owner")


def _props_of(op: str, args: tuple[Any, ...]) -> Mapping[str, Any]:
    """The resource's properties in a provider call: create(props), update(id, olds, news), delete(id, props)."""
    props = args[-1] if args else {}
    return props if isinstance(props, Mapping) else {}


def _new_id(provider: Any, props: Mapping[str, Any]) -> str | None:
    """The id a create will give the resource, where the provider computes it from its inputs."""
    try:
        return str(provider.resource_id(provider.inputs(dict(props))))
    except Exception:  # noqa: BLE001  (no id is fine: the line still names the resource and person)
        return None


def journaled(op: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` (a provider's create/update/delete) run with an open ``Entry`` naming the resource by
    its provider class (``OsAccountProvider`` -> ``OsAccount``)."""

    @functools.wraps(fn)
    def wrapper(self: Any, *args: Any) -> Any:
        props = _props_of(op, args)
        person = next((props[k] for k in PERSON_KEYS if isinstance(props.get(k), str)), None)
        ident = args[0] if op != "create" and args and isinstance(args[0], str) else _new_id(self, props)
        resource = type(self).__name__.removesuffix("Provider")
        e = Entry(current_stack(), current_update(), op, resource, ident, person)
        with entry(e):
            return fn(self, *args)

    wrapper.__keystone_journaled__ = True  # type: ignore[attr-defined]
    return wrapper
