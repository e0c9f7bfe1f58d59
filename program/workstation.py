"""Workstation resources of the stack (not of one person): on every host, each service's template
unit (``<host>-unit-<service>``, a ``host:ManagedFile`` under ``/etc/systemd/system``) and each map
(``<host>-map-<service>``, regenerated from the roster every run: only active people, so a person
who is offboarded or removed disappears from it); and the sticky port allocation
(``program/ports.py``: ``port_allocation``) the people's instances use.

The allocation is computed from the ``people`` output of this stack's last deployment — the same
StackReference the deletion guard reads — before anything is registered, so a preview shows every
port, and nobody's port moves when others come and go (docs/workstation.md).
"""
from __future__ import annotations

import pathlib

import pulumi

from providers.hostfile.file import ManagedFile
from providers.hostfile.plan import FileInputs
from program.ports import Allocation, render_map
from roster import PersonState, Roster
from settings import StackSettings
from settings.workstation import UNIT_DIR



def register_host_files(s: StackSettings, roster: Roster, allocation: Allocation,
                        project_dir: pathlib.Path) -> dict[str, list[pulumi.Resource]]:
    """Template units and maps on every host; returns, per host, the unit files every instance waits for."""
    units: dict[str, list[pulumi.Resource]] = {}
    active = {p.username for p in roster.people.values() if p.state == PersonState.ACTIVE}
    for host in s.hosts:
        target = host.target()
        units[host.name] = [
            ManagedFile(f"{host.name}-unit-{svc.name}", FileInputs(
                host=target, path=f"{UNIT_DIR}/{svc.unit}@.service", mode="0644", reload="systemd",
                content=(project_dir / svc.unit_file).read_text()))
            for svc in s.workstation.services]
        for m in s.workstation.maps:
            held = allocation.get(host.name, {}).get(m.service, {})
            ManagedFile(f"{host.name}-map-{m.service}" + ("" if _one_map(s, m.service) else f"-{path_slug(m.path)}"),
                        FileInputs(host=target, path=m.path, mode=m.mode,
                                   content=render_map(m.format, {u: port for u, port in held.items() if u in active})))
    return units


def host_file_paths(s: StackSettings) -> list[str]:
    """The root-owned files ``register_host_files`` keeps on every host: template units and maps."""
    return [f"{UNIT_DIR}/{svc.unit}@.service" for svc in s.workstation.services] + [m.path for m in s.workstation.maps]


def _one_map(s: StackSettings, service: str) -> bool:
    return sum(1 for m in s.workstation.maps if m.service == service) == 1


def path_slug(path: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in path.strip("/"))
