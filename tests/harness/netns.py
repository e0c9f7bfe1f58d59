"""A small IXP in network namespaces: one route server and two peers, each running its own bird.

Topology (every name starts with a unique ``ks-<hex>-`` prefix; nothing outside the namespaces is
touched — no host address, route or interface):

    ks-XXXX-ix:  bridge br0  ── veth ──  ks-XXXX-rs  10.99.0.1/24  fd00:99::1/64   (AS64511, managed by Keystone)
                             ── veth ──  ks-XXXX-p1  10.99.0.2/24  fd00:99::2/64   (AS64501, announces test routes)
                             ── veth ──  ks-XXXX-p2  10.99.0.3/24  fd00:99::3/64   (AS64502, the observer)

Each bird runs in the foreground (``-f``) as a child of the test process, with its own config,
control socket and pid file in a temporary directory; the route server's daemon runs as the
``bird`` user like Debian's unit.  The providers reach it through its control socket (a Unix socket
works across network namespaces), with the local transport.

Requirements: root, ``ip`` (iproute2), ``bird``/``birdc`` (bird2) and ``runuser``.  When missing the
tests fail (never skip): ``scripts/setup.sh`` installs them.
"""
from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from providers.bird import parse
from tests.harness.wait import wait_for

RS_ASN = 64511
P1_ASN = 64501
P2_ASN = 64502
ADDRS = {"rs": ("10.99.0.1", "fd00:99::1"), "p1": ("10.99.0.2", "fd00:99::2"), "p2": ("10.99.0.3", "fd00:99::3")}


def require_lab() -> None:
    missing = [t for t in ("ip", "bird", "birdc", "runuser") if shutil.which(t) is None]
    reasons = []
    if os.geteuid() != 0:
        reasons.append("root")
    if missing:
        reasons.append("the tools " + ", ".join(missing))
    try:
        import pwd
        pwd.getpwnam("bird")
    except KeyError:
        reasons.append("the bird user (Debian package bird2)")
    if reasons:
        # never a skip: the README's set-up installs all of it, and a missing real system must fail
        pytest.fail("netns tests need " + " and ".join(reasons) + " (run scripts/setup.sh as root)")


def sh(*argv: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
    p = subprocess.run(list(argv), capture_output=True, text=True, input=input)
    if check and p.returncode != 0:
        raise RuntimeError(f"`{' '.join(argv)}` exited {p.returncode}: {p.stderr.strip() or p.stdout.strip()}")
    return p


@dataclass
class Bird:
    """One bird daemon in one namespace."""

    name: str
    netns: str
    dir: Path
    process: subprocess.Popen | None = None

    @property
    def config(self) -> Path:
        return self.dir / "bird.conf"

    @property
    def run_dir(self) -> Path:
        return self.dir / "run"

    @property
    def socket(self) -> Path:
        return self.run_dir / "bird.ctl"

    def start(self, user: str | None = None) -> None:
        self.run_dir.mkdir(mode=0o750, exist_ok=True)
        argv = ["ip", "netns", "exec", self.netns, "bird", "-f", "-c", str(self.config), "-s", str(self.socket),
                "-P", str(self.run_dir / "bird.pid")]
        if user:  # like Debian: the daemon drops to `bird`, its run directory (socket, pid) belongs to it
            shutil.chown(self.run_dir, user, user)
            argv += ["-u", user, "-g", user]
        log = open(self.dir / "bird.stderr", "w")
        self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"bird {self.name} exited {self.process.returncode}: "
                                     f"{(self.dir / 'bird.stderr').read_text().strip()}")
            return self.socket.exists() and self.birdc("show", "status").returncode == 0
        wait_for(f"bird {self.name} control socket", ready, timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def birdc(self, *args: str) -> subprocess.CompletedProcess:
        return sh("birdc", "-s", str(self.socket), *args, check=False)

    def protocols(self) -> dict[str, parse.Protocol]:
        return parse.parse_show_protocols(self.birdc("show", "protocols").stdout)

    def status(self) -> parse.Status:
        return parse.parse_show_status(self.birdc("show", "status").stdout)

    def routes(self, table: str = "master4") -> set[str]:
        """Networks in ``table`` (``show route table T``, first column)."""
        out = self.birdc("show", "route", "table", table).stdout
        nets = set()
        for line in parse.reply_lines(out):
            first = line.split()[0] if line.split() else ""
            if "/" in first and not line.startswith((" ", "\t")):
                nets.add(first)
        return nets

    def established(self, *names: str) -> bool:
        protos = self.protocols()
        return all(n in protos and protos[n].established for n in names)


@dataclass
class Lab:
    prefix: str
    root: Path
    rs: Bird
    p1: Bird
    p2: Bird
    namespaces: list[str] = field(default_factory=list)

    @property
    def rs_dir(self) -> Path:
        return self.rs.dir


PEER_COMMON = """
router id {rid};
timeformat protocol iso long;
timeformat route iso long;
protocol device {{}}
"""

#: p1's announcements.  p1 is configured as a route-server client of nothing: with ``rs client`` on
#: its side it does not prepend its own ASN, so each route carries exactly the path written here.
#: Each rejected route is named for its reject cause; the comment gives the cause code the route server
#: must tag it with (``<RS ASN>:65520:<code>``, see providers/bird/communities.py).
P1_ROUTES_V4 = {
    "valid": ("185.1.0.0/24", [P1_ASN]),               # ROA 185.1.0.0/22 max 24 AS64501: accepted, RS:1000:1
    "unknown": ("185.2.0.0/24", [P1_ASN]),             # no covering ROA: accepted, RS:1000:2
    "invalid": ("185.1.1.0/24", [P1_ASN, 64666]),       # 14: ROA says AS64501, origin AS64666
    "bogon": ("10.1.0.0/16", [P1_ASN]),                 # 2
    "too_specific": ("185.2.1.128/25", [P1_ASN]),       # 13
    "too_short": ("6.0.0.0/7", [P1_ASN]),               # 13
    "default": ("0.0.0.0/0", [P1_ASN]),                 # 13: the default route is shorter than /8
    "wrong_first_as": ("185.2.2.0/24", [64777]),        # 6
    "wrong_next_hop": ("185.2.3.0/24", [P1_ASN], ADDRS["p2"][0]),  # 5: third-party next hop, p2's address
    "path_too_long": ("185.2.4.0/24", [P1_ASN] * 65),   # 1: 65 ASes, the policy allows 64
    "not_registered": ("195.1.0.0/24", [P1_ASN]),       # 12: outside P1_PREFIXES
}
P1_ROUTES_V6 = {
    "valid": ("2a0b:1::/48", [P1_ASN]),                # ROA 2a0b:1::/32 max 48 AS64501: accepted, RS:1000:1
    "invalid": ("2a0b:1:1::/48", [P1_ASN, 64666]),      # 14
    "bogon": ("2001:db8:1::/48", [P1_ASN]),             # 2
    "too_specific": ("2a0b:2::/64", [P1_ASN]),          # 13
    "too_short": ("2a0a::/15", [P1_ASN]),               # 13: the policy wants /16 or longer
    "wrong_first_as": ("2a0b:3::/48", [64777]),         # 6
    "not_global": ("fc00:1::/48", [P1_ASN]),            # 10: outside 2000::/3
    "not_registered": ("2a0c:1::/48", [P1_ASN]),        # 12: outside P1_PREFIXES
}
#: The cause each route above must be tagged with (accepted routes: absent).
CAUSES = {"invalid": 14, "bogon": 2, "too_specific": 13, "too_short": 13, "default": 13, "wrong_first_as": 6,
          "wrong_next_hop": 5,
          "path_too_long": 1, "not_registered": 12, "not_global": 10}
#: Peer 1's registered prefixes (the roster's ``prefixes``): its file accepts only these and their more-specifics.
P1_PREFIXES = ["185.0.0.0/8", "2a0b::/16"]
STATIC_ROAS = [
    {"prefix": "185.1.0.0/22", "max_length": 24, "asn": P1_ASN},
    {"prefix": "2a0b:1::/32", "max_length": 48, "asn": P1_ASN},
]


#: Large communities peer 1 puts on its RPKI-unknown route: a forged RPKI state and reject cause in the
#: route server's own ranges (it must delete them), and one of the peer's own (it must pass).
P1_FORGED = [(RS_ASN, 1000, 1), (RS_ASN, 65520, 2)]
P1_OWN_COMMUNITY = (P1_ASN, 100, 1)


def _static(routes: dict[str, tuple], extra: list[str] = ()) -> str:
    lines = []
    for name, (net, path, *via) in sorted(routes.items()):
        prepends = " ".join(f"bgp_path.prepend({asn});" for asn in reversed(path))
        if name == "unknown":
            prepends += "".join(f" bgp_large_community.add({c});" for c in P1_FORGED + [P1_OWN_COMMUNITY])
        lines.append(f"  route {net} {f'via {via[0]}' if via else 'blackhole'} {{ {prepends} }};")
    return "\n".join(lines + list(extra))


def p1_config(extra_v4: list[str] = ()) -> str:
    rid, _ = ADDRS["p1"]
    return PEER_COMMON.format(rid=rid) + f"""
protocol static st4 {{
  ipv4;
{_static(P1_ROUTES_V4, extra_v4)}
}}
protocol static st6 {{
  ipv6;
{_static(P1_ROUTES_V6)}
}}
template bgp to_rs {{
  local as {P1_ASN};
  rs client;
  connect delay time 1; connect retry time 2; error wait time 1, 3; error forget time 5;
}}
protocol bgp rs4 from to_rs {{ neighbor {ADDRS['rs'][0]} as {RS_ASN}; ipv4 {{ import all; export all; }}; }}
protocol bgp rs6 from to_rs {{ neighbor {ADDRS['rs'][1]} as {RS_ASN}; ipv6 {{ import all; export all; }}; }}
"""


def p2_config() -> str:
    rid, _ = ADDRS["p2"]
    return PEER_COMMON.format(rid=rid) + f"""
template bgp to_rs {{
  local as {P2_ASN};
  connect delay time 1; connect retry time 2; error wait time 1, 3; error forget time 5;
}}
protocol bgp rs4 from to_rs {{ neighbor {ADDRS['rs'][0]} as {RS_ASN}; ipv4 {{ import all; export none; }}; }}
protocol bgp rs6 from to_rs {{ neighbor {ADDRS['rs'][1]} as {RS_ASN}; ipv6 {{ import all; export none; }}; }}
"""


#: What the route server runs before Keystone takes over: a hand-written, unmanaged config.
RS_INITIAL = f"""# hand-written before Keystone
router id {ADDRS['rs'][0]};
protocol device {{}}
"""


def bring_up_node(ns: str, v4: str, v4_prefix: int, v6: str, directory: Path) -> None:
    """A node's namespace once its ``lan0`` exists: loopback and ``lan0`` up with their addresses (no
    IPv6 duplicate detection), and its state directory, readable by the ``bird`` user."""
    sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "-n", ns, "link", "set", "lan0", "up")
    sh("ip", "-n", ns, "addr", "add", f"{v4}/{v4_prefix}", "dev", "lan0")
    sh("ip", "-n", ns, "addr", "add", f"{v6}/64", "dev", "lan0", "nodad")
    directory.mkdir(mode=0o755)
    os.chmod(directory, 0o755)


def _build(prefix: str, root: Path, namespaces: list[str]) -> None:
    ix = f"{prefix}-ix"
    sh("ip", "netns", "add", ix)
    namespaces.append(ix)
    sh("ip", "-n", ix, "link", "add", "br0", "type", "bridge")
    sh("ip", "-n", ix, "link", "set", "br0", "up")
    for node, (v4, v6) in ADDRS.items():
        ns = f"{prefix}-{node}"
        sh("ip", "netns", "add", ns)
        namespaces.append(ns)
        sh("ip", "-n", ix, "link", "add", node, "type", "veth", "peer", "name", "lan0", "netns", ns)
        sh("ip", "-n", ix, "link", "set", node, "master", "br0", "up")
        bring_up_node(ns, v4, 24, v6, root / node)


@pytest.fixture(scope="session")
def lab() -> Lab:
    require_lab()
    prefix = f"ks-{secrets.token_hex(3)}"
    root = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    os.chmod(root, 0o755)  # the route server's daemon runs as `bird` and must reach its files
    namespaces: list[str] = []
    birds: list[Bird] = []
    try:
        _build(prefix, root, namespaces)
        rs, p1, p2 = (Bird(n, f"{prefix}-{n}", root / n) for n in ("rs", "p1", "p2"))
        rs.config.write_text(RS_INITIAL)
        os.chmod(rs.config, 0o644)
        p1.config.write_text(p1_config())
        p2.config.write_text(p2_config())
        for b in (p1, p2, rs):
            birds.append(b)
            b.start(user="bird" if b is rs else None)
        yield Lab(prefix, root, rs, p1, p2, namespaces)
    finally:
        for b in birds:
            b.stop()
        for ns in reversed(namespaces):
            sh("ip", "netns", "del", ns, check=False)
        shutil.rmtree(root, ignore_errors=True)
        left = [line for line in sh("ip", "netns", "list", check=False).stdout.splitlines() if line.startswith(prefix)]
        assert not left, f"network namespaces left behind: {left}"
