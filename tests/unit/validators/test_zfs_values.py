"""One rule for a ZFS size: the roster, the host facts and the policy pack accept the same texts and
read them as the same bytes (``validators.zfs``); the edge cases follow what ZFS itself accepts."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from policy.rules._support import SizeError, parse_size as policy_size
from providers.zfs.facts import ParseError, size_bytes as host_size
from roster import parse_zfs_size as roster_size
from validators import Invalid, zfs

FAST = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
E = 1024**6


def _everywhere(text: str) -> tuple[object, object, object]:
    """What the roster, the host facts and the policy make of ``text`` (an exception's type when refused)."""
    out = []
    for parse, error in ((roster_size, ValueError), (host_size, ParseError), (policy_size, SizeError)):
        try:
            out.append(parse(text))
        except error:
            out.append(error)
    return tuple(out)


@pytest.mark.parametrize("text", ["1Z", "0Z", "1ZB", "1.5Z", "2z"])
def test_z_is_refused_everywhere(text):
    """ZFS refuses every Z size (too large for 64 bits); the policy accepted them before."""
    assert _everywhere(text) == (ValueError, ParseError, SizeError)
    with pytest.raises(Invalid, match="too large"):
        zfs.parse_size(text)


@pytest.mark.parametrize("text", ["0.3K", "1.5", "0.1M", "1.0000001G"])
def test_a_fraction_of_a_byte_is_refused_everywhere(text):
    """ZFS would truncate these; Keystone refuses them rather than store another value."""
    assert _everywhere(text) == (ValueError, ParseError, SizeError)
    with pytest.raises(Invalid, match="not a whole number of bytes"):
        zfs.parse_size(text)


@pytest.mark.parametrize(("text", "size"), [("1.5K", 1536), ("0.5M", 512 * 1024), ("2.25G", 9 * 2**28)])
def test_a_fraction_that_makes_whole_bytes_is_read_alike(text, size):
    assert _everywhere(text) == (size, size, size)


@pytest.mark.parametrize("text", ["10BB", "10BiB", "10iB", "10 G", " 10G", ".5K", "1.G", "+1G", "-1G", "1e3", "١٠G"])
def test_what_zfs_refuses_is_refused(text):
    with pytest.raises(Invalid):
        zfs.parse_size(text)
    assert _everywhere(text)[0] is ValueError


def test_zero():
    """0 is 0 bytes; ZFS refuses quota=0 (the roster asks for none) and prints an unset quota as 0
    (the host facts and the policy read it as no limit)."""
    assert zfs.parse_size("0") == 0 and zfs.parse_size("0G") == 0
    assert _everywhere("0")[1:] == (None, None)
    with pytest.raises(Invalid, match="write none"):
        zfs.quota("0")
    with pytest.raises(Invalid, match="write none"):
        zfs.quota(0)
    assert zfs.limit(0) is None and zfs.limit(None) is None and zfs.limit(5) == 5


def test_the_64_bit_limit():
    assert zfs.parse_size(str(2**64 - 1)) == 2**64 - 1
    assert zfs.parse_size("15E") == 15 * E
    for text in (str(2**64), "16E", "16384P"):
        with pytest.raises(Invalid, match="too large"):
            zfs.parse_size(text)


@pytest.mark.parametrize(("size", "exact", "described"), [
    (None, "none", "none"), (0, "0", "0B"), (100, "100", "100B"), (1536, "1536", "1.5K"),
    (1536 * 1024**3, "1536G", "1.5T"), (10 * 1024**3, "10G", "10G"), (E, "1E", "1E"), (2**64 - 1, str(2**64 - 1), "16E"),
])
def test_format_and_describe(size, exact, described):
    assert zfs.format_size(size) == exact
    assert zfs.describe_size(size) == described


@FAST
@given(st.integers(0, 2**64 - 1))
def test_format_reads_back_to_the_same_bytes(size):
    assert zfs.parse_size(zfs.format_size(size)) == size


_NUMBER = st.from_regex(r"[0-9]{1,22}(\.[0-9]{1,4})?", fullmatch=True)
_SUFFIX = st.sampled_from(["", "B", "K", "m", "G", "t", "P", "E", "Z", "KB", "Gib", "MiB", "BB", "iB", "X"])


@FAST
@given(_NUMBER, _SUFFIX)
def test_the_three_readers_agree(number, suffix):
    """Every text is accepted by all three readers or by none, and read as the same bytes (0 aside:
    a limit of 0 is no limit to the host facts and the policy).  Surrounding spaces are the one
    leniency of the host facts and the policy (command output, a hand-written pack config)."""
    roster, host, policy = _everywhere(number + suffix)
    assert _everywhere(f" {number}{suffix} ")[1:] == (host, policy)
    if roster is ValueError:
        assert (host, policy) == (ParseError, SizeError)
    else:
        assert host == policy == zfs.limit(roster)


def test_the_dataset_resource_checks_each_property_by_the_same_rules():
    from pydantic import ValidationError

    from providers.zfs.plan import _PROPERTY_CHECKS, DatasetProperties
    from roster import ZfsProperties

    assert set(_PROPERTY_CHECKS) == set(DatasetProperties.model_fields) == set(ZfsProperties.model_fields)
    given = DatasetProperties(quota="1024M", compression="zstd-3", recordsize="131072", atime="on")
    assert given.model_dump() == {"quota": "1024M", "compression": "zstd-3", "recordsize": "131072", "atime": "on"}
    for bad in ({"quota": "1Z"}, {"quota": "0.3K"}, {"quota": "0"}, {"quota": "0G"}, {"quota": " 1G"}, {"recordsize": "3K"}, {"compression": "lz5"},
                {"atime": "maybe"}):
        with pytest.raises(ValidationError):
            DatasetProperties(**bad)
