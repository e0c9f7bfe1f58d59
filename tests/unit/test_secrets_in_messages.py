"""Secrets never in messages: every error path that can carry a command line or an API body is driven
with a known secret in flight, and the secret must appear in no message, no log line, no captured
output and no returned state.

The real systems here are the local shell, the OpenSSH client and bird2 (installed by
``scripts/setup.sh``): a missing one fails these tests, it never skips them.

* transport: a command whose stdin carries a password hash (as ``chpasswd -e`` does) fails and its
  stderr and stdout echo the hash back; a host that cannot be reached over SSH (the real ssh client)
  while a secret command waits; a connection cut mid-batch with the secret in ssh's own stderr;
  the per-round-trip log;
* ZeroTier: the member provider against the controller double with the token refused (401), a
  network it may not manage (403), an unknown network (404), an API down after every retry (503),
  an answer that echoes the token, an unreachable endpoint — and the state of a successful create;
* BIRD: the real ``bird -p`` failing on a peer file that holds a BGP MD5 password, through the same
  parse and message the safe apply builds.
"""
from __future__ import annotations

import json
import logging
import pickle
import subprocess

import pytest

from providers.host import Command, CommandError, HostError, HostTarget, TransportError
from providers.transport import LocalTransport, SshTransport
from providers.transport.ssh import _BatchFailed
from providers.zerotier import member as zt_member
from providers.zerotier.model import ZeroTierError
from tests.harness.zerotier_controller import (
    DEFAULT_NETWORK,
    FakeZeroTierController,
    _Answer,
    controller_factory,  # noqa: F401  (fixture)
)

HASH = "$6$s4lt$" + "Q" * 86  # a sha512-crypt hash: what chpasswd -e reads on stdin
TOKEN = "zt-T0KEN-never-shown-9f8e7d"


def no_secret(secret: str, *texts: object) -> None:
    for text in texts:
        assert secret not in str(text), f"secret leaked in: {text!r}"


# --- transport ---------------------------------------------------------------------------------

def test_a_failing_command_never_shows_its_secret(tmp_path, monkeypatch, caplog, capfd):
    log = tmp_path / "round-trips.jsonl"
    monkeypatch.setenv("KEYSTONE_TRANSPORT_LOG", str(log))
    caplog.set_level(logging.DEBUG)
    t = LocalTransport(HostTarget(name="ws1", address="local"))
    # reads the hash on stdin (never in argv) and echoes it on stderr and stdout, then fails
    cmd = Command.of("sh", "-c", 'read -r line; echo "chpasswd: bad line $line" >&2; echo "$line"; exit 3',
                     stdin=f"alice:{HASH}\n", secrets=[HASH])
    with pytest.raises(CommandError) as e:
        t.run_batch([cmd])
    err = e.value
    assert "host ws1" in str(err) and "exited 3" in str(err) and "chpasswd: bad line alice:********" in str(err)
    no_secret(HASH, str(err), repr(err), err.stderr, err.stdout, err.command.display(), caplog.text, *capfd.readouterr())
    no_secret(HASH, log.read_text() if log.exists() else "")


def test_an_unreachable_host_never_shows_the_secret_in_flight(caplog, capfd):
    caplog.set_level(logging.DEBUG)
    t = SshTransport(HostTarget(name="ws9", address="127.0.0.1", port=9, connect_timeout=2))  # discard: closed
    cmd = Command.of("chpasswd", "-e", stdin=f"alice:{HASH}\n", secrets=[HASH])
    with pytest.raises(TransportError) as e:
        t.run_batch([cmd])
    assert "host ws9" in str(e.value) and "127.0.0.1:9" in str(e.value)
    no_secret(HASH, str(e.value), repr(e.value), caplog.text, *capfd.readouterr())
    t.close()


def test_a_cut_connection_never_shows_the_secret_ssh_printed():
    """ssh's own stderr (a ProxyCommand, a banner, a debug line) may repeat what it was sent: masked."""
    t = SshTransport(HostTarget(name="ws1", address="ws1.example.org"))
    secret_cmd = Command.of("sh", "-c", f"echo {HASH} | chpasswd -e", secrets=[HASH])
    for cut in (True, False):
        err = t._transport_error([secret_cmd, Command.of("true")], _BatchFailed(cut, 255, f"debug: sent {HASH}"),
                                 [HASH])
        assert isinstance(err, HostError) and "host ws1" in str(err)
        no_secret(HASH, str(err))


# --- ZeroTier: the member provider against the controller double ---------------------------------

def _inputs(ctl: FakeZeroTierController, network: str = DEFAULT_NETWORK) -> dict:
    return {"network_id": network, "member_id": "a1b2c3d4e5", "authorized": True, "ip_assignments": ["10.99.0.2"],
            "name": "AS64501", "asn": 64501, "peer_state": "active", "delete_on_remove": False,
            "api_mode": ctl.mode, "api_url": ctl.url}


@pytest.fixture
def configured(monkeypatch):
    """The provider process as Pulumi configures it: the token from keystone:zerotierToken, few retries."""
    monkeypatch.delenv(zt_member.TOKEN_ENV, raising=False)

    def configure(token: str) -> None:
        zt_member.configure_settings({zt_member.TOKEN_CONFIG_KEY: token, zt_member.RETRIES_CONFIG_KEY: "1",
                                      zt_member.TIMEOUT_CONFIG_KEY: "2"}.get)
    yield configure
    zt_member.configure_settings({}.get)


@pytest.mark.parametrize("mode", ["self_hosted", "central"])
@pytest.mark.parametrize("fault", ["401", "403", "404", "503", "echo", "unreachable"])
def test_zerotier_errors_never_show_the_token(controller_factory, configured, mode, fault, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    ctl = controller_factory(mode, token=TOKEN)
    provider = zt_member.ZeroTierMemberProvider()
    inputs = _inputs(ctl)
    configured(TOKEN)
    if fault == "401":
        configured(TOKEN + "-stale")  # a refused token: neither it nor the right one may show
    elif fault == "403":
        ctl.forbid(DEFAULT_NETWORK)
    elif fault == "404":
        inputs = _inputs(ctl, "8056c2e21c0000ff")
    elif fault == "503":
        ctl.fail_next(10, 503)
    elif fault == "echo":  # a controller that quotes the request's credentials back in an error body
        def echoing(method, path, headers, raw):
            sent = headers.get("X-ZT1-Auth") or headers.get("Authorization")
            raise _Answer(500, {"error": 500, "description": f"credentials {sent} refused"})
        ctl.handle = echoing
    elif fault == "unreachable":
        inputs = {**inputs, "api_url": "http://127.0.0.1:9"}
    with pytest.raises(ZeroTierError) as e:
        provider.create(provider.check({}, inputs).inputs)
    message = str(e.value)
    assert "ZeroTier" in message and inputs["network_id"] in message, message  # still says what failed
    no_secret(TOKEN, message, repr(e.value), caplog.text, *capfd.readouterr())


@pytest.mark.parametrize("mode", ["self_hosted", "central"])
def test_zerotier_state_never_holds_the_token(controller_factory, configured, mode):
    ctl = controller_factory(mode, token=TOKEN)
    configured(TOKEN)
    provider = zt_member.ZeroTierMemberProvider()
    created = provider.create(provider.check({}, _inputs(ctl)).inputs)
    read = provider.read(created.id, created.outs)
    no_secret(TOKEN, created.id, json.dumps(created.outs), json.dumps(read.outs), pickle.dumps(provider))


# --- BIRD: a real `bird -p` failure on a file that holds an MD5 password -------------------------

def test_a_bird_parse_error_never_shows_the_bgp_password(tmp_path):
    from providers.bird import parse, plan
    from providers.host import Result
    from tests.harness import bird_samples

    secret = "S3cret-md5-" + TOKEN
    candidate = (f'router id 10.0.0.1;\nprotocol device {{}}\nprotocol bgp p1 {{\n  local as 64511;\n'
                 f'  neighbor 10.99.0.2 as 64501;\n  password "{secret}" oops;\n  ipv4 {{ import all; }};\n}}\n')
    path = tmp_path / "as64501.conf"
    path.write_text(candidate)
    cmd = Command.of("bird", "-p", "-c", str(path))
    p = subprocess.run(list(cmd.argv), capture_output=True, text=True)
    assert p.returncode != 0 and "syntax error" in p.stderr  # the real parser refused it
    change = plan.Change(kind="peer", rs=bird_samples.RS, resource="bird:PeerFile rs1/64501",
                         live="/etc/bird/peers.d/as64501.conf", content=candidate,
                         marker=("bird:PeerFile", "rs1/64501"))
    outcome = plan.Outcome(reached=plan.Step.CHECK_ALONE, failed=plan.Step.CHECK_ALONE,
                           failure=Result(cmd, p.returncode, p.stdout, p.stderr))
    message = plan.failure_message(change, outcome)
    assert "does not parse" in message and ":6:" in message, message
    no_secret(secret, message, parse.parse_bird_errors(p.stderr), parse.parse_configure(p.stderr).text)
