"""The host base: ``keystone:base`` in ``Pulumi.<stack>.yaml`` (camelCase keys).

What every host of the stack has, whoever lives on it: Debian packages, machine-wide files every
person inherits (``/etc/profile.d``, ``/etc/skel``), a budget per person (their ``user-<uid>.slice``)
and a cap on how many active people a host takes, and backups of every home.

    keystone:base:
      packages: [git, zsh, git-crypt]          # installed where missing; never removed unless removeDropped
      removeDropped: false                     # true: a package Keystone installed and the list dropped is purged
      kubelogin: /usr/local/bin/kubectl-oidc_login   # checked on every host (Debian ships no kubelogin)
      fileDirs: [/etc/profile.d, /etc/skel]    # managed files must live under these
      files:
        - path: /etc/profile.d/keystone.sh
          source: workstation/base/profile.sh  # a file of this repository, or
          # template: "export KEYSTONE_STACK={{ stack }}\n"   # jinja: stack, host
          mode: "0644"
      budgets:
        default: {memoryMax: 8G, cpuWeight: 100, tasksMax: 4096}
        tiers: {admin: {memoryMax: 16G}}       # per tier, over the default; a person's roster `budget` over both
        maxActivePeople: 40                    # per host: more active people is a preview error
        swap: required                         # required: a host without swap is an error; reported (default)
      backups:
        schedule: hourly                       # the timer's OnCalendar
        keep: 48                               # snapshots kept per home (and on the backup)
        backupParent: rpool/backup/home        # replicated to <backupParent>/<user>
        maxAgeHours: 3                         # a newer snapshot is expected: older is a preview warning

Every field error names ``Pulumi.<stack>.yaml:line:col`` and the field (``settings/loader.py``).
"""
from __future__ import annotations

import pathlib
from typing import Annotated, Literal

from pydantic import Field, StrictBool, ValidationInfo, model_validator

from validators import budget
from validators.files import file_mode, host_file_path, relative_path
from providers.workstation import templates

from .fields import HomeParent, Problem, SettingsModel, Whole, checked, fail_at

TEMPLATE_VARS = ("stack", "host")

MemoryMax = Annotated[str | None, checked(budget.memory_max, optional=True)]
CpuWeight = Annotated[int | None, checked(budget.cpu_weight, optional=True)]
TasksMax = Annotated[str | None, checked(budget.tasks_max, optional=True)]
Package = Annotated[str, checked(budget.debian_package)]
HostPath = Annotated[str, checked(host_file_path)]
Mode = Annotated[str, checked(file_mode)]
ProjectFile = Annotated[str | None, checked(relative_path, "source", inside="the project",
                                            example="workstation/base/profile.sh", optional=True)]
"""A file of this repository: ``validators.files.relative_path`` below the project."""


class BudgetValues(SettingsModel):
    """systemd resource-control values of a person's ``user-<uid>.slice``; unset: not limited here."""

    memory_max: MemoryMax = Field(None, description="MemoryMax: e.g. 8G, 25%, infinity.")
    cpu_weight: CpuWeight = Field(None, description="CPUWeight: 1..10000 (systemd's default: 100).")
    tasks_max: TasksMax = Field(None, description="TasksMax: a number, a percentage, or infinity.")

    def over(self, base: BudgetValues) -> BudgetValues:
        """These values, the unset ones taken from ``base``."""
        return BudgetValues(**{k: getattr(self, k) if getattr(self, k) is not None else getattr(base, k)
                               for k in BudgetValues.model_fields})


class BudgetSettings(SettingsModel):
    default: BudgetValues = Field(default_factory=BudgetValues, description="Every person's budget.")
    tiers: dict[Literal["admin", "power-user", "namespace-owner"], BudgetValues] = Field(
        default_factory=dict, description="Per tier, over the default.")
    max_active_people: Whole | None = Field(None, ge=1, le=10000,
                                            description="Active people a host takes at most (a preview error beyond).")
    swap: Literal["required", "reported"] = Field(
        "reported", description="required: a host without swap fails the run; reported: its outputs say so.")

    def for_tier(self, tier: str) -> BudgetValues:
        return self.tiers.get(tier, BudgetValues()).over(self.default)  # type: ignore[call-overload]


class BaseFileSettings(SettingsModel):
    """A machine-wide file every person inherits: authoritative, rewritten when it drifts."""

    path: HostPath = Field(description="Absolute path, under one of fileDirs.")
    source: ProjectFile = Field(None, description="A file of this repository (relative path, no '..').")
    template: str | None = Field(None, description="The content (jinja: stack, host).")
    mode: Mode = Field("0644")
    owner: Whole = Field(0, ge=0, le=2**31 - 1, description="Owner uid.")
    group: Whole = Field(0, ge=0, le=2**31 - 1, description="Group gid.")

    @model_validator(mode="after")
    def _content(self, info: ValidationInfo) -> BaseFileSettings:
        if (self.source is None) == (self.template is None):  # named at the second one given, or at path
            fail_at("file", [(("source",) if self.source is not None else ("path",),
                              "give exactly one of source and template",
                              "source: a file of this repository; template: the text")])
        project = (info.context or {}).get("project")
        if self.source is not None and project is not None and not (pathlib.Path(project) / self.source).is_file():
            fail_at("file", [(("source",), f"source {self.source} does not exist in the project",
                              "a file of this repository, relative to the stack file's directory")])
        if self.template is not None:
            try:
                templates.render(self.template, stack="dev", host="ws1")
            except templates.TemplateProblem as e:
                fail_at("file", [(("template",), f"template error: {e}", f"variables: {', '.join(TEMPLATE_VARS)}")])
        return self


class BackupSettings(SettingsModel):
    schedule: Annotated[str, checked(budget.on_calendar)] = Field(
        "hourly", description="When the backup timer snapshots and replicates every home (systemd OnCalendar).")
    keep: Whole = Field(48, ge=1, le=10000, description="Keystone snapshots kept per home, and on the backup.")
    backup_parent: HomeParent = Field(
        description="Backups are <backupParent>/<username> (created by the first replication).")
    max_age_hours: Whole = Field(3, ge=1, le=24 * 365, description="Older newest snapshot: a preview warning.")


class BaseSettings(SettingsModel):
    packages: list[Package] = Field(default_factory=list, description="Debian packages every host has.")
    remove_dropped: StrictBool = Field(False, description="Purge a package Keystone installed once the list drops it.")
    kubelogin: Annotated[str | None, checked(host_file_path, optional=True)] = Field(
        None, description="Where kubelogin is on every host (its absence is reported).")
    file_dirs: list[HostPath] = Field(default_factory=list, description="Directories managed files may live in.")
    files: list[BaseFileSettings] = Field(default_factory=list)
    budgets: BudgetSettings | None = None
    backups: BackupSettings | None = None

    @model_validator(mode="after")
    def _consistent(self) -> BaseSettings:
        """Each problem at the key it is about (the second of a pair listed twice)."""
        problems: list[Problem] = []
        for i, p in enumerate(self.packages):
            if p in self.packages[:i]:
                problems.append((("packages", i), f"package {p} listed twice", "list each package once"))
        for i, d in enumerate(self.file_dirs):
            if d.count("/") < 2:  # "/", "/etc", "/usr": a managed file could then be anything
                problems.append((("fileDirs", i), f"{d} is too wide",
                                 "name the directory the files live in, e.g. /etc/profile.d"))
        for i, f in enumerate(self.files):
            if not any(f.path.startswith(d + "/") for d in self.file_dirs):
                problems.append((("files", i, "path"), f"{f.path} is not under any of fileDirs "
                                 f"({', '.join(self.file_dirs) or 'none'})", None))
            elif f.path in [g.path for g in self.files[:i]]:
                problems.append((("files", i, "path"), f"file path {f.path} listed twice", "one entry per file"))
        if problems:
            fail_at("base", problems)
        return self
