"""Workstation settings: ``keystone:workstation`` in ``Pulumi.<stack>.yaml`` (camelCase keys).

What every active person gets on every host beyond their account and home: tier groups, their own
instance of some services (a systemd template unit) on a sticky port, files seeded into the home
only if absent, an optional workspace clone, and host files derived from the roster (maps).

    keystone:workstation:
      tierGroups: {admin: [sudo]}
      services:
        - name: web-ide
          unit: web-ide                       # template unit web-ide@.service → web-ide@<user>.service
          unitFile: workstation/units/web-ide@.service   # shipped in this repository; installed on every host
          basePort: 20000                     # ports basePort … basePort+range-1
          range: 1000
          tiers: [admin, power-user]
          environment: |                      # jinja: user, name, uid, home, port, service, host
            PORT={{ port }}
          restart: when-idle                  # when-idle (default) | always | never
      files:
        - path: .config/keystone/hello.sh     # under the home
          mode: "0600"
          template: "echo hello {{ name }}\n"
      workspace: {repository: https://git.example.org/team/code.git, branch: main, path: code}
      maps:
        - path: /etc/keystone/web-ide.map
          service: web-ide
          format: tsv                         # tsv ("user<TAB>port") | json ({"user": port})

Every field error names ``Pulumi.<stack>.yaml:line:col`` and the field (``settings/loader.py``).
"""
from __future__ import annotations

import builtins
import posixpath
import re
from typing import Annotated, Literal

import jinja2
from pydantic import AfterValidator, Field, field_validator, model_validator

import validators
from validators import files

from .fields import SettingsModel

TIERS = ("admin", "power-user", "namespace-owner")
TEMPLATE_VARS = ("user", "name", "uid", "home", "port", "service", "host")
_SERVICE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_BRANCH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")
_REPO = re.compile(r"^(https://[^\s'\"]+|ssh://[^\s'\"]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s'\"]+|/[^\s'\"]+)$")
_SAMPLE = {"user": "alice", "name": "Alice Example", "uid": 20001, "home": "/home/alice", "port": 20000,
           "service": "svc", "host": "ws1"}

ENVIRONMENT = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)


def render(template: str, **values) -> str:
    """A template of these settings rendered strictly (an unknown variable is an error)."""
    return ENVIRONMENT.from_string(template).render(**values)


def _check_template(v: str) -> str:
    try:
        render(v, **_SAMPLE)
    except jinja2.TemplateError as e:
        raise ValueError(f"template error: {e} (variables: {', '.join(TEMPLATE_VARS)})") from None
    return v


def _group(v: str) -> str:
    if not validators.POSIX_NAME.fullmatch(v):
        raise ValueError(f"not a group name: {v!r}")
    return v


GroupName = Annotated[str, AfterValidator(_group)]


class ServiceSettings(SettingsModel):
    """One per-person service: ``<unit>@<user>.service`` on every host, for the tiers that get it."""

    name: str = Field(description="The service's name (resources, maps and the environment file use it).")
    unit: str = Field(description="Template unit name without '@.service'.")
    unit_file: str = Field(description="The template unit file in this repository, installed on every host.")
    base_port: int = Field(ge=1024, le=65535, description="First port of the service's range.")
    range: int = Field(100, ge=1, le=10000, description="How many ports the range holds.")
    tiers: list[Literal["admin", "power-user", "namespace-owner"]] = Field(
        default_factory=lambda: list(TIERS), description="Tiers whose people get an instance.")  # type: ignore[arg-type]
    environment: str = Field("PORT={{ port }}\n", description="Environment file template (KEY=value lines).")
    restart: Literal["when-idle", "always", "never"] = Field(
        "when-idle", description="A changed environment restarts the instance: only when the person has no "
        "login session (when-idle), at once (always), or never (the next start picks it up).")

    @field_validator("name", "unit")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _SERVICE.fullmatch(v):
            raise ValueError("lower-case letters, digits and '-', starting with a letter (≤ 31)")
        return v

    @field_validator("unit_file")
    @classmethod
    def _unit_file(cls, v: str) -> str:
        if v.startswith("/") or ".." in v.split("/") or not v.endswith("@.service"):
            raise ValueError("a path in this repository (relative, no '..') of a template unit '<unit>@.service'")
        return v

    @field_validator("environment")
    @classmethod
    def _environment(cls, v: str) -> str:
        _check_template(v)
        for n, line in enumerate(render(v, **_SAMPLE).splitlines(), 1):
            if line.strip() and not line.lstrip().startswith("#"):
                key, eq, _ = line.partition("=")
                if not eq or not _ENV_KEY.fullmatch(key):
                    raise ValueError(f"environment line {n} is not KEY=value: {line[:60]!r}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> ServiceSettings:
        if self.base_port + self.range - 1 > 65535:
            raise ValueError(f"basePort + range - 1 = {self.base_port + self.range - 1} is above 65535")
        if posixpath.basename(self.unit_file) != f"{self.unit}@.service":
            raise ValueError(f"unitFile must be named {self.unit}@.service (the unit's template)")
        return self

    @property
    def ports(self) -> builtins.range:
        return range(self.base_port, self.base_port + self.range)


class SeededFileSettings(SettingsModel):
    """A file seeded into every active person's home only if absent: never overwritten."""

    path: str = Field(description="Path under the home.")
    mode: str = Field("0644", description="Octal mode; private modes (no 'other' bits) are never world-readable.")
    template: str = Field(description="Content (jinja: user, name, uid, home, host).")

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        return files.home_relative_path(v, "path")

    @field_validator("mode")
    @classmethod
    def _mode(cls, v: str) -> str:
        return files.file_mode(str(v))

    @field_validator("template")
    @classmethod
    def _template(cls, v: str) -> str:
        return _check_template(v)


class WorkspaceSettings(SettingsModel):
    """A git clone in every active person's home, made as the person, only if absent."""

    repository: str = Field(description="Clone URL (https://, ssh://, user@host:path) or a path on the host.")
    branch: str = Field("main")
    path: str = Field("code", description="Where under the home.")

    @field_validator("repository")
    @classmethod
    def _repo(cls, v: str) -> str:
        if not _REPO.fullmatch(v):
            raise ValueError("a clone URL: https://…, ssh://…, user@host:path, or an absolute path")
        return v

    @field_validator("branch")
    @classmethod
    def _branch(cls, v: str) -> str:
        if not _BRANCH.fullmatch(v) or ".." in v:
            raise ValueError("a branch name (letters, digits, . _ / -)")
        return v

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        return files.home_relative_path(v, "path")


class MapSettings(SettingsModel):
    """A host file derived from the roster each run: active person → their port of one service."""

    path: str = Field(description="Absolute path on every host.")
    service: str = Field(description="The service whose ports it lists.")
    format: Literal["tsv", "json"] = Field("tsv", description='tsv: "user<TAB>port" lines; json: {"user": port}.')
    mode: str = Field("0644")

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        return files.host_file_path(v)

    @field_validator("mode")
    @classmethod
    def _mode(cls, v: str) -> str:
        return SeededFileSettings._mode(v)


class WorkstationSettings(SettingsModel):
    tier_groups: dict[Literal["admin", "power-user", "namespace-owner"], list[GroupName]] = Field(
        default_factory=dict, description="Groups each tier's people are added to (never stripped).")
    services: list[ServiceSettings] = Field(default_factory=list)
    files: list[SeededFileSettings] = Field(default_factory=list)
    workspace: WorkspaceSettings | None = None
    maps: list[MapSettings] = Field(default_factory=list)

    @field_validator("tier_groups")
    @classmethod
    def _groups(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        return {t: sorted(set(g)) for t, g in v.items()}

    @model_validator(mode="after")
    def _consistent(self) -> WorkstationSettings:
        problems = []
        names = [s.name for s in self.services]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            problems.append(f"service names must be unique: {', '.join(dup)}")
        units = [s.unit for s in self.services]
        dup = sorted({u for u in units if units.count(u) > 1})
        if dup:
            problems.append(f"two services cannot share a template unit (their instances would be one): {', '.join(dup)}")
        for i, a in enumerate(self.services):
            for b in self.services[i + 1:]:
                if a.ports.start < b.ports.stop and b.ports.start < a.ports.stop:
                    problems.append(f"port ranges of services {a.name} ({a.ports.start}-{a.ports.stop - 1}) and "
                                    f"{b.name} ({b.ports.start}-{b.ports.stop - 1}) overlap")
        paths = [f.path for f in self.files] + ([self.workspace.path] if self.workspace else [])
        dup = sorted({p for p in paths if paths.count(p) > 1})
        if dup:
            problems.append(f"files and workspace paths must be distinct: {', '.join(dup)}")
        for m in self.maps:
            if m.service not in names:
                problems.append(f"map {m.path}: no service named {m.service!r}")
        mpaths = [m.path for m in self.maps]
        if len(set(mpaths)) != len(mpaths):
            problems.append("map paths must be unique")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.services or self.files or self.workspace or self.tier_groups)

    def groups_for(self, tier: str) -> list[str]:
        return list(self.tier_groups.get(tier, []))  # type: ignore[call-overload]

    def services_for(self, tier: str) -> list[ServiceSettings]:
        return [s for s in self.services if tier in s.tiers]
