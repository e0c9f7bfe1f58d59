"""Three people (ana, ben, cyd) with their own SSH keys, for the engine tier's lifecycle and crash
tests on the guest, and README's steps when a run dies."""
from __future__ import annotations

import subprocess
import textwrap

import pytest

HOME = "rpool/crypt/home"
DYNAMIC = "pulumi-python:dynamic/"


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    out = {}
    for user in ("ana", "ben", "cyd"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{user}@e2e", "-f", str(d / user)],
                       check=True)
        out[user] = (d / user, (d / f"{user}.pub").read_text().strip())
    return out


def roster_text(keys, ana_quota="1G", ana_groups="[users]", ben_state="active", cyd_state="active"):
    return textwrap.dedent(f"""\
        people:
          ana:
            name: Ana E2E
            uid: 23001
            tier: admin
            groups: {ana_groups}
            ssh_keys: ["{keys['ana'][1]}"]
            zfs: {{quota: {ana_quota}, compression: lz4, recordsize: 128K, atime: off}}
          ben:
            name: Ben E2E
            uid: 23002
            tier: power-user
            ssh_keys: ["{keys['ben'][1]}"]
            zfs: {{quota: 1G}}
            state: {ben_state}
          cyd:
            name: Cyd E2E
            uid: 23003
            tier: namespace-owner
            namespaces: [team-c]
            ssh_keys: ["{keys['cyd'][1]}"]
            zfs: {{quota: 512M}}
            state: {cyd_state}
        """)


def can_login(guest, user, key) -> bool:
    p = guest.ssh("id -un", user=user, key=key, check=False)
    return p.returncode == 0 and p.stdout.strip() == user


def created(events: list[dict]) -> list[str]:
    """URNs of the dynamic resources an `up` has created so far (from its event log)."""
    return [e["resOutputsEvent"]["metadata"]["urn"] for e in events
            if (e.get("resOutputsEvent") or {}).get("metadata", {}).get("op") == "create"
            and e["resOutputsEvent"]["metadata"]["type"].startswith(DYNAMIC)]


def recover(ws, stack: str) -> None:
    """README's "When a run dies": the dead run still holds the stack's lock, so nothing runs until
    `pulumi cancel` releases it; `refresh --clear-pending-creates` then `up` converge."""
    locked = ws.refresh(stack, check=False)
    assert locked.rc != 0 and "currently locked" in locked.output, locked.output[-2000:]
    ws.run("cancel", "--yes", stack=stack, check=True)
    ws.refresh(stack, "--clear-pending-creates")
    ws.up(stack)
    assert ws.preview(stack).changed() == {}
    assert not ws.export(stack)["deployment"].get("pending_operations")
