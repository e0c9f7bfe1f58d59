"""The transport: batch scripts, framing, masking, exit 255 — with local sh and a fake ssh."""
from __future__ import annotations

import os
import subprocess

import pytest

from providers.framing import parse_frames, render_batch_script
from providers.host import MASK, Command, CommandError, HostTarget, TransportError
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
