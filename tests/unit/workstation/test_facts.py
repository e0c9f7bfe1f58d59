"""The workstation gather's parser, on output captured on the guest."""
from __future__ import annotations

import pathlib

from providers.workstation.facts import Listener, UnitState, parse_gather, parse_listen_line, session_from

FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "gather.txt"
"""Captured on the guest with the tests' listener in every state of
``tests/providers/test_workstation.py``'s ``UNIT_STATES`` (nobody's enabled and running, daemon's
running but never enabled, wsx1 enabled, wsx2 enabled until reboot, wsx3 masked, wsx4 an environment
file only) and nobody logged in but root over SSH."""


def test_captured_unit_states():
    f = parse_gather(FIXTURE.read_text())
    assert f.units == {"keystone-echo@nobody.service": UnitState("active", "enabled"),
                       "keystone-echo@daemon.service": UnitState("active", ""),
                       "keystone-echo@wsx1.service": UnitState("inactive", "enabled"),
                       "keystone-echo@wsx2.service": UnitState("inactive", "enabled-runtime")}
    assert [u for u, s in f.units.items() if s.running and s.is_enabled] == ["keystone-echo@nobody.service"]
    assert len(f.env_digests) == 6 and f.sessions == {} and f.sessions_error is None  # root's session: not a person's
    assert f.now == 1796686300 and f.established == {22: 1}
    assert f.listeners[20190] == [Listener(20190, 65534, "perl", 552)]
    assert [ln.uid for ln in f.listeners[22]] == [0, 0]  # root's sockets carry no uid: field


def test_a_gather_without_its_sections_fails_closed():
    f = parse_gather("@@units\nkeystone-echo@a.service loaded active running a\n")
    assert f.sessions_error == "the gather has no session list" and f.now is None
    assert f.established is None and f.established_error == "the gather has no connection list"
    assert f.units == {"keystone-echo@a.service": UnitState("active", "")}


def test_unit_lines_and_links_that_say_nothing_are_ignored():
    f = parse_gather("@@units\nkeystone-echo@a.service loaded\n\n@@enabled\n/etc/systemd/system/keystone-echo@b.service\n"
                     "/etc/systemd/system/x.wants/keystone-echo@c.service\n"
                     "/run/systemd/system/x.wants/keystone-echo@c.service\n/run/systemd/system/x.requires/keystone-echo@d.service\n")
    assert f.units == {"keystone-echo@c.service": UnitState("inactive", "enabled"),  # /etc wins over /run
                       "keystone-echo@d.service": UnitState("inactive", "enabled-runtime")}


def test_odd_lines_are_ignored():
    assert parse_listen_line("") is None and parse_listen_line("ESTAB 0 0 1.2.3.4:22 5.6.7.8:1 x") is None
    assert parse_listen_line("LISTEN 0 5 [::1]:8080 [::]:*") == Listener(8080, 0, "", 0)
    assert parse_gather("garbage\n@@sessions\n\n@@env\nshort  /x\n").sessions == {}
    assert parse_gather("@@sessions\nnot a session line\n").sessions_error == "unreadable session line 'not a session line'"
    assert parse_gather("@@now\n@@sessions-error Failed to get sessions: masked\n").sessions_error == \
        "Failed to get sessions: masked"


def test_the_workstation_read_joins_the_host_gather():
    from providers.hoststate import HostState, Scope, gather_scope, read_commands
    from providers.workstation.facts import GATHER

    account_read = gather_scope(mount_dirs=("/home",))
    joined = account_read.union(Scope(workstation=True))
    cmds = read_commands(joined)
    assert [c.argv[2] for c in cmds if c.argv[:2] == ("sh", "-c")].count(GATHER) == 1 and len(cmds) == 4  # + declared
    assert joined.covers(Scope(workstation=True), HostState()) and joined.covers(account_read, HostState())
    assert not account_read.covers(Scope(workstation=True), HostState())


def test_a_session_s_last_input():
    """logind's IdleSinceHint (µs) when it has one; else the terminal's last input; else unknown."""
    assert session_from("1", "a", {"IdleSinceHint": "1700000000123456", "TTY": "pts/0"}).last_input == 1700000000
    assert session_from("1", "a", {"IdleSinceHint": "0", "TTY": "pts/0", "TTYAtime": "1700000100"}).last_input == \
        1700000100
    assert session_from("1", "a", {"IdleSinceHint": "0", "TTY": ""}).last_input is None
    assert session_from("1", "a", {"IdleSinceHint": "soon"}).last_input is None
    assert session_from("1", "a", {"Error": "Failed to get session"}).error == "Failed to get session"


IDLE = pathlib.Path(__file__).parent / "fixtures" / "gather_idle.txt"
"""Captured on the guest: root's SSH sessions without a terminal, wsc (uid 24950) on pts/0 with its
last input set 30 minutes back (logind reports it as IdleSinceHint), a listener of wsc's on port
20150 with one connection to it."""
LOGIND_DOWN = pathlib.Path(__file__).parent / "fixtures" / "gather_logind_down.txt"
"""Captured on the guest with systemd-logind stopped and masked."""


def test_captured_sessions_clock_and_connections():
    from providers.workstation.idle import busy_reason

    f = parse_gather(IDLE.read_text())
    assert f.now == 1796608682 and f.sessions_error is None
    (wsc,) = f.sessions["wsc"]
    assert (wsc.id, wsc.tty, wsc.last_input, wsc.error) == ("9", "pts/0", 1796606878, None)
    assert [(s.tty, s.last_input) for s in f.sessions["root"]] == [("", None)] * 2  # no terminal: unknown
    assert f.established == {49664: 1, 20150: 1, 22: 3}
    assert f.listeners[20150] == [Listener(20150, 24950, "python3", 561)]
    # wsc: idle 30 minutes, but a connection to a port of theirs; root: no idle time at all
    assert busy_reason(f, "wsc", 24950, 20100, 20) == "open connection to port 20150 (1)"
    assert busy_reason(f, "wsc", 24950, 20100, 31) == "login session 9 had input 30 min ago (idle after 31 min)"
    assert busy_reason(f, "root", 0, 20101, 20) == "login session 11 (no terminal, active) reports no idle time"
    assert busy_reason(f, "nobody", 65534, 20102, 20) is None


def test_captured_gather_with_logind_down():
    from providers.workstation.idle import busy_reason

    f = parse_gather(LOGIND_DOWN.read_text())
    assert f.sessions == {} and f.sessions_error.startswith("Failed to list sessions: Unit dbus-org.freedesktop.login1")
    assert busy_reason(f, "nobody", 65534, 20102, 20).startswith("logind's sessions cannot be read (Failed to list")
