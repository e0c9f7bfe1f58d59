"""Reading the last deployment's ports back from the stack's outputs; maps."""
from __future__ import annotations

from program.ports import previous_allocation, render_map


def test_previous_allocation_reads_outputs_as_protobuf_returns_them():
    people = {
        "alice": {"state": "active", "workstation": {"ports": {"ws1": {"web": 20000.0}, "ws2": {"web": 20003}}}},
        "bob": {"state": "offboarded", "workstation": {"ports": {"ws1": {"web": 20001.0, "agent": 20.5}}}},
        "carol": {"state": "active"},                               # before the workstation existed
        "dave": {"workstation": {"ports": {"ws1": {"web": True}}}},  # not a port
        "erin": "garbage",
    }
    assert previous_allocation(people) == {"ws1": {"web": {"alice": 20000, "bob": 20001}}, "ws2": {"web": {"alice": 20003}}}
    assert previous_allocation(None) == {} and previous_allocation("x") == {}


def test_maps_are_sorted_and_exact():
    assert render_map("tsv", {"bob": 20001, "alice": 20000}) == "alice\t20000\nbob\t20001\n"
    assert render_map("json", {"bob": 20001, "alice": 20000}) == '{\n  "alice": 20000,\n  "bob": 20001\n}\n'
    assert render_map("tsv", {}) == ""
