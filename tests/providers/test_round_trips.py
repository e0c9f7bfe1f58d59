"""Round trips to the host, counted (not timed): a regression to one read per resource fails here.

The transport appends one line per round trip to ``$KEYSTONE_TRANSPORT_LOG``; each ``pulumi`` command
starts its own provider process, so each phase below uses a new ``DynamicProviderHost`` with the log
set, and counts the lines of that process.
"""
from __future__ import annotations

import json

import pytest

from providers.accounts.account import OsAccountProvider
from providers.zfs.dataset import ZfsDatasetProvider
from providers.zfs.delegation import ZfsDelegationProvider
from tests.harness.provider_host import DynamicProviderHost

pytestmark = pytest.mark.guest
HOME = "rpool/crypt/home"
PEOPLE = (("rta", 25101), ("rtb", 25102), ("rtc", 25103))


def inputs(target, user, uid, quota="1G"):
    host = target.model_dump()
    return {
        "dataset": (ZfsDatasetProvider, {"host": host, "dataset": f"{HOME}/{user}", "owner": user, "owner_uid": uid,
                                         "owner_gid": uid, "properties": {"quota": quota}}),
        "account": (OsAccountProvider, {"host": host, "username": user, "uid": uid, "home": f"/home/{user}"}),
        "delegation": (ZfsDelegationProvider, {"host": host, "dataset": f"{HOME}/{user}", "user": user}),
    }


def trips(log, pid: int) -> int:
    if not log.exists():
        return 0
    return sum(1 for line in log.read_text().splitlines() if json.loads(line)["pid"] == pid)


def test_refresh_reads_a_host_once_and_preview_not_at_all(guest, guest_target, provider_host, tmp_path):
    log = tmp_path / "round-trips.jsonl"
    env = {"KEYSTONE_TRANSPORT_LOG": str(log)}
    state = {}
    with DynamicProviderHost(env=env) as up:  # `pulumi up` from nothing: one round trip per create
        for user, uid in PEOPLE:
            for kind, (provider, news) in inputs(guest_target, user, uid).items():
                r = up.resource(provider())
                checked, failures = r.check(news)
                assert failures == []
                state[(user, kind)] = (provider, checked, *r.create(checked))
        assert trips(log, up.pid) == 3 * len(PEOPLE)

    with DynamicProviderHost(env=env) as preview:  # `pulumi preview`, nothing changed: no host at all
        for provider, checked, id_, outs in state.values():
            r = preview.resource(provider())
            assert r.diff(id_, outs, r.check(checked, outs)[0]).changes is False
        assert trips(log, preview.pid) == 0

    with DynamicProviderHost(env=env) as refresh:  # `pulumi refresh`: every Read from one gather
        for provider, _checked, id_, outs in state.values():
            read_id, _, read_inputs = refresh.resource(provider()).read(id_, outs)
            assert read_id == id_
            assert refresh.resource(provider()).diff(id_, outs, read_inputs).changes is False
        assert trips(log, refresh.pid) == 1

        # a write through the same process patches the gather with its read-back: the next Read
        # sees the new value, without a round trip
        provider, checked, id_, outs = state[("rta", "dataset")]
        r = refresh.resource(provider())
        bigger, _ = r.check(inputs(guest_target, "rta", 25101, quota="2G")["dataset"][1], outs)
        outs = r.update(id_, outs, bigger)
        before = trips(log, refresh.pid)
        _, _, read_inputs = r.read(id_, outs)
        assert read_inputs["properties"]["quota"] == "2G"
        assert trips(log, refresh.pid) == before


def test_refresh_with_the_base_reads_a_host_once_whichever_read_comes_first(guest, guest_target, tmp_path):
    """The base (``host:Base``, its machine-wide file, the people's budget drop-ins) joins the host's one
    gather: ``host:Base`` declares what it reads (``providers/hostbase/declaration.py``), so the first
    Read of a refresh — an account, a budget, a file or the base — reads what all the others need."""
    from providers.hostbase import budget
    from providers.hostbase.resource import BaseProvider
    from providers.hostfile.file import ManagedFileProvider

    log = tmp_path / "round-trips.jsonl"
    env = {"KEYSTONE_TRANSPORT_LOG": str(log)}
    host = guest_target.model_dump()
    people = (("rtd", 25104), ("rte", 25105))
    profile = "/etc/profile.d/keystone-rt.sh"
    state: dict[str, tuple] = {}
    try:
        with DynamicProviderHost(env=env) as up:
            specs: dict[str, tuple] = {}
            for user, uid in people:
                for kind, spec in inputs(guest_target, user, uid).items():
                    specs[f"{user}-{kind}"] = spec
                specs[f"{user}-budget"] = (ManagedFileProvider, {
                    "host": host, "path": budget.dropin_path(uid), "reload": "systemd",
                    "content": budget.render_dropin(user, uid, "1G", 100, "512")})
            specs["file"] = (ManagedFileProvider, {"host": host, "path": profile, "content": "export RT=1\n"})
            specs["base"] = (BaseProvider, {"host": host, "packages": ["procps"], "home_parent": HOME,
                                            "files": [profile]})
            for name, (provider, news) in specs.items():
                r = up.resource(provider())
                checked, failures = r.check(news)
                assert failures == [], (name, failures)
                state[name] = (provider, checked, *r.create(checked))
        assert guest.ssh("cat /var/lib/keystone/base.read").stdout == (
            f"tree {HOME}\npackage procps\nfile {profile}\n")

        names = list(state)
        for first in ("base", "file", "rtd-budget", "rtd-account", "rte-dataset"):
            with DynamicProviderHost(env=env) as refresh:  # `pulumi refresh`: every Read from one gather
                for name in [first] + [n for n in names if n != first]:
                    provider, _checked, id_, outs = state[name]
                    read_id, _, read_inputs = refresh.resource(provider()).read(id_, outs)
                    assert read_id == id_, name
                    assert refresh.resource(provider()).diff(id_, outs, read_inputs).changes is False, name
                assert trips(log, refresh.pid) == 1, f"first Read: {first}"

        # drift by hand is still seen through the shared gather
        guest.ssh(f"echo 'export RT=2' > {profile}")
        with DynamicProviderHost(env=env) as refresh:
            provider, _checked, id_, outs = state["file"]
            _, _, read_inputs = refresh.resource(provider()).read(id_, outs)
            assert read_inputs["content"].startswith("(changed on the host")
            assert trips(log, refresh.pid) == 1
    finally:
        with DynamicProviderHost() as down:
            for name in ("base", "file", "rtd-budget", "rte-budget"):
                if name in state:
                    provider, _checked, id_, outs = state[name]
                    down.resource(provider()).delete(id_, outs)
        assert guest.ssh("test -e /var/lib/keystone/base.read", check=False).returncode != 0



def test_a_change_of_several_people_plans_from_one_gather(guest, guest_target, provider_host, tmp_path):
    """`pulumi up` after two of three quotas changed: the updates arrive together, plan from the host's
    one gather and write in shared round trips; the third person's dataset gets nothing written."""
    from concurrent.futures import ThreadPoolExecutor

    log = tmp_path / "round-trips.jsonl"
    people = (("rtd", 25104), ("rte", 25105), ("rtf", 25106))
    state = {}
    with DynamicProviderHost() as up:
        for user, uid in people:
            for kind in ("dataset", "account"):
                provider, news = inputs(guest_target, user, uid)[kind]
                r = up.resource(provider())
                checked, _ = r.check(news)
                state[(user, kind)] = (checked, *r.create(checked))
    with DynamicProviderHost(env={"KEYSTONE_TRANSPORT_LOG": str(log)}) as change:
        def one(person):
            user, uid = person
            checked, id_, outs = state[(user, "dataset")]
            r = change.resource(ZfsDatasetProvider())
            news, _ = r.check(inputs(guest_target, user, uid, quota="1G" if user == "rtf" else "3G")["dataset"][1],
                              outs)
            if r.diff(id_, outs, news).changes:  # rtf: the inputs are the same, the engine sends no update
                r.update(id_, outs, news)
            return user

        with ThreadPoolExecutor(3) as pool:
            list(pool.map(one, people))
        assert trips(log, change.pid) <= 3  # one gather, then the two writes (shared when they meet)
    for user, _ in people:
        want = "1073741824" if user == "rtf" else str(3 * 1024**3)
        assert guest.ssh(f"zfs get -H -p -o value quota {HOME}/{user}").stdout.strip() == want
