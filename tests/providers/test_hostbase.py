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
        # hba has no process left, so no cgroup: systemd's view of the slice says what applies next time
        assert guest.ssh(f"systemctl show -p MemoryMax --value user-{PEOPLE['hba']}.slice").stdout.strip() == \
            str(64 * 2**20)
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


BACKUP_PARENT = "rpool/crypt/hbbackup"  # no other test uses it
HOME_PARENT = "rpool/crypt/home"


def base_inputs(target, **over) -> dict:
    return {"host": target.model_dump(), **over}


def run_backup(guest) -> None:
    time.sleep(1.1)  # snapshots are named to the second
    guest.ssh("systemctl start keystone-backup.service", timeout=300)


def test_backup_snapshot_replicate_destroy_restore_login(guest, guest_target, provider_host, tmp_path_factory):
    from providers.hostbase import backup
    from providers.hostbase.resource import BaseProvider

    user, uid = "hbc", 24963
    key = tmp_path_factory.mktemp("key-hbc") / "id"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    home = f"{HOME_PARENT}/{user}"
    guest.ssh(f"zfs list {home} >/dev/null 2>&1 || zfs create {home}; "
              f"getent passwd {user} >/dev/null || {{ groupadd -g {uid} {user} && "
              f"useradd -u {uid} -g {user} -d /home/{user} -s /bin/bash {user}; }}; chown {uid}:{uid} /home/{user} && "
              f"install -d -m 0700 -o {uid} -g {uid} /home/{user}/.ssh && cat > /home/{user}/.ssh/authorized_keys && "
              f"chown {uid}:{uid} /home/{user}/.ssh/authorized_keys", input=key.with_suffix(".pub").read_text())
    files = provider_host.resource(ManagedFileProvider())
    installed = []
    for path, content, extra in ((backup.SCRIPT_PATH, backup.SCRIPT, {"mode": "0755"}),
                                 (backup.SERVICE_PATH, backup.service(HOME_PARENT, BACKUP_PARENT, 3), {"reload": "systemd"}),
                                 (backup.TIMER_PATH, backup.timer("hourly"), {"reload": "systemd"})):
        checked, failures = files.check({"host": guest_target.model_dump(), "path": path, "content": content, **extra})
        assert failures == []
        installed.append(files.create(checked))
    bases = provider_host.resource(BaseProvider())
    desired = base_inputs(guest_target, timer=backup.TIMER,
                          backup={"home_parent": HOME_PARENT, "backup_parent": BACKUP_PARENT, "max_age_hours": 1,
                                  "people": [user, "hbnobody"]})
    try:
        checked, failures = bases.check(desired)
        assert failures == []
        id_, outs = bases.create(checked)
        assert outs["timer_running"] is True
        assert guest.ssh(f"systemctl is-enabled {backup.TIMER}; systemctl is-active {backup.TIMER}").stdout.split() == \
            ["enabled", "active"]

        # the person's work, snapshotted and replicated; more work, an incremental replication
        guest.ssh("echo precious > ~/notes.txt", user=user, key=key)
        run_backup(guest)
        guest.ssh("mkdir -p ~/thesis && echo chapter one > ~/thesis/ch1.txt", user=user, key=key)
        run_backup(guest)
        snaps = guest.ssh(f"zfs list -H -o name -t snapshot -s creation -d 1 {BACKUP_PARENT}/{user}").stdout.split()
        assert len(snaps) == 2 and all("@keystone-" in s for s in snaps)
        assert guest.ssh(f"zfs get -H -o value mounted,mountpoint {BACKUP_PARENT}/{user}").stdout.split() == \
            ["no", "none"]

        # refresh: the home's newest snapshot is fresh, the backup holds it; a person without any is stale
        _, read_outs, _ = bases.read(id_, outs)
        ages = read_outs["homes"][user]
        now = int(guest.ssh("date +%s").stdout)
        assert ages["newest"] is not None and now - ages["newest"] < 600 and ages["backup_lag"] == 0
        assert read_outs["stale"] == ["hbnobody"]

        # retention: keep 3 on both sides
        for _ in range(2):
            run_backup(guest)
        for ds in (home, f"{BACKUP_PARENT}/{user}"):
            assert len(guest.ssh(f"zfs list -H -o name -t snapshot -d 1 {ds}").stdout.split()) == 3, ds

        # the home destroyed by hand, restored from the backup, the person logs in and finds their files
        guest.ssh(f"loginctl terminate-user {user} 2>/dev/null; pkill -KILL -u {user}; sleep 1; zfs destroy -r {home}")
        assert guest.ssh(f"zfs list {home}", check=False).returncode != 0
        latest = guest.ssh(f"zfs list -H -o name -t snapshot -s creation -d 1 {BACKUP_PARENT}/{user} | tail -n 1").stdout.strip()
        guest.ssh(f"zfs send {latest} | zfs receive {home}", timeout=300)
        assert guest.ssh("cat ~/notes.txt ~/thesis/ch1.txt", user=user, key=key).stdout == "precious\nchapter one\n"
        assert guest.ssh(f"zfs get -H -o value mountpoint,mounted {home}").stdout.split() == [f"/home/{user}", "yes"]

        # deleting the base stops the timer; the snapshots and the backup stay
        bases.delete(id_, outs)
        assert guest.ssh(f"systemctl is-enabled {backup.TIMER}", check=False).stdout.strip() == "disabled"
        assert guest.ssh(f"zfs list -H -o name {BACKUP_PARENT}/{user}").returncode == 0
    finally:
        for _, (id_, outs) in zip(range(3), installed):
            files.delete(id_, outs)
        guest.ssh(f"systemctl disable --now {backup.TIMER} 2>/dev/null; zfs destroy -r {BACKUP_PARENT}; "
                  f"loginctl terminate-user {user} 2>/dev/null; true", check=False)


def test_packages_installed_from_a_local_repository(guest, guest_target, provider_host, tmp_path_factory):
    from providers.hostbase.resource import BaseProvider
    from tests.harness import apt_repo

    names = ["keystone-test-a", "keystone-test-b", "keystone-test-c"]
    guest.ssh(f"dpkg --purge {' '.join(names)} >/dev/null 2>&1; true")
    apt_repo.publish(guest, tmp_path_factory.mktemp("apt"), names)
    bases = provider_host.resource(BaseProvider())
    lists_mtime = "find /var/lib/apt/lists -maxdepth 1 -name '*keystone-apt*Packages*' -printf '%T@\\n'"
    try:
        # the new source: apt does not know the package yet, so the run updates once, then installs
        desired = base_inputs(guest_target, packages=["keystone-test-a"], kubelogin="/usr/local/bin/kubectl-oidc_login",
                              package_sources={"keystone-test-a": "Pulumi.dev.yaml:20:16: keystone:base.packages.0"})
        checked, failures = bases.check(desired)
        assert failures == []
        id_, outs = bases.create(checked)
        assert outs["installed"] == ["keystone-test-a"] and outs["missing"] == []
        assert outs["kubelogin_present"] is False
        assert guest.ssh("dpkg-query -W -f '${db:Status-Abbrev}' keystone-test-a").stdout.strip() == "ii"
        stamp = guest.ssh(lists_mtime).stdout.strip()
        assert stamp

        # a name no source has, with the lists current: the check (the preview) fails, naming host and line
        bad = {**desired, "packages": ["keystone-test-a", "keystone-test-nosuch"],
               "package_sources": {"keystone-test-nosuch": "Pulumi.dev.yaml:20:35: keystone:base.packages.1"}}
        _, failures = bases.check(bad, outs)
        assert len(failures) == 1 and failures[0][0] == "packages"
        assert "host guest: no such package in the host's apt sources" in failures[0][1]
        assert "'keystone-test-nosuch' (Pulumi.dev.yaml:20:35: keystone:base.packages.1)" in failures[0][1]

        # refresh after a package is listed but missing: the inputs show what `up` would install
        more = {**desired, "packages": ["keystone-test-a", "keystone-test-b", "keystone-test-c"]}
        _, read_outs, read_in = bases.read(id_, {**outs, **more})
        assert read_in["packages"] == ["keystone-test-a"] and read_outs["missing"] == ["keystone-test-b", "keystone-test-c"]
        assert read_in["kubelogin"].startswith("(missing on the host)")

        # both new packages in one install, and no update: apt knows them
        checked, failures = bases.check(more, outs)
        assert failures == []
        outs = bases.update(id_, outs, checked)
        assert outs["installed"] == names and outs["missing"] == []
        assert guest.ssh(lists_mtime).stdout.strip() == stamp

        # dropped from the list: reported, not removed; a package Keystone did not install is never touched
        fewer = {**desired, "packages": ["keystone-test-a"]}
        outs = bases.update(id_, outs, bases.check(fewer, outs)[0])
        assert outs["dropped"] == ["keystone-test-b", "keystone-test-c"]
        assert guest.ssh("dpkg-query -W -f '${db:Status-Abbrev}' keystone-test-b").stdout.strip() == "ii"
        # ... unless the stack says so
        outs = bases.update(id_, outs, bases.check({**fewer, "remove_dropped": True}, outs)[0])
        assert outs["dropped"] == [] and outs["installed"] == ["keystone-test-a"]
        assert guest.ssh("dpkg-query -W -f '${db:Status-Abbrev}' keystone-test-b", check=False).stdout.strip() \
            in ("pn", "un", "")
        assert guest.ssh("dpkg-query -W -f '${db:Status-Abbrev}' coreutils").stdout.strip() == "ii"
    finally:
        guest.ssh(f"dpkg --purge {' '.join(names)} >/dev/null 2>&1; true")
        apt_repo.restore(guest)
        guest.ssh("rm -rf /srv/keystone-apt /var/lib/apt/lists/*keystone-apt*; true", check=False)
