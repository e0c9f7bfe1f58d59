"""The host base of the stack (``keystone:base``, settings/base.py): on every host, the machine-wide
files every person inherits (``<host>-base-<slug of the path>``, ``host:ManagedFile``: authoritative,
drift shown by refresh and corrected by up, removed — only that file — when it leaves the settings);
and the checks made before anything is registered: a ``source`` missing from the repository, more
active people on a host than ``budgets.maxActivePeople``.

The people's budgets are their own resources (``components/workstation_user.py``).
"""
from __future__ import annotations

import pathlib

import pulumi

from providers.hostfile.file import ManagedFile
from providers.hostfile.plan import FileInputs
from program.workstation import path_slug
from roster import PersonState, Roster
from settings import StackSettings
from settings.base import BaseFileSettings, render


def base_problems(s: StackSettings, roster: Roster, project_dir: pathlib.Path) -> list[str]:
    b = s.base
    problems = [f"keystone:base.files.{i}: source {f.source} does not exist in the project"
                for i, f in enumerate(b.files) if f.source is not None and not (project_dir / f.source).is_file()]
    limit = b.budgets.max_active_people if b.budgets else None
    if limit is not None:
        for host in s.hosts:
            active = sorted(p.username for p in roster.people.values()
                            if p.state == PersonState.ACTIVE and p.on_host(host.name))
            if len(active) > limit:
                problems.append(f"host {host.name}: {len(active)} active people, more than "
                                f"keystone:base.budgets.maxActivePeople ({limit}): move someone to another host "
                                f"(roster `hosts:`) or raise the limit")
    return problems


def file_content(f: BaseFileSettings, stack: str, host: str, project_dir: pathlib.Path) -> str:
    if f.source is not None:
        return (project_dir / f.source).read_text()
    return render(f.template or "", stack=stack, host=host)


def register_base(s: StackSettings, stack: str, project_dir: pathlib.Path) -> dict[str, list[pulumi.Resource]]:
    """The base files on every host; returns them per host."""
    out: dict[str, list[pulumi.Resource]] = {}
    for host in s.hosts:
        target = host.target()
        out[host.name] = [ManagedFile(f"{host.name}-base-{path_slug(f.path)}", FileInputs(
            host=target, path=f.path, mode=f.mode, owner=f.owner, group=f.group,
            content=file_content(f, stack, host.name, project_dir))) for f in s.base.files]
    return out
