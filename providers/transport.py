"""Run argv lists on a host: locally (no shell) or over OpenSSH with one shared master connection.

This is the only module of Keystone that runs host commands.  Everything else builds argv lists
(pure functions) and parses what comes back.

* ``Command``: one argv list, optional stdin (secrets go here, never in argv), and whether a
  non-zero exit is a failure.
* ``Transport.run_batch``: several commands in **one round trip**.  Over SSH the batch becomes a
  small POSIX shell script sent on ssh's stdin (so no argument, and no secret, appears in any
  process list); each command's stdout, exit code and stderr come back between markers carrying a
  random per-batch token, written with shell builtins (stderr through a command substitution, a
  fork): framing starts no process on the host.  By default a batch stops at the first failing
  command.  Over SSH a few long-lived sessions on the master carry the scripts (``_Channel``).
* Concurrent callers share round trips: over SSH, batches that arrive while ``MAX_IN_FLIGHT``
  round trips are already running on that host wait and then go together, each as its own group
  in one script (a failure stops only its own group).  ``Transport.exchange`` adds *shared reads*:
  read-only commands run after every group's writes; identical ones asked by several callers of
  the same round trip run once, and each caller gets their output.
* ``KEYSTONE_TRANSPORT_LOG=<file>``: every round trip appends one JSON line (pid, host, commands,
  groups, seconds) — the benchmarks and the round-trip regression test count them.
* Exit code 255 from ``ssh`` (or a broken frame) is a ``TransportError``: the host could not be
  reached or the connection was cut.  A command that ran and failed is a ``CommandError`` naming the
  host, the command, its exit code and stderr, with every secret masked.
"""
from __future__ import annotations

import json
import os
import re
import secrets as _secrets
import selectors
import shlex
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from pydantic import BaseModel, ConfigDict, Field

MASK = "********"
_TRANSPORT_EXIT = 255


class HostTarget(BaseModel):
    """Where a host's commands run.  ``address == "local"`` runs them on this machine."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="The host's name in Keystone (resource ids start with it).")
    address: str = Field(description='SSH address (host name, IP or ~/.ssh/config alias), or "local".')
    port: int | None = Field(default=None, ge=1, le=65535, description="SSH port; default from ssh_config.")
    user: str | None = Field(default=None, description="SSH user; default from ssh_config.")
    identity_file: str | None = Field(default=None, description="Private key; default: agent/ssh_config.")
    known_hosts_file: str | None = Field(
        default=None, description="A known_hosts file to trust (StrictHostKeyChecking=yes)."
    )
    host_key_alias: str | None = Field(
        default=None, description="Name the host key is listed under in known_hosts (e.g. for a port forward)."
    )
    sudo: bool = Field(default=False, description="Prefix every command with `sudo -n --`.")
    connect_timeout: int = Field(default=10, ge=1, le=120, description="Seconds to wait for SSH to connect.")

    @property
    def is_local(self) -> bool:
        return self.address == "local"


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    stdin: str | None = None
    check: bool = True
    secrets: tuple[str, ...] = ()

    @staticmethod
    def of(*argv: str, stdin: str | None = None, check: bool = True, secrets: Iterable[str] = ()) -> "Command":
        return Command(tuple(argv), stdin, check, tuple(s for s in secrets if s))

    def display(self) -> str:
        return mask(shlex.join(self.argv), self.secrets)


@dataclass(frozen=True)
class Result:
    command: Command
    exit_code: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def mask(text: str, secrets: Iterable[str]) -> str:
    for s in secrets:
        if s:
            text = text.replace(s, MASK)
    return text


class HostError(RuntimeError):
    """Base of every error a host operation raises; the message carries all the detail."""

    def __init__(self, host: str, message: str):
        self.host = host
        super().__init__(message)


class TransportError(HostError):
    """The host could not be reached, or the connection broke mid-operation."""


class CommandError(HostError):
    def __init__(self, host: str, command: Command, exit_code: int, stderr: str, stdout: str = ""):
        self.command = command
        self.exit_code = exit_code
        self.stderr = mask(stderr, command.secrets)
        self.stdout = mask(stdout, command.secrets)
        detail = self.stderr.strip() or mask(stdout, command.secrets).strip() or "(no output)"
        super().__init__(
            host, f"host {host}: `{command.display()}` exited {exit_code}: {detail[:2000]}"
        )


# ---------------------------------------------------------------------------------------------
# The batch script (pure): groups of commands in, a POSIX sh script out; marked output in, results out.
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Group:
    """Commands of one caller inside a shared script; ``stop_on_error`` stops this group only."""

    commands: tuple[Command, ...]
    stop_on_error: bool = True


def render_script(groups: Sequence[Group], token: str, sudo: bool) -> str:
    """A script that runs each group's commands and marks, on stdout, where each one's output is.

    Per command: ``@@<token> <group> <index> b``, its stdout (straight through), then
    ``\n@@<token> <group> <index> e <exit>``, its stderr, ``\n@@<token> <group> <index> s``.  The
    stderr is captured by a command substitution (a fork, no exec); the markers are printed by
    builtins: the framing starts no process on the host.
    """
    lines = [
        "set +e",
        "umask 077",
        "exec 3>&1",
        "b() { printf '@@%s %s %s b\\n' " + token + ' "$1" "$2"; }',
        # $1 group, $2 index, $3 captured stderr followed by ".<exit code>"
        "e() { printf '\\n@@%s %s %s e %s\\n%s\\n@@%s %s %s s\\n' " + token + ' "$1" "$2" "${3##*.}" "${3%.*}" '
        + token + ' "$1" "$2"; }',
    ]
    eof = f"KEYSTONE_EOF_{token}"
    for g, group in enumerate(groups):
        lines.append(f"g{g}() {{")
        for index, cmd in enumerate(group.commands):
            argv = (["sudo", "-n", "--"] if sudo else []) + list(cmd.argv)
            lines.append(f"b {g} {index}")
            lines.append("x=$(")  # the command's own line starts with the command (secrets never on it)
            line = shlex.join(argv) + " 2>&1 >&3 3>&-"
            if cmd.stdin is None:
                lines.append(line + " </dev/null")
            else:
                if eof in cmd.stdin or token in cmd.stdin:
                    raise ValueError("stdin contains the frame token")
                body = cmd.stdin if cmd.stdin.endswith("\n") else cmd.stdin + "\n"
                lines.append(f"{line} <<'{eof}'\n{body}{eof}")
            lines.append("printf '.%s' \"$?\")")
            lines.append(f'e {g} {index} "$x"; rc=${{x##*.}}')
            if group.stop_on_error and cmd.check:
                lines.append('[ "$rc" -eq 0 ] || return 0')
        lines.append("return 0")
        lines.append("}")
        lines.append(f"g{g}")
    lines.append("exit 0")
    return "\n".join(lines) + "\n"


def render_batch_script(commands: Sequence[Command], token: str, stop_on_error: bool, sudo: bool) -> str:
    """The script for one caller's batch (one group)."""
    return render_script([Group(tuple(commands), stop_on_error)], token, sudo)


def parse_marked(host: str, groups: Sequence[Group], token: str, out: bytes, err: bytes = b"") -> list[list[Result]]:
    """Results per group, in order, from the script's stdout; a group that stopped early has fewer
    results than commands.  (``err`` is the session's own stderr: ssh's messages, not the commands'.)"""
    t = re.escape(token.encode())
    marked = re.compile(rb"@@" + t + rb" (\d+) (\d+) b\n(.*?)\n@@" + t + rb" \1 \2 e (-?\d+)\n(.*?)\n@@" + t
                        + rb" \1 \2 s\n", re.S)
    results: list[list[Result]] = [[] for _ in groups]
    for m in marked.finditer(out):
        g, index, code = int(m.group(1)), int(m.group(2)), int(m.group(4))
        if g >= len(groups) or index != len(results[g]) or index >= len(groups[g].commands):
            raise TransportError(host, f"host {host}: malformed reply from the command batch (group {g}, command {index})")
        results[g].append(Result(groups[g].commands[index], code, m.group(3).decode("utf-8", "replace"),
                                 m.group(5).decode("utf-8", "replace")))
    return results


def parse_frames(host: str, commands: Sequence[Command], token: str, out: bytes, err: bytes = b"") -> list[Result]:
    """Results of a one-group script (see ``render_batch_script``)."""
    return parse_marked(host, [Group(tuple(commands))], token, out, err)[0]


def group_complete(group: Group, results: Sequence[Result]) -> bool:
    """Every command ran, or the group stopped (as asked) at a failed checked command."""
    if len(results) == len(group.commands):
        return True
    return bool(results) and group.stop_on_error and results[-1].command.check and not results[-1].ok


# ---------------------------------------------------------------------------------------------
# Transports (side effects).
# ---------------------------------------------------------------------------------------------

@dataclass
class Stats:
    round_trips: int = 0
    commands: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, commands: int) -> None:
        with self._lock:
            self.round_trips += 1
            self.commands += commands


_LOG_LOCK = threading.Lock()


def log_round_trip(host: str, commands: int, groups: int, seconds: float) -> None:
    """Append one line to ``$KEYSTONE_TRANSPORT_LOG`` (when set): what the benchmarks and tests count."""
    path = os.environ.get("KEYSTONE_TRANSPORT_LOG")
    if not path:
        return
    line = json.dumps({"pid": os.getpid(), "host": host, "commands": commands, "groups": groups,
                       "seconds": round(seconds, 4), "t": round(time.time(), 4)}) + "\n"
    with _LOG_LOCK, open(path, "a") as fh:
        fh.write(line)


class Transport:
    """Runs commands on one host.  Thread-safe; one instance per host per process (see ``for_host``)."""

    def __init__(self, target: HostTarget):
        self.target = target
        self.stats = Stats()

    def run(self, *argv: str, stdin: str | None = None, check: bool = True, secrets: Iterable[str] = ()) -> Result:
        return self.run_batch([Command.of(*argv, stdin=stdin, check=check, secrets=secrets)])[0]

    def run_batch(self, commands: Sequence[Command], stop_on_error: bool = True) -> list[Result]:
        """Run ``commands`` in one round trip.  Raises ``CommandError`` for the first failed checked
        command (later ones did not run when ``stop_on_error``)."""
        if not commands:
            return []
        results, _ = self._round_trip(list(commands), stop_on_error, ())
        return self._checked(commands, results, stop_on_error)

    def exchange(self, commands: Sequence[Command], reads: Sequence[Command]) -> tuple[list[Result], list[Result]]:
        """``commands`` (stopping at the first failed checked one), then ``reads`` — read-only,
        unchecked commands that may be shared with concurrent callers — in one round trip.
        Raises ``CommandError`` as ``run_batch`` does."""
        if any(r.check or r.stdin is not None for r in reads):
            raise ValueError("shared reads must be unchecked and take no stdin")
        if not commands and not reads:
            return [], []
        results, read_results = self._round_trip(list(commands), True, tuple(reads))
        return self._checked(commands, results, True), read_results

    def _checked(self, commands: Sequence[Command], results: list[Result], stop_on_error: bool) -> list[Result]:
        for r in results:
            if r.command.check and not r.ok:
                raise CommandError(self.target.name, r.command, r.exit_code, r.stderr, r.stdout)
        if len(results) != len(commands) and not stop_on_error:
            raise TransportError(self.target.name, f"host {self.target.name}: the command batch ended early")
        return results

    def _round_trip(self, commands: list[Command], stop_on_error: bool,
                    reads: tuple[Command, ...]) -> tuple[list[Result], list[Result]]:
        """One round trip of this caller's own (the default: no sharing between callers)."""
        everything = commands + list(reads)
        self.stats.count(len(everything))
        started = time.monotonic()
        try:
            results = self._execute(everything, stop_on_error)
        finally:
            log_round_trip(self.target.name, len(everything), 1, time.monotonic() - started)
        return results[:len(commands)], results[len(commands):]

    def _execute(self, commands: Sequence[Command], stop_on_error: bool) -> list[Result]:
        raise NotImplementedError


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


def control_dir() -> str:
    base = os.environ.get("KEYSTONE_SSH_CONTROL_DIR") or os.path.join(tempfile.gettempdir(), f"keystone-ssh-{os.getuid()}")
    os.makedirs(base, mode=0o700, exist_ok=True)
    os.chmod(base, 0o700)
    return base


@dataclass
class _Request:
    """One caller's part of a shared round trip."""

    commands: list[Command]
    stop_on_error: bool
    reads: tuple[Command, ...]
    done: bool = False
    results: list[Result] = field(default_factory=list)
    read_results: list[Result] = field(default_factory=list)
    error: BaseException | None = None


class _Channel:
    """One long-lived ``ssh HOST sh`` session on the shared master: each round trip writes a script to
    its stdin (run by a fresh ``sh`` from a quoted here-document) and reads until the end marker.
    Saves, per round trip, a local ``ssh`` process and the host's session set-up (sshd fork, login
    shell)."""

    IDLE_LIMIT = 60.0  # older idle channels are replaced rather than trusted

    def __init__(self, argv: list[str]):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.last_used = time.monotonic()

    def usable(self) -> bool:
        return self.proc.poll() is None and time.monotonic() - self.last_used < self.IDLE_LIMIT

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
            except Exception:  # noqa: BLE001
                self.proc.kill()
        for f in (self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except Exception:  # noqa: BLE001
                pass

    def run(self, script: str, token: str) -> tuple[int, bytes, bytes, bool]:
        """(exit code, stdout, stderr, sent).  Exit code 255 when the session ended before the end
        marker; ``sent`` False when nothing reached the host (the session was already gone)."""
        eos = f"KEYSTONE_SCRIPT_{token}"
        payload = (f"sh <<'{eos}'\n{script}{eos}\n"
                   f"printf '\\n@@%s done %s\\n' {token} \"$?\"; printf '\\n@@%s done\\n' {token} >&2\n").encode()
        try:
            self.proc.stdin.write(payload)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return self._ended(b"", b"", sent=False)
        done_out = re.compile(rb"\n@@" + token.encode() + rb" done (\d+)\n")
        done_err = b"\n@@" + token.encode() + b" done\n"
        out, err = bytearray(), bytearray()
        code = None
        err_done = False
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ, "out")
        sel.register(self.proc.stderr, selectors.EVENT_READ, "err")
        try:
            while code is None or not err_done:
                if not sel.get_map():
                    break
                for key, _ in sel.select():
                    chunk = os.read(key.fd, 65536)
                    if not chunk:
                        sel.unregister(key.fileobj)
                        continue
                    if key.data == "out":
                        out += chunk
                        m = done_out.search(out, max(0, len(out) - len(chunk) - 64))
                        if m:
                            code = int(m.group(1))
                            del out[m.start():]
                    else:
                        err += chunk
                        i = err.find(done_err, max(0, len(err) - len(chunk) - 64))
                        if i >= 0:
                            err_done = True
                            del err[i:]
        finally:
            sel.close()
        self.last_used = time.monotonic()
        if code is None or not err_done:
            return self._ended(bytes(out), bytes(err), sent=True)
        return code, bytes(out), bytes(err), True

    def _ended(self, out: bytes, err: bytes, sent: bool) -> tuple[int, bytes, bytes, bool]:
        """The session ended before the end marker: ssh's exit code (255: the connection failed or
        was cut) and whatever it said on stderr."""
        try:
            rest = self.proc.stderr.read() or b""
        except Exception:  # noqa: BLE001
            rest = b""
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = _TRANSPORT_EXIT
        return (code if code >= 0 else _TRANSPORT_EXIT), out, err + rest, sent


class SshTransport(Transport):
    """OpenSSH client with a shared ControlMaster connection (honours ~/.ssh/config, agent, ProxyJump).

    At most ``MAX_IN_FLIGHT`` round trips run at once per host; callers arriving meanwhile are
    merged into the next one (see the module docstring).  A lone caller never waits.
    """

    CONTROL_PERSIST = "600"
    MAX_IN_FLIGHT = int(os.environ.get("KEYSTONE_SSH_MAX_IN_FLIGHT", "2"))
    CHANNELS = os.environ.get("KEYSTONE_SSH_CHANNELS", "1") != "0"  # 0: one ssh process per round trip
    MAX_MERGED = 64  # callers per round trip

    def __init__(self, target: HostTarget):
        super().__init__(target)
        self._master_lock = threading.Lock()
        self._master_ok = False
        self._cond = threading.Condition()
        self._pending: list[_Request] = []
        self._in_flight = 0
        self._idle: list[_Channel] = []
        self._idle_lock = threading.Lock()

    def ssh_argv(self, *extra: str) -> list[str]:
        t = self.target
        argv = ["ssh", "-T",
                "-o", "ControlMaster=auto",
                "-o", f"ControlPath={control_dir()}/%C",
                "-o", f"ControlPersist={self.CONTROL_PERSIST}",
                "-o", "BatchMode=yes",
                "-o", f"ConnectTimeout={t.connect_timeout}",
                "-o", "ServerAliveInterval=5",
                "-o", "ServerAliveCountMax=3",
                "-o", "LogLevel=ERROR"]
        if t.port:
            argv += ["-p", str(t.port)]
        if t.user:
            argv += ["-l", t.user]
        if t.identity_file:
            argv += ["-i", os.path.expanduser(t.identity_file), "-o", "IdentitiesOnly=yes"]
        if t.known_hosts_file:
            argv += ["-o", f"UserKnownHostsFile={os.path.expanduser(t.known_hosts_file)}",
                     "-o", "StrictHostKeyChecking=yes"]
        if t.host_key_alias:
            argv += ["-o", f"HostKeyAlias={t.host_key_alias}"]
        return argv + list(extra) + ["--", t.address]

    def ensure_master(self) -> None:
        """Open the shared connection once, so concurrent callers reuse it instead of racing."""
        with self._master_lock:
            check = subprocess.run(self.ssh_argv("-O", "check"), capture_output=True, text=True)
            if check.returncode == 0:
                return
            p = subprocess.run(self.ssh_argv() + ["true"], capture_output=True, text=True,
                               timeout=self.target.connect_timeout + 30)
            if p.returncode != 0:
                raise TransportError(
                    self.target.name,
                    f"host {self.target.name}: cannot connect over SSH to {self.target.address}"
                    f"{':' + str(self.target.port) if self.target.port else ''}: {p.stderr.strip() or p.returncode}",
                )

    def close(self) -> None:
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for ch in idle:
            ch.close()
        subprocess.run(self.ssh_argv("-O", "exit"), capture_output=True)

    def _over_channel(self, script: str, token: str) -> tuple[int, bytes, bytes]:
        """Run ``script`` on an idle channel (opening one when none is), retrying once on a fresh
        channel when the idle one turned out dead before anything was sent."""
        for _ in range(2):
            ch = None
            with self._idle_lock:
                while self._idle and ch is None:
                    c = self._idle.pop()
                    if c.usable():
                        ch = c
                    else:
                        c.close()
            fresh = ch is None
            if ch is None:
                self.ensure_master()
                ch = _Channel(self.ssh_argv() + ["sh"])
            code, out, err, sent = ch.run(script, token)
            if ch.proc.poll() is not None:  # the session is gone: never reuse it
                ch.close()
                if not sent and fresh is False:
                    continue  # an idle session had died: nothing ran, try once on a new one
                return code, out, err
            with self._idle_lock:
                self._idle.append(ch)
            return code, out, err
        return code, out, err

    # --- sharing round trips between concurrent callers ----------------------------------------
    def _round_trip(self, commands, stop_on_error, reads):
        req = _Request(commands, stop_on_error, reads)
        with self._cond:
            self._pending.append(req)
        while True:
            with self._cond:
                while not req.done and not (self._pending and self._in_flight < self.MAX_IN_FLIGHT):
                    self._cond.wait()
                if req.done:
                    break
                batch, self._pending = self._pending[:self.MAX_MERGED], self._pending[self.MAX_MERGED:]
                self._in_flight += 1
            try:
                self._run_merged(batch)
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()
        if req.error is not None:
            raise req.error
        return req.results, req.read_results

    def _run_merged(self, batch: list[_Request]) -> None:
        shared: dict[Command, int] = {}
        for req in batch:
            for r in req.reads:
                shared.setdefault(r, len(shared))
        groups = [Group(tuple(req.commands), req.stop_on_error) for req in batch]
        secrets = [s for req in batch for c in req.commands for s in c.secrets]
        if shared:
            groups.append(Group(tuple(shared), stop_on_error=False))
        try:
            per_group = self._execute_groups(groups)
        except _BatchFailed as f:  # every caller of the round trip learns it, naming its own commands
            for req in batch:
                req.error, req.done = self._transport_error(req.commands or list(req.reads), f, secrets), True
            return
        except BaseException as e:  # noqa: BLE001
            for req in batch:
                req.error, req.done = e, True
            return
        reads_out = {r.command: r for r in per_group[-1]} if shared else {}
        for req, results in zip(batch, per_group):
            req.results = results
            req.read_results = [reads_out[c] for c in req.reads]
            req.done = True

    def _execute_groups(self, groups: list[Group]) -> list[list[Result]]:
        token = _secrets.token_hex(12)
        script = render_script(groups, token, self.target.sudo)
        n = sum(len(g.commands) for g in groups)
        self.stats.count(n)
        started = time.monotonic()
        try:
            if self.CHANNELS:
                code, out, err = self._over_channel(script, token)
            else:
                self.ensure_master()
                p = subprocess.run(self.ssh_argv() + ["sh", "-s"], input=script.encode(), capture_output=True)
                code, out, err = p.returncode, p.stdout, p.stderr
        finally:
            log_round_trip(self.target.name, n, len(groups), time.monotonic() - started)
        stderr = _strip_markers(err, token)
        if code == _TRANSPORT_EXIT:
            raise _BatchFailed(True, code, stderr)
        per_group = parse_marked(self.target.name, groups, token, out, err)
        if code != 0 or not all(group_complete(g, r) for g, r in zip(groups, per_group)):
            raise _BatchFailed(False, code, stderr)
        return per_group

    def _execute(self, commands, stop_on_error):
        try:
            return self._execute_groups([Group(tuple(commands), stop_on_error)])[0]
        except _BatchFailed as f:
            raise self._transport_error(list(commands), f, [s for c in commands for s in c.secrets]) from None

    def _transport_error(self, commands: list[Command], f: "_BatchFailed", all_secrets: list[str]) -> TransportError:
        name = self.target.name
        if f.cut:
            return TransportError(
                name,
                f"host {name}: SSH connection failed or was cut while running "
                f"`{mask(commands[0].display(), all_secrets)}`"
                f"{' (+%d more)' % (len(commands) - 1) if len(commands) > 1 else ''}: "
                f"{mask(f.stderr, all_secrets) or 'exit 255'}",
            )
        return TransportError(name, f"host {name}: the command batch ended early (ssh exit {f.exit_code}): "
                                    f"{mask(f.stderr, all_secrets)}")


class _BatchFailed(Exception):
    def __init__(self, cut: bool, exit_code: int, stderr: str):
        self.cut, self.exit_code, self.stderr = cut, exit_code, stderr
        super().__init__(stderr)


def _strip_markers(stderr: bytes, token: str) -> str:
    """The session's own messages (ssh's), less any marker line."""
    return "\n".join(line for line in stderr.decode(errors="replace").splitlines()
                     if token not in line and line.strip()).strip()


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
