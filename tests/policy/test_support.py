"""The rules' helpers: unknown-safe copying of pulumi_policy proxies, sizes, integers."""
from __future__ import annotations

import pulumi.runtime.rpc
import pytest
from google.protobuf import json_format, struct_pb2
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE, UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from policy import contract as c
from policy.rules._support import Unknown, as_int, format_bytes, parse_size, plain, unknown_paths


def _engine_props(props: dict) -> object:
    struct = struct_pb2.Struct()
    struct.update(props)
    return unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(struct)))


def test_unknown_sentinel_is_the_engines() -> None:
    assert c.UNKNOWN == pulumi.runtime.rpc.UNKNOWN == UNKNOWN_STRING_VALUE
    assert UNKNOWN_BOOLEAN_VALUE in c.UNKNOWN_SENTINELS


def test_plain_replaces_unknowns_without_raising() -> None:
    proxy = _engine_props({"a": c.UNKNOWN, "b": {"c": [1, UNKNOWN_BOOLEAN_VALUE]}, "d": "x"})
    with pytest.raises(UnknownValueError):
        proxy["a"]  # what a naive rule would hit
    out = plain(proxy)
    assert isinstance(out["a"], Unknown) and out["a"].path == "a"
    assert out["b"]["c"][0] == 1.0 and isinstance(out["b"]["c"][1], Unknown)
    assert out["d"] == "x"
    assert unknown_paths(out) == ["a", "b.c[1]"]
    assert not Unknown("x")  # never a true flag


def test_plain_on_plain_values_and_raw_sentinels() -> None:
    assert plain({"x": [1, {"y": c.UNKNOWN}]})["x"][1]["y"].path == "x[1].y"
    assert plain("text") == "text"


@pytest.mark.parametrize("value, expected", [
    (1001, 1001), (1001.0, 1001), (True, None), (1001.5, None), ("1001", None), (None, None), (float("nan"), None),
])
def test_as_int(value, expected) -> None:
    assert as_int(value) == expected


G = 1024 ** 3


@pytest.mark.parametrize("text, expected", [
    ("50G", 50 * G), ("50g", 50 * G), ("1.5T", int(1.5 * 1024 * G)), ("512M", 512 * 1024 ** 2), ("20GiB", 20 * G),
    ("20GB", 20 * G), ("1024", 1024), ("none", None), ("NONE", None), ("0", None), ("0G", None), (" 2T ", 2 * 1024 * G),
])
def test_parse_size(text, expected) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["lots", "-1G", "1X", "", "G", "1.G", 5, None])
def test_parse_size_rejects(text) -> None:
    with pytest.raises(ValueError):
        parse_size(text)


def test_format_bytes() -> None:
    assert [format_bytes(x) for x in (None, 500 * G, 1024 * G, 1536 * G, 100)] == ["none", "500G", "1T", "1.5T", "100B"]
