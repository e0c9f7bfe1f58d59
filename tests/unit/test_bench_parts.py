"""What one ``python -m bench`` run measures (issue #23: every contender beside its floors in one run)."""
from bench.__main__ import DEFAULT, PARTS, parts
from bench import engine_costs


def test_without_only_the_people_contenders_run():
    assert parts(None) == set(DEFAULT)


def test_only_names_the_parts_it_lists():
    assert parts(["kube", "floors-peering"]) == {"kube", "floors-peering"}


def test_all_is_every_part_the_floors_and_scale_included():
    everything = parts(["all"])
    assert everything == set(PARTS)
    assert set(engine_costs.CHOICES) | {"kube", "backends", "hostbase"} | set(DEFAULT) == everything
    assert "all" not in everything
