"""The host base of the stack (``keystone:base``, settings/base.py), on every host:

* the machine-wide files every person inherits (``<host>-base-<slug of the path>``,
  ``host:ManagedFile``: authoritative, drift shown by refresh and corrected by up, removed — only that
  file — when it leaves the settings);
* with ``backups``: the backup script, service and timer (``<host>-backup-script|service|timer``);
* ``<host>-base`` (``host:Base``): the packages, the timer kept running, swap and kubelogin checked,
  every home's snapshot age and backup lag read (warnings in the preview from the last reading: stale
  homes, a missing kubelogin; missing packages show as the resource's change after a refresh);

The check made before anything is registered (more active people on a host than
``budgets.maxActivePeople``) is the gate's (``program/gate.py``); a ``source`` missing from the
repository is a settings error, at its line.

The people's budgets are their own resources (``components/workstation_user.py``).
"""
from __future__ import annotations

import pathlib

import pulumi

from providers.hostbase import backup
from providers.hostbase.plan import BackupInputs, BaseInputs
from providers.hostbase.resource import HostBase
from providers.hostfile.file import ManagedFile
from providers.hostfile.plan import FileInputs
from program.gate import active_on
from program.workstation import host_file_paths, path_slug
from roster import Roster
from settings import StackSettings
from providers.workstation.templates import render
from settings.base import BaseFileSettings
from settings.loader import setting_position


def file_content(f: BaseFileSettings, stack: str, host: str, project_dir: pathlib.Path) -> str:
    if f.source is not None:
        return (project_dir / f.source).read_text()
    return render(f.template or "", stack=stack, host=host)


def base_enabled(s: StackSettings) -> bool:
    b = s.base
    return bool(b.packages or b.files or b.backups or b.kubelogin or b.budgets)


def register_base(s: StackSettings, roster: Roster, stack: str, project_dir: pathlib.Path) -> dict[str, HostBase]:
    """Everything above on every host; returns each host's ``host:Base`` (none when the stack sets no base)."""
    b = s.base
    out: dict[str, HostBase] = {}
    if not base_enabled(s):
        return out
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    sources = {p: setting_position(stack_file, ("base", "packages", i)) for i, p in enumerate(b.packages)}
    for host in s.hosts:
        target = host.target()
        for f in b.files:
            ManagedFile(f"{host.name}-base-{path_slug(f.path)}", FileInputs(
                host=target, path=f.path, mode=f.mode, owner=f.owner, group=f.group,
                content=file_content(f, stack, host.name, project_dir)))
        timer_files: list[pulumi.Resource] = []
        backup_inputs = None
        if b.backups:
            k = b.backups
            timer_files = [
                ManagedFile(f"{host.name}-backup-script", FileInputs(
                    host=target, path=backup.SCRIPT_PATH, mode="0755", content=backup.SCRIPT)),
                ManagedFile(f"{host.name}-backup-service", FileInputs(
                    host=target, path=backup.SERVICE_PATH, reload="systemd",
                    content=backup.service(s.zfs.home_parent, k.backup_parent, k.keep))),
                ManagedFile(f"{host.name}-backup-timer", FileInputs(
                    host=target, path=backup.TIMER_PATH, reload="systemd", content=backup.timer(k.schedule)))]
            backup_inputs = BackupInputs(
                home_parent=s.zfs.home_parent, backup_parent=k.backup_parent, max_age_hours=k.max_age_hours,
                people=active_on(roster, host.name))
        # every root-owned file Keystone keeps on the host but the budgets (a glob finds those): the
        # host's refresh reads them in one gather with the base (providers/hostbase/declaration.py)
        root_files = ([f.path for f in b.files] + (list(backup.PATHS) if b.backups else [])
                      + host_file_paths(s))
        base = HostBase(f"{host.name}-base", BaseInputs(
            host=target, packages=list(b.packages), package_sources=sources, remove_dropped=b.remove_dropped,
            kubelogin=b.kubelogin, swap=b.budgets.swap if b.budgets else "reported",
            timer=backup.TIMER if b.backups else None, backup=backup_inputs,
            home_parent=s.zfs.home_parent, files=root_files),
            pulumi.ResourceOptions(depends_on=timer_files))
        out[host.name] = base
        warn_host(host.name, b.backups.max_age_hours if b.backups else 0, b.kubelogin, base)
    return out


def warn_host(host: str, max_age_hours: int, kubelogin: str | None, base: HostBase) -> None:
    """The preview's warnings from the host's last reading (its outputs as of the last up or refresh:
    `pulumi preview --refresh` reads it now).  Each output is read on its own: in a preview, an output
    whose value is null counts as unknown, and one unknown would hold back every warning."""
    def warn(**found) -> None:
        for message in host_warnings(host, max_age_hours, kubelogin, **found):
            pulumi.log.warn(message)

    base.stale.apply(lambda v: warn(stale=v))
    if kubelogin:
        base.kubelogin_present.apply(lambda v: warn(kubelogin_present=v))


def host_warnings(host: str, max_age_hours: int, kubelogin: str | None, stale=None,
                  kubelogin_present=None) -> list[str]:
    out = []
    if stale:
        out.append(f"host {host}: no snapshot newer than {max_age_hours} h of the home of {', '.join(stale)} "
                   "(keystone:base.backups.maxAgeHours): is keystone-backup.timer running?")
    if kubelogin and kubelogin_present is False:
        out.append(f"host {host}: kubelogin is missing at {kubelogin} (keystone:base.kubelogin): people's kubeconfig "
                   "cannot log in until the admin installs it there")
    return out
