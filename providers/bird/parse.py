"""Parse what BIRD prints (pure): ``birdc`` replies, ``bird -p`` errors, and our own files.

Every parser takes text captured from a real bird2 2.0.12 (fixtures in ``tests/unit/bird/fixtures``)
and returns typed state.  ``birdc`` is run without ``-v``: its first line is the banner
``BIRD x.y.z ready.``, the rest is the reply text.

The parsers are total: any text (a daemon that is down, a newer BIRD, a hand-edited file) gives a
result — lines they do not recognise are skipped or kept as messages — and never raises; the caller
decides what a missing protocol or an error reply means and says so naming the route server, the
host and the command.  Numbers are read only from ASCII digits of a bounded length.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from providers.bird import communities

BANNER = re.compile(r"^BIRD [0-9][^ ]* ready\.$")
#: ``show protocols`` "Since" column: ``iso long`` (``2024-01-02 03:04:05``, maybe ``.123``), ``iso short``
#: (``03:04:05``) or a bare date.
_SINCE = re.compile(r"\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}:\d{2}(?:\.\d+)?)?|\d{2}:\d{2}:\d{2}(?:\.\d+)?")
_ROW = re.compile(
    r"^(?P<name>\S+)\s+(?P<proto>\S+)\s+(?P<table>\S+)\s+(?P<state>\S+)\s+"
    r"(?P<since>" + _SINCE.pattern + r")(?:\s+(?P<info>.*?))?\s*$"
)
#: ``bird -p`` (``bird: FILE:LINE:COL MSG``) and ``birdc configure`` (``FILE:LINE:COL MSG``) errors.
_LOCATED = re.compile(r"^(?:bird: )?(?P<file>/?[^\s:]+(?:[^\s:]*)):(?P<line>[0-9]{1,9}):(?P<col>[0-9]{1,9}) (?P<message>.+)$")
#: BIRD 1.x / older 2.x style ``FILE, line N: MSG``.
_LOCATED_OLD = re.compile(r"^(?:bird: )?(?P<file>\S+), line (?P<line>[0-9]{1,9}): (?P<message>.+)$")

BGP_STATES = ("Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established", "Close", "Passive")

#: ``configure``/``configure timeout``/``configure undo`` replies that mean the new config is (being) applied.
CONFIGURE_OK = (
    "Reconfigured",
    "Reconfiguration in progress",
    "Reconfiguration already in progress, queueing new config",
    "Reconfiguration already in progress, removing queued config",
)


def reply_lines(text: str) -> list[str]:
    """The reply without the banner and blank lines."""
    return [line.rstrip() for line in text.splitlines() if line.strip() and not BANNER.match(line.strip())]


# --- show protocols ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Protocol:
    name: str
    proto: str
    table: str
    state: str  # up / start / down / stop / flush
    since: str
    info: str

    @property
    def bgp_state(self) -> str | None:
        """``Established``, ``Active``, ... for BGP (first word of Info); None for other protocols."""
        if self.proto != "BGP":
            return None
        word = self.info.split()[0] if self.info.split() else ""
        return word if word in BGP_STATES else (word or self.state)

    @property
    def summary(self) -> str:
        """What the ``sessions``/``protocols`` outputs show: ``Established`` for a BGP session that is,
        else the protocol state (``start`` while BGP is trying).  Not Idle/Connect/Active: they change
        by the second while a peer is away, and every refresh would show them as output changes.  A
        shutdown keeps its reason (``start (Automatic shutdown: Route limit exceeded)``): it lasts."""
        if self.established:
            return "Established"
        reason = self.info.split(None, 1)[1].strip() if len(self.info.split(None, 1)) == 2 else ""
        if self.proto == "BGP" and reason.startswith(("Automatic shutdown", "Administrative shutdown")):
            return f"{self.state} ({reason})"
        return self.state

    @property
    def established(self) -> bool:
        return self.state == "up" and self.bgp_state == "Established"


def parse_show_protocols(text: str) -> dict[str, Protocol]:
    """``birdc show protocols`` (or ``show protocols all``) → name → Protocol.  Columns are split on
    whitespace (a long name shifts them); "Since" is matched by its shape because ``iso long`` contains a
    space."""
    out: dict[str, Protocol] = {}
    for line in reply_lines(text):
        if line.startswith("Name ") and "Proto" in line or line[:1].isspace():
            continue  # the header, and the detail lines of `show protocols all`
        m = _ROW.match(line.strip())
        if not m:
            continue
        out[m["name"]] = Protocol(m["name"], m["proto"], m["table"], m["state"], m["since"], (m["info"] or "").strip())
    return out


# --- route counts and filtered routes ----------------------------------------------------------

_ROUTES = re.compile(r"^\s+Routes:\s+(?P<counts>.*)$")
_COUNT = re.compile(r"(\d+) (imported|filtered|exported|preferred)")
_CHANNEL = re.compile(r"^\s+Channel (\S+)$")


@dataclass(frozen=True)
class ChannelRoutes:
    """One channel's ``Routes:`` line: ``imported`` are the accepted routes, ``filtered`` the rejected
    ones the table keeps (``import keep filtered on``); received = both."""

    imported: int = 0
    filtered: int = 0
    exported: int = 0

    @property
    def received(self) -> int:
        return self.imported + self.filtered


def parse_route_counts(text: str) -> dict[str, dict[str, ChannelRoutes]]:
    """``birdc show protocols all`` → protocol → channel (``ipv4``...) → its route counts.  A channel
    that is down prints no ``Routes:`` line and is left out."""
    out: dict[str, dict[str, ChannelRoutes]] = {}
    protocol = channel = None
    for line in reply_lines(text):
        if not line[:1].isspace():
            m = _ROW.match(line.strip())
            protocol, channel = (m["name"] if m else None), None
            continue
        m = _CHANNEL.match(line)
        if m:
            channel = m.group(1)
            continue
        m = _ROUTES.match(line)
        if m and protocol and channel:
            counts = {kind: int(n) for n, kind in _COUNT.findall(m["counts"])}
            out.setdefault(protocol, {})[channel] = ChannelRoutes(
                counts.get("imported", 0), counts.get("filtered", 0), counts.get("exported", 0))
    return out


#: A route's first line: ``NET  TYPE [PROTOCOL SINCE ...] ...``; NET is blank for a second route of the same net.
_ROUTE = re.compile(r"^(?P<net>[0-9A-Fa-f:.]+/\d+)?\s+(?:unicast|blackhole|unreachable|prohibited)\s+\[(?P<proto>\S+)\s")
_TABLE = re.compile(r"^Table (\S+):$")


@dataclass(frozen=True)
class Route:
    """One route of ``show route ... all``: what a report needs of it."""

    table: str
    network: str
    protocol: str
    as_path: tuple[int, ...] = ()
    next_hop: str | None = None
    large_communities: tuple[tuple[int, int, int], ...] = ()


def parse_routes(text: str) -> list[Route]:
    """``birdc show route [filtered] table all all`` → the routes with their path, next hop and large
    communities (attribute lines start with a tab)."""
    routes: list[Route] = []
    table = network = None
    current: dict | None = None

    def flush() -> None:
        if current is not None:
            routes.append(Route(**current))

    for line in reply_lines(text):
        m = _TABLE.match(line)
        if m:
            flush()
            table, network, current = m.group(1), None, None
            continue
        m = _ROUTE.match(line)
        if m and table:
            flush()
            network = m["net"] or network
            current = {"table": table, "network": network, "protocol": m["proto"]}
            continue
        if current is None or not line[:1].isspace():
            continue
        key, _, value = line.strip().partition(": ")
        if key == "BGP.as_path":
            current["as_path"] = tuple(int(a) for a in re.findall(r"\d+", value))
        elif key == "BGP.next_hop":
            current["next_hop"] = value.split()[0] if value.split() else None
        elif key == "BGP.large_community":
            current["large_communities"] = tuple(communities.large_communities(value))
    flush()
    return routes


# --- configure replies ---------------------------------------------------------------------------

@dataclass(frozen=True)
class BirdError:
    file: str | None
    line: int | None
    column: int | None
    message: str

    def where(self) -> str:
        if self.file is None:
            return "(no location)"
        return f"{self.file}:{self.line}" + (f":{self.column}" if self.column is not None else "")

    def __str__(self) -> str:
        return f"{self.where()}: {self.message}" if self.file else self.message


def parse_bird_errors(text: str) -> list[BirdError]:
    """Errors from ``bird -p`` stderr or a ``birdc configure`` reply (nothing for success)."""
    errors: list[BirdError] = []
    for line in reply_lines(text):
        s = line.strip()
        m = _LOCATED.match(s)
        if m:
            errors.append(BirdError(m["file"], int(m["line"]), int(m["col"]), m["message"].strip()))
            continue
        m = _LOCATED_OLD.match(s)
        if m:
            errors.append(BirdError(m["file"], int(m["line"]), None, m["message"].strip()))
            continue
        if s.startswith("bird: "):
            errors.append(BirdError(None, None, None, s[len("bird: "):]))
    return errors


@dataclass(frozen=True)
class ConfigureReply:
    ok: bool
    config_file: str | None
    undo_scheduled: int | None
    messages: tuple[str, ...]
    errors: tuple[BirdError, ...] = ()

    @property
    def text(self) -> str:
        return "; ".join(self.messages) or "(no reply)"


def parse_configure(text: str) -> ConfigureReply:
    """``configure``, ``configure check``, ``configure timeout N``, ``configure confirm`` and
    ``configure undo`` replies.  ``ok`` means: checked OK, (being) reconfigured, or confirmed."""
    lines = [line.strip() for line in reply_lines(text)]
    config_file = None
    undo = None
    ok = False
    messages = []
    for line in lines:
        m = re.match(r"^Reading configuration from (.+)$", line)
        if m:
            config_file = m.group(1)
            continue
        m = re.match(r"^Undo scheduled in ([0-9]{1,9}) s$", line)
        if m:
            undo = int(m.group(1))
            continue
        messages.append(line)
        if line in CONFIGURE_OK or line in ("Configuration OK", "Reconfiguration confirmed", "Undo requested"):
            ok = True
    errors = tuple(parse_bird_errors("\n".join(messages)))
    if errors:
        ok = False
    return ConfigureReply(ok, config_file, undo, tuple(messages), errors)


def parse_configure_status(text: str) -> float | None:
    """Seconds until a pending undo (``configure timeout`` not yet confirmed), else None."""
    for line in reply_lines(text):
        m = re.search(r"Configuration unconfirmed, undo in ([0-9]{1,9}(?:\.[0-9]{1,9})?) s", line)
        if m:
            return float(m.group(1))
    return None


@dataclass(frozen=True)
class Status:
    version: str | None
    router_id: str | None
    last_reboot: str | None
    last_reconfiguration: str | None
    running: bool


def parse_show_status(text: str) -> Status:
    lines = [line.strip() for line in text.splitlines()]
    def find(pattern: str) -> str | None:
        for line in lines:
            m = re.match(pattern, line)
            if m:
                return m.group(1)
        return None
    return Status(
        version=find(r"^BIRD ([0-9][^ ]*)$") or find(r"^BIRD ([0-9][^ ]*) ready\.$"),
        router_id=find(r"^Router ID is (\S+)$"),
        last_reboot=find(r"^Last reboot on (.+)$"),
        last_reconfiguration=find(r"^Last reconfiguration on (.+)$"),
        running=any(line == "Daemon is up and running" for line in lines),
    )


# --- our own files -----------------------------------------------------------------------------

_PROTOCOL_DECL = re.compile(r"^\s*protocol\s+([a-z0-9]+)\s+([A-Za-z_][A-Za-z0-9_]*)\b", re.MULTILINE)
_NEIGHBOR = re.compile(r"^\s*neighbor\s+([0-9A-Fa-f:.]+)(?:%\S+)?\s+(?:port\s+[0-9]+\s+)?as\s+([0-9]{1,10})\b", re.MULTILINE)
_MARKER = re.compile(r"^# keystone-resource: (\S+) (\S+)$", re.MULTILINE)


def declared_protocols(text: str) -> list[str]:
    """Names of the protocols a config text declares (``protocol <type> <name>``; not templates)."""
    return [name for _type, name in _PROTOCOL_DECL.findall(text)]


def declared_protocol_types(text: str) -> dict[str, str]:
    """Declared protocol name → type (``bgp``, ``device``, ``static``, ``rpki``...)."""
    return {name: kind for kind, name in _PROTOCOL_DECL.findall(text)}


def neighbors(text: str) -> list[tuple[str, int]]:
    """``neighbor ADDR [port N] as ASN`` statements (address normalised)."""
    out = []
    for addr, asn in _NEIGHBOR.findall(text):
        try:
            out.append((str(ipaddress.ip_address(addr)), int(asn)))
        except ValueError:
            continue
    return out


def marker(text: str) -> tuple[str, str] | None:
    """``("bird:PeerFile", "rs1/64500")`` from the Keystone header, or None for a foreign file."""
    m = _MARKER.search(text)
    return (m.group(1), m.group(2)) if m else None


def parse_neighbor_grep(text: str) -> dict[str, list[str]]:
    """``grep -H -r ... neighbor`` output (``FILE:TEXT`` lines) → file → neighbor addresses."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        path, sep, rest = line.partition(":")
        m = re.match(r"^\s*neighbor\s+([0-9A-Fa-f:.]+)", rest) if sep else None
        if not m:
            continue
        try:
            out.setdefault(path, []).append(str(ipaddress.ip_address(m.group(1))))
        except ValueError:
            continue
    return out


@dataclass(frozen=True)
class PeerFileFacts:
    """What ``read`` learns from a peer file on disk."""

    marker: tuple[str, str] | None
    protocols: list[str] = field(default_factory=list)
    neighbors: list[tuple[str, int]] = field(default_factory=list)
    import_limits: list[int] = field(default_factory=list)
    receive_limits: list[int] = field(default_factory=list)


def parse_peer_file(text: str) -> PeerFileFacts:
    return PeerFileFacts(
        marker=marker(text),
        protocols=declared_protocols(text),
        neighbors=neighbors(text),
        import_limits=[int(x) for x in re.findall(r"^\s*import limit ([0-9]{1,10})\b", text, re.MULTILINE)],
        receive_limits=[int(x) for x in re.findall(r"^\s*receive limit ([0-9]{1,10})\b", text, re.MULTILINE)],
    )
