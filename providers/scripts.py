"""Shell run on hosts lives in ``.sh`` files beside the module that runs it; this loads one."""
from __future__ import annotations

import functools
import pathlib


@functools.cache
def script(module_file: str, name: str) -> str:
    """The text of ``name`` beside ``module_file`` (run as ``sh -c TEXT NAME ARGS…``)."""
    return (pathlib.Path(module_file).resolve().parent / name).read_text()
