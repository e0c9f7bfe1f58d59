"""Run a planned change on a route server (side effects), serialized per route server.

``apply_change`` runs the three round trips described in ``plan.py``.  Whatever fails, the route
server is left as it was: the previous file is put back (or the new one removed) and a pending
``configure timeout`` is undone; the error names the resource, route server, host, file, line and
BIRD's own message.

Locks are module-level (one per route server daemon, created lazily), never provider attributes:
the dynamic-provider host runs up to four CRUD calls at once, and provider objects are pickled.
"""
from __future__ import annotations

import dataclasses
import threading
import time
import weakref
from dataclasses import dataclass

from providers.bird import parse, plan
from providers.bird.models import RouteServer
from providers.bird.plan import Change
from providers.readcache import UNTIL_WRITTEN, ReadCache
from providers.host import Command, CommandError, Result, TransportError
from providers.transport import for_host

_LOCKS: dict[tuple, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def lock_for(rs: RouteServer) -> threading.Lock:
    """One lock per BIRD daemon (host + control socket), shared by every resource of that server."""
    t = rs.target
    key = (t.address, t.port, t.user, rs.control_socket)
    with _LOCKS_GUARD:
        lock = _LOCKS.get(key)
        if lock is None:
            lock = _LOCKS[key] = threading.Lock()
        return lock


class ApplyError(RuntimeError):
    """An apply was refused or failed (and was rolled back); the message carries all the detail."""


@dataclass(frozen=True)
class Applied:
    changed: bool
    protocols: dict[str, parse.Protocol]


def _failed_result(e: CommandError) -> Result:
    """The failed command's result (the transport raises instead of returning it)."""
    stdout = getattr(e, "stdout", None)
    if stdout is None:
        # CommandError keeps stderr; stdout (where birdc prints its errors) only lives in the message.
        stdout = "" if e.stderr.strip() else str(e).split(f" exited {e.exit_code}: ", 1)[-1]
    return Result(e.command, e.exit_code, stdout, e.stderr)


class RollbackIncomplete(ApplyError):
    """An apply failed and putting things back did not fully work: someone has to look."""


class Unreachable(ApplyError):
    """The route server could not be reached (or the connection broke); the message says what BIRD
    does next and when to run again."""


#: How long (s) a route server that could not be reached is not tried again by this process: the
#: other files of that route server fail at once (instead of each waiting for its own SSH connect
#: timeout while holding the route server's lock), and the next ``pulumi up`` retries them.
UNREACHABLE_FOR = 30.0
_UNREACHABLE: weakref.WeakKeyDictionary[object, tuple[float, str]] = weakref.WeakKeyDictionary()  # by transport


def apply_change(change: Change) -> Applied:
    rs = change.rs
    transport = for_host(rs.target)
    with lock_for(rs):
        _refuse_if_unreachable(change, transport)
        try:
            try:
                return _apply_locked(change, transport)
            except ApplyError as e:
                if not change.seed or isinstance(e, (Unreachable, RollbackIncomplete)):
                    raise
                # Seeding is only a shortcut: rolled back, apply the main config alone; every peer file
                # then takes its own safe apply and reports its own problem.
                return _apply_locked(dataclasses.replace(change, seed=()), transport)
        except TransportError as e:  # the gather: nothing was changed
            _UNREACHABLE[transport] = (time.monotonic(), str(e))
            raise Unreachable(f"{change.where}: cannot reach the route server ({e}). Nothing was changed; run "
                              "the update again once the host is reachable.") from None
        except Unreachable as e:
            _UNREACHABLE[transport] = (time.monotonic(), str(e))
            raise


def _refuse_if_unreachable(change: Change, transport) -> None:
    hit = _UNREACHABLE.get(transport)
    if hit is None:
        return
    ago = time.monotonic() - hit[0]
    if ago >= UNREACHABLE_FOR:
        _UNREACHABLE.pop(transport, None)
        return
    raise Unreachable(f"{change.where}: not attempted: route server {change.rs.name} could not be reached "
                      f"{ago:.0f} s ago in this run ({hit[1][:400]}). Nothing was changed for this file; run the "
                      "update again once the host is reachable.")


def _apply_locked(change: Change, transport) -> Applied:
    rs = change.rs
    seen = plan.observe(change, transport.run_batch(plan.gather_commands(change), stop_on_error=False))
    decision = plan.decide(change, seen)
    change = decision.change
    if decision.problems:
        raise ApplyError(f"{change.where}: not applied:\n  - " + "\n  - ".join(decision.problems))
    if decision.noop:
        return Applied(False, seen.protocols or {})
    # Only from here on can the daemon change: its shared read is dropped before and after (a gather, a
    # refusal or a no-op wrote nothing, so what was read of the daemon before them still holds).
    with READS.writing(_key(rs)):
        return _write_locked(change, seen, transport)


def _write_locked(change: Change, seen: plan.Observed, transport) -> Applied:
    """Stage → check → swap → configure timeout, then confirm or roll back (round trips 2 and 3)."""
    rs = change.rs
    steps = plan.apply_steps(change, seen)
    failed: Command | None = None
    try:
        results = transport.run_batch([c for _, c in steps])
    except CommandError as e:
        failed = e.command
        results = [_failed_result(e)]
    except TransportError as e:
        raise Unreachable(
            f"{change.where}: the connection was cut during the apply ({e}). If it got as far as "
            f"`configure timeout {rs.confirm_timeout}`, BIRD undoes the change by itself within "
            f"{rs.confirm_timeout} s; the file on disk may already be the new one (previous kept as "
            f"{change.paths.old}). Run the update again once the host is reachable."
        ) from None
    out = plan.outcome(steps, results, failed)
    if failed is None:
        out.problems = plan.verify(change, seen, out)
        if not out.problems:
            try:
                confirm = transport.run_batch(plan.confirm_commands(change, seen), stop_on_error=False)
            except TransportError as e:
                raise Unreachable(
                    f"{change.where}: the connection was cut after `configure timeout {rs.confirm_timeout}`, "
                    f"before `configure confirm` got through ({e}). Unless the confirmation reached it, BIRD goes "
                    f"back to the previous config by itself within {rs.confirm_timeout} s; the file on disk is "
                    f"already the new one (previous kept as {change.paths.old}). Run the update again once the host "
                    "is reachable and the undo is done: it re-applies the file (or finds it applied).") from None
            reply = parse.parse_configure(confirm[0].stdout + confirm[0].stderr)
            if reply.ok:
                return Applied(True, out.protocols or {})
            out.problems.append(
                f"`configure confirm` failed ({reply.text}): the {rs.confirm_timeout} s undo timer expired "
                "before the confirmation arrived, and BIRD already went back to the previous config")
            if out.configure is not None:
                out.configure = dataclasses.replace(out.configure, undo_scheduled=None)
    reason = plan.failure_message(change, out, seen) if failed is not None else "; ".join(out.problems)
    rollback, clean = _rollback(transport, change, seen, out)
    raise (ApplyError if clean else RollbackIncomplete)(f"{change.where}: {reason}. {rollback}")


def _rollback(transport, change: Change, seen: plan.Observed, out: plan.Outcome) -> tuple[str, bool]:
    """What was put back (for the message) and whether everything was."""
    commands = plan.rollback_commands(change, seen, out)
    try:
        results = transport.run_batch(commands, stop_on_error=False)
    except (CommandError, TransportError) as e:
        return f"ROLLBACK FAILED ({e}): check {change.live} and `birdc configure status` by hand.", False
    bad = [r for r in results if not r.ok]
    undo = [r for r in results if r.command.argv[-2:] == ("configure", "undo")]
    if undo and not parse.parse_configure(undo[0].stdout).ok and "Nothing to do" not in undo[0].stdout:
        bad.append(undo[0])  # ("Nothing to do": the timer fired first, BIRD is already back on the old config)
    if bad:
        return "ROLLBACK INCOMPLETE: " + "; ".join(
            f"`{r.command.display()}` exited {r.exit_code}: {(r.stderr or r.stdout).strip()[:300]}" for r in bad), False
    what = []
    if out.swapped:
        what.append("previous file restored" if seen.live is not None else "new file removed")
    if out.undo_pending:
        what.append("`configure undo` done")
    return ("Rolled back: " + ", ".join(what) + "." if what else
            "Nothing was changed on the route server (the live file and the running config are untouched)."), True


# --- reads (refresh) ---------------------------------------------------------------------------------
#
# ``pulumi refresh`` reads every PeerFile of a route server at once (four at a time).  One round trip
# reads the main config, every peer file, ``show protocols all`` (states and route counts) and every
# filtered route (``show route filtered table all all``); the result is shared through ``READS`` (the
# providers' one read-cache design, ``providers.readcache``) for READ_TTL seconds by the other reads
# of the same route server, and dropped by any apply that writes to it.
#
# ``in_place`` asks only what nothing but a write changes (a file's content, which protocols the
# daemon runs), so it trusts that read for PLACED_TTL seconds as long as no write to the daemon began
# since: a route server's first deployment (one seeded apply, then one read) lets all its peer files
# be created as they are however long the engine takes to reach them.

READ_TTL = 3.0
PLACED_TTL = UNTIL_WRITTEN  # like host state's: only a safety net for a long-lived process


@dataclass(frozen=True)
class ServerView:
    files: dict[str, str]                   # main config and peer files → content
    protocols: dict[str, parse.Protocol]
    counts: dict[str, dict[str, parse.ChannelRoutes]] = dataclasses.field(default_factory=dict)  # protocol → channel
    filtered: tuple[parse.Route, ...] = ()  # every filtered route (kept by `import keep filtered on`)


READS: ReadCache[tuple, None, ServerView] = ReadCache(READ_TTL)  # by daemon (``_key``); always a whole read


def _key(rs: RouteServer) -> tuple:
    return (rs.target.address, rs.target.port, rs.target.user, rs.control_socket, rs.config_dir, rs.peers_dir)


def read_route_server(rs: RouteServer) -> ServerView:
    """The shared read of ``rs`` (one round trip when there is no fresh one), under the daemon's lock."""
    return READS.get_or_read(_key(rs), None, lambda _: _read_route_server(rs), lock=lock_for(rs))


def _read_route_server(rs: RouteServer) -> ServerView:
    main, listing, lines, show, filtered = for_host(rs.target).run_batch(plan.read_commands(rs), stop_on_error=False)
    if not show.ok or "Unable to connect" in show.stdout + show.stderr:
        raise ApplyError(f"route server {rs.name} (host {rs.target.name}): cannot talk to BIRD on "
                         f"{rs.control_socket}: {(show.stderr or show.stdout).strip() or show.exit_code}")
    files = plan.parse_peer_files(rs, listing.stdout, lines.stdout)
    if main.ok:
        files[rs.config_file] = main.stdout
    routes = parse.parse_routes(filtered.stdout) if filtered.ok else []
    return ServerView(files, parse.parse_show_protocols(show.stdout), parse.parse_route_counts(show.stdout),
                      tuple(routes))


def in_place(rs: RouteServer, path: str, content: str) -> dict[str, parse.Protocol] | None:
    """The daemon's protocols (as of the read) if ``path`` already holds ``content`` and the daemon runs
    every protocol it declares — judged from the shared read only, never with a round trip of its own,
    and only from a read that no write to the daemon by this process has happened since
    (``PLACED_TTL``: whatever its age, within that safety net) — else None.  Lets the peer files seeded
    by their route server's ``bird:ServerConfig`` be created as they are instead of each taking a safe
    apply that would change nothing.  What another process writes meanwhile is not seen (as with
    host state: ``providers.readcache``); the next refresh reads it."""
    with lock_for(rs):  # a read or an apply in progress finishes first
        view = READS.peek(_key(rs), ttl=PLACED_TTL)
    if view is None:
        return None
    if view.files.get(path) != content or not all(p in view.protocols for p in parse.declared_protocols(content)):
        return None
    return view.protocols


def read_file_and_protocols(rs: RouteServer, path: str) -> tuple[str | None, dict[str, parse.Protocol]]:
    """The file's content (None if absent) and the daemon's protocols."""
    view = read_route_server(rs)
    return view.files.get(path), view.protocols


def list_peer_files(rs: RouteServer) -> list[str]:
    r = for_host(rs.target).run_batch([Command.of(
        "find", rs.peers_dir, "-mindepth", "1", "-maxdepth", "1", "-name", "*.conf", check=False)])[0]
    return sorted(line for line in r.stdout.splitlines() if line.strip() and not line.rsplit("/", 1)[-1].startswith("."))
