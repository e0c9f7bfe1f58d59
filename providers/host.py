"""What a host command is, where it runs, what came back, and how it failed (pure types).

* ``HostTarget``: where a host's commands run (SSH address and options, or ``"local"``);
* ``Command``: one argv list, optional stdin (secrets go here, never in argv), and whether a
  non-zero exit is a failure; ``Result``: its exit code, stdout and stderr;
* ``HostError``: the base of every error a host operation raises.  ``TransportError``: the host
  could not be reached or the connection was cut (exit 255 from ``ssh``, or a broken frame).
  ``CommandError``: a command ran and failed; its message names the host, the command, its exit
  code and stderr, with every secret masked.

Plans (``providers/*/plan.py``) and parsers (``*/facts.py``) build and read these without importing
the transport (``providers.transport`` runs them).
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

MASK = "********"


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
    def of(*argv: str, stdin: str | None = None, check: bool = True, secrets: Iterable[str] = ()) -> Command:
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
