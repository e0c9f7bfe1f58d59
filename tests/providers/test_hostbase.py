"""The host base on the guest, through the real dynamic-provider gRPC host: a person's slice budget
applied to running sessions with ``daemon-reload`` (nobody logged out) and a process over its
MemoryMax killed inside its own slice while another person's keeps running; machine-wide files under
/etc/profile.d and /etc/skel written, their drift read back and corrected, and a delete that removes
only the file Keystone wrote."""
from __future__ import annotations

import subprocess
import time

import pytest

from providers.hostbase import budget
from providers.hostfile.file import ManagedFileProvider
from tests.harness.wait import wait_for

pytestmark = pytest.mark.guest
PEOPLE = {"hba": 24961, "hbb": 24962}  # no other test of the shared guest uses these uids


@pytest.fixture(scope="module")
def people(guest, tmp_path_factory):
    """Two people with an account, a home and an SSH key of their own; returns their private keys."""
    keys = {}
    for user, uid in PEOPLE.items():
        key = tmp_path_factory.mktemp(f"key-{user}") / "id"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        guest.ssh(f"getent passwd {user} >/dev/null || {{ groupadd -g {uid} {user} && "
                  f"useradd -u {uid} -g {user} -m -d /home/{user} -s /bin/bash {user}; }}; "
                  f"install -d -m 0700 -o {uid} -g {uid} /home/{user}/.ssh && "
                  f"cat > /home/{user}/.ssh/authorized_keys && chown {uid}:{uid} /home/{user}/.ssh/authorized_keys",
                  input=key.with_suffix(".pub").read_text())
        keys[user] = key
    return keys


def dropin(target, user: str, memory_max: str, tasks_max: str = "256") -> dict:
    uid = PEOPLE[user]
    return {"host": target.model_dump(), "path": budget.dropin_path(uid), "reload": "systemd",
            "content": budget.render_dropin(user, uid, memory_max, 100, tasks_max)}


def slice_value(guest, uid: int, name: str) -> str:
    return guest.ssh(f"cat /sys/fs/cgroup/user.slice/user-{uid}.slice/{name}").stdout.strip()


def oom_kills(guest, uid: int) -> int:
    events = dict(line.split() for line in slice_value(guest, uid, "memory.events").splitlines())
    return int(events["oom_kill"])


def test_budget_contains_a_person_over_their_memory_max_and_spares_the_other(guest, guest_target, provider_host,
                                                                             people):
    assert guest.ssh("swapon --noheadings --show", check=False).stdout.strip() == "", \
        "the guest has swap: MemoryMax would push the hog to swap instead of containing it"
    # hbb is logged in and working before any budget exists
    other = subprocess.Popen(guest.ssh_argv("hbb", people["hbb"]) + ["echo started; exec sleep 600"],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "started"
        wait_for("hbb's slice", lambda: guest.ssh(f"test -d /sys/fs/cgroup/user.slice/user-{PEOPLE['hbb']}.slice",
                                                  check=False).returncode == 0, 30)
        files = provider_host.resource(ManagedFileProvider())
        made = {}
        for user, limit in (("hba", "64M"), ("hbb", "512M")):
            checked, failures = files.check(dropin(guest_target, user, limit))
            assert failures == []
            made[user] = (checked, *files.create(checked))

        # applied to hbb's running slice by the daemon-reload: nobody logged out
        assert slice_value(guest, PEOPLE["hbb"], "memory.max") == str(512 * 2**20)
        assert slice_value(guest, PEOPLE["hbb"], "pids.max") == "256"
        assert guest.ssh(f"systemctl show -p MemoryMax --value user-{PEOPLE['hbb']}.slice").stdout.strip() == \
            str(512 * 2**20)
        assert other.poll() is None

        # hba's process asks for 300 MiB in a 64 MiB slice: killed inside hba's slice
        hog = guest.ssh("perl -e '$x = q(a) x (300 * 1024 * 1024); print qq(survived\\n)'", user="hba",
                        key=people["hba"], check=False, timeout=300)
        assert "survived" not in hog.stdout and hog.returncode != 0, (hog.returncode, hog.stdout, hog.stderr)
        assert oom_kills(guest, PEOPLE["hba"]) >= 1
        assert slice_value(guest, PEOPLE["hba"], "memory.max") == str(64 * 2**20)
        # hbb's work goes on, untouched
        time.sleep(1)
        assert other.poll() is None
        assert oom_kills(guest, PEOPLE["hbb"]) == 0
        assert guest.ssh("pgrep -u hbb -x sleep", check=False).returncode == 0

        # the drop-in's drift (a hand edit) is read back and corrected
        guest.ssh(f"sed -i s/MemoryMax=64M/MemoryMax=1G/ {budget.dropin_path(PEOPLE['hba'])} && systemctl daemon-reload")
        checked, id_, outs = made["hba"]
        _, read_outs, read_in = files.read(id_, outs)
        assert read_in is not None and read_in["content"].startswith("(changed on the host")
        files.update(id_, read_outs, checked)
        assert slice_value(guest, PEOPLE["hba"], "memory.max") == str(64 * 2**20)
    finally:
        other.terminate()
        other.wait(timeout=30)
        for uid in PEOPLE.values():
            guest.ssh(f"rm -rf /etc/systemd/system/user-{uid}.slice.d && systemctl daemon-reload", check=False)


def test_machine_wide_files_drift_corrected_and_only_keystones_removed(guest, guest_target, provider_host, people):
    files = provider_host.resource(ManagedFileProvider())
    guest.ssh("echo 'export ADMIN_OWN=1' > /etc/profile.d/zz-admin.sh")
    profile = {"host": guest_target.model_dump(), "path": "/etc/profile.d/keystone-base.sh", "mode": "0644",
               "content": "export KEYSTONE_BASE=guest\n"}
    skel = {"host": guest_target.model_dump(), "path": "/etc/skel/.keystone-base", "mode": "0600",
            "content": "seen by every new home\n"}
    created = {}
    for f in (profile, skel):
        checked, failures = files.check(f)
        assert failures == []
        created[f["path"]] = (checked, *files.create(checked))
    # a person's login shell reads it
    assert guest.ssh("bash -lc 'echo $KEYSTONE_BASE'", user="hba", key=people["hba"]).stdout.strip() == "guest"
    assert guest.ssh("stat -c '%U:%G %a' /etc/skel/.keystone-base").stdout.strip() == "root:root 600"

    # drift: content and mode changed by hand; refresh reports both, up corrects them
    guest.ssh("echo 'export KEYSTONE_BASE=edited' > /etc/profile.d/keystone-base.sh && "
              "chmod 0600 /etc/profile.d/keystone-base.sh")
    checked, id_, outs = created[profile["path"]]
    _, read_outs, read_in = files.read(id_, outs)
    assert read_in["content"].startswith("(changed on the host") and read_in["mode"] == "0600"
    assert files.diff(id_, read_outs, checked).changes is True
    files.update(id_, read_outs, checked)
    assert guest.ssh("cat /etc/profile.d/keystone-base.sh; stat -c %a /etc/profile.d/keystone-base.sh").stdout == \
        "export KEYSTONE_BASE=guest\n644\n"
    _, _, again = files.read(id_, outs)
    assert again["content"] == profile["content"] and again["mode"] == "0644"

    # deleting removes the files Keystone wrote, and nothing else in those directories
    for _checked, id_, outs in created.values():
        files.delete(id_, outs)
    listing = guest.ssh("ls -A /etc/profile.d /etc/skel").stdout
    assert "keystone-base" not in listing and "zz-admin.sh" in listing and ".bashrc" in listing
    guest.ssh("rm -f /etc/profile.d/zz-admin.sh")
