"""The whole program applied to the real guest (the closest thing to `pulumi up` here).

From an empty guest: onboard three people → a second run changes nothing → change one person's
quota and groups → offboard one (cannot log in, delegation gone, files still there) → re-activate
(files intact) → purge (archived).
"""
from __future__ import annotations

import subprocess
import textwrap

import pytest

from components.stack import ProgramInputs
from roster import RosterContext, parse_roster_text
from settings import settings_from_config
from tests.harness.provider_host import DynamicProviderHost
from tests.harness.up import Engine

pytestmark = pytest.mark.guest
HOME = "rpool/crypt/home"


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    out = {}
    for user in ("ana", "ben", "cyd"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{user}@e2e", "-f", str(d / user)],
                       check=True)
        out[user] = (d / user, (d / f"{user}.pub").read_text().strip())
    return out


def roster_text(keys, ana_quota="1G", ana_groups="[users]", ben_state="active", cyd_state="active"):
    return textwrap.dedent(f"""\
        people:
          ana:
            name: Ana E2E
            uid: 23001
            tier: admin
            groups: {ana_groups}
            ssh_keys: ["{keys['ana'][1]}"]
            zfs: {{quota: {ana_quota}, compression: lz4, recordsize: 128K, atime: off}}
          ben:
            name: Ben E2E
            uid: 23002
            tier: power-user
            ssh_keys: ["{keys['ben'][1]}"]
            zfs: {{quota: 1G}}
            state: {ben_state}
          cyd:
            name: Cyd E2E
            uid: 23003
            tier: namespace-owner
            namespaces: [team-c]
            ssh_keys: ["{keys['cyd'][1]}"]
            zfs: {{quota: 512M}}
            state: {cyd_state}
        """)


def program_inputs(guest_target, text) -> ProgramInputs:
    settings = settings_from_config({"hosts": [{**guest_target.model_dump(), "name": "guest"}]})
    roster = parse_roster_text(text, RosterContext(min_uid=1000, hosts=["guest"]))
    return ProgramInputs(stack="e2e", settings=settings, roster=roster)


def can_login(guest, user, key) -> bool:
    p = guest.ssh("id -un", user=user, key=key, check=False)
    return p.returncode == 0 and p.stdout.strip() == user


def test_people_lifecycle_end_to_end(guest, guest_target, keys):
    with DynamicProviderHost() as host:
        engine = Engine(host)

        # 1. onboard three people
        engine.up(program_inputs(guest_target, roster_text(keys)))
        assert engine.ops("create") == {f"{u}-guest-{p}" for u in ("ana", "ben", "cyd")
                                        for p in ("home", "account", "delegation")}
        for user, uid in (("ana", 23001), ("ben", 23002), ("cyd", 23003)):
            assert guest.ssh(f"getent passwd {user}").stdout.startswith(f"{user}:x:{uid}:{uid}:")
            assert guest.ssh(f"stat -c %u /home/{user}").stdout.strip() == str(uid)
            assert f"user {user} destroy" in guest.ssh(f"zfs allow {HOME}/{user}").stdout
            assert can_login(guest, user, keys[user][0])
        guest.ssh("runuser -u ben -- sh -c 'echo precious > /home/ben/notes.txt'")

        # 2. the same roster again changes nothing (check + diff only: no host command)
        engine.up(program_inputs(guest_target, roster_text(keys)))
        assert {s.op for s in engine.steps} == {"same"}

        # 3. one person's quota and groups
        engine.up(program_inputs(guest_target, roster_text(keys, ana_quota="2G", ana_groups="[users, video]")))
        assert engine.ops("update") == {"ana-guest-home", "ana-guest-account"}
        assert guest.ssh(f"zfs get -H -p -o value quota {HOME}/ana").stdout.strip() == str(2 * 1024**3)
        assert "ana" in guest.ssh("getent group video").stdout

        # 4. offboard ben: locked out, delegation gone, files still there
        engine.up(program_inputs(guest_target, roster_text(keys, ana_quota="2G", ana_groups="[users, video]",
                                                          ben_state="offboarded")))
        assert engine.ops("delete") == {"ben-guest-delegation"} and "ben-guest-account" in engine.ops("update")
        assert not can_login(guest, "ben", keys["ben"][0])
        assert "user ben" not in guest.ssh(f"zfs allow {HOME}/ben").stdout
        assert guest.ssh("cat /home/ben/notes.txt").stdout.strip() == "precious"
        assert guest.ssh(f"runuser -u ben -- zfs snapshot {HOME}/ben@x", check=False).returncode != 0

        # 5. re-activate: everything back, files intact
        engine.up(program_inputs(guest_target, roster_text(keys, ana_quota="2G", ana_groups="[users, video]")))
        assert "ben-guest-delegation" in engine.ops("create")
        assert can_login(guest, "ben", keys["ben"][0])
        assert guest.ssh("cat /home/ben/notes.txt").stdout.strip() == "precious"
        assert f"user ben destroy" in guest.ssh(f"zfs allow {HOME}/ben").stdout

        # 6. offboard, then purge cyd: account removed, home archived with its files
        guest.ssh("runuser -u cyd -- sh -c 'echo keep > /home/cyd/data.txt'")
        engine.up(program_inputs(guest_target, roster_text(keys, ana_quota="2G", ana_groups="[users, video]",
                                                          cyd_state="offboarded")))
        engine.up(program_inputs(guest_target, roster_text(keys, ana_quota="2G", ana_groups="[users, video]",
                                                          cyd_state="purged")))
        assert guest.ssh("getent passwd cyd", check=False).stdout == ""
        archived = guest.ssh("zfs list -H -o name -r rpool/crypt/archive").stdout.split()
        cyd = [a for a in archived if a.startswith("rpool/crypt/archive/cyd-")]
        assert len(cyd) == 1
        assert guest.ssh(f"zfs get -H -o value readonly {cyd[0]}").stdout.strip() == "on"
        assert guest.ssh(f"zfs list -H -o name {HOME}/cyd", check=False).returncode != 0
        # the archived files are all there
        guest.ssh(f"zfs set mountpoint=/mnt/cyd {cyd[0]}")
        assert guest.ssh("cat /mnt/cyd/data.txt").stdout.strip() == "keep"
