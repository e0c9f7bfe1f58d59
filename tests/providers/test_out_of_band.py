"""Out-of-band surprises on a real host: what an admin (or a person) did by hand on the guest, met by the
providers through the real gRPC provider host.  Each ends in a clear error naming the host and the
object, or in the handling docs/errors.md describes — never in a crash, a silent takeover or a leak.
"""
from __future__ import annotations

import json

import pytest

from providers.accounts.account import OsAccountProvider
from providers.hoststate import gather_scope
from providers.hostcache import CACHE, read_host_state
from providers.transport import for_host
from providers.zfs.dataset import ZfsDatasetProvider
from providers.zfs.delegation import ZfsDelegationProvider
from tests.harness.provider_host import ProviderError

pytestmark = pytest.mark.guest
HOME = "rpool/crypt/home"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIb6Fq9YQ9Ue1wBa7Qm0nRlDo9a8wWb2yHgqL5dF2kTZ oob@laptop"


def account(target, user, uid, **over):
    return {"host": target.model_dump(), "username": user, "uid": uid, "groups": [], "shell": "/bin/bash",
            "home": f"/home/{user}", "comment": user.title(), "ssh_keys": [KEY], **over}


def dataset(target, user, uid, **over):
    return {"host": target.model_dump(), "dataset": f"{HOME}/{user}", "owner": user, "owner_uid": uid,
            "owner_gid": uid, "archive_parent": "rpool/crypt/archive", **over}


def test_a_hand_made_account_holding_a_persons_uid_is_a_clear_conflict(guest, guest_target, provider_host):
    # by hand, without a user-private group (else the gid 23001 of the group is the first conflict named)
    guest.ssh("getent passwd mallory >/dev/null || useradd -u 23001 -N -g users -M -d /nonexistent mallory")
    r = provider_host.resource(OsAccountProvider())
    checked, failures = r.check(account(guest_target, "olive", 23001))
    assert failures == []
    with pytest.raises(ProviderError) as e:
        r.create(checked)
    assert "host guest: uid 23001 for user olive already belongs to 'mallory'" in e.value.details
    assert "Traceback" not in e.value.details.split("\n")[0]
    assert guest.ssh("getent passwd olive", check=False).returncode != 0  # nothing created, not even its group
    assert guest.ssh("getent group olive", check=False).returncode != 0


def test_a_dataset_with_a_space_under_the_home_parent_is_read_and_left_alone(guest, guest_target, provider_host):
    guest.ssh(f"zfs list '{HOME}/bad name' >/dev/null 2>&1 || zfs create '{HOME}/bad name'")
    guest.ssh("getent passwd pia >/dev/null || { groupadd -g 23002 pia && useradd -u 23002 -g pia -M -d /home/pia pia; }")
    r = provider_host.resource(ZfsDatasetProvider())
    checked, failures = r.check(dataset(guest_target, "pia", 23002))
    assert failures == []
    id_, outs = r.create(checked)
    _, read_outs, read_inputs = r.read(id_, outs)  # the refresh gathers the whole tree, the stranger included
    assert read_inputs["dataset"] == f"{HOME}/pia" and r.diff(id_, read_outs, checked).changes is False
    CACHE.invalidate(guest_target)
    state = read_host_state(for_host(guest_target), gather_scope(users=False, roots=(HOME,)))
    assert state.datasets[f"{HOME}/bad name"].value("mountpoint") == "/home/bad name"
    assert f"{HOME}/bad name" not in state.owners  # /proc/self/mounts writes it as bad\040name: not a home, not read
    assert guest.ssh(f"zfs list -H -o name '{HOME}/bad name'").stdout.strip() == f"{HOME}/bad name"  # untouched


def test_group_and_everyone_grants_on_a_home_are_left_and_the_persons_own_converge(guest, guest_target, provider_host):
    guest.ssh("getent passwd quin >/dev/null || { groupadd -g 23003 quin && useradd -u 23003 -g quin -M -d /home/quin quin; }")
    ds = provider_host.resource(ZfsDatasetProvider())
    ds.create(ds.check(dataset(guest_target, "quin", 23003))[0])
    guest.ssh(f"zfs allow everyone hold {HOME}/quin && zfs allow -g users snapshot {HOME}/quin")
    r = provider_host.resource(ZfsDelegationProvider())
    checked, failures = r.check({"host": guest_target.model_dump(), "dataset": f"{HOME}/quin", "user": "quin"})
    assert failures == []
    id_, outs = r.create(checked)
    _, read_outs, read_inputs = r.read(id_, outs)
    assert r.diff(id_, read_outs, checked).changes is False  # the person's own grants are exactly Keystone's
    allow = guest.ssh(f"zfs allow {HOME}/quin").stdout
    assert "\teveryone hold" in allow and "\tgroup users snapshot" in allow  # others' entries are not Keystone's
    assert "everyone" not in json.dumps(read_outs["granted"])


def test_an_authorized_keys_symlink_is_never_followed_and_gets_replaced(guest, guest_target, provider_host):
    r = provider_host.resource(OsAccountProvider())
    checked, _ = r.check(account(guest_target, "rhea", 23004))
    id_, outs = r.create(checked)
    shadow_before = guest.ssh("sha256sum /etc/shadow").stdout
    # the person points their authorized_keys at a file only root may read
    guest.ssh("ln -sfn /etc/shadow /home/rhea/.ssh/authorized_keys && chown -h rhea:rhea /home/rhea/.ssh/authorized_keys")
    CACHE.invalidate(guest_target)
    _, read_outs, read_inputs = r.read(id_, outs)
    assert read_inputs["ssh_keys"] == []  # not followed: the target's lines never reach state
    assert "root:" not in json.dumps(read_outs) and "$" not in "".join(read_outs["ssh_keys"])
    outs = r.update(id_, read_outs, checked)  # the next apply writes a real file, as the person
    assert guest.ssh("stat -c %F:%U /home/rhea/.ssh/authorized_keys").stdout.strip() == "regular file:rhea"
    assert guest.ssh("cat /home/rhea/.ssh/authorized_keys").stdout.strip() == KEY
    assert guest.ssh("sha256sum /etc/shadow").stdout == shadow_before


def test_an_authorized_keys_directory_is_a_clear_error(guest, guest_target, provider_host):
    r = provider_host.resource(OsAccountProvider())
    checked, _ = r.check(account(guest_target, "sami", 23005))
    id_, outs = r.create(checked)
    guest.ssh("rm -f /home/sami/.ssh/authorized_keys && mkdir /home/sami/.ssh/authorized_keys && "
              "chown sami:sami /home/sami/.ssh/authorized_keys")
    CACHE.invalidate(guest_target)
    _, read_outs, _ = r.read(id_, outs)
    with pytest.raises(ProviderError) as e:
        r.update(id_, read_outs, checked)
    assert "host guest:" in e.value.details and "cannot overwrite directory" in e.value.details
    assert guest.ssh("stat -c %F /home/sami/.ssh/authorized_keys").stdout.strip() == "directory"  # left as it was


def test_a_home_whose_mountpoint_belongs_to_another_uid_is_refused(guest, guest_target, provider_host):
    guest.ssh(f"zfs list {HOME}/tess >/dev/null 2>&1 || zfs create {HOME}/tess; chown 4242:4242 /home/tess; "
              "touch /home/tess/theirs.txt")
    r = provider_host.resource(ZfsDatasetProvider())
    checked, _ = r.check(dataset(guest_target, "tess", 23006))
    with pytest.raises(ProviderError) as e:
        r.create(checked)
    assert (f"host guest: {HOME}/tess exists and its mountpoint belongs to uid 4242, not tess (23006): "
            "refusing to take over someone else's data") in e.value.details
    assert guest.ssh("stat -c %u /home/tess").stdout.strip() == "4242"
