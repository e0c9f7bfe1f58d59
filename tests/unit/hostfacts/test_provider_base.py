"""The dynamic providers' base class: check and diff with values unknown in a preview.  The planners
themselves are data: ``tests/unit/cases/`` run by ``tests/unit/test_planner_cases.py``."""
from __future__ import annotations

from providers.accounts.plan import AccountInputs
from providers.host import HostTarget

HOST = HostTarget(name="h", address="local")


def acct(**over):
    return AccountInputs(**{"host": HOST, "username": "alice", "uid": 20001, "home": "/home/alice",
                            "groups": ["users"], "comment": "Alice", **over})


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


def test_a_preview_checks_what_is_known_and_replaces_a_known_identity_change():
    """With one value unknown, the known ones are still checked (a bad uid is reported at preview, not
    at ``up``), and an identity field that changed is a replace in the preview as it will be in ``up``."""
    from pulumi.runtime import rpc

    from providers.accounts.account import OsAccountProvider

    p = OsAccountProvider()
    known = acct().model_dump(mode="json")
    failures = p.check({}, {**known, "home": rpc.UNKNOWN, "uid": -1}).failures
    assert [f.property for f in failures] == ["uid"]
    moved = {**known, "home": rpc.UNKNOWN, "host": {**known["host"], "name": "h2"}}
    d = p.diff("h/alice", known, moved)
    assert (d.changes, d.replaces, d.delete_before_replace) == (True, ["host"], True)
    assert d.stables == ["username"]
    renamed = {**known, "home": rpc.UNKNOWN, "username": "alicia"}
    assert p.diff("h/alice", known, renamed).replaces == ["username"]
    # the same host under another address is the same host, and unknown and known together still replace
    d = p.diff("h/alice", known, {**known, "comment": rpc.UNKNOWN, "host": {**known["host"], "port": 2200}})
    assert d.replaces == [] and d.changes is True
