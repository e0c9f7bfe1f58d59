"""The engine's floor: Keystone's resources registered with no program logic and a provider that does
nothing.  Either ``keystone:people`` people's worth of them (``bench.program_eval.register_floor_graph``;
the props per resource from ``keystone:shapes``, a JSON file the benchmark writes from a run of the
real program under mocks; ``keystone:changed``, one person's index, changes that person's
quota), or exactly the graph of a real run (``keystone:graph``: the resources of
that stack's ``pulumi stack export``; ``bench.program_eval.register_exported_graph``)."""
import json
import pathlib

import pulumi

from bench.program_eval import register_exported_graph, register_floor_graph
from program.gc_pause import pause_for_program

pause_for_program()  # as Keystone's __main__ does
config = pulumi.Config("keystone")
graph = config.get("graph")
if graph:
    register_exported_graph(json.loads(pathlib.Path(graph).read_text()))
else:
    shapes = [tuple(s) for s in json.loads(pathlib.Path(config.require("shapes")).read_text())]
    register_floor_graph(config.require_int("people"), shapes, changed=config.get_int("changed"))
