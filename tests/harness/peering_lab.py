"""Two BIRD route servers in network namespaces, and ``pulumi up --continue-on-error`` for the
program's peering graph through the real dynamic-provider gRPC host.

``peering_lab()`` starts one bird per route server, each in its own namespace with a ``lan0`` (one end of a veth pair)
holding its address on the peering LAN (sessions to the roster's peers try to connect and stay
``Active``/``Connect``: nothing answers, and nothing leaves the namespace), running as the ``bird``
user with a hand-written config, like a Debian route server before Keystone takes over.  The
providers reach each daemon through its control socket with the local transport.

``plan()`` runs the whole program under mocks and returns its dynamic resources with the
dependencies the program declared (captured from ``RegisterResource``, as the engine receives them).
``Engine`` applies such a graph the way the Pulumi engine does with ``--continue-on-error``:
Check → Create, or Diff → Update/Replace, up to ``parallel`` steps at once (the provider host
itself runs at most 4), a resource only after its dependencies succeeded (dependents of a failure
are skipped), resources no longer in the program deleted afterwards; state kept between runs;
``refresh`` calls Read on everything in state.  Without ``--continue-on-error`` the real engine
starts no new step after the first failure (in-flight ones finish).
"""
from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Iterator

from pulumi.runtime import mocks as pulumi_mocks

from program.mocks import RecordingMocks, run_program
from program.stack import ProgramInputs
from tests.harness.netns import Bird, bring_up_node, require_lab, sh
from tests.harness.provider_host import PROVIDER_KEY, DynamicProviderHost, ProviderError, ResourceClient
from tests.harness.up import DYNAMIC, Entry

RS_ASN = 64511
LAN_PREFIX = 16  # the sample's peering LAN 10.99.0.0/16, fd00:99::/64

INITIAL = """# hand-written before Keystone
router id {rid};
protocol device {{}}
"""


@dataclass
class RouteServerLab:
    name: str
    bird: Bird
    address_v4: str
    address_v6: str

    @property
    def dir(self) -> Path:
        return self.bird.dir

    @property
    def peers_dir(self) -> Path:
        return self.bird.dir / "peers.d"

    def settings(self, **over: Any) -> dict[str, Any]:
        """This route server as a ``keystone:peering.routeServers`` entry."""
        return {"name": self.name, "address": "local", "asn": RS_ASN, "routerId": self.address_v4,
                "configDir": str(self.dir), "peersDir": str(self.peers_dir), "controlSocket": str(self.bird.socket),
                "confirmTimeout": 10, "takeOverExisting": True, **over}

    def reset(self) -> None:
        """Back to the hand-written config with no peer file (the daemon reconfigured)."""
        shutil.rmtree(self.peers_dir, ignore_errors=True)
        for p in self.dir.iterdir():
            if p.name.startswith(("bird.conf.keystone-orig", ".bird.conf.keystone-")):
                p.unlink()
        self.bird.config.write_text(INITIAL.format(rid=self.address_v4))
        os.chmod(self.bird.config, 0o644)
        if self.bird.process and self.bird.process.poll() is None:
            out = self.bird.birdc("configure")
            assert "Reconfigured" in out.stdout or "Reconfiguration in progress" in out.stdout, out.stdout


@dataclass
class PeeringLab:
    prefix: str
    root: Path
    servers: list[RouteServerLab]
    namespaces: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> RouteServerLab:
        return next(s for s in self.servers if s.name == name)


@contextlib.contextmanager
def peering_lab(count: int = 2) -> Iterator[PeeringLab]:
    require_lab()
    prefix = f"ks-{secrets.token_hex(3)}"
    root = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    os.chmod(root, 0o755)
    lab = PeeringLab(prefix, root, [])
    try:
        for k in range(1, count + 1):
            name, ns = f"rs{k}", f"{prefix}-rs{k}"
            v4, v6 = f"10.99.255.{k}", f"fd00:99::ff0{k}"
            sh("ip", "netns", "add", ns)
            lab.namespaces.append(ns)
            # a veth pair inside the namespace (no dummy module here): lan0 is the peering LAN side
            sh("ip", "-n", ns, "link", "add", "lan0", "type", "veth", "peer", "name", "lan1")
            sh("ip", "-n", ns, "link", "set", "lan1", "up")
            bring_up_node(ns, v4, LAN_PREFIX, v6, root / name)
            server = RouteServerLab(name, Bird(name, ns, root / name), v4, v6)
            server.reset()
            lab.servers.append(server)
            server.bird.start(user="bird")
        yield lab
    finally:
        for s in lab.servers:
            s.bird.stop()
        for ns in reversed(lab.namespaces):
            sh("ip", "netns", "del", ns, check=False)
        shutil.rmtree(root, ignore_errors=True)


# --- the program's graph ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Planned:
    type: str
    name: str
    inputs: dict[str, Any]
    deps: tuple[str, ...]
    blob: str

    @property
    def short_type(self) -> str:
        return self.type.removeprefix(DYNAMIC)


_CAPTURE_LOCK = threading.Lock()


def plan(inputs: ProgramInputs, kinds: tuple[str, ...] = ("bird:", "zerotier:")) -> list[Planned]:
    """The program's dynamic resources of ``kinds`` with their declared dependencies (names)."""
    deps: dict[str, list[str]] = {}
    original = pulumi_mocks.MockMonitor.RegisterResource

    def register(self, request):
        deps[request.name] = list(request.dependencies)
        return original(self, request)

    with _CAPTURE_LOCK:
        pulumi_mocks.MockMonitor.RegisterResource = register
        try:
            run = run_program(inputs, RecordingMocks())
        finally:
            pulumi_mocks.MockMonitor.RegisterResource = original
    out = []
    for r in run.mocks.resources:
        if not r.type.startswith(DYNAMIC) or not r.type.removeprefix(DYNAMIC).startswith(kinds):
            continue
        news = dict(r.inputs)
        blob = news.pop(PROVIDER_KEY)
        out.append(Planned(r.type, r.name, news, tuple(u.rsplit("::", 1)[-1] for u in deps.get(r.name, [])), blob))
    names = {p.name for p in out}
    return [Planned(p.type, p.name, p.inputs, tuple(d for d in p.deps if d in names), p.blob) for p in out]


# --- the engine --------------------------------------------------------------------------------------

@dataclass
class UpResult:
    ops: dict[str, str] = field(default_factory=dict)       # name → create | update | replace | same | delete
    errors: dict[str, str] = field(default_factory=dict)    # name → what the engine would print
    skipped: set[str] = field(default_factory=set)          # a dependency failed
    volatile: set[str] = field(default_factory=set)         # refresh: only session states or route counts moved
    seconds: float = 0.0

    def named(self, op: str) -> set[str]:
        return {n for n, o in self.ops.items() if o == op}

    @property
    def changed(self) -> set[str]:
        return {n for n, o in self.ops.items() if o != "same"}


#: Outputs that report the daemon's live protocol states (``Active`` ↔ ``Connect`` while a peer is
#: unreachable): a refresh records them, but they are not drift (Diff compares names, not states).
VOLATILE = ("sessions", "protocols")
#: Outputs that are observations only (route counts, filled by a refresh, empty after a create or
#: update): a refresh records them, they are never drift (Diff does not look at them).
OBSERVED = ("routes",)


def _stable(outs: dict[str, Any]) -> dict[str, Any]:
    return {k: (sorted(v) if k in VOLATILE and isinstance(v, dict) else v) for k, v in outs.items()
            if k not in OBSERVED}


@dataclass
class Engine:
    host: DynamicProviderHost
    stack: str = "lab"
    parallel: int = 16
    state: dict[str, Entry] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _client(self, type_: str, name: str, blob: str) -> ResourceClient:
        return ResourceClient(self.host, blob, f"urn:pulumi:{self.stack}::keystone::{type_}::{name}")

    def _step(self, p: Planned) -> str:
        prior = self.state.get(p.name)

        def deleted() -> None:
            with self._lock:
                self.state.pop(p.name, None)

        # (the old resource is deleted with the new blob: the provider code is the same module)
        op, id_, outs = self._client(p.type, p.name, p.blob).step(p.inputs, (prior.id, prior.outs) if prior else None,
                                                                  deleted)
        if op != "same":
            with self._lock:
                self.state[p.name] = Entry(p.type, id_, outs, p.blob)
        return op

    def up(self, planned: list[Planned]) -> UpResult:
        """``pulumi up --continue-on-error`` for ``planned``."""
        t0 = time.perf_counter()
        result = UpResult()
        pending = {p.name: p for p in planned}
        done: set[str] = set()
        with ThreadPoolExecutor(self.parallel) as pool:
            running: dict[Future, str] = {}
            while pending or running:
                for name, p in list(pending.items()):
                    if any(d in result.errors or d in result.skipped for d in p.deps):
                        result.skipped.add(name)
                        del pending[name]
                    elif all(d in done for d in p.deps):
                        running[pool.submit(self._step, p)] = name
                        del pending[name]
                if not running:
                    break
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for f in finished:
                    name = running.pop(f)
                    try:
                        result.ops[name] = f.result()
                        done.add(name)
                    except ProviderError as e:
                        result.errors[name] = e.details
        # resources the program no longer registers: deleted, dependents (peer files) first
        gone = [n for n in self.state if n not in {p.name for p in planned}]
        gone.sort(key=lambda n: (0 if "PeerFile" in self.state[n].type else 1, n))
        for name in gone:
            entry = self.state[name]
            try:
                self._client(entry.type, name, entry.blob).delete(entry.id, entry.outs)
            except ProviderError as e:
                result.errors[name] = e.details
                continue
            del self.state[name]
            result.ops[name] = "delete"
        result.seconds = time.perf_counter() - t0
        return result

    def refresh(self) -> UpResult:
        """``pulumi refresh``: Read every resource in state; ``ops`` says same / update (drift) / delete (gone);
        a change of session states or route counts alone is "same" (listed in ``volatile``)."""
        t0 = time.perf_counter()
        result = UpResult()

        def read(name: str, entry: Entry) -> str:
            rid, outs, _ = self._client(entry.type, name, entry.blob).read(entry.id, entry.outs)
            with self._lock:
                if not rid:
                    del self.state[name]
                    return "delete"
                same = _stable(outs) == _stable(entry.outs)
                if same and outs != entry.outs:
                    result.volatile.add(name)
                self.state[name] = Entry(entry.type, rid, outs, entry.blob)
            return "same" if same else "update"

        with ThreadPoolExecutor(self.parallel) as pool:
            futures = {pool.submit(read, n, e): n for n, e in list(self.state.items())}
            for f, name in futures.items():
                try:
                    result.ops[name] = f.result()
                except ProviderError as e:
                    result.errors[name] = e.details
        result.seconds = time.perf_counter() - t0
        return result
