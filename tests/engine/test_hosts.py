"""Hosts leaving, and the home parent moving, under the real engine — what the README says
("Removing people and hosts, changing the home parent"):

* a host dropped from a person (`hosts: []`), then from the stack: the account is retired (locked),
  the delegation removed, the home and its files kept, nothing of it left in the state;
* `zfs.homeParent` changed after the homes were moved with `zfs rename`: the preview says *replace*
  for the homes, and `up` adopts the moved dataset — same files, account's home updated.
"""
from __future__ import annotations

import pytest

from tests.harness.engine_people import HOME, can_login, roster_text
from tests.harness.engine_stack import stack_config

pytestmark = [pytest.mark.guest, pytest.mark.engine]
DYNAMIC = "pulumi-python:dynamic/"
NEW_PARENT, NEW_MOUNT = "rpool/crypt/home2", "/home2"


def on_hosts(text: str, user: str, hosts: str) -> str:
    """Give ``user``'s entry a ``hosts:`` line."""
    return text.replace(f"  {user}:\n", f"  {user}:\n    hosts: {hosts}\n", 1)


def test_hosts_dropped_and_home_parent_moved(guest, workspace, keys):
    ws = workspace
    roster = ws.project / "rosters" / "roster.yaml"
    two = roster_text(keys).split("  cyd:")[0]  # ana and ben
    ws.write_roster(two)
    ws.write_stack("hosts", stack_config(guest, str(roster)))
    ws.init("hosts")
    ws.up("hosts")
    guest.ssh("runuser -u ben -- sh -c 'echo mine > /home/ben/keep.txt'")
    guest.ssh("runuser -u ana -- sh -c 'echo mine > /home/ana/keep.txt'")

    # ben leaves the host
    ws.write_roster(on_hosts(two, "ben", "[]"))
    changed = ws.up("hosts").changed(DYNAMIC)
    assert changed == {"ben-guest-home": "delete", "ben-guest-account": "delete",
                       "ben-guest-delegation": "delete"}, changed
    assert not can_login(guest, "ben", keys["ben"][0])
    assert "user ben" not in guest.ssh(f"zfs allow {HOME}/ben").stdout
    assert guest.ssh("cat /home/ben/keep.txt").stdout.strip() == "mine"

    # the host leaves the stack
    ws.write_stack("hosts", stack_config(guest, str(roster), hosts=[]))
    changed = ws.up("hosts").changed(DYNAMIC)
    assert set(changed) == {"ana-guest-home", "ana-guest-account", "ana-guest-delegation"}
    assert set(changed.values()) == {"delete"}
    assert guest.ssh("cat /home/ana/keep.txt").stdout.strip() == "mine"
    assert not [r for r in ws.export("hosts")["deployment"].get("resources") or []
                if r["type"].startswith(DYNAMIC)]

    # back on the host (the existing account and home are adopted), then the home parent moves
    ws.write_stack("hosts", stack_config(guest, str(roster)))
    ws.write_roster(on_hosts(two, "ben", "[]"))  # ben stays off the host
    assert ws.up("hosts").changed(DYNAMIC) == {f"ana-guest-{p}": "create" for p in ("home", "account", "delegation")}
    assert can_login(guest, "ana", keys["ana"][0])

    # Moving a home needs the person logged out: usermod refuses while they have processes (a
    # lingering `systemd --user` after an SSH login counts), and says so naming the process.
    guest.ssh("loginctl terminate-user ana 2>/dev/null; for _ in $(seq 100); do pgrep -u ana >/dev/null || exit 0; "
              "sleep 0.2; done; exit 1")
    guest.ssh(f"zfs create -o mountpoint={NEW_MOUNT} {NEW_PARENT} && zfs rename {HOME}/ana {NEW_PARENT}/ana")
    moved = stack_config(guest, str(roster), zfs={"homeParent": NEW_PARENT, "archiveParent": "rpool/crypt/archive",
                                                   "homeMountpoint": NEW_MOUNT})
    ws.write_stack("hosts", moved)
    preview = ws.preview("hosts").changed(DYNAMIC)
    assert preview["ana-guest-home"] == "replace" and preview["ana-guest-account"] == "update", preview
    ws.up("hosts")
    assert guest.ssh("getent passwd ana").stdout.split(":")[5] == f"{NEW_MOUNT}/ana"
    assert guest.ssh(f"cat {NEW_MOUNT}/ana/keep.txt").stdout.strip() == "mine"
    assert can_login(guest, "ana", keys["ana"][0])
    assert "user ana destroy" in guest.ssh(f"zfs allow {NEW_PARENT}/ana").stdout
    assert ws.preview("hosts").changed() == {}
