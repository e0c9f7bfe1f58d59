"""os:Account through the real dynamic-provider gRPC host, against the real guest."""
from __future__ import annotations

import pytest

from providers.accounts.account import OsAccountProvider
from tests.harness.provider_host import DynamicProviderHost, ProviderError

pytestmark = pytest.mark.guest

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIb6Fq9YQ9Ue1wBa7Qm0nRlDo9a8wWb2yHgqL5dF2kTZ carol@laptop"
HASH = "$6$saltsalt$" + "a" * 86


def inputs(target, **over):
    base = {"host": target.model_dump(), "username": "carol", "uid": 21001, "groups": ["users"],
            "shell": "/bin/bash", "home": "/home/carol", "comment": "Carol Example", "ssh_keys": [KEY]}
    return {**base, **over}


def getent(guest, db, key):
    return guest.ssh(f"getent {db} {key}", check=False).stdout.strip()


def test_lifecycle(guest, guest_target, provider_host):
    r = provider_host.resource(OsAccountProvider())
    checked, failures = r.check(inputs(guest_target))
    assert failures == []
    id_, outs = r.create(checked)
    assert id_ == "guest/carol"
    assert getent(guest, "passwd", "carol").startswith("carol:x:21001:21001:Carol Example:/home/carol:/bin/bash")
    assert "carol" in getent(guest, "group", "users")
    assert getent(guest, "shadow", "carol").split(":")[1].startswith("!")
    assert guest.ssh("cat /home/carol/.ssh/authorized_keys").stdout.strip() == KEY
    assert guest.ssh("stat -c %U /home/carol/.ssh/authorized_keys").stdout.strip() == "carol"

    _, read_outs, read_inputs = r.read(id_, outs)
    assert read_inputs["uid"] == 21001 and read_inputs["ssh_keys"] == [KEY]
    assert r.diff(id_, outs, checked).changes is False

    changed, _ = r.check(inputs(guest_target, shell="/bin/sh", password_hash=HASH, ssh_keys=[]))
    d = r.diff(id_, outs, changed)
    assert d.changes is True and d.replaces == []
    outs = r.update(id_, outs, changed)
    assert getent(guest, "passwd", "carol").endswith(":/bin/sh")
    assert getent(guest, "shadow", "carol").split(":")[1] == HASH
    assert guest.ssh("cat /home/carol/.ssh/authorized_keys").stdout.strip() == ""

    # out-of-band drift shows in refresh (the next command: its own provider process, as every
    # `pulumi` command starts one — a process plans from what it read and wrote itself)
    guest.ssh("usermod -s /bin/dash carol")
    with DynamicProviderHost() as later:
        r = later.resource(OsAccountProvider())
        _, _, drifted = r.read(id_, outs)
        assert drifted["shell"] == "/bin/dash"
        assert r.diff(id_, drifted, changed).changes is True

        # offboarding: locked and expired, the account stays
        off, _ = r.check(inputs(guest_target, password_hash=HASH, locked=True, expired=True))
        outs = r.update(id_, outs, off)
        shadow = getent(guest, "shadow", "carol").split(":")
        assert shadow[1] == "!" + HASH and shadow[7] == "1"

        # deleting the resource locks the account but never removes it
        r.delete(id_, outs)
        assert getent(guest, "passwd", "carol")

        # a purge (ensure: absent) removes it
        gone, _ = r.check(inputs(guest_target, ensure="absent", expired=True))
        r.update(id_, outs, gone)
    assert getent(guest, "passwd", "carol") == ""


def test_adopts_matching_account_and_refuses_conflicts(guest, guest_target, provider_host):
    guest.ssh("groupadd -g 21002 dave && useradd -u 21002 -g dave -M -d /home/dave -s /bin/bash dave")
    r = provider_host.resource(OsAccountProvider())
    checked, _ = r.check(inputs(guest_target, username="dave", uid=21002, home="/home/dave", comment="Dave"))
    id_, outs = r.create(checked)
    assert id_ == "guest/dave"
    assert getent(guest, "passwd", "dave").split(":")[4] == "Dave"

    guest.ssh("groupadd -g 21003 erin && useradd -u 21003 -g erin -M -d /home/erin erin")
    checked, _ = r.check(inputs(guest_target, username="erin", uid=21004, home="/home/erin"))
    with pytest.raises(ProviderError) as e:
        r.create(checked)
    assert "host guest: user erin exists with uid 21003, but the roster says 21004" in e.value.details
    assert getent(guest, "passwd", "erin").split(":")[2] == "21003"


def test_missing_group_is_a_clear_error_and_nothing_is_created(guest, guest_target, provider_host):
    r = provider_host.resource(OsAccountProvider())
    checked, _ = r.check(inputs(guest_target, username="frank", uid=21005, home="/home/frank", groups=["nope"]))
    with pytest.raises(ProviderError) as e:
        r.create(checked)
    assert "group(s) nope for user frank do not exist" in e.value.details
    assert getent(guest, "passwd", "frank") == ""


@pytest.mark.parametrize("field,value", [
    ("username", "root"), ("username", "bob;rm -rf /"), ("uid", 0), ("shell", "/bin/../sh"),
    ("password_hash", "hunter2"), ("ssh_keys", ["command=\"x\" ssh-ed25519 AAAA"]), ("comment", "a:b"),
])
def test_check_rejects_hostile_inputs(guest_target, provider_host, field, value):
    r = provider_host.resource(OsAccountProvider())
    _, failures = r.check(inputs(guest_target, **{field: value}))
    assert failures and failures[0][0] == field
