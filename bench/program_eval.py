"""Program evaluation under mocks: the whole Keystone program for a generated roster of N people on 3
hosts (Authentik and Kubernetes off), timed in a fresh interpreter per size so each run is cold, set
up as the program's ``__main__`` sets itself up (collector off, program/gc_pause.py).

``python -m bench.program_eval N`` prints one JSON line: people, resources, seconds, peak RSS.
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

HOSTS = [{"name": "ws1", "address": "ws1.example.org"}, {"name": "ws2", "address": "ws2.example.org"},
         {"name": "ws3", "address": "ws3.example.org", "port": 2222}]


def roster_text(n: int) -> str:
    lines = ["people:"]
    for i in range(n):
        lines += [f"  p{i:04d}:", f"    name: Person {i}", f"    uid: {30000 + i}", "    tier: power-user",
                  f"    zfs: {{quota: {1 + i % 5}G}}"]
    return "\n".join(lines) + "\n"


def run(n: int) -> dict:
    from program.stack import ProgramInputs
    from roster import RosterContext, parse_roster_text
    from settings import settings_from_config
    from program.mocks import RecordingMocks, run_program

    started = time.perf_counter()
    s = settings_from_config({"hosts": HOSTS})
    roster = parse_roster_text(roster_text(n), RosterContext(min_uid=s.min_uid, hosts=[h.name for h in s.hosts]))
    inputs = ProgramInputs(stack="bench", settings=s, roster=roster, authentik_token=None)
    parsed = time.perf_counter()
    result = run_program(inputs, RecordingMocks())
    done = time.perf_counter()
    return {"people": n, "resources": len(result.mocks.resources), "seconds": round(done - started, 2),
            "parse_seconds": round(parsed - started, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def sdk_floor(n: int) -> dict:
    """What the Pulumi SDK alone costs for the same graph (``register_floor_graph``) under mocks.  The
    program cannot beat this."""
    import pulumi

    from program.mocks import RecordingMocks

    shapes = _registered_shapes()
    started = time.perf_counter()
    pulumi.runtime.set_mocks(RecordingMocks(), project="keystone", stack="bench", preview=False)

    @pulumi.runtime.test
    def program():
        return register_floor_graph(n, shapes)

    program()
    done = time.perf_counter()
    return {"people": n, "resources": n * (1 + len(HOSTS) * len(shapes)), "seconds": round(done - started, 2)}


def register_floor_graph(n: int, shapes: list[tuple[str, dict]] | None = None, changed: int | None = None):
    """The program's graph with no program logic: one component per person and, per host, three dynamic
    resources carrying the props the program registers for that person (taken from a program run of one
    person), ordered as the program orders them (``depends_on``) and registered, as the program registers
    them, inside the apply that follows its gate — with no roster, settings, gate checks or component
    logic, and a provider that does nothing.  Used under mocks and as a real Pulumi program
    (``bench/engine_floor``).  ``changed``: the index of one person whose home quota differs (a
    one-person change: one resource per host updated)."""
    import pulumi
    from pulumi.dynamic import Resource

    from bench import sdk_floor_provider

    shapes = shapes if shapes is not None else _registered_shapes()
    provider = sdk_floor_provider.NoOp()

    class Floor(Resource, module="bench", name="Floor"):
        pass

    class Person(pulumi.ComponentResource):
        def __init__(self, name: str, change: bool = False):
            super().__init__("keystone:users:WorkstationUser", name, None, None)
            for host in HOSTS:
                earlier: list[pulumi.Resource] = []  # home <- account <- delegation, as in WorkstationUser
                for kind, props in shapes:
                    if change and "properties" in props:
                        props = {**props, "properties": {**props["properties"], "quota": "99G"}}
                    earlier.append(Floor(provider, f"{name}-{host['name']}-{kind}", {**props, "host": host},
                                         pulumi.ResourceOptions(parent=self, depends_on=list(earlier))))
            self.register_outputs({})

    def register(_: object) -> int:
        for i in range(n):
            Person(f"p{i:04d}", change=i == changed)
        return n

    return pulumi.Output.from_input(None).apply(register)


def _registered_shapes() -> list[tuple[str, dict]]:
    """The props of one person's resources on one host, as the program registers them."""
    from program.stack import ProgramInputs
    from roster import RosterContext, parse_roster_text
    from settings import settings_from_config
    from program.mocks import RecordingMocks, run_program

    s = settings_from_config({"hosts": HOSTS[:1]})
    roster = parse_roster_text(roster_text(1), RosterContext(min_uid=s.min_uid, hosts=[h.name for h in s.hosts]))
    mocks = run_program(ProgramInputs(stack="bench", settings=s, roster=roster, authentik_token=None),
                        RecordingMocks()).mocks
    return [(r.name.rsplit("-", 1)[-1], {k: v for k, v in r.inputs.items() if k not in ("__provider", "host")})
            for r in mocks.resources if r.type.startswith("pulumi-python:dynamic/")]


def measure(sizes=(250, 500, 1000), python: str = sys.executable, floor: bool = False) -> list[dict]:
    out = []
    for n in sizes:
        argv = [python, "-m", "bench.program_eval", *(["--sdk-floor"] if floor else []), str(n)]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=900)
        if p.returncode != 0:
            raise RuntimeError(f"{'SDK floor' if floor else 'program evaluation'} of {n} people failed:\n"
                               f"{p.stderr[-3000:]}")
        out.append(json.loads(p.stdout.strip().splitlines()[-1]))
    return out


if __name__ == "__main__":
    from program.gc_pause import pause_for_program

    pause_for_program()  # as the program's __main__ does, before the program's imports
    if sys.argv[1] == "--sdk-floor":
        print(json.dumps(sdk_floor(int(sys.argv[2]))))
    else:
        print(json.dumps(run(int(sys.argv[1]))))


def register_exported_graph(resources: list[dict]) -> None:
    """Another program's graph as the engine recorded it (``pulumi stack export``'s resources): every
    component again as a component, every dynamic resource again as a dynamic resource of the same type
    and name with the same inputs (secrets again secret), parents and dependencies as recorded, the
    components' and the stack's outputs as recorded — and a provider that does nothing.  The engine's
    floor for that program's ``up`` (``bench/engine_floor``).

    A component's outputs are registered once its children exist, as a program's are when made from
    its children's (Keystone's are): the engine saves them then, into a state that has grown by its
    children, not at the component's start."""
    import pulumi
    from pulumi.dynamic import Resource

    from bench import sdk_floor_provider

    provider = sdk_floor_provider.NoOp()
    classes: dict[str, type] = {}
    made: dict[str, pulumi.Resource] = {}
    components: dict[str, dict] = {}  # urn -> its recorded outputs
    children: dict[str, list[pulumi.Resource]] = {}  # a component's urn -> its children

    def dynamic_class(type_: str) -> type:
        if type_ not in classes:
            rest = type_.removeprefix("pulumi-python:dynamic")  # "/<module>:<name>" or ":<name>"
            module, name = rest[1:].split(":", 1) if rest.startswith("/") else ("", rest[1:])
            classes[type_] = type(name, (Resource,), {}, module=module, name=name)
        return classes[type_]

    def value(v: object) -> object:
        if isinstance(v, dict) and "ciphertext" in v:
            return pulumi.Output.secret("s" * len(v["ciphertext"]))
        if isinstance(v, dict):
            return {k: value(x) for k, x in v.items()}
        if isinstance(v, list):
            return [value(x) for x in v]
        return v

    for r in resources:
        type_, urn = r["type"], r["urn"]
        if type_.startswith(("pulumi:pulumi:", "pulumi:providers:")):
            continue
        opts = pulumi.ResourceOptions(parent=made.get(r.get("parent", "")),
                                      depends_on=[made[d] for d in r.get("dependencies") or [] if d in made])
        name = urn.rsplit("::", 1)[-1]
        if r.get("custom"):
            inputs = {k: value(v) for k, v in (r.get("inputs") or {}).items() if k != "__provider"}
            made[urn] = dynamic_class(type_)(provider, name, inputs, opts)
        else:
            made[urn] = pulumi.ComponentResource(type_, name, None, opts)
            components[urn] = r.get("outputs") or {}
        if r.get("parent") in components:
            children.setdefault(r["parent"], []).append(made[urn])
    for urn, outputs in components.items():
        done = pulumi.Output.all(*[k.id if isinstance(k, pulumi.CustomResource) else k.urn
                                   for k in children.get(urn, [])])
        made[urn].register_outputs({key: pulumi.Output.all(done, pulumi.Output.from_input(value(v))).apply(lambda xs: xs[1])
                                    for key, v in outputs.items()})
    stack = next((r for r in resources if r["type"] == "pulumi:pulumi:Stack"), None)
    for key, v in ((stack or {}).get("outputs") or {}).items():
        pulumi.export(key, value(v))
