"""Service instances: desired instance + the host's workstation facts in, commands out (pure).

An instance is ``<unit>@<user>.service`` (a template unit installed on the host), its environment
file ``/etc/keystone/workstation/<unit>/<user>.env`` (written by root, mode 0640, group the
person's) and its enabled/running state:

* ``enabled`` (the person is active): the environment file as rendered, the unit enabled and
  running.  When the environment changed and the instance is running, it is restarted — unless the
  restart policy is ``when-idle`` and the person has a login session (logind's list) or ``never``:
  then the new file is written, nothing is restarted and the restart is *pending* (reported in the
  outputs; the next run restarts it once the person is idle).  An unchanged environment never
  restarts anything;
* not ``enabled`` (offboarded): the unit disabled and stopped; the environment file stays;
* ``ensure: absent`` (purged, or the instance left the program): stopped, disabled, environment
  file removed.

Enabling or disabling an instance only adds or removes its ``multi-user.target.wants`` link:
``--no-reload`` (a daemon reload per instance costs seconds with many units; the template's own
``host:ManagedFile`` reloads systemd when it changes, and the unit-file state read back is current).

Before an instance starts on its port, a listener there that is not the person's is a conflict
naming host, port and owner.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

import validators
from providers.fields import rule
from providers.hostfile.plan import WRITE, sha256
from providers.host import Command, HostTarget
from providers.workstation.facts import UnitState, WorkstationFacts
from providers.workstation.idle import busy_reason


ENV_ROOT = "/etc/keystone/workstation"


def env_path(unit: str, user: str) -> str:
    """Where an instance's environment file lives: the template unit names it with
    ``EnvironmentFile=/etc/keystone/workstation/<unit>/%i.env``."""
    return f"{ENV_ROOT}/{unit}/{user}.env"


class PortConflict(RuntimeError):
    pass


class InstanceInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: HostTarget
    service: str = Field(description="The service's name in the settings.")
    unit: str = Field(description="Template unit name (without '@.service').")
    user: Annotated[str, rule(validators.person_name, "user")] = Field(description="The person (the instance runs as them).")
    uid: int = Field(ge=1000)
    port: int = Field(ge=1024, le=65535, description="The person's sticky port for this service on this host.")
    environment: str = Field(description="The rendered environment file.")
    enabled: bool = Field(True, description="Enabled and running (active person) or disabled and stopped.")
    restart: Literal["when-idle", "always", "never"] = "when-idle"
    idle_minutes: int = Field(20, ge=1, le=10080, description="when-idle: how long every session must be idle.")
    ensure: Literal["present", "absent"] = "present"
    person_state: str = Field("active", description="Roster lifecycle state (for policies).")

    @field_validator("unit", "service")
    @classmethod
    def _unit(cls, v: str) -> str:
        if not v or not all(c.isalnum() or c == "-" for c in v) or not v[0].isalpha():
            raise ValueError("letters, digits and '-'")
        return v

    @property
    def instance(self) -> str:
        return f"{self.unit}@{self.user}.service"

    @property
    def env_path(self) -> str:
        return env_path(self.unit, self.user)

    @property
    def env_digest(self) -> str:
        return sha256(self.environment)


@dataclass(frozen=True)
class InstancePlan:
    commands: list[Command]
    pending_restart: bool
    reason: str | None = None
    """Why a restart is pending (None when none is)."""


def is_joined(c: Command) -> bool:
    """A ``systemctl`` call on one unit, which the host batch joins with the other instances' calls of
    the same verb into one (``providers.hostcache.write_and_read``): its last argument is the unit."""
    return c.argv[:1] == ("systemctl",) and c.argv[-1].endswith(".service") and c.stdin is None


def write_env(desired: InstanceInputs) -> Command:
    return Command.of("sh", "-c", WRITE, "keystone-write", desired.env_path, "0640", "replace",
                      f"0:{desired.uid}", stdin=desired.environment)


def plan_instance(desired: InstanceInputs, facts: WorkstationFacts, pending: bool = False) -> InstancePlan:
    """``pending``: the last run deferred a restart of this instance."""
    unit = facts.units.get(desired.instance, UnitState("inactive", ""))
    have_env = facts.env_digests.get(desired.env_path)
    u = desired.instance
    if desired.ensure == "absent":
        cmds = []
        if unit.running or unit.is_enabled:
            cmds.append(Command.of("systemctl", "disable", "--now", "--no-reload", u))
        if have_env is not None:
            cmds.append(Command.of("rm", "-f", "--", desired.env_path))
        return InstancePlan(cmds, False)

    cmds = []
    env_changed = have_env != desired.env_digest
    if env_changed:
        cmds.append(write_env(desired))
    if not desired.enabled:
        if unit.running or unit.is_enabled:
            cmds.append(Command.of("systemctl", "disable", "--now", "--no-reload", u))
        return InstancePlan(cmds, False)

    if not unit.running:
        others = [ln for ln in facts.listeners.get(desired.port, []) if ln.uid != desired.uid]
        if others:
            raise PortConflict(
                f"host {desired.host.name}: port {desired.port} of {u} is already in use by "
                f"{', '.join(ln.describe() for ln in others)}: free it, or offboard and remove the "
                f"person holding it")
    if not unit.is_enabled:
        cmds.append(Command.of("systemctl", "enable", "--no-reload", u))
    if not unit.running:
        cmds.append(Command.of("systemctl", "start", u))
        return InstancePlan(cmds, False)
    if env_changed or pending:
        if desired.restart == "never":
            return InstancePlan(cmds, True, "restart: never (the next start reads the new environment)")
        busy = None if desired.restart == "always" else busy_reason(
            facts, desired.user, desired.uid, desired.port, desired.idle_minutes)
        if busy is None:
            cmds.append(Command.of("systemctl", "restart", u))
            return InstancePlan(cmds, False)
        return InstancePlan(cmds, True, busy)
    return InstancePlan(cmds, False)
