"""Network faults against the real guest: a connection cut mid-operation, an unreachable host."""
from __future__ import annotations

import socket
import tempfile
import threading
import time

import pytest

from providers.accounts.account import OsAccountProvider
from providers.host import HostTarget
from tests.harness.provider_host import DynamicProviderHost, ProviderError
from tests.harness.tcp_proxy import CuttableProxy
from tests.harness.wait import wait_for

pytestmark = pytest.mark.guest

#: useradd held until the test kills it: the cut lands between groupadd and useradd however slow the
#: machine is (a fixed sleep lost that race once under load), and the cut run gets no further than
#: groupadd whenever the guest's sshd notices the cut (releasing it instead let a batch whose sshd had
#: not noticed yet write the keys, in one CI run).
HELD_USERADD = "#!/bin/sh\nwhile :; do sleep 0.2; done\n"


KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3m8kq0sZ0pF5XG2W7h9cV1q4tYbZl6r8uQ2n1mP0aX nia@x"


def account(target: HostTarget, user: str, uid: int) -> dict:
    return {"host": target.model_dump(), "username": user, "uid": uid, "home": f"/home/{user}", "groups": ["users"],
            "ssh_keys": [KEY]}


def test_connection_cut_mid_operation_then_the_next_run_converges(guest, guest_target, tmp_path, monkeypatch):
    # useradd is held, so the cut lands between groupadd and useradd
    guest.ssh("cat > /usr/local/sbin/useradd && chmod 755 /usr/local/sbin/useradd", input=HELD_USERADD)
    proxy = CuttableProxy(guest.port)
    cut_target = HostTarget(**{**guest_target.model_dump(), "name": "guest", "port": proxy.port})
    ctl = tempfile.mkdtemp(prefix="ks-", dir="/tmp")  # short: a ControlPath must fit a unix socket name
    env = {"KEYSTONE_SSH_CONTROL_DIR": ctl}  # its own ControlMaster, through the proxy
    try:
        with DynamicProviderHost(env=env) as host:
            r = host.resource(OsAccountProvider())
            inputs, _ = r.check(account(cut_target, "nia", 24001))
            errors: list[Exception] = []

            def create():
                try:
                    r.create(inputs)
                except ProviderError as e:
                    errors.append(e)

            worker = threading.Thread(target=create)
            worker.start()
            deadline = time.monotonic() + 60
            while "nia" not in guest.ssh("getent group nia", check=False).stdout:
                assert not errors, f"the create failed before the cut: {errors[0]}"
                assert time.monotonic() < deadline, "groupadd never ran"
                time.sleep(0.3)
            proxy.cut()
            worker.join(60)
            # the held useradd fails (killed): the cut run stops there, whatever its sshd noticed
            wait_for("the held useradd to be gone", lambda: guest.ssh(
                "pkill -x useradd; pgrep -x useradd", check=False).returncode == 1, timeout=30, interval=0.5)
            assert errors, "the create should fail when its connection is cut"
            message = errors[0].details
            assert "host guest" in message and "SSH connection failed or was cut" in message
        # half-done on the host: the group exists, the user does not (its useradd never completed)
        assert "nia" in guest.ssh("getent group nia").stdout
        assert guest.ssh("getent passwd nia", check=False).returncode != 0
        assert guest.ssh("test -e /home/nia/.ssh/authorized_keys", check=False).returncode != 0
    finally:
        proxy.close()
        guest.ssh("rm -f /usr/local/sbin/useradd")

    with DynamicProviderHost() as host:  # the next `pulumi up`, over a healthy connection
        r = host.resource(OsAccountProvider())
        inputs, _ = r.check(account(guest_target, "nia", 24001))
        id_, outs = r.create(inputs)
        assert id_ == "guest/nia"
        assert guest.ssh("getent passwd nia").stdout.startswith("nia:x:24001:24001:")
        assert guest.ssh("cat /home/nia/.ssh/authorized_keys").stdout.strip() == KEY
        assert r.diff(id_, outs, inputs).changes is False


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_host_fails_fast_with_the_host_named(provider_host, guest_target):
    target = HostTarget(name="ws9", address="127.0.0.1", port=closed_port(), user="root", connect_timeout=5,
                        identity_file=guest_target.identity_file, known_hosts_file=guest_target.known_hosts_file,
                        host_key_alias=guest_target.host_key_alias)
    r = provider_host.resource(OsAccountProvider())
    inputs, _ = r.check(account(target, "omar", 24002))
    started = time.monotonic()
    with pytest.raises(ProviderError) as e:
        r.create(inputs)
    assert time.monotonic() - started < 30  # a bound against hanging, not a benchmark
    assert "host ws9: cannot connect over SSH to 127.0.0.1:" in e.value.details
    assert "Connection refused" in e.value.details
