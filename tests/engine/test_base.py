"""The whole host base through `pulumi up` on the real guest: the preview lists what will change
(packages, files, budgets, the backup timer), up applies it, a second preview changes nothing; drift
made by hand (a file edited, a budget loosened, a package purged) is reported by refresh and
corrected by up; homes without a recent snapshot are a warning in the preview until the backup ran; a
no-op refresh reads the host once, base and all."""
from __future__ import annotations

import json
import textwrap

import pytest

from tests.harness import apt_repo
from tests.harness.engine_stack import stack_config

pytestmark = [pytest.mark.guest, pytest.mark.engine]
DYNAMIC = "pulumi-python:dynamic/"


def base() -> dict:
    return {
        "packages": ["keystone-test-a"],
        "fileDirs": ["/etc/profile.d", "/etc/skel"],
        "files": [{"path": "/etc/profile.d/keystone.sh", "source": "workstation/base/profile.sh"},
                  {"path": "/etc/skel/.keystone", "template": "stack={{ stack }} host={{ host }}\n"}],
        "budgets": {"default": {"memoryMax": "512M", "cpuWeight": 100, "tasksMax": 512},
                    "tiers": {"admin": {"memoryMax": "1G"}}, "maxActivePeople": 5},
        "backups": {"schedule": "daily", "keep": 3, "backupParent": "rpool/crypt/backup", "maxAgeHours": 1},
    }


def roster(keys) -> str:
    return textwrap.dedent(f"""\
        people:
          ana:
            name: Ana Base
            uid: 23201
            tier: admin
            ssh_keys: ["{keys['ana'][1]}"]
            zfs: {{quota: 1G}}
          ben:
            name: Ben Base
            uid: 23202
            tier: power-user
            ssh_keys: ["{keys['ben'][1]}"]
            zfs: {{quota: 1G}}
            budget: {{memory_max: 256M}}
        """)


def warnings(outcome) -> list[str]:
    return [e["diagnosticEvent"]["message"] for e in outcome.events
            if (e.get("diagnosticEvent") or {}).get("severity") == "warning"]


def test_the_host_base_through_the_real_engine(guest, workspace, keys, tmp_path):
    ws, stack = workspace, "base"
    apt_repo.publish(guest, tmp_path / "apt", ["keystone-test-a"])
    ws.write_roster(roster(keys))
    ws.write_stack(stack, stack_config(guest, str(ws.project / "rosters" / "roster.yaml"), base=base()))
    ws.init(stack)

    # the preview lists every part of the base it will create
    planned = ws.preview(stack).changed(DYNAMIC)
    assert {n: op for n, op in planned.items() if "base" in n or "budget" in n or "backup" in n} == {
        "guest-base": "create", "guest-base-etc-profile-d-keystone-sh": "create",
        "guest-base-etc-skel--keystone": "create", "guest-backup-script": "create", "guest-backup-service": "create",
        "guest-backup-timer": "create", "ana-guest-budget": "create", "ben-guest-budget": "create"}, planned

    ws.up(stack)
    assert guest.ssh("dpkg-query -W -f '${db:Status-Abbrev}' keystone-test-a").stdout.strip() == "ii"
    assert guest.ssh("cat /etc/skel/.keystone").stdout == "stack=base host=guest\n"
    assert "MemoryMax=1G" in guest.ssh("cat /etc/systemd/system/user-23201.slice.d/keystone.conf").stdout
    assert "MemoryMax=256M" in guest.ssh("cat /etc/systemd/system/user-23202.slice.d/keystone.conf").stdout
    assert guest.ssh("systemctl is-enabled keystone-backup.timer").stdout.strip() == "enabled"

    # nothing left to do; nobody has a snapshot yet: the preview warns
    quiet = ws.preview(stack)
    assert quiet.changed(DYNAMIC) == {}
    assert any("no snapshot newer than 1 h of the home of ana, ben" in w for w in warnings(quiet)), warnings(quiet)

    # a no-op refresh reads the guest in one round trip, the base included (without the base it is one
    # too: the accounts, datasets and delegations share one gather): the transport's log, every process
    log = tmp_path / "round-trips.jsonl"
    ws.environ["KEYSTONE_TRANSPORT_LOG"] = str(log)
    try:
        ws.refresh(stack)
    finally:
        ws.environ.pop("KEYSTONE_TRANSPORT_LOG")
    trips = [json.loads(line) for line in log.read_text().splitlines()]
    assert [t["host"] for t in trips] == ["guest"], trips

    # drift by hand: a file edited, a budget loosened, the package purged
    guest.ssh("echo 'umask 000' >> /etc/profile.d/keystone.sh && "
              "sed -i s/MemoryMax=256M/MemoryMax=infinity/ /etc/systemd/system/user-23202.slice.d/keystone.conf && "
              "dpkg --purge keystone-test-a >/dev/null")
    guest.ssh("systemctl start keystone-backup.service", timeout=300)
    drift = ws.refresh(stack).drift()
    assert {n for n in drift if n in ("guest-base", "guest-base-etc-profile-d-keystone-sh", "ben-guest-budget")} == {
        "guest-base", "guest-base-etc-profile-d-keystone-sh", "ben-guest-budget"}, drift
    after = ws.preview(stack)
    assert {n: op for n, op in after.changed(DYNAMIC).items()} == {
        "guest-base": "update", "guest-base-etc-profile-d-keystone-sh": "update", "ben-guest-budget": "update"}
    assert not any("no snapshot newer" in w for w in warnings(after)), warnings(after)  # the backup ran
    # the preview lists the host's missing package as the change up makes
    base_step = next(meta for e in after.events if (meta := (e.get("resourcePreEvent") or {}).get("metadata"))
                     and meta["urn"].endswith("::guest-base"))
    assert base_step["old"]["inputs"]["packages"] == [] and base_step["new"]["inputs"]["packages"] == ["keystone-test-a"]

    ws.up(stack)
    assert "umask 000" not in guest.ssh("cat /etc/profile.d/keystone.sh").stdout
    assert guest.ssh("systemctl show -p MemoryMax --value user-23202.slice").stdout.strip() == str(256 * 2**20)
    assert guest.ssh("dpkg-query -W -f '${db:Status-Abbrev}' keystone-test-a").stdout.strip() == "ii"
    assert ws.preview(stack).changed(DYNAMIC) == {}
    assert guest.ssh("zfs list -H -o name rpool/crypt/backup/ana rpool/crypt/backup/ben").returncode == 0
