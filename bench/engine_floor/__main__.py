"""The engine's floor: ``keystone:people`` people's worth of Keystone's resources registered with no
program logic and a provider that does nothing (``bench.program_eval.register_floor_graph``); the
props per resource come from ``keystone:shapes`` (a JSON file the benchmark writes from a run of
the real program under mocks)."""
import json
import pathlib

import pulumi

from bench.program_eval import register_floor_graph
from program.gc_pause import pause_for_program

pause_for_program()  # as Keystone's __main__ does
config = pulumi.Config("keystone")
shapes = [tuple(s) for s in json.loads(pathlib.Path(config.require("shapes")).read_text())]
register_floor_graph(config.require_int("people"), shapes)
