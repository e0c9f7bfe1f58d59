"""Peering faults: the whole program's peering graph applied through the real gRPC provider host.

* netns (two route servers in network namespaces, see ``peering_lab.py``): one route server's
  daemon is down during ``up`` → the other route server and ZeroTier are applied, the down one's
  files fail naming it, and the next ``up`` applies exactly what failed, then nothing.
* guest (bird2 on the QEMU guest, over SSH through a loopback proxy the test can cut): the
  connection dies after ``configure timeout`` and before ``configure confirm`` → the apply fails
  saying what BIRD will do, the next file of that route server fails at once without a new connect
  timeout, BIRD undoes the change by itself, and the next run converges.
"""
from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator

import pytest

from providers.bird import apply, parse
from providers.bird.peer_file import BirdPeerFileProvider
from providers.host import HostTarget
from providers.transport import reset_transports
from tests.harness import peering_sample as ps
from tests.harness.peering_lab import Engine, PeeringLab, peering_lab, plan
from tests.harness.provider_host import DynamicProviderHost
from tests.harness.tcp_proxy import CuttableProxy
from tests.harness.wait import wait_for
from tests.harness.zerotier_controller import DEFAULT_TOKEN, FakeZeroTierController


@pytest.fixture(scope="module")
def plab() -> Iterator[PeeringLab]:
    with peering_lab(2) as lab:
        yield lab


@pytest.fixture(scope="module")
def controller() -> Iterator[FakeZeroTierController]:
    with FakeZeroTierController("self_hosted").start() as ctl:
        yield ctl


@pytest.fixture(scope="module")
def host() -> Iterator[DynamicProviderHost]:
    with DynamicProviderHost(config={"keystone:zerotierToken": DEFAULT_TOKEN}) as h:
        yield h


def protocols(lab: PeeringLab, rs: str) -> dict[str, parse.Protocol]:
    return lab[rs].bird.protocols()


@pytest.mark.netns
def test_one_route_server_down_the_other_is_applied_and_the_next_run_converges(plab, controller, host):
    lab = plab
    value = ps.peering([s.settings() for s in lab.servers], url=controller.url)
    engine = Engine(host)
    first = engine.up(plan(ps.inputs(3, peering_value=value)))
    assert first.errors == {} and len(first.named("create")) == 2 + 3 + 6
    for rs in ("rs1", "rs2"):
        assert ps.sessions(210001, 0) | ps.sessions(210003, 2) <= set(protocols(lab, rs))

    # rs2's daemon goes down; the roster adds AS210004 and lowers AS210001's IPv4 limit
    lab["rs2"].bird.stop()
    try:
        changed = plan(ps.inputs(4, peering_value=value, changes={0: {"max_prefixes": "{ipv4: 10, ipv6: 50}"}}))
        second = engine.up(changed)
        assert set(second.errors) == {"as210001-bird-rs2", "as210004-bird-rs2"}, second.errors
        for name, message in second.errors.items():
            asn = name[2:8]
            assert f"bird:PeerFile rs2/{asn} (route server rs2, host rs2, file {lab['rs2'].peers_dir}/as{asn}.conf)" \
                in message
            assert f"cannot talk to BIRD on {lab['rs2'].bird.socket}" in message and "is the daemon running" in message
        assert second.named("create") == {"as210004-zt", "as210004-bird-rs1"}
        assert second.named("update") == {"as210001-bird-rs1"}
        assert second.skipped == set()
        assert ps.sessions(210004, 3) <= set(protocols(lab, "rs1"))
        assert "import limit 10 action restart;" in (lab["rs1"].peers_dir / "as210001.conf").read_text()
        assert controller.member(ps.NETWORK_ID, ps.member_id(3))["authorized"] is True
        assert not (lab["rs2"].peers_dir / "as210004.conf").exists()  # nothing half-done on the down one
        assert "import limit 100 action" in (lab["rs2"].peers_dir / "as210001.conf").read_text()
    finally:
        lab["rs2"].bird.start(user="bird")

    third = engine.up(changed)
    assert third.errors == {} and third.changed == {"as210001-bird-rs2", "as210004-bird-rs2"}
    assert third.ops["as210004-bird-rs2"] == "create" and third.ops["as210001-bird-rs2"] == "update"
    assert ps.sessions(210004, 3) <= set(protocols(lab, "rs2"))
    assert "import limit 10 action restart;" in (lab["rs2"].peers_dir / "as210001.conf").read_text()
    assert engine.up(changed).changed == set()  # converged
    assert engine.refresh().changed == set()


# --- the SSH connection cut between `configure timeout` and `configure confirm` ------------------------

class CutBeforeConfirm:
    """Wraps the route server's real SSH transport: the batch holding ``configure confirm`` finds the
    route server unreachable (the proxy goes down just before it is sent)."""

    def __init__(self, transport, proxy: CuttableProxy):
        self.transport, self.proxy, self.cuts = transport, proxy, 0

    def run_batch(self, commands, stop_on_error: bool = True):
        if any(c.argv[-2:] == ("configure", "confirm") for c in commands):
            self.proxy.down()
            self.cuts += 1
        return self.transport.run_batch(commands, stop_on_error)

    def __getattr__(self, name):
        return getattr(self.transport, name)


#: BIRD's undo timer: long enough for the checks below over a TCG guest on a loaded machine (8 s was
#: once too short), short enough that the test waits for it.
CONFIRM = 15


@pytest.mark.guest
def test_ssh_cut_between_configure_timeout_and_confirm(guest, guest_target, monkeypatch):
    from tests.harness.guest_bird import (  # the guest's route server, shared with the guest tier
        GUEST_CTL,
        guest_route_server,
        peer_inputs,
        restore_debian_bird,
        show_protocols,
    )

    control = tempfile.mkdtemp(prefix="ks-ssh-")  # a master of its own, via the proxy (short: a socket path)
    monkeypatch.setenv("KEYSTONE_SSH_CONTROL_DIR", control)
    proxy = CuttableProxy(guest.port)
    via_proxy = HostTarget(**{**guest_target.model_dump(), "port": proxy.port})
    rs = guest_route_server(via_proxy, confirm_timeout=CONFIRM)
    provider = BirdPeerFileProvider()
    try:
        with DynamicProviderHost() as grpc:  # the base config and a first peer, the normal way
            from providers.bird.server_config import BirdServerConfigProvider
            server = grpc.resource(BirdServerConfigProvider(), "urn:pulumi:guest::keystone::bird:ServerConfig::bird-rsg")
            server.up({"route_server": rs, "rpki": {"static_roas": ps.STATIC_ROAS_SNAKE}, "take_over_existing": True})
            grpc.resource(provider, "urn:pulumi:guest::keystone::bird:PeerFile::as210001-bird-rsg").up(peer_inputs(rs, 0))
        before = show_protocols(guest)
        assert ps.sessions(210001, 0) <= set(before)

        real = apply.for_host
        cutter = CutBeforeConfirm(real(HostTarget.model_validate(rs["target"])), proxy)
        monkeypatch.setattr(apply, "for_host", lambda target: cutter)
        inputs = provider.check({}, peer_inputs(rs, 1)).inputs
        with pytest.raises(apply.ApplyError) as e:
            provider.create(inputs)
        message = str(e.value)
        assert cutter.cuts == 1
        assert "bird:PeerFile rsg/210002 (route server rsg, host guest" in message
        assert f"the connection was cut after `configure timeout {CONFIRM}`, before `configure confirm` got through" in message
        assert f"BIRD goes back to the previous config by itself within {CONFIRM} s" in message
        assert "Run the update again once the host is reachable" in message

        # the daemon runs the unconfirmed config; the undo timer is pending (seen over a direct connection)
        status = guest.ssh(f"birdc -s {GUEST_CTL} configure status").stdout
        assert parse.parse_configure_status(status) is not None, status
        assert ps.sessions(210002, 1) <= set(show_protocols(guest))

        # the next file of that route server fails at once, without waiting for a connect timeout
        t0 = time.monotonic()
        with pytest.raises(apply.Unreachable, match="not attempted: route server rsg could not be reached"):
            provider.create(provider.check({}, peer_inputs(rs, 2)).inputs)
        assert time.monotonic() - t0 < 3  # the connect timeout is 10 s

        # BIRD undoes the change by itself; the file stays on disk (BIRD reverts the daemon only)
        wait_for("BIRD to undo the unconfirmed change", lambda: not ps.sessions(210002, 1) & set(show_protocols(guest))
                 and parse.parse_configure_status(guest.ssh(f"birdc -s {GUEST_CTL} configure status").stdout) is None,
                 timeout=30, interval=1)
        assert set(show_protocols(guest)) == set(before)
        assert guest.ssh("test -f /etc/bird/peers.d/as210002.conf", check=False).returncode == 0
    finally:
        proxy.close()
        monkeypatch.undo()
        reset_transports()
        shutil.rmtree(control, ignore_errors=True)

    # the next run (a new provider process, the route server reachable again) converges
    with DynamicProviderHost() as grpc:
        direct = guest_route_server(guest_target, confirm_timeout=8)
        client = grpc.resource(BirdPeerFileProvider(), "urn:pulumi:guest::keystone::bird:PeerFile::as210002-bird-rsg")
        id_, outs = client.up(peer_inputs(direct, 1))
        assert id_ == "rsg/210002" and set(outs["sessions"]) == ps.sessions(210002, 1)
        assert ps.sessions(210002, 1) <= set(show_protocols(guest))
        assert parse.parse_configure_status(guest.ssh(f"birdc -s {GUEST_CTL} configure status").stdout) is None
        assert guest.ssh("ls -A /etc/bird/peers.d | grep keystone- || true").stdout.strip() == ""
        assert client.diff(id_, outs, client.check(peer_inputs(direct, 1))[0]).changes is False
    restore_debian_bird(guest)
