"""What every dynamic provider shares (``providers/base.py``): the one test of a preview's unknowns."""
from __future__ import annotations

from pulumi.output import Unknown

from providers.base import UNKNOWN, is_unknown, unknown_keys


def test_an_unknown_is_found_at_any_depth():
    assert is_unknown(UNKNOWN) and is_unknown(Unknown())
    assert is_unknown({"a": [1, {"b": UNKNOWN}]}) and is_unknown((1, UNKNOWN))
    assert not is_unknown({"a": [1, {"b": "known"}]}) and not is_unknown(None) and not is_unknown(0)


def test_unknown_keys_names_the_inputs_holding_one_and_skips_internal_ones():
    props = {"name": "x", "host": {"address": UNKNOWN}, "ips": ["10.0.0.1", UNKNOWN], "__provider": UNKNOWN}
    assert unknown_keys(props) == {"host", "ips"}
    assert unknown_keys({"name": "x"}) == set()


def test_a_planned_create_takes_the_one_round_trip_path_else_applies():
    from pydantic import BaseModel

    from providers.base import PlannedProvider

    class Inputs(BaseModel):
        name: str
        fresh: bool = True

    class Provider(PlannedProvider):
        def resource_id(self, inputs):
            return f"h/{inputs.name}"

        def _create_new(self, inputs):
            return {"via": "new"} if inputs.fresh else None  # None: something is there already

        def _apply(self, inputs):
            return {"via": "apply", "name": inputs.name}

    Provider.Inputs = Inputs
    p = Provider()
    assert (p.create({"name": "a"}).id, p.create({"name": "a"}).outs) == ("h/a", {"via": "new"})
    assert p.create({"name": "b", "fresh": False}).outs == {"via": "apply", "name": "b"}
    assert p.update("h/a", {"name": "a"}, {"name": "c"}).outs == {"via": "apply", "name": "c"}


def test_resource_props_from_a_model_a_dataclass_or_a_mapping_with_the_outputs_as_none():
    import dataclasses

    import pytest
    from pydantic import BaseModel

    from providers.base import resource_props

    class Inner(BaseModel):
        port: int = 22

    class Inputs(BaseModel):
        name: str
        inner: Inner = Inner()

    @dataclasses.dataclass
    class Args:
        name: object  # a pulumi.Input: kept as it is
        flag: bool = True

    sentinel = object()
    assert resource_props(Inputs(name="a"), ("digest",)) == {"name": "a", "inner": {"port": 22}, "digest": None}
    assert resource_props(Args(sentinel), ("revision",)) == {"name": sentinel, "flag": True, "revision": None}
    assert resource_props({"inner": Inner(port=2), "n": 1}, ("path",)) == {"inner": {"port": 2}, "n": 1, "path": None}
    with pytest.raises(TypeError, match="pydantic model, a dataclass or a mapping"):
        resource_props(["name"])
