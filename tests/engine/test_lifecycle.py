"""A person's whole life through `pulumi up` on the real guest: onboard (then a no-change preview and
refresh) → change quota and groups → offboard → re-activate → purge → removed from the roster →
`pulumi destroy` of the stack.  Every step succeeds under the real engine's rules and no home is ever
destroyed (the stack does not allow it).  On the file backend and on the team backend."""
from __future__ import annotations

import pytest

from tests.harness import postgres as pg
from tests.harness.engine_people import HOME, can_login, roster_text
from tests.harness.engine_stack import stack_config

pytestmark = [pytest.mark.guest, pytest.mark.engine]
DYNAMIC = "pulumi-python:dynamic/"


@pg.BACKENDS
def test_people_lifecycle_under_the_real_engine(guest, workspace, keys):
    ws = workspace

    def apply(**roster):
        ws.write_roster(roster.pop("text", None) or roster_text(keys, **roster))
        return ws.up("e2e").changed(DYNAMIC)

    ws.write_stack("e2e", stack_config(guest, str(ws.project / "rosters" / "roster.yaml")))
    ws.write_roster(roster_text(keys))
    ws.init("e2e")

    # 1. onboard three people
    assert apply() == {f"{u}-guest-{p}": "create" for u in ("ana", "ben", "cyd")
                       for p in ("home", "account", "delegation")}
    for user, uid in (("ana", 23001), ("ben", 23002), ("cyd", 23003)):
        assert guest.ssh(f"getent passwd {user}").stdout.startswith(f"{user}:x:{uid}:{uid}:")
        assert can_login(guest, user, keys[user][0])
    guest.ssh("runuser -u ben -- sh -c 'echo precious > /home/ben/notes.txt'")
    assert ws.preview("e2e").changed() == {}
    assert ws.refresh("e2e").drift() == {}

    # 2. one person's quota and groups
    after = dict(ana_quota="2G", ana_groups="[users, video]")
    assert apply(**after) == {"ana-guest-home": "update", "ana-guest-account": "update"}
    assert guest.ssh(f"zfs get -H -p -o value quota {HOME}/ana").stdout.strip() == str(2 * 1024**3)

    # 3. offboard ben: locked out, delegation gone, files kept
    changed = apply(**after, ben_state="offboarded")
    assert changed == {"ben-guest-delegation": "delete", "ben-guest-account": "update",
                       "ben-guest-home": "update"}, changed
    assert not can_login(guest, "ben", keys["ben"][0])
    assert "user ben" not in guest.ssh(f"zfs allow {HOME}/ben").stdout
    assert guest.ssh("cat /home/ben/notes.txt").stdout.strip() == "precious"

    # 4. re-activate: everything back, files intact
    assert apply(**after)["ben-guest-delegation"] == "create"
    assert can_login(guest, "ben", keys["ben"][0])
    assert guest.ssh("cat /home/ben/notes.txt").stdout.strip() == "precious"

    # 5. offboard ben again; offboard then purge cyd (archived with her files)
    def archives() -> set[str]:
        listed = guest.ssh("zfs list -H -o name -r rpool/crypt/archive", check=False).stdout.split()
        return {a for a in listed if a.startswith("rpool/crypt/archive/cyd-")}

    guest.ssh("runuser -u cyd -- sh -c 'echo keep > /home/cyd/data.txt'")
    before = archives()
    apply(**after, ben_state="offboarded", cyd_state="offboarded")
    apply(**after, ben_state="offboarded", cyd_state="purged")
    assert guest.ssh("getent passwd cyd", check=False).stdout == ""
    archived = sorted(archives() - before)
    assert len(archived) == 1

    # 6. the purged and the offboarded person leave the roster: resources go, data stays
    only_ana = roster_text(keys, **after).split("  ben:")[0]
    changed = apply(text=only_ana)
    assert {n for n, op in changed.items() if op == "delete"} == {
        "ben-guest-home", "ben-guest-account", "cyd-guest-home", "cyd-guest-account"}, changed
    assert guest.ssh("cat /home/ben/notes.txt").stdout.strip() == "precious"
    assert guest.ssh(f"zfs list -H -o name {archived[0]}").returncode == 0
    assert ws.preview("e2e").changed() == {}

    # 7. destroy the whole stack: every resource leaves the state, no home is destroyed
    destroyed = ws.destroy("e2e")
    assert {"ana-guest-home", "ana-guest-account", "ana-guest-delegation"} <= set(destroyed.changed(DYNAMIC))
    for ds in (f"{HOME}/ana", f"{HOME}/ben", archived[0]):
        assert guest.ssh(f"zfs list -H -o name {ds}", check=False).returncode == 0, f"{ds} was destroyed"
    assert ws.export("e2e")["deployment"].get("resources") in (None, [])
