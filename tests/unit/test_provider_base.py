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
