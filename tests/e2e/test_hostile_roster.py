"""Every hostile roster value is rejected before any command reaches a host.

The pipeline is the real one: parse the roster, then (only if it is valid) run the program and
apply its dynamic resources through the real gRPC provider host.  Hosts are reached through a
recording ``ssh`` on the provider process's PATH, so any command that would be sent is logged.
The valid base roster is the control: it does reach the recorder.
"""
from __future__ import annotations

import os
import pathlib

import pytest

from program.stack import ProgramInputs
from roster import RosterError, parse_roster_text
from settings import settings_from_config
from tests.harness.hostile_roster import BASE, CASES, CTX, edit
from tests.harness.provider_host import DynamicProviderHost, ProviderError
from tests.harness.up import Engine

RECORDER = """#!/bin/sh
printf '%s\\n' "ssh $*" >> "$KEYSTONE_SSH_LOG"
cat >> "$KEYSTONE_SSH_LOG"
echo "recorder: no real host here" >&2
exit 255
"""


@pytest.fixture(scope="module")
def recorder(tmp_path_factory):
    d = tmp_path_factory.mktemp("recorder")
    (d / "bin").mkdir()
    ssh = d / "bin" / "ssh"
    ssh.write_text(RECORDER)
    ssh.chmod(0o755)
    log = d / "ssh.log"
    env = {"PATH": f"{d / 'bin'}{os.pathsep}{os.environ['PATH']}", "KEYSTONE_SSH_LOG": str(log),
           "KEYSTONE_SSH_CONTROL_DIR": str(d / "c")}
    with DynamicProviderHost(env=env) as host:
        yield host, log


def pipeline(host: DynamicProviderHost, text: str) -> None:
    roster = parse_roster_text(text, CTX, filename="roster.yaml")  # raises on any bad value
    settings = settings_from_config({"hosts": [{"name": "ws1", "address": "ws1.example.org"},
                                               {"name": "ws2", "address": "ws2.example.org"}]})
    Engine(host).up(ProgramInputs(stack="hostile", settings=settings, roster=roster))


def sent(log: pathlib.Path) -> str:
    return log.read_text() if log.exists() else ""


def test_the_valid_base_reaches_the_recorder(recorder):
    host, log = recorder
    log.unlink(missing_ok=True)
    with pytest.raises(ProviderError, match="host ws"):
        pipeline(host, BASE)
    assert "ssh " in sent(log)  # the recorder works: a valid roster does try the hosts


@pytest.mark.parametrize("case", CASES)
def test_hostile_value_sends_no_command(recorder, case):
    host, log = recorder
    log.unlink(missing_ok=True)
    text, line = edit(case)
    with pytest.raises(RosterError) as caught:
        pipeline(host, text)
    assert f"roster.yaml:{line}:" in str(caught.value)
    assert sent(log) == "", f"a command reached a host for {case.id}"
