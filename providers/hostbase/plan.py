"""The host base of one host: desired base + the host's facts in, commands out (pure).

* **packages** are additive: the listed packages that are not installed are installed, all in one
  ``apt-get install``; ``apt-get update`` runs first only when apt has no candidate for one of them
  (the lists are stale or the source is new).  A package Keystone did not install is never removed;
  one it installed (``installed``, carried in the resource's outputs) that left the list is
  ``dropped``: reported, and purged only with ``remove_dropped``;
* **the backup timer** is enabled and started when it is not;
* **swap**: with ``swap: required`` a host without swap is refused; otherwise it is reported;
* **kubelogin**: reported (``kubelogin_present``): Debian ships no kubelogin, the admin installs it.

The snapshot ages and the backups' lag are observations (``observe``), never acted on here: the
timer (``backup.sh``) takes the snapshots and replicates them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from providers.fields import Dataset, HostPath, Package
from providers.host import Command, HostTarget
from providers.hostbase.declaration import PATH as DECLARATION_PATH, Declaration
from providers.hostbase.facts import BaseFacts
from providers.hostfile.plan import FileInputs, PathState, plan_file
from providers.scripts import script

APT_ENV = ("env", "DEBIAN_FRONTEND=noninteractive")
APT_UPDATE = script(__file__, "apt-update.sh")  # apt-get update, and Keystone's stamp of it
MISSING = "(missing on the host)"
STALE = "out of date on the host"


class BaseRefused(RuntimeError):
    """The host cannot have its base as declared (no swap where it is required, an unknown package)."""


class BackupInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    home_parent: Dataset
    backup_parent: Dataset
    max_age_hours: int = Field(3, ge=1)
    people: list[str] = Field(default_factory=list, description="The homes expected on this host (for the age bound).")


class BaseInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: HostTarget
    packages: list[Package] = Field(default_factory=list)
    package_sources: dict[str, str] = Field(default_factory=dict,
                                            description="Where each package is declared (for messages).")
    remove_dropped: bool = False
    kubelogin: str | None = None
    swap: Literal["required", "reported"] = "reported"
    timer: str | None = Field(None, description="The backup timer unit to keep enabled and started.")
    backup: BackupInputs | None = None
    home_parent: Dataset | None = Field(None, description="The homes' parent: its tree is read with the base.")
    files: list[HostPath] = Field(default_factory=list, description=(
        "The host's root-owned managed files but the budget drop-ins (a glob finds those): read with the base."))
    declaration: str = Field("current", description=(
        "The host's read declaration: a refresh that finds it missing or out of date records that here "
        "(so the preview shows the change and `up` writes it)."))

    def where(self, package: str) -> str:
        at = self.package_sources.get(package)
        return f"{package!r} ({at})" if at else repr(package)


@dataclass(frozen=True)
class BasePlan:
    commands: list[Command]
    installed: list[str]  # what Keystone installed on this host, after the commands
    dropped: list[str]  # installed by Keystone, no longer listed, still on the host
    missing: list[str] = field(default_factory=list)  # listed, not installed before the commands


def update_command() -> Command:
    return Command.of("sh", "-c", APT_UPDATE, "keystone-apt-update")


def unknown_packages(desired: BaseInputs, facts: BaseFacts) -> list[str]:
    """Listed packages that are not installed and that apt does not know though its lists are current:
    no ``apt-get update`` would find them."""
    if not facts.lists_current:
        return []
    return [p for p in desired.packages if p not in facts.installed and not facts.knows(p)]


def plan_base(desired: BaseInputs, facts: BaseFacts, installed_before: list[str]) -> BasePlan:
    host = desired.host.name
    if desired.swap == "required" and facts.swap_kib == 0:
        raise BaseRefused(f"host {host}: no swap, and keystone:base.budgets.swap is required: add a swap "
                          "device or file (people then slow down instead of being OOM-killed)")
    unknown = unknown_packages(desired, facts)
    if unknown:
        raise BaseRefused(f"host {host}: no such package in the host's apt sources: "
                          f"{', '.join(desired.where(p) for p in unknown)}")
    missing = [p for p in desired.packages if p not in facts.installed]
    commands: list[Command] = []
    if missing:
        if not all(facts.knows(p) for p in missing):
            commands.append(update_command())
        commands.append(Command.of(*APT_ENV, "apt-get", "install", "-y", "-q", "--no-install-recommends", *missing))
    ours = sorted((set(installed_before) & facts.installed) | set(missing))
    dropped = sorted(p for p in ours if p not in desired.packages)
    if dropped and desired.remove_dropped:
        commands.append(Command.of(*APT_ENV, "apt-get", "purge", "-y", "-q", *dropped))
        ours, dropped = [p for p in ours if p not in dropped], []
    if desired.timer and not facts.timer_running:
        commands.append(Command.of("systemctl", "enable", "--now", desired.timer))
    return BasePlan(commands, ours, dropped, missing)


def plan_delete(desired: BaseInputs, facts: BaseFacts) -> list[Command]:
    """Deleting the base stops the backup timer; packages and snapshots stay."""
    if desired.timer and (facts.timer_active not in ("inactive", "") or facts.timer_enabled == "enabled"):
        return [Command.of("systemctl", "disable", "--now", desired.timer)]
    return []


def declaration(desired: BaseInputs, installed: list[str]) -> Declaration:
    """What one gather of the host must read (``providers/hostbase/declaration.py``): the base gather's
    arguments with the packages Keystone installed (``installed``), the home tree, the root files."""
    b = desired.backup
    return Declaration(kubelogin=desired.kubelogin, timer=desired.timer,
                       backup=(b.home_parent, b.backup_parent) if b else None, tree=desired.home_parent,
                       packages=tuple(dict.fromkeys([*desired.packages, *installed])), files=tuple(desired.files))


def declaration_file(desired: BaseInputs, installed: list[str]) -> FileInputs:
    return FileInputs(host=desired.host, path=DECLARATION_PATH, content=declaration(desired, installed).render())


def plan_declaration(desired: BaseInputs, installed: list[str], state: dict[str, PathState],
                     ensure: str = "present") -> list[Command]:
    """The declaration written when it differs (removed with the base): ``plan_file`` of it."""
    return plan_file(declaration_file(desired, installed), state, ensure)


def home_ages(desired: BaseInputs, facts: BaseFacts) -> dict[str, dict[str, int | None]]:
    """Per home (a child of the home parent with a snapshot, or a backup): when its newest snapshot was
    taken (epoch seconds; a time, not an age, so a refresh changes it only when a snapshot is taken) and
    the backup's lag behind it in seconds (None: no snapshot / no backup)."""
    if desired.backup is None:
        return {}
    b = desired.backup
    users = sorted({name.partition("@")[0].rpartition("/")[2] for name in facts.snapshots
                    if name.partition("@")[0].rpartition("/")[0] in (b.home_parent, b.backup_parent)})
    out: dict[str, dict[str, int | None]] = {}
    for user in users:
        home = facts.newest(f"{b.home_parent}/{user}")
        copy = facts.newest(f"{b.backup_parent}/{user}")
        out[user] = {"newest": home, "backup_lag": None if home is None or copy is None else max(0, home - copy)}
    return out


def stale_homes(desired: BaseInputs, ages: dict[str, dict[str, int | None]], now: int) -> list[str]:
    """The host's people whose newest snapshot is older than the bound (or who have none)."""
    if desired.backup is None:
        return []
    bound = desired.backup.max_age_hours * 3600
    return sorted(u for u in desired.backup.people if now - (ages.get(u, {}).get("newest") or 0) > bound)


def observe(desired: BaseInputs, facts: BaseFacts) -> dict:
    """The outputs read from the host (besides ``installed``/``dropped``, which the plan carries)."""
    ages = home_ages(desired, facts)
    return {"missing": [p for p in desired.packages if p not in facts.installed],
            "swap_kib": facts.swap_kib,
            "kubelogin_present": None if desired.kubelogin is None else facts.kubelogin == "present",
            "timer_running": None if desired.timer is None else facts.timer_running,
            "homes": ages,
            "stale": stale_homes(desired, ages, facts.now)}


def as_found(desired: BaseInputs, facts: BaseFacts) -> dict:
    """The inputs as the host shows them (what a refresh records, so the next preview shows the drift):
    only the listed packages that are installed; kubelogin, the timer and required swap marked when
    missing."""
    found = desired.model_dump(mode="json")
    found["packages"] = [p for p in desired.packages if p in facts.installed]
    if desired.kubelogin is not None and facts.kubelogin != "present":
        found["kubelogin"] = f"{MISSING} {desired.kubelogin}"
    if desired.timer is not None and not facts.timer_running:
        found["timer"] = f"(not running on the host) {desired.timer}"
    if desired.swap == "required" and facts.swap_kib == 0:
        found["swap"] = "reported"
    return found
