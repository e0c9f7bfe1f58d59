"""Commands on a remote host over OpenSSH, with one shared ControlMaster connection per host.

Each round trip is one batch script (``providers.framing``) written to a long-lived ``ssh HOST sh``
session on the master (``_Channel``).  Concurrent callers share round trips: batches that arrive
while ``MAX_IN_FLIGHT`` round trips are already running on that host wait and then go together, each
caller's groups in one script (a failure stops only its own group): single batches, ``exchange``'s
and the host writes' (``exchange_groups``) alike.  ``exchange`` and ``exchange_groups`` add *shared
reads*: read-only commands run after every group's writes; identical ones asked by several callers of
the same round trip run once, and each caller gets their output — so a read waiting for the host is
answered by the read-back of the writes that go before it, in their round trip.
"""
from __future__ import annotations

import os
import re
import secrets as _secrets
import selectors
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field

from providers.batching import Batches
from providers.framing import Group, group_complete, parse_marked, render_script
from providers.host import Command, HostTarget, Result, TransportError, mask
from providers.transport.base import Transport, log_round_trip

_TRANSPORT_EXIT = 255


def control_dir() -> str:
    base = os.environ.get("KEYSTONE_SSH_CONTROL_DIR") or os.path.join(tempfile.gettempdir(), f"keystone-ssh-{os.getuid()}")
    os.makedirs(base, mode=0o700, exist_ok=True)
    os.chmod(base, 0o700)
    return base


@dataclass
class _Request:
    """One caller's part of a shared round trip: its groups of commands, then the reads it shares."""

    groups: tuple[Group, ...]
    reads: tuple[Command, ...]
    done: bool = False
    results: list[list[Result]] = field(default_factory=list)
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
    merged into the next one (see the module docstring).  A lone caller waits a fraction of a round
    trip for company (``providers.batching``).
    """

    CONTROL_PERSIST = "600"
    MAX_IN_FLIGHT = int(os.environ.get("KEYSTONE_SSH_MAX_IN_FLIGHT", "2"))
    CHANNELS = os.environ.get("KEYSTONE_SSH_CHANNELS", "1") != "0"  # 0: one ssh process per round trip
    MAX_MERGED = 64  # callers per round trip

    def __init__(self, target: HostTarget):
        super().__init__(target)
        self._master_lock = threading.Lock()
        self._master_ok = False
        self._batches: Batches[_Request] = Batches(self.MAX_MERGED, self.MAX_IN_FLIGHT)
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
        results, read_results = self._shared((Group(tuple(commands), stop_on_error),), reads)
        return results[0], read_results

    def _groups_round_trip(self, groups, reads):
        return self._shared(tuple(Group(tuple(g), stop_on_error=True) for g in groups), reads)

    def _shared(self, groups: tuple[Group, ...], reads) -> tuple[list[list[Result]], list[Result]]:
        """``groups`` then ``reads`` in a round trip shared with the callers waiting meanwhile."""
        req = _Request(groups, tuple(reads))
        self._batches.submit(req, self._run_merged)
        return req.results, req.read_results

    def _run_merged(self, batch: list[_Request]) -> None:
        shared: dict[Command, int] = {}
        for req in batch:
            for r in req.reads:
                shared.setdefault(r, len(shared))
        groups = [g for req in batch for g in req.groups if g.commands]  # a read-only caller adds none
        secrets = [s for g in groups for c in g.commands for s in c.secrets]
        if shared:
            groups.append(Group(tuple(shared), stop_on_error=False))
        try:
            per_group = self._execute_groups(groups)
        except _BatchFailed as f:  # every caller of the round trip learns it, naming its own commands
            for req in batch:
                own = [c for g in req.groups for c in g.commands]
                req.error, req.done = self._transport_error(own or list(req.reads), f, secrets), True
            return
        except BaseException as e:  # noqa: BLE001
            for req in batch:
                req.error, req.done = e, True
            return
        reads_out = {r.command: r for r in per_group[-1]} if shared else {}
        ran = iter(per_group)
        for req in batch:
            req.results = [next(ran) if g.commands else [] for g in req.groups]
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

    def _transport_error(self, commands: list[Command], f: _BatchFailed, all_secrets: list[str]) -> TransportError:
        name = self.target.name
        if f.cut:
            return TransportError(
                name,
                f"host {name}: SSH connection failed or was cut while running "
                f"`{mask(commands[0].display(), all_secrets)}`"
                f"{f' (+{len(commands) - 1} more)' if len(commands) > 1 else ''}: "
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
