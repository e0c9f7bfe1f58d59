"""Parsers, fed with output captured from a real bird2 2.0.12 (``fixtures/``, captured in the netns lab;
the lab's temporary directory is shown as ``/srv/lab``)."""
from __future__ import annotations

from pathlib import Path

import pytest

from providers.bird import parse

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


# --- show protocols ------------------------------------------------------------------------------

SHOW_PROTOCOLS = {
    "show_protocols_established.txt": {
        "ks_device": ("Device", "---", "up", "2026-11-23 23:01:48", "", None),
        "ks_roa4_static": ("Static", "ks_roa4", "up", "2026-11-23 23:01:48", "", None),
        "ks_roa6_static": ("Static", "ks_roa6", "up", "2026-11-23 23:01:48", "", None),
        "as64501_10_99_0_2": ("BGP", "---", "up", "2026-11-23 23:01:49", "Established", "Established"),
        "as64501_fd00_99__2": ("BGP", "---", "up", "2026-11-23 23:01:49", "Established", "Established"),
        "as64502_10_99_0_3": ("BGP", "---", "up", "2026-11-23 23:01:49", "Established", "Established"),
        "as64502_fd00_99__3": ("BGP", "---", "up", "2026-11-23 23:01:49", "Established", "Established"),
    },
    "show_protocols_starting.txt": {
        "ks_device": ("Device", "---", "up", "2026-11-23 23:01:48", "", None),
        "ks_roa4_static": ("Static", "ks_roa4", "up", "2026-11-23 23:01:48", "", None),
        "ks_roa6_static": ("Static", "ks_roa6", "up", "2026-11-23 23:01:48", "", None),
        "as64501_10_99_0_2": ("BGP", "---", "start", "2026-11-23 23:01:48", "Active", "Active"),
        "as64501_fd00_99__2": ("BGP", "---", "start", "2026-11-23 23:01:48", "Active", "Active"),
        "as64502_10_99_0_3": ("BGP", "---", "start", "2026-11-23 23:01:49", "Active", "Active"),
        "as64502_fd00_99__3": ("BGP", "---", "start", "2026-11-23 23:01:49", "Active", "Active"),
    },
    "show_protocols_limit.txt": {
        "ks_device": ("Device", "---", "up", "2026-11-23 23:01:48", "", None),
        "ks_roa4_static": ("Static", "ks_roa4", "up", "2026-11-23 23:01:48", "", None),
        "ks_roa6_static": ("Static", "ks_roa6", "up", "2026-11-23 23:01:48", "", None),
        "as64501_10_99_0_2": ("BGP", "---", "start", "2026-11-23 23:01:49",
                              "Idle          Automatic shutdown: Route limit exceeded", "Idle"),
        "as64501_fd00_99__2": ("BGP", "---", "up", "2026-11-23 23:01:49", "Established", "Established"),
        "as64502_10_99_0_3": ("BGP", "---", "up", "2026-11-23 23:01:49", "Established", "Established"),
        "as64502_fd00_99__3": ("BGP", "---", "up", "2026-11-23 23:01:49", "Established", "Established"),
    },
    # default timeformat (no `timeformat protocol iso long`), and a name long enough to shift the columns
    "show_protocols_default_timeformat.txt": {
        "device1": ("Device", "---", "up", "23:02:05.850", "", None),
        "s4": ("Static", "master4", "up", "23:02:05.850", "", None),
        "a_very_long_protocol_name_that_shifts_columns": ("BGP", "---", "start", "23:02:05.850", "Idle", "Idle"),
    },
    "show_protocols_all_limit.txt": {
        "as64501_10_99_0_2": ("BGP", "---", "start", "2026-11-23 23:01:49",
                              "Idle          Automatic shutdown: Route limit exceeded", "Idle"),
    },
}


@pytest.mark.parametrize("name", sorted(SHOW_PROTOCOLS))
def test_show_protocols(name: str) -> None:
    got = parse.parse_show_protocols(fixture(name))
    assert list(got) == list(SHOW_PROTOCOLS[name])  # in BIRD's order
    for proto_name, (proto, table, state, since, info, bgp) in SHOW_PROTOCOLS[name].items():
        p = got[proto_name]
        assert (p.proto, p.table, p.state, p.since, p.info, p.bgp_state) == (proto, table, state, since, info, bgp)
        assert p.established == (bgp == "Established" and state == "up")
        shutdown = "shutdown" in info
        assert p.summary == ("Established" if p.established else f"{state} ({info.split(None, 1)[1]})" if shutdown else state)


def test_show_protocols_of_an_unreachable_daemon_is_empty() -> None:
    assert parse.parse_show_protocols(fixture("birdc_unreachable.txt")) == {}


# --- configure ---------------------------------------------------------------------------------

CONFIGURE = {
    # fixture: (ok, config_file, undo_scheduled, messages, errors)
    "configure_check_ok.txt": (True, "/srv/lab/rs/bird.conf", None, ("Configuration OK",), ()),
    "configure_timeout.txt": (True, "/srv/lab/rs/bird.conf", 10, ("Reconfigured",), ()),
    "configure_plain.txt": (True, "/srv/lab/rs/bird.conf", None, ("Reconfigured",), ()),
    "configure_confirm.txt": (True, None, None, ("Reconfiguration confirmed",), ()),
    "configure_confirm_nothing.txt": (False, None, None, ("Nothing to do",), ()),
    "configure_undo.txt": (True, None, None, ("Undo requested", "Reconfigured"), ()),
    "configure_check_error.txt": (False, "/srv/lab/rs/bird.conf", None,
                                  ("/srv/lab/rs/peers.d/as64501.conf:5:1 syntax error, unexpected PROTOCOL",),
                                  (("/srv/lab/rs/peers.d/as64501.conf", 5, 1, "syntax error, unexpected PROTOCOL"),)),
    "configure_timeout_error.txt": (False, "/srv/lab/rs/bird.conf", None,
                                    ("/srv/lab/rs/peers.d/as64501.conf:5:1 syntax error, unexpected PROTOCOL",),
                                    (("/srv/lab/rs/peers.d/as64501.conf", 5, 1, "syntax error, unexpected PROTOCOL"),)),
}


@pytest.mark.parametrize("name", sorted(CONFIGURE))
def test_configure_replies(name: str) -> None:
    ok, config_file, undo, messages, errors = CONFIGURE[name]
    r = parse.parse_configure(fixture(name))
    assert (r.ok, r.config_file, r.undo_scheduled, r.messages) == (ok, config_file, undo, messages)
    assert [(e.file, e.line, e.column, e.message) for e in r.errors] == list(errors)


@pytest.mark.parametrize("text", [
    "BIRD 2.0.12 ready.\nReading configuration from /etc/bird/bird.conf\nReconfiguration in progress\n",
    "BIRD 2.0.12 ready.\nReading configuration from /etc/bird/bird.conf\nUndo scheduled in 30 s\n"
    "Reconfiguration already in progress, queueing new config\n",
])
def test_reconfiguration_in_progress_is_success(text: str) -> None:
    assert parse.parse_configure(text).ok


def test_reconfiguration_ignored_while_shutting_down_is_failure() -> None:
    assert not parse.parse_configure("BIRD 2.0.12 ready.\nReconfiguration ignored, shutting down\n").ok


def test_configure_status() -> None:
    assert parse.parse_configure_status(fixture("configure_status_pending.txt")) == pytest.approx(9.998)
    assert parse.parse_configure_status(fixture("configure_status_idle.txt")) is None


def test_show_status() -> None:
    s = parse.parse_show_status(fixture("show_status.txt"))
    assert s == parse.Status("2.0.12", "10.99.0.1", "2026-11-23 23:01:48.627", "2026-11-23 23:01:48.627", True)


# --- bird -p -----------------------------------------------------------------------------------

BIRD_P = {
    "bird_p_syntax_error.txt": [("/srv/lab/rs/peers.d/as64400.conf", 2, 32, "syntax error, unexpected CF_SYM_UNDEFINED")],
    # an unclosed `{` in as64400.conf is reported in the NEXT file (here as64501.conf), ...
    "bird_p_unclosed_next_file.txt": [("/srv/lab/rs/peers.d/as64501.conf", 5, 1, "syntax error, unexpected PROTOCOL")],
    # ... or, in the last file, at the main config's line 1, column 0
    "bird_p_unclosed_last_file.txt": [("/srv/lab/rs/bird.conf", 1, 0, "syntax error, unexpected END")],
    "bird_p_unreadable.txt": [("/srv/lab/rs/bird.conf", 111, 10,
                               "Unable to open included file /srv/lab/rs/peers.d/as64400.conf: Permission denied")],
}


@pytest.mark.parametrize("name", sorted(BIRD_P))
def test_bird_p_errors(name: str) -> None:
    got = parse.parse_bird_errors(fixture(name))
    assert [(e.file, e.line, e.column, e.message) for e in got] == BIRD_P[name]
    assert str(got[0]).startswith(f"{BIRD_P[name][0][0]}:{BIRD_P[name][0][1]}:")


def test_bird_p_error_without_location() -> None:
    got = parse.parse_bird_errors("bird: Unable to open configuration file /x/bird.conf: No such file or directory\n")
    assert [(e.file, e.message) for e in got] == [(None, "Unable to open configuration file /x/bird.conf: No such file or directory")]
    assert parse.parse_bird_errors("") == []


# --- our files ------------------------------------------------------------------------------------

def test_neighbor_grep() -> None:
    out = ("/etc/bird/peers.d/as1.conf:  neighbor 10.99.0.2 as 64501;\n"
           "/etc/bird/peers.d/as1.conf:  neighbor FD00:99:0::2 as 64501;\n"
           "/etc/bird/peers.d/hand.conf:\tneighbor 10.99.0.9 port 1179 as 65000;\n"
           "/etc/bird/peers.d/x.conf:# neighbor 10.0.0.1 as 1;\n"
           "/etc/bird/peers.d/y.conf:  neighbor range 10.0.0.0/24 external;\n")
    assert parse.parse_neighbor_grep(out) == {
        "/etc/bird/peers.d/as1.conf": ["10.99.0.2", "fd00:99::2"],
        "/etc/bird/peers.d/hand.conf": ["10.99.0.9"],
    }


def test_declared_protocols_skip_templates_and_comments() -> None:
    text = ("template bgp t1 {\n}\n# protocol bgp commented {\nprotocol device ks_device {\n}\n"
            "  protocol bgp as1_10_0_0_1 from t1 {\n}\nprotocol static s4 { ipv4; }\n")
    assert parse.declared_protocols(text) == ["ks_device", "as1_10_0_0_1", "s4"]
    assert parse.declared_protocol_types(text) == {"ks_device": "device", "as1_10_0_0_1": "bgp", "s4": "static"}


def test_session_summary_does_not_flap_while_a_peer_is_away() -> None:
    def proto(state: str, info: str) -> parse.Protocol:
        return parse.Protocol("as64501_10_99_0_2", "BGP", "---", state, "2026-11-23 23:01:48", info)

    trying = {proto("start", info).summary for info in ("Active", "Connect", "Idle", "OpenSent        Socket: x")}
    assert trying == {"start"}
    assert proto("up", "Established").summary == "Established"
    assert proto("start", "Idle          Automatic shutdown: Route limit exceeded").summary == \
        "start (Automatic shutdown: Route limit exceeded)"
