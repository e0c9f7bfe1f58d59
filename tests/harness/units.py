"""Template units a test project holds, as the workstation settings require them (``User=%i`` and
the environment file Keystone writes)."""
from __future__ import annotations

import pathlib


def template_unit(unit: str) -> str:
    return (f"[Service]\nUser=%i\nEnvironmentFile=/etc/keystone/workstation/{unit}/%i.env\n"
            "ExecStart=/bin/true\n")


def install_units(project: pathlib.Path, *unit_files: str) -> None:
    """Write each ``dir/<unit>@.service`` under ``project``."""
    for rel in unit_files:
        path = project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template_unit(path.name.removesuffix("@.service")))
