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
          # Keystone writes PORT=<port> itself, first; the template adds the rest
          environment: |                      # jinja: user, name, uid, home, port, service, host
            WORKSPACE={{ home }}/code
          restart: when-idle                  # when-idle (default) | always | never
      idleMinutes: 20                         # when-idle: every session idle this long, no open connection
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
What the settings refuse so that no value can hurt a host:

* files root writes stay where Keystone owns them: a map below ``/etc/keystone/`` (not in
  ``/etc/keystone/workstation/``, the instances' environment files), a template unit only as
  ``/etc/systemd/system/<unit>@.service`` with a unit name no system package uses
  (``SYSTEM_UNITS``), read from a file of this repository that must exist and run as ``User=%i``
  with the environment file Keystone writes;
* paths in a home are relative, normalised, plain ASCII, never sshd's or the kubeconfig Keystone
  writes (``validators.files.home_file``), never one inside another; maps and seeded files are
  never group- or world-writable;
* templates render in Jinja's sandbox, strictly (``providers/workstation/templates.py``);
* an environment defines neither ``PORT`` (Keystone writes it) nor what systemd or the dynamic
  loader set (``RESERVED_ENV``), and every line is ``KEY=value``;
* the workspace's branch is a git ref, its repository a clone URL without credentials
  (``validators.git``).
"""
from __future__ import annotations

import builtins
import pathlib
import re
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

import validators
from validators import files
from providers.workstation import templates

from . import kubeconfig
from .fields import SettingsModel, Whole, checked, fail

TIERS = ("admin", "power-user", "namespace-owner")
FILE_VARS = ("user", "name", "uid", "home", "host")
TEMPLATE_VARS = (*FILE_VARS, "port", "service")
_SAMPLE: dict[str, Any] = {"user": "alice", "name": "Alice Example", "uid": 20001, "home": "/home/alice",
                           "port": 20000, "service": "svc", "host": "ws1"}
_SERVICE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
UNIT_DIR = "/etc/systemd/system"
"""Where a service's template unit is installed: ``<UNIT_DIR>/<unit>@.service``."""
SYSTEM_UNITS = frozenset({
    "autovt", "console-getty", "container-getty", "getty", "serial-getty", "user", "user-runtime-dir", "modprobe",
    "dbus", "ssh", "sshd", "emergency", "rescue", "ifup", "ifdown", "wpa_supplicant", "openvpn", "wg-quick",
    "zfs-import", "zfs-mount", "zfs-zed", "lvm2-pvscan", "mdmonitor", "dm-event"})
"""Template units Debian's systemd and common packages ship (``systemd-*`` too): a service named so
would replace the system's own unit."""
MAX_UNIT_FILE = 64 * 1024
KEYSTONE_ENV = ("PORT",)
"""What Keystone writes into every instance's environment file itself (first, before the template)."""
RESERVED_ENV = frozenset({
    *KEYSTONE_ENV, "USER", "LOGNAME", "HOME", "SHELL", "INVOCATION_ID", "NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID",
    "LISTEN_FDNAMES", "MAINPID", "MANAGERPID", "SYSTEMD_EXEC_PID", "JOURNAL_STREAM", "WATCHDOG_PID",
    "WATCHDOG_USEC", "RUNTIME_DIRECTORY", "STATE_DIRECTORY", "CACHE_DIRECTORY", "LOGS_DIRECTORY",
    "CONFIGURATION_DIRECTORY", "CREDENTIALS_DIRECTORY"})
"""Keys an environment template may not define: Keystone's, and those systemd sets for a ``User=``
service (a redefinition would point the person's service at root's home or confuse systemd)."""
RESERVED_ENV_PREFIXES = ("LD_", "SYSTEMD_")
"""The dynamic loader's (``LD_PRELOAD`` …) and systemd's: never set by a template."""


def _check_template(v: str, variables: tuple[str, ...]) -> str:
    """The template rendered with sample values (``TemplateProblem``, a ``ValueError``, naming what is wrong)."""
    return templates.check(v, {k: _SAMPLE[k] for k in variables})


def environment_problem(text: str) -> str | None:
    """Why a rendered environment file is not one systemd reads as written (``KEY=value`` lines,
    ``#``/``;`` comments), or None."""
    for n, line in enumerate(text.splitlines(), 1):
        body = line.strip()
        if not body or body[0] in "#;":
            continue
        if body.endswith("\\"):
            return f"environment line {n} ends with '\\' (a continuation would join it to the next line)"
        key, eq, value = body.partition("=")
        if not eq or not _ENV_KEY.fullmatch(key):
            return f"environment line {n} is not KEY=value: {validators.show(line, 40)}"
        if key in RESERVED_ENV or key.startswith(RESERVED_ENV_PREFIXES):
            who = "Keystone writes" if key in KEYSTONE_ENV else "systemd or the dynamic loader sets"
            return f"environment line {n} defines {key}, which {who} (remove the line)"
        if value[:1] in ("'", '"') and (len(value) < 2 or value[-1] != value[0]):
            return f"environment line {n} has an unbalanced quote: {validators.show(line, 40)}"
    return None


def _home_file(value: Any) -> str:
    return files.home_file(value, "path", reserved=(kubeconfig.PATH,))


GroupName = Annotated[str, checked(validators.posix_name, "group name")]
HomeFile = Annotated[str, checked(_home_file)]
SafeMode = Annotated[str, checked(files.safe_mode)]


class ServiceSettings(SettingsModel):
    """One per-person service: ``<unit>@<user>.service`` on every host, for the tiers that get it."""

    name: str = Field(description="The service's name (resources, maps and the environment file use it).")
    unit: str = Field(description="Template unit name without '@.service'.")
    unit_file: str = Field(description="The template unit file in this repository, installed on every host.")
    base_port: int = Field(ge=1024, le=65535, description="First port of the service's range.")
    range: int = Field(100, ge=1, le=10000, description="How many ports the range holds.")
    tiers: list[Literal["admin", "power-user", "namespace-owner"]] = Field(
        default_factory=lambda: list(TIERS), description="Tiers whose people get an instance.")  # type: ignore[arg-type]
    environment: str = Field("", description="Environment file template (KEY=value lines); Keystone writes "
                                             "PORT=<port> before it.")
    restart: Literal["when-idle", "always", "never"] = Field(
        "when-idle", description="A changed environment restarts the instance: only when the person is idle "
        "(when-idle: idleMinutes), at once (always), or never (the next start picks it up).")

    @field_validator("name", "unit")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _SERVICE.fullmatch(v):
            raise ValueError("lower-case letters, digits and '-', starting with a letter (≤ 31)")
        return v

    @field_validator("unit")
    @classmethod
    def _not_a_system_unit(cls, v: str) -> str:
        if v in SYSTEM_UNITS or v.startswith("systemd-"):
            fail(f"unit {v!r} is a template unit of the system ({UNIT_DIR}/{v}@.service would replace it)",
                 "name the service's own unit, e.g. web-ide or keystone-web-ide")
        return v

    @field_validator("unit_file")
    @classmethod
    def _unit_file(cls, v: str, info: ValidationInfo) -> str:
        directory, _, name = v.rpartition("/")
        if v.startswith("/") or not name.endswith("@.service") or not _SERVICE.fullmatch(name.removesuffix("@.service")):
            fail(f"unitFile {validators.show(v)} is not a template unit of this repository",
                 "a relative path to '<unit>@.service', e.g. workstation/units/web-ide@.service")
        if directory:  # relative, normalised, plain names
            files.relative_path(directory, "unitFile", inside="the project", example="workstation/units")
        project, unit = (info.context or {}).get("project"), info.data.get("unit")
        if project is not None and isinstance(unit, str) and name == f"{unit}@.service":  # (else: reported with the service)
            problem = unit_file_problem(pathlib.Path(project), v, unit)
            if problem:
                fail(problem, "the template unit runs the service as the person (User=%i) with the environment "
                     "file Keystone writes")
        return v

    @field_validator("environment")
    @classmethod
    def _environment(cls, v: str) -> str:
        problem = environment_problem(_check_template(v, TEMPLATE_VARS))
        if problem:
            raise ValueError(problem)
        return v

    @model_validator(mode="after")
    def _consistent(self) -> ServiceSettings:
        if self.base_port + self.range - 1 > 65535:
            raise ValueError(f"basePort + range - 1 = {self.base_port + self.range - 1} is above 65535")
        if pathlib.PurePosixPath(self.unit_file).name != f"{self.unit}@.service":
            raise ValueError(f"unitFile must be named {self.unit}@.service (the unit's template)")
        return self

    @property
    def ports(self) -> builtins.range:
        return range(self.base_port, self.base_port + self.range)


def unit_file_problem(project: pathlib.Path, unit_file: str, unit: str) -> str | None:
    """Why the template unit ``unit_file`` (relative to the project) cannot be installed, or None: it
    must be a file of the project, UTF-8 text of at most ``MAX_UNIT_FILE`` bytes, that runs as
    ``User=%i`` and reads ``EnvironmentFile=/etc/keystone/workstation/<unit>/%i.env``."""
    path = project / unit_file
    try:
        raw = path.read_bytes() if path.is_file() else None
    except OSError as e:
        return f"unitFile {unit_file} cannot be read: {e.strerror or e}"
    if raw is None:
        return f"unitFile {unit_file} does not exist in the project"
    if len(raw) > MAX_UNIT_FILE:
        return f"unitFile {unit_file} is {len(raw)} bytes, more than {MAX_UNIT_FILE}"
    try:
        lines = {line.strip() for line in raw.decode("utf-8").splitlines()}
    except UnicodeDecodeError:
        return f"unitFile {unit_file} is not UTF-8 text"
    env = f"EnvironmentFile={files.KEYSTONE_DIR}/workstation/{unit}/%i.env"
    missing = [want for want in ("User=%i", env) if want not in lines]
    if missing:
        return f"unitFile {unit_file} lacks {' and '.join(missing)}"
    return None


class SeededFileSettings(SettingsModel):
    """A file seeded into every active person's home only if absent: never overwritten."""

    path: HomeFile = Field(description="Path under the home.")
    mode: SafeMode = Field("0644", description="Octal mode, never group- or world-writable; private modes "
                                               "(no 'other' bits) are never world-readable.")
    template: str = Field(description="Content (jinja: user, name, uid, home, host).")

    @field_validator("template")
    @classmethod
    def _template(cls, v: str) -> str:
        _check_template(v, FILE_VARS)
        return v


class WorkspaceSettings(SettingsModel):
    """A git clone in every active person's home, made as the person, only if absent, git-crypt locked."""

    repository: Annotated[str, checked(validators.git_repository, "repository")] = Field(
        description="Clone URL (https://, ssh://, user@host:path) or a path on the host; never credentials.")
    branch: Annotated[str, checked(validators.git_ref, "branch")] = Field("main")
    path: HomeFile = Field("code", description="Where under the home.")


class MapSettings(SettingsModel):
    """A host file derived from the roster each run: active person → their port of one service."""

    path: Annotated[str, checked(files.owned_path, "map path")] = Field(
        description="Absolute path on every host, below /etc/keystone/.")
    service: str = Field(description="The service whose ports it lists.")
    format: Literal["tsv", "json"] = Field("tsv", description='tsv: "user<TAB>port" lines; json: {"user": port}.')
    mode: SafeMode = Field("0644")


def _one_resource_per_path(paths: list[str], what: str, why: str) -> list[str]:
    """Problems of paths two resources would share: one path twice, or one inside another."""
    problems = []
    dup = sorted({p for p in paths if paths.count(p) > 1})
    if dup:
        problems.append(f"{what} must be distinct ({why}): {', '.join(dup)}")
    nested = sorted({f"{a} holds {b}" for a in set(paths) for b in set(paths) if b.startswith(a + "/")})
    if nested:
        problems.append(f"one of the {what} lies inside another: {'; '.join(nested)}")
    return problems


class WorkstationSettings(SettingsModel):
    tier_groups: dict[Literal["admin", "power-user", "namespace-owner"], list[GroupName]] = Field(
        default_factory=dict, description="Groups each tier's people are added to (never stripped).")
    services: list[ServiceSettings] = Field(default_factory=list)
    files: list[SeededFileSettings] = Field(default_factory=list)
    workspace: WorkspaceSettings | None = None
    maps: list[MapSettings] = Field(default_factory=list)
    idle_minutes: Whole = Field(20, ge=1, le=10080, description="restart: when-idle waits until every login "
                                "session of the person has been idle this long and no instance has a connection.")

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
        problems += _one_resource_per_path(paths, "files and workspace paths", "one path, one resource")
        seeds = sorted({p for p in paths if p.endswith(".keystone-seed") or f"{p}.keystone-seed" in paths})
        if seeds:
            problems.append(f"'<path>.keystone-seed' is where a diverged seed's copy goes: {', '.join(seeds)}")
        for m in self.maps:
            if m.service not in names:
                problems.append(f"map {m.path}: no service named {m.service!r}")
        problems += _one_resource_per_path([m.path for m in self.maps], "map paths", "two maps would write one file")
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
