"""The pure parts of ``bench/engine_costs.py``: Keystone against its two floors, the checkpoint share,
growth between two sizes, and the tables they print."""
import math

import pytest

from bench import engine_costs as ec
from bench.sdk_floor_provider import NoOp


def test_against_floors_sums_the_two_floors():
    a = ec.against_floors(30.0, 12.0, 8.0)
    assert a["floors_s"] == 20.0 and a["ratio"] == pytest.approx(1.5) and a["met"] is True
    b = ec.against_floors(30.1, 12.0, 8.0)
    assert b["met"] is False


def test_against_floors_not_measured_is_no_verdict():
    assert ec.against_floors(None, 12.0, 8.0) == {"floors_s": 20.0, "ratio": None, "met": None}
    assert ec.against_floors(10.0, 12.0, None) == {"floors_s": None, "ratio": None, "met": None}
    assert ec.verdict(None) == "n/a" and ec.verdict(True) == "met" and ec.verdict(False) == "NOT met"


def test_against_floors_zero_floor():
    assert math.isinf(ec.against_floors(1.0, 0.0, 0.0)["ratio"])


def test_checkpoint_share_is_clamped():
    assert ec.checkpoint_share(100.0, 10.0) == pytest.approx(0.9)
    assert ec.checkpoint_share(10.0, 11.0) == 0.0  # one save slower: noise, not a negative share
    assert ec.checkpoint_share(0.0, 0.0) == 0.0


def test_growth_per_unit():
    x, ok = ec.growth((100, 10.0), (400, 40.0))
    assert x == pytest.approx(1.0) and ok
    x, ok = ec.growth((100, 10.0), (400, 80.0))
    assert x == pytest.approx(2.0) and not ok
    assert ec.growth((0, 1.0), (10, 1.0)) == (math.inf, False)


def _floor_run(up: float, change: float) -> dict:
    return {"up": {"s": up, "peak_mb": 200.0, "changed": 10}, "change": {"s": change, "peak_mb": 210.0, "changed": 2}}


def test_floor_rows_and_table():
    keystone = {"up": {"s": 30.0, "peak_mb": 400.0, "changed": 10, "round_trips": 7},
                "change": {"s": 9.0, "peak_mb": 410.0, "changed": 2, "round_trips": 3}}
    rows = ec.floor_rows("g", {"up": "up from empty", "change": "one changed"}, keystone, {"up": 8.0, "change": 1.0},
                         {"per step": _floor_run(12.0, 4.0), "one save": _floor_run(3.0, 3.0)})
    assert [(r["phase"], r["checkpoints"]) for r in rows] == [
        ("up from empty", "per step"), ("up from empty", "one save"),
        ("one changed", "per step"), ("one changed", "one save")]
    assert rows[0]["checkpoint_share"] == pytest.approx(0.75)
    assert rows[1]["keystone_s"] is None  # Keystone measured with a checkpoint per step only
    text = "\n".join(ec.floors_table(rows))
    assert "1.50×" in text and "met" in text and "75 %" in text and "1.80×" in text and "NOT met" in text
    assert "— / 10" in text
    (change_row,) = [line for line in text.splitlines() if "one changed" in line and "per step" in line]
    assert " 3 " in change_row and "9.00×" in change_row  # its round trips; 9 s ÷ the host floor's 1 s


def test_scale_table_growth_line():
    rows = [{"graph": "people", "size": f"{n} people", "command": "preview", "contender": "keystone", "s": s,
             "peak_mb": mb, "round_trips": 0, "changed": n, "resources": n} for n, s, mb in ((100, 10.0, 300.0),
                                                                                            (400, 40.0, 600.0))]
    text = "\n".join(ec.scale_table(rows))
    assert "per resource, time 1.00× (linear), memory 0.50× (linear)" in text
    assert "each further 1,000 resources +100.0 s, +1000 MB" in text


def test_noop_provider_update_echoes_its_inputs():
    assert NoOp().update("floor", {"a": 1}, {"a": 2}).outs == {"a": 2}


def test_as_changed_takes_only_what_keystone_changed():
    def r(name: str, v: int) -> dict:
        return {"urn": f"urn:pulumi:bench::keystone::t::{name}", "inputs": {"v": v}}
    before = [r("a", 1), r("b", 1)]
    after = [r("a", 2), r("b", 2), r("c", 2)]  # b's input moved, but Keystone's diff said no change
    assert ec.as_changed(before, after, ["a", "c"]) == [r("a", 2), r("b", 1), r("c", 2)]


def test_floor_graph_changes_one_persons_quota_on_every_host():
    import pulumi

    from bench.program_eval import HOSTS, register_floor_graph

    class Recording(pulumi.runtime.Mocks):  # the program's own mocks import far more than this needs
        def __init__(self):
            self.resources = []

        def new_resource(self, args):
            self.resources.append(args)
            return f"{args.name}-id", args.inputs

        def call(self, args):
            return {}

    mocks = Recording()
    shapes = [("home", {"properties": {"quota": "1G", "atime": "off"}}), ("account", {"uid": 1.0})]
    pulumi.runtime.set_mocks(mocks, project="keystone", stack="bench", preview=False)

    @pulumi.runtime.test
    def program():
        return register_floor_graph(2, shapes, changed=1)

    program()
    homes = {r.name: dict(r.inputs["properties"]) for r in mocks.resources if r.name.endswith("-home")}
    assert homes == {**{f"p0000-{h['name']}-home": {"quota": "1G", "atime": "off"} for h in HOSTS},
                     **{f"p0001-{h['name']}-home": {"quota": "99G", "atime": "off"} for h in HOSTS}}


def test_the_exported_graph_floor_registers_components_and_stack_outputs_as_recorded(monkeypatch):
    """Components' outputs as the state recorded them (secrets still secret), registered from their
    children's, and the stack's outputs exported: the floor saves what the program saved."""
    import pulumi

    from bench.program_eval import register_exported_graph

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args):
            return f"{args.name}-id", args.inputs

        def call(self, args):
            return {}

    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "abc"}
    graph = [
        {"type": "pulumi:pulumi:Stack", "urn": "urn:pulumi:b::k::pulumi:pulumi:Stack::k-b",
         "outputs": {"rosterDigest": "d1", "peers": {"a": {"asn": 1}}}},
        {"type": "keystone:peering:PeerAsn", "urn": "urn:pulumi:b::k::keystone:peering:PeerAsn::a",
         "parent": "urn:pulumi:b::k::pulumi:pulumi:Stack::k-b", "outputs": {"asn": 1, "token": secret}},
        {"type": "pulumi-python:dynamic/bird:PeerFile", "custom": True,
         "urn": "urn:pulumi:b::k::keystone:peering:PeerAsn$pulumi-python:dynamic/bird:PeerFile::a-rs1",
         "parent": "urn:pulumi:b::k::keystone:peering:PeerAsn::a", "inputs": {"path": "/p", "__provider": "x"}},
    ]
    registered: dict[str, dict] = {}
    exported: dict[str, object] = {}
    monkeypatch.setattr(pulumi.ComponentResource, "register_outputs",
                        lambda self, outputs: registered.setdefault("a", outputs))
    monkeypatch.setattr(pulumi, "export", lambda key, value: exported.setdefault(key, value))
    pulumi.runtime.set_mocks(Mocks(), project="k", stack="b", preview=False)

    @pulumi.runtime.test
    def program():
        register_exported_graph(graph)
        out = registered["a"]
        return pulumi.Output.all(pulumi.Output.from_input(out), out["token"].is_secret(),
                                 out["asn"].is_secret()).apply(check)

    def check(args):
        outputs, token_secret, asn_secret = args
        assert outputs == {"asn": 1, "token": "s" * 3} and token_secret and not asn_secret
        assert exported == {"rosterDigest": "d1", "peers": {"a": {"asn": 1}}}

    program()
