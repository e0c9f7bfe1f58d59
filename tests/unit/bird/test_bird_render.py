"""Rendering: golden files, real ``bird -p`` on them, and hostile values that must never render.

``KEYSTONE_UPDATE_GOLDEN=1 pytest tests/unit/bird`` rewrites the golden files; review the diff.
"""
from __future__ import annotations

import ipaddress
import os
import random
import re
import shutil
import subprocess
from pathlib import Path

import pydantic
import pytest

from providers.bird import models, parse, render
from providers.bird.render import RenderError
from tests.harness import bird_samples as samples

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("KEYSTONE_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("name", sorted(samples.rendered()))
def test_golden(name: str) -> None:
    text = samples.rendered()[name]
    path = GOLDEN / name
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"missing golden file {path}: run with KEYSTONE_UPDATE_GOLDEN=1"
    assert text == path.read_text(), f"{name} differs from its golden file: review, then KEYSTONE_UPDATE_GOLDEN=1"


def test_golden_has_no_stale_files() -> None:
    assert sorted(p.name for p in GOLDEN.glob("*.conf")) == sorted(samples.rendered())


def test_rendering_is_deterministic_and_sorted() -> None:
    peer = samples.PEERS["as64502"]
    shuffled = peer.model_copy(update={"addresses": models.PeerAddresses(ipv4=list(reversed(peer.addresses.ipv4)))})
    a = render.render_peer_file(samples.RS, peer, samples.LIMITS["as64502"], False)
    b = render.render_peer_file(samples.RS, shuffled, samples.LIMITS["as64502"], False)
    assert a == b
    assert a.index("as64502_10_99_0_3 ") < a.index("as64502_10_99_0_13 ")  # addresses sorted as addresses
    rtr = models.RpkiSource(rtr=list(reversed(samples.RPKI_RTR.rtr)))
    assert render.render_server_config(samples.RS, rtr) == render.render_server_config(samples.RS, samples.RPKI_RTR)


def _bird() -> str:
    path = shutil.which("bird") or ("/usr/sbin/bird" if os.path.exists("/usr/sbin/bird") else None)
    if not path:  # never a skip: scripts/setup.sh installs bird2
        pytest.fail("bird (bird2) is needed to parse the golden files: run scripts/setup.sh")
    return path


@pytest.mark.parametrize("server", ["server_static.conf", "server_rtr.conf"])
def test_golden_files_parse_with_real_bird(tmp_path: Path, server: str) -> None:
    """The rendered files are valid for the installed BIRD (bird2 2.0.12 on bookworm)."""
    bird = _bird()
    rs = samples.RS.model_copy(update={"config_dir": str(tmp_path), "peers_dir": str(tmp_path / "peers.d")})
    (tmp_path / "peers.d").mkdir()
    texts = samples.rendered()
    main = texts[server].replace(render.include_line(samples.RS), render.include_line(rs))
    (tmp_path / "bird.conf").write_text(main)
    for key in samples.PEERS:
        (tmp_path / "peers.d" / f"{key}.conf").write_text(texts[f"{key}.conf"])
    p = subprocess.run([bird, "-p", "-c", str(tmp_path / "bird.conf")], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""


def test_protocol_names_are_symbols_not_keywords() -> None:
    assert render.protocol_name(64500, "10.0.0.1") == "as64500_10_0_0_1"
    assert render.protocol_name(4200000001, "2001:db8::a:1") == "as4200000001_2001_db8__a_1"
    longest = render.protocol_name(4294967294, "2001:db8:1234:5678:9abc:def0:1234:5678")
    assert len(longest) <= 64
    with pytest.raises(RenderError):
        render.protocol_name(64500, "10.0.0.1; include")
    with pytest.raises(RenderError):
        render.bird_symbol("rs")
    with pytest.raises(RenderError):
        render.bird_symbol("code")


def test_peer_file_declares_one_session_per_address() -> None:
    text = samples.rendered()["as64501.conf"]
    assert parse.declared_protocols(text) == ["as64501_10_99_0_2", "as64501_fd00_99__2"]
    assert parse.neighbors(text) == [("10.99.0.2", 64501), ("fd00:99::2", 64501)]
    assert parse.marker(text) == ("bird:PeerFile", "rs1/64501")
    assert 'description "AS64501 Example Networks GmbH";' in text
    facts = parse.parse_peer_file(text)
    assert facts.import_limits == [100, 20] and facts.receive_limits == [200, 40]


def test_template_refuses_unchecked_values() -> None:
    env = render.environment()
    with pytest.raises(RenderError, match="unchecked value"):
        env.from_string("neighbor {{ x }};").render(x="10.0.0.1")


# --- hostile values ------------------------------------------------------------------------------

HOSTILE = [
    'x"; include "/etc/passwd"; #',
    'evil" ; protocol bgp evil { neighbor 192.0.2.66 as 666; }; "',
    "a}\nprotocol bgp evil {",
    "line\nbreak",
    "carriage\rreturn",
    "brace{",
    "brace}",
    "semi;colon",
    "back\\slash",
    "hash # comment",
    "/* comment */",
    "nul\x00byte",
    "tab\there",
    'quote"',
    "",
    " leading-space",
    "x" * 300,
]


def _peer(**override) -> dict:
    base = {"asn": 64501, "name": "example-net", "addresses": {"ipv4": ["10.99.0.2"]}, "max_prefixes": {"ipv4": 10}}
    return {**base, **override}


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("field", ["name", "description", "as_set"])
def test_hostile_peer_strings_are_rejected_by_the_model(field: str, value: str) -> None:
    with pytest.raises(pydantic.ValidationError):
        models.PeerSpec(**_peer(**{field: value}))


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("field", ["name", "description", "as_set"])
def test_hostile_peer_strings_never_render_even_when_the_model_is_bypassed(field: str, value: str) -> None:
    peer = models.PeerSpec(**_peer()).model_copy(update={field: value})  # model_copy skips validation
    with pytest.raises(RenderError):
        render.render_peer_file(samples.RS, peer, render.Limits(10, 0, 20, 0), True)


@pytest.mark.parametrize("value", HOSTILE + ["192.0.2.1; include", "10.0.0.1 as 666", "::1\n}"])
def test_hostile_addresses_prefixes_and_hosts_never_render(value: str) -> None:
    peer = models.PeerSpec(**_peer())
    bad_addr = peer.model_copy(update={"addresses": models.PeerAddresses.model_construct(ipv4=[value], ipv6=[])})
    with pytest.raises(RenderError):
        render.render_peer_file(samples.RS, bad_addr, render.Limits(10, 0, 20, 0), True)
    bad_prefix = peer.model_copy(update={"prefixes": [value]})
    with pytest.raises(RenderError):
        render.render_peer_file(samples.RS, bad_prefix, render.Limits(10, 0, 20, 0), True)
    rtr = models.RpkiSource.model_construct(rtr=[models.RtrServer.model_construct(host=value, port=323)], static_roas=None)
    with pytest.raises(RenderError):
        render.render_server_config(samples.RS, rtr)
    with pytest.raises(pydantic.ValidationError):
        models.RtrServer(host=value)


@pytest.mark.parametrize("value", HOSTILE + ["/etc/bird/../shadow", "relative/path", "/etc/bird/*.conf", "/a b"])
@pytest.mark.parametrize("field", ["config_dir", "peers_dir", "control_socket", "name"])
def test_hostile_route_server_values(field: str, value: str) -> None:
    with pytest.raises(pydantic.ValidationError):
        samples.RS.model_validate({**samples.RS.model_dump(), field: value})
    bypassed = samples.RS.model_copy(update={field: value})
    if field in ("control_socket", "config_dir"):
        return  # never rendered into a file (argv only, and no shell ever sees it)
    with pytest.raises(RenderError):
        render.render_server_config(bypassed, samples.RPKI_STATIC)
    if field == "name":  # the only route-server value a peer file prints (in its marker)
        with pytest.raises(RenderError):
            render.render_peer_file(bypassed, models.PeerSpec(**_peer()), render.Limits(10, 0, 20, 0), True)


@pytest.mark.parametrize("value", [-1, 2**32, True, "10", 1.5])
def test_hostile_numbers_never_render(value) -> None:
    with pytest.raises(RenderError):
        render.render_peer_file(samples.RS, models.PeerSpec(**_peer()), render.Limits(value, 0, 20, 0), True)
    peer = models.PeerSpec(**_peer()).model_copy(update={"asn": value})
    with pytest.raises((RenderError, TypeError, ValueError)):
        render.render_peer_file(samples.RS, peer, render.Limits(10, 0, 20, 0), True)


def test_keywords_as_values_stay_inside_quotes_and_comments() -> None:
    """A word like ``include`` is a valid name or description: it must change no statement."""
    limits = render.Limits(10, 0, 20, 0)
    baseline = _skeleton(render.render_peer_file(samples.RS, models.PeerSpec(**_peer(description="x")), limits, True))
    for field, value in (("name", "include"), ("description", "include protocol bgp"), ("name", "protocol")):
        peer = models.PeerSpec(**_peer(**{"description": "x", field: value}))
        assert _skeleton(render.render_peer_file(samples.RS, peer, limits, True)) == baseline
    rs = samples.RS.model_copy(update={"name": "include"})
    assert _skeleton(render.render_server_config(rs, samples.RPKI_STATIC)) == \
        _skeleton(render.render_server_config(samples.RS, samples.RPKI_STATIC))
    rtr = models.RpkiSource(rtr=[{"host": "include"}])
    assert 'remote "include" port 323;' in render.render_server_config(samples.RS, rtr)


def _skeleton(text: str) -> list[str]:
    """The statements of a file, with the content of quoted strings and comments blanked."""
    out = []
    for line in text.splitlines():
        line = re.sub(r'"[^"\n]*"', '""', line)
        line = line.split("#", 1)[0].rstrip()
        if line:
            out.append(line)
    return out


def test_fuzzed_strings_either_raise_or_leave_the_structure_unchanged() -> None:
    """Random strings from a hostile alphabet: a value is refused, or it changes no statement."""
    rng = random.Random(20240601)
    alphabet = 'abcAZ09 _.-:/()@&+\'",;{}#\\\n\r\t*=<>!|$`' + "include protocol bgp neighbor"
    baseline = _skeleton(render.render_peer_file(samples.RS, models.PeerSpec(**_peer(description="x")),
                                                 render.Limits(10, 0, 20, 0), True))
    rendered = 0
    for _ in range(3000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 24)))
        for field in ("name", "description"):
            peer = models.PeerSpec(**_peer(description="x")).model_copy(update={field: value})
            try:
                text = render.render_peer_file(samples.RS, peer, render.Limits(10, 0, 20, 0), True)
            except RenderError:
                continue
            rendered += 1
            assert _skeleton(text) == baseline, (field, value)
    assert rendered > 50  # the test exercised accepted values too


def test_roa_entries_validate_lengths() -> None:
    with pytest.raises(pydantic.ValidationError):
        models.RoaEntry(prefix="185.1.0.0/22", max_length=21, asn=64501)
    with pytest.raises(pydantic.ValidationError):
        models.RoaEntry(prefix="185.1.0.0/22", max_length=33, asn=64501)
    with pytest.raises(pydantic.ValidationError):
        models.RpkiSource()
    with pytest.raises(pydantic.ValidationError):
        models.RpkiSource(rtr=[], static_roas=[])
    assert models.RpkiSource(static_roas=[]).static_roas == []


def test_models_reject_unusable_values() -> None:
    for asn in (0, 23456, 65535, 4294967295, 2**32):
        with pytest.raises(pydantic.ValidationError):
            models.PeerSpec(**_peer(asn=asn))
    with pytest.raises(pydantic.ValidationError):
        models.PeerSpec(**_peer(addresses={"ipv4": []}))
    with pytest.raises(pydantic.ValidationError):
        models.PeerSpec(**_peer(addresses={"ipv4": ["10.99.0.2", "10.99.0.2"]}))
    with pytest.raises(pydantic.ValidationError):
        models.PeerSpec(**_peer(addresses={"ipv6": ["fe80::1"]}))
    with pytest.raises(pydantic.ValidationError):
        samples.RS.model_validate({**samples.RS.model_dump(), "peers_dir": "/etc/bird"})
    assert models.PeerSpec(**_peer(prefixes=["185.1.0.0/24", "2a0b::/32", "185.1.0.0/24"])).prefixes == [
        ipaddress.ip_network("185.1.0.0/24"), ipaddress.ip_network("2a0b::/32")]
