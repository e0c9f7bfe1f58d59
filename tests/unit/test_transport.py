"""The transport: batch scripts, framing, masking, exit 255 — with local sh and a fake ssh."""
from __future__ import annotations

import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from providers.framing import parse_frames, render_batch_script
from providers.host import MASK, Command, CommandError, HostTarget, Result, TransportError
from providers.transport import LocalTransport, SshTransport


def run_script(commands, stop_on_error=True):
    script = render_batch_script(commands, "tok123", stop_on_error, sudo=False)
    out = subprocess.run(["sh", "-s"], input=script.encode(), capture_output=True).stdout
    return parse_frames("h", commands, "tok123", out)


def test_batch_frames_carry_any_output_exactly():
    weird = "line1\n@@tok123 9 9 9 9\n\x01binary\ttab"
    cmds = [Command.of("printf", "%s", weird), Command.of("sh", "-c", "echo err >&2; exit 3", check=False),
            Command.of("cat", stdin="secret-value\n")]
    results = run_script(cmds)
    assert [r.exit_code for r in results] == [0, 3, 0]
    assert results[0].stdout == weird
    assert results[1].stderr == "err\n"
    assert results[2].stdout == "secret-value\n"


def test_batch_stops_at_the_first_checked_failure():
    cmds = [Command.of("true"), Command.of("false"), Command.of("echo", "never")]
    results = run_script(cmds)
    assert [r.exit_code for r in results] == [0, 1]


def test_secrets_travel_on_stdin_not_argv():
    script = render_batch_script([Command.of("chpasswd", "-e", stdin="u:$6$hash", secrets=["$6$hash"])], "t", True, False)
    first_line = [line for line in script.splitlines() if line.startswith("chpasswd")][0]
    assert "$6$hash" not in first_line  # only in the here-document body


def test_command_error_names_host_command_code_and_masks_secrets():
    t = LocalTransport(HostTarget(name="ws1", address="local"))
    with pytest.raises(CommandError) as e:
        t.run("sh", "-c", 'echo "bad hash $1" >&2; exit 4', "x", "s3cret", secrets=["s3cret"])
    msg = str(e.value)
    assert msg.startswith("host ws1: `sh -c") and "exited 4" in msg and "s3cret" not in msg and MASK in msg


def test_local_runs_without_a_shell():
    t = LocalTransport(HostTarget(name="l", address="local"))
    r = t.run("echo", "$(id)", ";", "rm -rf /")
    assert r.stdout == "$(id) ; rm -rf /\n"


def fake_ssh(tmp_path, body: str) -> dict:
    d = tmp_path / "bin"
    d.mkdir()
    (d / "ssh").write_text("#!/bin/sh\n" + body)
    (d / "ssh").chmod(0o755)
    return {"PATH": f"{d}{os.pathsep}{os.environ['PATH']}"}


def test_exit_255_is_a_transport_error(tmp_path, monkeypatch):
    # The fake ssh accepts the master check, then fails every session as a dropped link would.
    env = fake_ssh(tmp_path, 'case "$*" in *"-O check"*) exit 0;; esac\necho "Connection reset" >&2\nexit 255\n')
    monkeypatch.setenv("PATH", env["PATH"])
    t = SshTransport(HostTarget(name="ws2", address="ws2.example.org"))
    with pytest.raises(TransportError) as e:
        t.run("zfs", "list")
    assert "host ws2: SSH connection failed or was cut while running `zfs list`: Connection reset" in str(e.value)


def test_a_truncated_reply_is_a_transport_error(tmp_path, monkeypatch):
    env = fake_ssh(tmp_path, 'case "$*" in *"-O check"*) exit 0;; esac\nexit 0\n')
    monkeypatch.setenv("PATH", env["PATH"])
    t = SshTransport(HostTarget(name="ws3", address="ws3.example.org"))
    with pytest.raises(TransportError, match="host ws3: the command batch ended early"):
        t.run_batch([Command.of("true"), Command.of("true")])


def test_ssh_argv_uses_one_master_and_the_admins_config():
    t = SshTransport(HostTarget(name="a", address="alias", port=2222, user="ops", identity_file="~/k",
                                known_hosts_file="~/kh", sudo=True))
    argv = " ".join(t.ssh_argv())
    for opt in ("ControlMaster=auto", "ControlPersist=", "BatchMode=yes", "ConnectTimeout=10", "-p 2222",
                "-l ops", "IdentitiesOnly=yes", "StrictHostKeyChecking=yes"):
        assert opt in argv
    assert argv.endswith("-- alias")
    script = render_batch_script([Command.of("zfs", "list")], "t", True, sudo=True)
    assert "sudo -n -- zfs list" in script


class HeldSsh(SshTransport):
    """An SSH transport whose round trips are recorded and held until released (no ssh runs): what
    concurrent callers share is the merged script's groups."""

    def __init__(self, target: HostTarget):
        super().__init__(target)
        self.trips: list[list[tuple[Command, ...]]] = []
        self.release = threading.Event()

    def _execute_groups(self, groups):
        self.trips.append([g.commands for g in groups])
        self.release.wait(10)
        return [[Result(c, 0, f"out of {c.argv[-1]}", "") for c in g.commands] for g in groups]


def waited_for(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_a_read_waiting_for_the_host_shares_the_round_trip_of_the_writes_before_it():
    t = HeldSsh(HostTarget(name="ws4", address="ws4.example.org"))
    gather = Command.of("sh", "-c", "gather", check=False)
    pool = ThreadPoolExecutor(max_workers=16)
    busy = []
    for i in range(t.MAX_IN_FLIGHT):  # one by one: each its own round trip, held
        busy.append(pool.submit(t.exchange, [], [Command.of("busy", str(i), check=False)]))
        waited_for(lambda n=i + 1: len(t.trips) == n)
    write = pool.submit(t.exchange_groups, [[Command.of("write", "a")], [Command.of("write", "b")]], [gather])
    reads = [pool.submit(t.exchange, [], [gather]) for _ in range(8)]
    queued = waited_for(lambda: len(t._batches._pending) == 9)  # every caller waits for a free round trip
    t.release.set()
    assert queued, "the writes did not wait in the queue the reads wait in"
    per_group, read_back = write.result()
    assert [[r.stdout for r in g] for g in per_group] == [["out of a"], ["out of b"]]
    assert [r.result()[1][0].stdout for r in reads] == ["out of gather"] * 8
    assert read_back[0].stdout == "out of gather"
    held, merged = t.trips[:t.MAX_IN_FLIGHT], t.trips[t.MAX_IN_FLIGHT:]
    assert sorted(trip[0][0].argv for trip in held) == [("busy", str(i)) for i in range(len(busy))]
    # one round trip: the writes' groups, then the gather once — the waiting reads got its output
    assert merged == [[(Command.of("write", "a"),), (Command.of("write", "b"),), (gather,)]]
    for b in busy:
        b.result()
