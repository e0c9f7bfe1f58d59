"""Planners: state in, commands out."""
from __future__ import annotations

import pytest

from providers.accounts.facts import GroupEntry, PasswdEntry, ShadowEntry
from providers.accounts.plan import AccountConflict, AccountInputs, plan
from providers.hoststate import HostState
from providers.transport import HostTarget
from providers.zfs.facts import DatasetState, Grants, PropertyValue
from providers.zfs.plan import ConflictError, DatasetInputs, DelegationInputs, plan_dataset, plan_delegation

HOST = HostTarget(name="h", address="local")
HASH = "$6$saltsalt$" + "b" * 86


def acct(**over):
    return AccountInputs(**{"host": HOST, "username": "alice", "uid": 20001, "home": "/home/alice",
                            "groups": ["users"], "comment": "Alice", **over})


def host(users=(), groups=None, shadow=None, keys=None):
    return HostState(passwd={u.name: u for u in users},
                     groups=groups if groups is not None else {"users": GroupEntry("users", 100, frozenset())},
                     shadow=shadow or {}, keys=keys or {})


def argvs(cmds):
    return [" ".join(c.argv[:3]) for c in cmds]


def test_new_account_commands():
    cmds = plan(acct(), host(), "h")
    assert cmds[0].argv == ("groupadd", "-g", "20001", "--", "alice")
    assert cmds[1].argv[:3] == ("useradd", "-u", "20001") and "-M" in cmds[1].argv
    assert ("-G", "users") == cmds[1].argv[cmds[1].argv.index("-G"):cmds[1].argv.index("-G") + 2]
    assert len(cmds) == 2  # locked by default, no keys: nothing else


def test_existing_matching_account_is_a_noop():
    pw = PasswdEntry("alice", 20001, 20001, "Alice", "/home/alice", "/bin/bash")
    state = host([pw], {"users": GroupEntry("users", 100, frozenset({"alice"})),
                        "alice": GroupEntry("alice", 20001, frozenset())},
                 {"alice": ShadowEntry("alice", "!", "")})
    assert plan(acct(), state, "h") == []
    # add-only groups: an extra group on the host stays; exclusive removes it
    state.groups["video"] = GroupEntry("video", 44, frozenset({"alice"}))
    assert plan(acct(), state, "h") == []
    assert argvs(plan(acct(exclusive_groups=True), state, "h")) == ["usermod -G users"]


def test_password_hash_goes_on_stdin_and_is_masked():
    pw = PasswdEntry("alice", 20001, 20001, "Alice", "/home/alice", "/bin/bash")
    state = host([pw], {"users": GroupEntry("users", 100, frozenset({"alice"}))}, {"alice": ShadowEntry("alice", "!", "")})
    (cmd,) = plan(acct(password_hash=HASH), state, "h")
    assert cmd.argv == ("chpasswd", "-e") and cmd.stdin == f"alice:{HASH}"
    assert HASH not in cmd.display() and all(HASH not in a for a in cmd.argv)


def test_offboarding_locks_and_expires():
    pw = PasswdEntry("alice", 20001, 20001, "Alice", "/home/alice", "/bin/bash")
    state = host([pw], {"users": GroupEntry("users", 100, frozenset({"alice"}))},
                 {"alice": ShadowEntry("alice", HASH, "")})
    cmds = plan(acct(password_hash=HASH, locked=True, expired=True), state, "h")
    assert argvs(cmds) == ["usermod -L --", "usermod -e 1"]


@pytest.mark.parametrize("state,message", [
    (host([PasswdEntry("alice", 1005, 1005, "", "/home/alice", "/bin/sh")]), "exists with uid 1005"),
    (host([PasswdEntry("zed", 20001, 20001, "", "/home/zed", "/bin/sh")]), "already belongs to 'zed'"),
    (host(groups={}), "do not exist"),
    (host(groups={"users": GroupEntry("users", 100, frozenset()), "alice": GroupEntry("alice", 5, frozenset())}),
     "exists with gid 5"),
])
def test_account_conflicts(state, message):
    with pytest.raises(AccountConflict, match=message):
        plan(acct(), state, "h")


def ds(**over):
    return DatasetInputs(**{"host": HOST, "dataset": "rpool/crypt/home/alice", "owner": "alice", "owner_uid": 20001,
                            "owner_gid": 20001, "properties": {"quota": "10G"}, **over})


def zstate(props=None, owner=(20001, 20001, "700"), exists=True):
    s = HostState(existing={"rpool", "rpool/crypt", "rpool/crypt/home"})
    if exists:
        s.existing.add("rpool/crypt/home/alice")
        base = {"type": ("filesystem", "-"), "quota": ("10737418240", "local"), "compression": ("lz4", "inherited"),
                "recordsize": ("131072", "default"), "atime": ("off", "inherited from rpool"),
                "readonly": ("off", "default")}
        base.update(props or {})
        s.datasets["rpool/crypt/home/alice"] = DatasetState(
            "rpool/crypt/home/alice", {k: PropertyValue(*v) for k, v in base.items()})
        if owner:
            s.owners["rpool/crypt/home/alice"] = owner
    return s


def test_dataset_create_and_noop():
    cmds = plan_dataset(ds(), zstate(exists=False), "h", "T")
    assert cmds[0].argv[:2] == ("zfs", "create") and "quota=10G" in cmds[0].argv
    assert plan_dataset(ds(), zstate(), "h", "T") == []  # inherited values that hold are left alone


def test_dataset_only_changed_properties_are_set():
    cmds = plan_dataset(ds(properties={"quota": "20G", "compression": "zstd"}), zstate(), "h", "T")
    assert cmds[0].argv == ("zfs", "set", "compression=zstd", "quota=20G", "rpool/crypt/home/alice")


def test_dataset_refuses_someone_elses_data_and_missing_parent():
    with pytest.raises(ConflictError, match="belongs to uid 20002"):
        plan_dataset(ds(), zstate(owner=(20002, 20002, "700")), "h", "T")
    s = zstate(exists=False)
    s.existing.discard("rpool/crypt/home")
    with pytest.raises(ConflictError, match="parent dataset"):
        plan_dataset(ds(), s, "h", "T")


def test_purge_archives():
    cmds = plan_dataset(ds(ensure="archived", archive_parent="rpool/crypt/archive"), zstate(), "h", "T1")
    assert [c.argv[1] for c in cmds] == ["snapshot", "create", "rename", "set"]
    assert cmds[2].argv[-1] == "rpool/crypt/archive/alice-T1"


def deleg(**over):
    return DelegationInputs(**{"host": HOST, "dataset": "rpool/crypt/home/alice", "user": "alice", **over})


def test_delegation_from_nothing_and_noop():
    d = deleg()
    cmds = plan_delegation(d, Grants())
    assert cmds[0].argv[:4] == ("zfs", "allow", "-u", "alice") and "destroy" not in cmds[0].argv[4]
    assert cmds[1].argv == ("zfs", "allow", "-d", "-u", "alice", "destroy", "rpool/crypt/home/alice")
    full = Grants(local=set(d.permissions), descendent=set(d.permissions) | {"destroy"})
    assert plan_delegation(d, full) == []


def test_delegation_is_authoritative():
    d = deleg(permissions=["snapshot"])
    current = Grants(local={"snapshot", "rename"}, descendent={"snapshot", "destroy", "send"})
    assert [c.argv for c in plan_delegation(d, current)] == [
        ("zfs", "unallow", "-l", "-u", "alice", "rename", "rpool/crypt/home/alice"),
        ("zfs", "unallow", "-d", "-u", "alice", "send", "rpool/crypt/home/alice"),
    ]


def test_base_provider_check_and_diff_with_unknown_values():
    from pulumi.runtime import rpc

    from providers.accounts.account import OsAccountProvider

    p = OsAccountProvider()
    known = acct().model_dump(mode="json")
    assert p.check({}, {**known, "home": rpc.UNKNOWN}).failures == []
    d = p.diff("h/alice", known, {**known, "home": rpc.UNKNOWN})
    assert d.changes is True and d.replaces == []
    d = p.diff("h/alice", known, {**known, "username": rpc.UNKNOWN})
    assert d.replaces == ["username"] and d.delete_before_replace is True
    assert p.diff("h/alice", known, known).changes is False
    assert p.diff("h/alice", known, {**known, "host": {**known["host"], "port": 2200}}).replaces == []
    assert p.diff("h/alice", known, {**known, "host": {**known["host"], "name": "h2"}}).replaces == ["host"]
