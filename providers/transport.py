"""Run argv lists on a host: locally (no shell) or over OpenSSH with one shared master connection.

This is the only module of Keystone that runs host commands.  Everything else builds argv lists
(pure functions) and parses what comes back.

* ``Command``: one argv list, optional stdin (secrets go here, never in argv), and whether a
  non-zero exit is a failure.
* ``Transport.run_batch``: several commands in **one round trip**.  Over SSH the batch becomes a
  small POSIX shell script sent on ssh's stdin (so no argument, and no secret, appears in any
  process list); each command's stdout, stderr and exit code come back framed by byte length, so
  any output is carried exactly.  By default a batch stops at the first failing command.
* Exit code 255 from ``ssh`` (or a broken frame) is a ``TransportError``: the host could not be
  reached or the connection was cut.  A command that ran and failed is a ``CommandError`` naming the
  host, the command, its exit code and stderr, with every secret masked.
"""
from __future__ import annotations

import os
import re
import secrets as _secrets
import shlex
import subprocess
import tempfile
import threading
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
# The batch script (pure): commands in, a POSIX sh script out; framed output in, results out.
# ---------------------------------------------------------------------------------------------

def render_batch_script(commands: Sequence[Command], token: str, stop_on_error: bool, sudo: bool) -> str:
    """A script that runs each command and prints, for each, a frame header and its raw output.

    Frame: ``\\n@@<token> <index> <exit> <stdout bytes> <stderr bytes>\\n`` then stdout then stderr.
    """
    lines = [
        "set +e",
        "umask 077",
        't=$(mktemp -d) || exit 97',
        "trap 'rm -rf \"$t\"' EXIT",
        "frame() { printf '\\n@@%s %s %s %s %s\\n' " + token + ' "$1" "$2" "$(wc -c <"$t/o")" "$(wc -c <"$t/e")"; '
        'cat "$t/o" "$t/e"; }',
    ]
    for index, cmd in enumerate(commands):
        argv = (["sudo", "-n", "--"] if sudo else []) + list(cmd.argv)
        line = shlex.join(argv) + ' >"$t/o" 2>"$t/e"'
        if cmd.stdin is None:
            lines.append(line + " </dev/null")
        else:
            eof = f"KEYSTONE_EOF_{token}"
            if eof in cmd.stdin:
                raise ValueError("stdin contains the frame token")
            body = cmd.stdin if cmd.stdin.endswith("\n") else cmd.stdin + "\n"
            lines.append(f"{line} <<'{eof}'\n{body}{eof}")
        lines.append(f"rc=$?; frame {index} $rc")
        if stop_on_error and cmd.check:
            lines.append('[ "$rc" -eq 0 ] || exit 0')
    lines.append("exit 0")
    return "\n".join(lines) + "\n"


def parse_frames(host: str, commands: Sequence[Command], token: str, raw: bytes) -> list[Result]:
    results: list[Result] = []
    pos = 0
    header = re.compile(rb"\n@@" + token.encode() + rb" (\d+) (\d+) (\d+) (\d+)\n")
    while True:
        m = header.search(raw, pos)
        if not m:
            break
        index, code, n_out, n_err = (int(g) for g in m.groups())
        start = m.end()
        out = raw[start:start + n_out]
        err = raw[start + n_out:start + n_out + n_err]
        if index != len(results) or index >= len(commands) or len(out) + len(err) != n_out + n_err:
            raise TransportError(host, f"host {host}: malformed reply from the command batch (frame {index})")
        results.append(Result(commands[index], code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")))
        pos = start + n_out + n_err
    return results


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
        self.stats.count(len(commands))
        results = self._execute(commands, stop_on_error)
        for r in results:
            if r.command.check and not r.ok:
                raise CommandError(self.target.name, r.command, r.exit_code, r.stderr, r.stdout)
        if len(results) != len(commands) and not stop_on_error:
            raise TransportError(self.target.name, f"host {self.target.name}: the command batch ended early")
        return results

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


class SshTransport(Transport):
    """OpenSSH client with a shared ControlMaster connection (honours ~/.ssh/config, agent, ProxyJump)."""

    CONTROL_PERSIST = "600"

    def __init__(self, target: HostTarget):
        super().__init__(target)
        self._master_lock = threading.Lock()

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
        subprocess.run(self.ssh_argv("-O", "exit"), capture_output=True)

    def _execute(self, commands, stop_on_error):
        self.ensure_master()
        token = _secrets.token_hex(8)
        script = render_batch_script(commands, token, stop_on_error, self.target.sudo)
        p = subprocess.run(self.ssh_argv() + ["sh", "-s"], input=script.encode(), capture_output=True)
        all_secrets = [s for c in commands for s in c.secrets]
        if p.returncode == _TRANSPORT_EXIT:
            raise TransportError(
                self.target.name,
                f"host {self.target.name}: SSH connection failed or was cut while running "
                f"`{mask(commands[0].display(), all_secrets)}`"
                f"{' (+%d more)' % (len(commands) - 1) if len(commands) > 1 else ''}: "
                f"{mask(p.stderr.decode(errors='replace').strip(), all_secrets) or 'exit 255'}",
            )
        results = parse_frames(self.target.name, commands, token, p.stdout)
        if p.returncode != 0 or not results or (len(results) < len(commands) and results[-1].ok):
            raise TransportError(
                self.target.name,
                f"host {self.target.name}: the command batch ended early (ssh exit {p.returncode}): "
                f"{mask(p.stderr.decode(errors='replace').strip(), all_secrets)}",
            )
        return results


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
