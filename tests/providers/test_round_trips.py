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
