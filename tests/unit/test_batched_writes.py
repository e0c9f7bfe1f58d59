"""Changes to one host batched across concurrent callers (``providers.hostcache.write_and_read``),
counted on a simulated host (a recording transport): a regression to one round trip per change, a
read per change, or a write for a dataset that already matches fails here."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from providers import hostcache, journal, transport
from providers.host import Command, CommandError, HostTarget, Result
from providers.accounts.facet import READ as ACCOUNTS_READ
from providers.zfs.facet import READ as ZFS_READ
from providers.transport.base import Transport
from providers.zfs.dataset import ZfsDatasetProvider

HOME = "rpool/crypt/home"
PROPS = {"compression": "lz4", "recordsize": "131072", "atime": "off", "readonly": "off",
         "encryption": "aes-256-gcm", "type": "filesystem"}


class SimulatedHost(Transport):
    """Home datasets with quotas, answering Keystone's ZFS and accounts reads and ``zfs set``, and
    recording every round trip (its groups of commands)."""

    def __init__(self, target: HostTarget, quotas: dict[str, str], delay: float = 0.05):
        super().__init__(target)
        self.quotas = dict(quotas)
        self.delay = delay
        self.trips: list[list[list[Command]]] = []
        self.lock = threading.Lock()

    def _groups_round_trip(self, groups, reads):
        with self.lock:
            self.trips.append([list(g) for g in groups] + ([list(reads)] if reads else []))
        time.sleep(self.delay)  # a round trip takes time: changes arriving meanwhile wait and go together
        return super()._groups_round_trip(groups, reads)

    def _round_trip(self, commands, stop_on_error, reads):
        with self.lock:
            self.trips.append([list(commands), list(reads)])
        time.sleep(self.delay)
        return super()._round_trip(commands, stop_on_error, reads)

    def _execute(self, commands, stop_on_error):
        out = []
        for c in commands:
            r = self._one(c)
            out.append(r)
            if stop_on_error and c.check and not r.ok:
                break
        return out

    def _one(self, c: Command) -> Result:
        argv = c.argv
        if argv[:3] == ("sh", "-c", ACCOUNTS_READ):
            return Result(c, 0, "@@passwd\n@@group\n@@shadow\n@@keys\n", "")
        if argv[:3] == ("sh", "-c", ZFS_READ):
            return Result(c, 0, self._zfs_read(list(argv[4:])), "")
        if argv[:2] == ("zfs", "set"):
            if argv[-1] == f"{HOME}/broken":
                return Result(c, 1, "", "cannot set property: out of space")
            for kv in argv[2:-1]:
                k, _, v = kv.partition("=")
                if k == "quota":
                    self.quotas[argv[-1]] = v
            return Result(c, 0, "", "")
        if argv[:1] == ("logger",):
            return Result(c, 0, "", "")
        if argv[:1] == ("systemctl",):
            return Result(c, 1 if "bad@x.service" in argv else 0, "", "Job for bad@x.service failed.")
        return Result(c, 127, "", f"unexpected {c.display()}")

    def _zfs_read(self, args: list[str]) -> str:
        names, roots = [], []
        while args:
            flag, value = args[0], args[1] if len(args) > 1 else ""
            (names if flag == "-n" else roots if flag == "-r" else []).append(value)
            args = args[2:] if flag in ("-n", "-r", "-m", "-a") else args[1:]
        shown = [n for n in ["rpool", HOME, *self.quotas] if n in names or n in roots or n.rsplit("/", 1)[0] in roots]
        get, mounts, stat = [], [], []
        for n in dict.fromkeys(shown):
            quota = self.quotas.get(n, "0")
            for p, v in {**PROPS, "quota": quota, "mountpoint": "/home/" + n.rsplit("/", 1)[-1]}.items():
                get.append(f"{n}\t{p}\t{v}\tlocal")
            if n in self.quotas:
                mounts.append(f"{n}\t/home/{n.rsplit('/', 1)[1]}")
                stat.append(f"4000:4000:700\t/home/{n.rsplit('/', 1)[1]}")
        return "\n".join(["@@get", *get, "@@mounts", *mounts, "@@stat", *stat, "@@allow", ""])

    def writes(self) -> list[Command]:
        return [c for trip in self.trips for g in trip for c in g if c.argv[:2] == ("zfs", "set")]


@pytest.fixture
def host():
    target = HostTarget(name="sim", address="sim.invalid")
    sim = SimulatedHost(target, {f"{HOME}/p{i:02d}": str(2**30) for i in range(20)})
    hostcache.CACHE.invalidate(target)
    with transport._TRANSPORTS_LOCK:
        transport._TRANSPORTS[target] = sim
    yield sim
    with transport._TRANSPORTS_LOCK:
        transport._TRANSPORTS.pop(target, None)
    hostcache.CACHE.invalidate(target)


def dataset(target: HostTarget, name: str, quota: str) -> dict:
    return {"host": target.model_dump(), "dataset": f"{HOME}/{name}", "owner": name, "owner_uid": 4000,
            "owner_gid": 4000, "properties": {"quota": quota, "compression": "lz4", "recordsize": "128K",
                                              "atime": "off"}}


def update_all(sim: SimulatedHost, quotas: dict[str, str], workers: int = 20) -> list:
    provider = ZfsDatasetProvider()

    def one(item):
        name, quota = item
        d = dataset(sim.target, name, quota)
        return provider.update(f"sim/{HOME}/{name}", d, d).outs

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, quotas.items()))


def test_a_quota_change_of_everyone_is_one_gather_and_a_few_batched_writes(host):
    outs = update_all(host, {f"p{i:02d}": "2G" for i in range(20)})
    assert all(o["observed"]["quota"] == "2G" for o in outs)
    assert all(q == "2G" for q in host.quotas.values())
    reads_only = [t for t in host.trips if not any(c.argv[:2] == ("zfs", "set") for g in t for c in g)]
    assert len(reads_only) == 1  # the host's one gather: no read per dataset
    assert len(host.writes()) == 20
    # 20 changes arriving at once: the first round trips go alone, the rest wait and go together
    assert len(host.trips) <= 1 + hostcache.MAX_IN_FLIGHT + 1, [len(t) for t in host.trips]


def test_nothing_is_written_for_a_dataset_that_already_matches(host):
    quotas = {f"p{i:02d}": ("1G" if i % 2 else "3G") for i in range(20)}
    update_all(host, quotas)
    assert sorted(c.argv[-1] for c in host.writes()) == sorted(f"{HOME}/p{i:02d}" for i in range(0, 20, 2))


def test_the_writes_of_a_batch_share_one_read_back_and_one_journal_line(host):
    started = threading.Event()

    def one(name: str):
        with journal.entry(journal.Entry("dev", "7", "update", "ZfsDataset", f"sim/{name}", name)):
            started.wait()
            return hostcache.write_and_read(host.target, [Command.of("zfs", "set", "quota=5G", f"{HOME}/{name}")],
                                            hostcache.Scope(users=(), datasets=(f"{HOME}/{name}",)))

    with ThreadPoolExecutor(12) as pool:
        futures = [pool.submit(one, f"p{i:02d}") for i in range(12)]
        started.set()
        states = [f.result()[1] for f in futures]
    merged = max(host.trips, key=len)
    loggers = [c for g in merged for c in g if c.argv[0] == "logger"]
    assert len(loggers) == 1 and loggers[0].stdin is not None and loggers[0].stdin.count("\n") >= 2
    reads = [c for g in merged for c in g if c.argv[:3] == ("sh", "-c", ZFS_READ)]
    assert len(reads) == 1  # one read-back of the union, parsed once
    assert all(s.datasets[f"{HOME}/p{i:02d}"].value("quota") == "5G" for i, s in enumerate(states))
    logged = sum(c.stdin.count("\n") if c.stdin else 1 for t in host.trips for g in t for c in g
                 if c.argv[0] == "logger")
    assert logged == 12  # every change's line, once


def test_a_failed_change_is_raised_to_its_caller_alone(host):
    host.quotas[f"{HOME}/broken"] = str(2**30)
    barrier = threading.Barrier(6)

    def one(name: str):
        barrier.wait()
        return hostcache.write_and_read(host.target, [Command.of("zfs", "set", "quota=5G", f"{HOME}/{name}")],
                                        hostcache.Scope(users=(), datasets=(f"{HOME}/{name}",)))

    with ThreadPoolExecutor(6) as pool:
        futures = {name: pool.submit(one, name) for name in ["broken", "p01", "p02", "p03", "p04", "p05"]}
    with pytest.raises(CommandError, match="out of space"):
        futures["broken"].result()
    assert all(futures[n].result()[1].datasets[f"{HOME}/{n}"].value("quota") == "5G" for n in futures if n != "broken")


def test_the_cached_gather_gets_the_read_back_instead_of_being_dropped(host):
    scope = hostcache.Scope(users=(), datasets=("rpool",), zfs_roots=(HOME,))
    hostcache.CACHE.get(host.target, scope)
    hostcache.write_and_read(host.target, [Command.of("zfs", "set", "quota=7G", f"{HOME}/p03")],
                             hostcache.Scope(users=(), datasets=(f"{HOME}/p03",)))
    trips = len(host.trips)
    state = hostcache.CACHE.get(host.target, scope)
    assert len(host.trips) == trips  # served from the gather, patched
    assert state.datasets[f"{HOME}/p03"].value("quota") == "7G"
    assert state.datasets[f"{HOME}/p04"].value("quota") == str(2**30)


def test_joined_commands_of_a_batch_are_one_command_per_verb(host):
    barrier = threading.Barrier(8)

    def one(i: int):
        unit = "bad@x.service" if i == 5 else f"echo@u{i}.service"
        barrier.wait()
        return hostcache.write_and_read(
            host.target, [Command.of("logger", "own", str(i))], hostcache.Scope(users=()),
            [Command.of("systemctl", "enable", "--no-reload", unit), Command.of("systemctl", "start", unit)])

    with ThreadPoolExecutor(8) as pool:
        results = [r for r, _ in pool.map(one, range(8))]
    calls = [c for t in host.trips for g in t for c in g if c.argv[0] == "systemctl"]
    starts = [c for c in calls if c.argv[1] == "start"]
    assert sum(len(c.argv) - 2 for c in starts) == 8  # every unit started once
    assert len(starts) <= 1 + hostcache.MAX_IN_FLIGHT  # joined: not one call per unit
    assert max(len(c.argv) for c in starts) > 3
    assert all(c.argv[1:2] == ("enable",) for c in calls[:1])  # enable before start in each round trip
    for i, r in enumerate(results):  # each change gets its own command's result, then the joined ones'
        assert r[0].command.argv == ("logger", "own", str(i)) and [x.command.argv[1] for x in r[1:]] == ["enable",
                                                                                                        "start"]
    assert not results[5][2].ok and "bad@x.service" in results[5][2].command.argv


def test_patched_replaces_only_what_the_read_back_read():
    from providers.accounts.facts import PasswdEntry
    from providers.hoststate import HostState, Scope, patched
    from providers.zfs.facts import DatasetState, PropertyValue

    def ds(name: str, quota: str) -> DatasetState:
        return DatasetState(name, {"quota": PropertyValue(quota, "local"), "type": PropertyValue("filesystem", "-")})

    def user(name: str, shell: str) -> PasswdEntry:
        return PasswdEntry(name, 4000, 4000, "", f"/home/{name}", shell)

    base = HostState(passwd={"a": user("a", "/bin/bash"), "b": user("b", "/bin/bash")},
                     datasets={f"{HOME}/a": ds(f"{HOME}/a", "1"), f"{HOME}/b": ds(f"{HOME}/b", "1")},
                     existing={f"{HOME}/a", f"{HOME}/b"}, owners={f"{HOME}/a": (1, 1, "700")})
    after = HostState(passwd={"a": user("a", "/bin/zsh")}, datasets={f"{HOME}/a": ds(f"{HOME}/a", "2")},
                      existing={f"{HOME}/a"})
    out = patched(base, after, Scope(users=("a",), datasets=(f"{HOME}/a",)))
    assert out.passwd["a"].shell == "/bin/zsh" and out.passwd["b"].shell == "/bin/bash"
    assert out.datasets[f"{HOME}/a"].value("quota") == "2" and out.datasets[f"{HOME}/b"].value("quota") == "1"
    assert f"{HOME}/a" not in out.owners  # read back without an owner: no longer known
    assert base.passwd["a"].shell == "/bin/bash"  # the base is not changed
    gone = patched(base, HostState(), Scope(users=(), datasets=(f"{HOME}/b",)))
    assert f"{HOME}/b" not in gone.existing and f"{HOME}/a" in gone.existing


def test_patched_keeps_the_root_files_and_the_base_the_write_did_not_read():
    """A write's read-back of accounts and a dataset leaves the cached root files, the base gather and
    the declaration as they were read; a file the read-back read again is the read-back's."""
    from providers.hostfile.plan import PathState
    from providers.hoststate import HostState, Scope, patched

    base = HostState(files={"/etc/a": PathState("file", "d1", "644", 0, 0), "/etc/b": PathState("file", "d2")},
                     files_read={"/etc/a", "/etc/b", "/etc/gone"}, base_args=("x",), declared_roots={f"{HOME}"})
    object.__setattr__(base, "base", object())  # any facts: carried as they are
    out = patched(base, HostState(), Scope(users=("a",), datasets=(f"{HOME}/a",)))
    assert out.files == base.files and out.file_read("/etc/gone") and out.base is base.base
    assert out.base_args == ("x",) and out.declared_roots == {HOME}
    again = patched(base, HostState(files={"/etc/b": PathState("file", "d3")}, files_read={"/etc/a", "/etc/b"}),
                    Scope(root_files=("/etc/a", "/etc/b")))
    assert "/etc/a" not in again.files, "read back absent: no longer there"
    assert again.files["/etc/b"].digest == "d3" and again.file_read("/etc/a")
