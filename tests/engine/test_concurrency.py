"""Two admins' `pulumi up` on one stack at once, from two machines (two checkouts, two ``PULUMI_HOME``s,
one backend): the second is refused by the backend's stack lock and changes nothing; once the first
has finished, the stack is free again.  On the file backend and on the team backend."""
from __future__ import annotations

import socket
import threading

import pytest

from tests.harness import postgres as pg
from tests.harness.engine import REPO
from tests.harness.engine_stack import stack_config
from tests.harness.wait import wait_for

pytestmark = pytest.mark.engine


class SilentHost:
    """A TCP port that accepts connections and never answers: an SSH host that hangs until the
    transport's connect timeout, which keeps the first `up` busy."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self.held.append(conn)

    def target_fields(self, name):
        return {"name": name, "address": "127.0.0.1", "port": self.port, "user": "root", "identity_file": None,
                "known_hosts_file": None, "host_key_alias": None}

    def close(self):
        self.sock.close()
        for c in self.held:
            c.close()


@pg.BACKENDS
def test_a_second_up_on_a_locked_stack_is_refused(workspace):
    ws = workspace
    host = SilentHost()
    try:
        roster = ws.write_roster((REPO / "roster" / "roster.yaml").read_text())
        ws.write_stack("dev", stack_config(host, str(roster), hosts=[{
            "name": "guest", "address": "127.0.0.1", "port": host.port, "user": "root", "connectTimeout": 8}]))
        ws.init("dev")
        first = ws.spawn("up", "--yes", "--skip-preview", stack="dev")
        wait_for("the first up to reach the host", lambda: host.accepted > 0, timeout=120)

        second = ws.on_another_machine("admin-b").up("dev", check=False)
        assert second.rc != 0
        assert "currently locked" in second.output, second.output[-2000:]
        assert second.steps() == []  # refused before the program ran: no step, no resource

        out, err = first.communicate(timeout=300)
        assert first.returncode != 0 and "timed out" in (out + err).lower(), (out + err)[-2000:]
        again = ws.preview("dev", check=False)
        assert "currently locked" not in again.output
    finally:
        host.close()
