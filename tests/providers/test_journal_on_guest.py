"""Every change Keystone makes on a host is in that host's journal: an account created, updated and
deleted through the real dynamic-provider host leaves one `keystone` line per change on the guest
(stack, update, operation, resource, person), a read leaves none, and no line holds the password
hash (providers/journal.py)."""
from __future__ import annotations

import pytest

from providers.accounts.account import OsAccountProvider
from tests.harness.provider_host import DynamicProviderHost

pytestmark = pytest.mark.guest

HASH = "$6$journalsalt$" + "j" * 86


def journal(guest, since: str) -> list[str]:
    out = guest.ssh(f"journalctl -t keystone -o cat --no-pager --since '{since}'", check=False).stdout
    return [line for line in out.splitlines() if "person=jan" in line]


def test_changes_are_journaled_on_the_host_and_reads_are_not(guest, guest_target):
    since = guest.ssh("date '+%Y-%m-%d %H:%M:%S'").stdout.strip()
    provider = OsAccountProvider()
    inputs = {"host": guest_target.model_dump(), "username": "jan", "uid": 21501, "groups": ["users"],
              "shell": "/bin/bash", "home": "/home/jan", "comment": "Jan Journal", "ssh_keys": [],
              "password_hash": HASH}
    with DynamicProviderHost(env={"KEYSTONE_UPDATE": "42", "KEYSTONE_STACK": "journal-test"}) as host:
        r = host.resource(provider)
        checked, failures = r.check(inputs)
        assert failures == []
        id_, outs = r.create(checked)
        r.read(id_, outs)
        changed, _ = r.check({**inputs, "shell": "/bin/sh"})
        outs = r.update(id_, outs, changed)
        r.delete(id_, outs)
    lines = journal(guest, since)
    assert lines == [
        "stack=journal-test update=42 op=create resource=OsAccount id=guest/jan person=jan",
        "stack=journal-test update=42 op=update resource=OsAccount id=guest/jan person=jan",
        "stack=journal-test update=42 op=delete resource=OsAccount id=guest/jan person=jan",
    ], lines
    everything = guest.ssh(f"journalctl -t keystone -o cat --no-pager --since '{since}'").stdout
    assert HASH not in everything and "journalsalt" not in everything
