"""zfs:Dataset and zfs:Delegation through the real gRPC provider host, on the guest's OpenZFS."""
from __future__ import annotations

import pytest

from providers.accounts.account import OsAccountProvider
from providers.zfs.dataset import ZfsDatasetProvider
from providers.zfs.delegation import ZfsDelegationProvider
from tests.harness.provider_host import DynamicProviderHost, ProviderError

pytestmark = pytest.mark.guest
HOME = "rpool/crypt/home"


def make_user(guest, name, uid):
    guest.ssh(f"getent passwd {name} >/dev/null || {{ groupadd -g {uid} {name} && "
              f"useradd -u {uid} -g {name} -M -d /home/{name} -s /bin/bash {name}; }}")


def ds_inputs(target, user, uid, **over):
    base = {"host": target.model_dump(), "dataset": f"{HOME}/{user}", "owner": user, "owner_uid": uid,
            "owner_gid": uid, "properties": {"quota": "1G", "compression": "lz4", "recordsize": "128K",
                                              "atime": "off"}, "archive_parent": "rpool/crypt/archive"}
    return {**base, **over}


def zget(guest, ds, props="quota,compression,recordsize,atime"):
    out = guest.ssh(f"zfs get -H -p -o property,value,source {props} {ds}").stdout
    return {line.split("\t")[0]: (line.split("\t")[1], line.split("\t")[2]) for line in out.splitlines()}


def test_dataset_lifecycle(guest, guest_target, provider_host):
    make_user(guest, "gina", 22001)
    r = provider_host.resource(ZfsDatasetProvider())
    checked, failures = r.check(ds_inputs(guest_target, "gina", 22001))
    assert failures == []
    id_, outs = r.create(checked)
    assert id_ == f"guest/{HOME}/gina"
    props = zget(guest, f"{HOME}/gina")
    assert props["quota"] == ("1073741824", "local") and props["compression"][0] == "lz4"
    assert guest.ssh("stat -c %u:%g:%a /home/gina").stdout.strip() == "22001:22001:700"
    assert outs["mountpoint"] == "/home/gina"

    _, _, read_inputs = r.read(id_, outs)
    assert read_inputs["properties"]["quota"] == "1G"
    assert r.diff(id_, outs, checked).changes is False

    # `10G` and 10737418240 are the same value: no diff
    same, _ = r.check(ds_inputs(guest_target, "gina", 22001, properties={**checked["properties"], "quota": "1024M"}))
    assert r.diff(id_, outs, same).changes is True  # inputs differ in spelling ...
    outs2 = r.update(id_, outs, same)  # ... but the host already holds it: nothing is set
    assert zget(guest, f"{HOME}/gina")["quota"] == ("1073741824", "local")

    bigger, _ = r.check(ds_inputs(guest_target, "gina", 22001, properties={**checked["properties"], "quota": "2G"}))
    outs = r.update(id_, outs2, bigger)
    assert zget(guest, f"{HOME}/gina")["quota"][0] == str(2 * 1024**3)

    # drift after an out-of-band `zfs set` shows in refresh (its own provider process, as every
    # `pulumi` command starts one: this one keeps what it read and wrote)
    guest.ssh(f"zfs set compression=off {HOME}/gina")
    with DynamicProviderHost() as later:  # `pulumi up --refresh`: the read, then the update
        r2 = later.resource(ZfsDatasetProvider())
        _, _, drift = r2.read(id_, outs)
        assert drift["properties"]["compression"] == "off"
        assert r2.diff(id_, drift, bigger).changes is True
        outs = r2.update(id_, drift, bigger)
    assert zget(guest, f"{HOME}/gina")["compression"][0] == "lz4"

    # identity: another dataset name is a replacement
    assert r.diff(id_, outs, ds_inputs(guest_target, "gina", 22001, dataset=f"{HOME}/gina2")).replaces == ["dataset"]

    # delete never destroys data
    guest.ssh("touch /home/gina/keep.txt")
    r.delete(id_, outs)
    assert guest.ssh(f"zfs list -H -o name {HOME}/gina").stdout.strip() == f"{HOME}/gina"

    # a purge archives: snapshot, rename under the archive parent, readonly; files kept
    purge, failures = r.check(ds_inputs(guest_target, "gina", 22001, ensure="archived", person_state="purged"))
    assert failures == []
    outs = r.update(id_, outs, purge)
    archived = outs["archived_as"]
    assert archived.startswith("rpool/crypt/archive/gina-")
    assert guest.ssh(f"zfs list -H -o name {HOME}/gina", check=False).returncode != 0
    assert zget(guest, archived, "readonly")["readonly"][0] == "on"
    assert f"{archived}@keystone-archive-" in guest.ssh(f"zfs list -H -t snapshot -o name -r {archived}").stdout


def test_inherited_value_that_holds_stays_inherited(guest, guest_target, provider_host):
    make_user(guest, "hank", 22002)
    guest.ssh(f"zfs create {HOME}/hank && chown 22002:22002 /home/hank && chmod 700 /home/hank")
    guest.ssh(f"zfs set atime=off {HOME}")  # parent's value, inherited by hank
    r = provider_host.resource(ZfsDatasetProvider())
    checked, _ = r.check(ds_inputs(guest_target, "hank", 22002, properties={"quota": "none", "compression": "on",
                                                                             "recordsize": "128K", "atime": "off"}))
    id_, outs = r.create(checked)  # adopted
    props = zget(guest, f"{HOME}/hank")
    assert props["atime"] == ("off", f"inherited from {HOME}")
    assert props["recordsize"][1] == "default" and props["quota"][1] == "default"
    assert props["compression"] == ("on", "local")
    guest.ssh(f"zfs inherit atime {HOME}")


def test_dataset_conflicts_are_refused(guest, guest_target, provider_host):
    make_user(guest, "ivan", 22003)
    make_user(guest, "jade", 22004)
    guest.ssh(f"zfs create {HOME}/ivan && chown 22004:22004 /home/ivan")  # jade's files under ivan's name
    r = provider_host.resource(ZfsDatasetProvider())
    checked, _ = r.check(ds_inputs(guest_target, "ivan", 22003))
    with pytest.raises(ProviderError) as e:
        r.create(checked)
    assert "belongs to uid 22004, not ivan (22003): refusing to take over" in e.value.details
    assert guest.ssh("stat -c %u /home/ivan").stdout.strip() == "22004"

    missing, _ = r.check(ds_inputs(guest_target, "ivan", 22003, dataset="rpool/nothere/ivan"))
    with pytest.raises(ProviderError) as e:
        r.create(missing)
    assert "parent dataset 'rpool/nothere' does not exist" in e.value.details

    _, failures = r.check(ds_inputs(guest_target, "ivan", 22003, ensure="destroyed"))
    assert failures and "allow destroy" in failures[0][1]
    _, failures = r.check(ds_inputs(guest_target, "ivan", 22003, dataset="rpool/../etc"))
    assert failures and failures[0][0] == "dataset"


def grants(guest, ds):
    return guest.ssh(f"zfs allow {ds}").stdout


def test_delegation_lifecycle_and_isolation(guest, guest_target, provider_host):
    for user, uid in (("kim", 22005), ("leo", 22006)):
        make_user(guest, user, uid)
        dsr = provider_host.resource(ZfsDatasetProvider())
        dsr.create(dsr.check(ds_inputs(guest_target, user, uid))[0])
    r = provider_host.resource(ZfsDelegationProvider())
    ids = {}
    for user in ("kim", "leo"):
        checked, failures = r.check({"host": guest_target.model_dump(), "dataset": f"{HOME}/{user}", "user": user})
        assert failures == []
        ids[user] = r.create(checked)
    id_, outs = ids["kim"]
    assert id_ == f"guest/{HOME}/kim/kim"
    text = grants(guest, f"{HOME}/kim")
    assert "Descendent permissions:\n\tuser kim destroy" in text
    assert "Local+Descendent permissions:\n\tuser kim " in text
    assert "destroy" not in text.split("Local+Descendent permissions:")[1]
    assert outs["granted"]["descendent"].count("destroy") == 1 and "destroy" not in outs["granted"]["local"]

    kim = lambda cmd: guest.ssh(f"runuser -u kim -- {cmd}", check=False)  # noqa: E731
    # kim manages her own tree ...
    assert kim(f"zfs snapshot {HOME}/kim@s1").returncode == 0
    assert kim(f"zfs set quota=900M {HOME}/kim").returncode == 0
    # creating a child works (on Linux only root may mount it, so zfs reports the mount failure)
    kim(f"zfs create {HOME}/kim/scratch")
    assert guest.ssh(f"zfs list -H -o name {HOME}/kim/scratch", check=False).returncode == 0
    assert kim(f"zfs destroy {HOME}/kim/scratch").returncode == 0
    assert kim(f"zfs destroy {HOME}/kim@s1").returncode == 0
    # ... but not her home itself, the parent or leo's
    assert kim(f"zfs destroy {HOME}/kim").returncode != 0
    assert kim(f"zfs snapshot {HOME}@x").returncode != 0
    assert kim(f"zfs set quota=1G {HOME}").returncode != 0
    assert kim(f"zfs snapshot {HOME}/leo@x").returncode != 0
    assert kim(f"zfs set quota=10M {HOME}/leo").returncode != 0
    assert kim(f"zfs destroy {HOME}/leo").returncode != 0
    assert guest.ssh(f"zfs list -H -o name {HOME}/kim {HOME}/leo").returncode == 0

    # read/diff: no change; authoritative update unallows what the roster dropped
    checked, _ = r.check({"host": guest_target.model_dump(), "dataset": f"{HOME}/kim", "user": "kim"})
    _, _, read_inputs = r.read(id_, outs)
    assert r.diff(id_, read_inputs, checked).changes is False
    guest.ssh(f"zfs allow -u kim rename {HOME}/kim")  # out-of-band grant
    with DynamicProviderHost() as refresh:  # a new `pulumi refresh` is a new provider process
        _, _, drift = refresh.resource(ZfsDelegationProvider()).read(id_, outs)
    assert "rename" in drift["permissions"] and r.diff(id_, drift, checked).changes is True
    narrower = {**checked, "permissions": [p for p in checked["permissions"] if p not in ("send", "receive")]}
    outs = r.update(id_, drift, r.check(narrower)[0])
    text = grants(guest, f"{HOME}/kim")
    assert "rename" not in text and "send" not in text and "receive" not in text and "snapshot" in text

    _, failures = r.check({**checked, "permissions": ["destroy", "snapshot"]})
    assert failures and "descendants" in failures[0][1]
    _, failures = r.check({**checked, "user": "everyone"})
    assert failures and failures[0][0] == "user"

    r.delete(id_, outs)
    assert "user kim" not in grants(guest, f"{HOME}/kim")
    assert kim(f"zfs snapshot {HOME}/kim@after").returncode != 0
    assert "user leo" in grants(guest, f"{HOME}/leo")


def test_dataset_then_account_writes_keys_into_the_new_home(guest, guest_target, provider_host):
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3m8kq0sZ0pF5XG2W7h9cV1q4tYbZl6r8uQ2n1mP0aX mia@x"
    dsr = provider_host.resource(ZfsDatasetProvider())
    dsr.create(dsr.check(ds_inputs(guest_target, "mia", 22007))[0])
    acc = provider_host.resource(OsAccountProvider())
    acc.create(acc.check({"host": guest_target.model_dump(), "username": "mia", "uid": 22007,
                          "home": "/home/mia", "ssh_keys": [key]})[0])
    assert guest.ssh("cat /home/mia/.ssh/authorized_keys").stdout.strip() == key
    assert guest.ssh("stat -c %U:%a /home/mia").stdout.strip() == "mia:700"
