"""The host journal line (providers/journal.py): one per change and host, first in the change's first
batch of its own, none for shared reads, never a secret.  The line reaching a real journal is the guest tier's
(tests/providers/test_journal_on_guest.py)."""
from __future__ import annotations

import os

from providers import journal
from providers.accounts.account import OsAccountProvider
from providers.host import Command, HostTarget
from providers.transport import LocalTransport


def fake_logger(tmp_path, monkeypatch):
    """A ``logger`` on PATH that appends its argv to a file: the local transport runs it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "journal.txt"
    (bin_dir / "logger").write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {log}\n')
    (bin_dir / "logger").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def lines(log) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_a_change_writes_one_line_per_host_first_in_its_first_write(tmp_path, monkeypatch):
    log = fake_logger(tmp_path, monkeypatch)
    t = LocalTransport(HostTarget(name="ws1", address="local"))
    e = journal.Entry("dev", "7", "update", "OsAccount", "ws1/alice", "alice")
    with journal.entry(e):
        t.exchange([], [Command.of("true", check=False)])  # a read: no line
        assert lines(log) == []
        (r,) = t.run_batch([Command.of("echo", "write")])
        assert r.stdout == "write\n", "the caller sees its own results only"
        t.run_batch([Command.of("echo", "again")])
    assert lines(log) == ["-t keystone -- stack=dev update=7 op=update resource=OsAccount id=ws1/alice person=alice"]
    t.run_batch([Command.of("echo", "outside a change")])
    assert len(lines(log)) == 1


def test_unknown_update_and_hostile_names_stay_one_safe_word(tmp_path, monkeypatch):
    monkeypatch.delenv("KEYSTONE_UPDATE", raising=False)
    e = journal.Entry(None, journal.current_update(), "create", "OsAccount", "h/x; rm -rf /", "$(id)")
    assert e.message() == "stack=? update=? op=create resource=OsAccount id=h/x__rm_-rf_/ person=__id_"


def test_provider_operations_are_journaled_with_the_person_and_never_a_secret(tmp_path, monkeypatch):
    """An account's create is wrapped: the entry it opens names the person, not the password hash."""
    monkeypatch.setenv("KEYSTONE_UPDATE", "12")
    monkeypatch.setenv("KEYSTONE_STACK", "staging")
    seen = []

    def fake_create_new(self, inputs):
        seen.append(journal._CURRENT.get().message())
        return {"done": True}

    monkeypatch.setattr(OsAccountProvider, "_create_new", fake_create_new)
    provider = OsAccountProvider()
    secret = "$6$rounds=5000$saltsalt$" + "h" * 86
    props = {"host": {"name": "ws1", "address": "local"}, "username": "alice", "uid": 20001, "groups": [],
             "shell": "/bin/bash", "home": "/home/alice", "comment": "Alice", "ssh_keys": [],
             "password_hash": secret}
    result = provider.create(props)
    assert result.outs == {"done": True}
    assert seen == ["stack=staging update=12 op=create resource=OsAccount id=ws1/alice person=alice"]
    assert secret not in seen[0]
    assert journal._CURRENT.get() is None, "the entry closes with the operation"
