"""AS-SETs have one rule: the roster's (``validators.peering.as_set``).  The BIRD model and the
renderer use it, and the ``PeerAsn`` component drops only the IRR source prefix for the header."""
from __future__ import annotations

import pydantic
import pytest

from components.peer_asn import bird_as_set
from providers.bird import models, render
from providers.bird.render import RenderError
from tests.harness import bird_samples as samples
from validators import Invalid, peering

LONG = "AS-" + "X" * 120  # 123 characters: the roster takes up to 128

# roster value -> header text; the first three were headers before and stay as they were
HEADERS = {
    "AS-EXAMPLE": "AS-EXAMPLE",
    "RIPE::AS-EXAMPLE": "AS-EXAMPLE",
    "AS64500:AS-CUSTOMERS": "AS64500:AS-CUSTOMERS",
    "as-foo:as64500": "AS-FOO:AS64500",
    "RIPE::AS-FOO:AS64500:AS-BAR": "AS-FOO:AS64500:AS-BAR",
    LONG: LONG,
}


def _header(as_set: str | None) -> str:
    peer = models.PeerSpec(asn=64501, name="example-net", addresses={"ipv4": ["10.99.0.2"]},
                           max_prefixes={"ipv4": 10}, as_set=as_set)
    text = render.render_peer_file(samples.RS, peer, render.Limits(10, 0, 20, 0), True)
    return next(line for line in text.splitlines() if line.startswith("# Peer AS"))


@pytest.mark.parametrize("value", sorted(HEADERS))
def test_an_as_set_the_roster_accepts_reaches_the_peer_file_header(value: str) -> None:
    assert _header(bird_as_set(peering.as_set(value))) == f"# Peer AS64501 example-net, AS-SET {HEADERS[value]}"


@pytest.mark.parametrize("value", ["AS-EXAMPLE", "AS64500", "AS-FOO:AS64500", "as-foo", "AS-_X", "AS--", "AS-FOO:",
                                   "AS64500:AS64501", "RIPE::AS-FOO", "AS-" + "X" * 126, "AS-FOO BAR", "AS-FOO#"])
def test_the_bird_model_and_the_roster_accept_the_same_as_sets(value: str) -> None:
    try:
        expected: str | None = peering.as_set(value)
    except Invalid:
        expected = None
    try:
        got: str | None = models.PeerSpec(asn=64501, name="x", addresses={"ipv4": ["10.99.0.2"]}, as_set=value).as_set
    except pydantic.ValidationError:
        got = None
    assert got == expected


def test_a_name_that_is_no_as_set_without_its_source_is_left_out_of_the_header() -> None:
    assert bird_as_set(peering.as_set("AS-SRC::AS64500:AS64501")) is None
    assert _header(None) == "# Peer AS64501 example-net"


@pytest.mark.parametrize("value", ["as-foo", "AS-FOO\nprotocol", "AS-FOO # x", 12])
def test_the_renderer_refuses_an_unchecked_as_set(value: object) -> None:
    peer = models.PeerSpec(asn=64501, name="x", addresses={"ipv4": ["10.99.0.2"]}).model_copy(update={"as_set": value})
    with pytest.raises(RenderError):
        render.render_peer_file(samples.RS, peer, render.Limits(10, 0, 20, 0), True)
