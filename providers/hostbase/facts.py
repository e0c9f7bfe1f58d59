"""Pure parser of the host base's gather (``gather.sh``): swap, packages (installed, and whether apt
knows them), the apt lists' age, kubelogin, the backup timer, the snapshots of homes and backups."""
from __future__ import annotations

from dataclasses import dataclass, field

from providers.output import quote
from providers.scripts import script

GATHER = script(__file__, "gather.sh")
SECTIONS = ("@@now", "@@swap", "@@dpkg", "@@policy", "@@lists", "@@kubelogin", "@@timer", "@@snapshots")


class ParseError(RuntimeError):
    def __init__(self, message: str, host: str | None = None):
        super().__init__(f"host {host}: {message}" if host else message)


@dataclass(frozen=True)
class BaseFacts:
    now: int = 0
    swap_kib: int = 0
    installed: frozenset[str] = frozenset()
    candidates: dict[str, str] = field(default_factory=dict)  # package -> candidate version ("" : none)
    lists_mtime: int = 0  # newest apt list (0: none)
    sources_mtime: int = 0  # newest apt source
    kubelogin: str = "-"  # present | absent | - (not asked)
    timer_active: str = ""
    timer_enabled: str = ""
    snapshots: dict[str, int] = field(default_factory=dict)  # dataset@snap -> creation (epoch s)

    def knows(self, package: str) -> bool:
        """apt has an installation candidate for it."""
        return bool(self.candidates.get(package))

    @property
    def lists_current(self) -> bool:
        """The apt lists were read after the sources last changed: what apt does not know now, an
        ``apt-get update`` would not teach it."""
        return self.lists_mtime > 0 and self.lists_mtime >= self.sources_mtime

    @property
    def timer_running(self) -> bool:
        return self.timer_active in ("active", "activating") and self.timer_enabled in ("enabled", "enabled-runtime")

    def newest(self, dataset: str) -> int | None:
        """Creation time of the newest snapshot of ``dataset`` (None: none)."""
        times = [t for name, t in self.snapshots.items() if name.partition("@")[0] == dataset]
        return max(times) if times else None


def _sections(text: str, host: str | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    current = None
    for line in text.split("\n"):
        if line in SECTIONS:
            current = line
            out[current] = []
        elif current is not None:
            out[current].append(line)
    missing = [s for s in SECTIONS if s not in out]
    if missing:
        raise ParseError(f"base gather: sections {', '.join(missing)} missing from {quote(text)}", host)
    return out


def _int(text: str, what: str, host: str | None) -> int:
    text = text.strip()
    if not text:
        return 0
    if not (text.isascii() and text.isdigit() and len(text) <= 19):
        raise ParseError(f"base gather: {what} is not a number: {quote(text)}", host)
    return int(text)


def parse_policy(lines: list[str]) -> dict[str, str]:
    """``apt-cache policy`` of several packages: each package's candidate ("" for ``(none)``);
    a package apt does not know is absent."""
    out: dict[str, str] = {}
    current = None
    for line in lines:
        if line and not line.startswith(" ") and line.endswith(":"):
            current = line[:-1]
            out[current] = ""
        elif current is not None and line.strip().startswith("Candidate:"):
            value = line.split(":", 1)[1].strip()
            out[current] = "" if value == "(none)" else value
    return out


def parse_gather(text: str, host: str | None = None) -> BaseFacts:
    s = _sections(text, host)
    installed = set()
    for line in s["@@dpkg"]:
        name, _, status = line.partition("\t")
        if name and status.startswith("ii"):
            installed.add(name.partition(":")[0])
    lists, _, sources = (s["@@lists"][0] if s["@@lists"] else "").partition("\t")
    timer = (s["@@timer"][0] if s["@@timer"] and s["@@timer"][0] else "\t").split("\t")
    snapshots = {}
    for line in s["@@snapshots"]:
        if not line.strip():
            continue
        name, _, created = line.partition("\t")
        if "@" not in name:
            raise ParseError(f"base gather: not a snapshot line: {quote(line)}", host)
        snapshots[name] = _int(created, "a snapshot's creation", host)
    return BaseFacts(
        now=_int("".join(s["@@now"]), "the time", host),
        swap_kib=_int("".join(s["@@swap"]), "the swap", host),
        installed=frozenset(installed),
        candidates=parse_policy(s["@@policy"]),
        lists_mtime=_int(lists, "the apt lists' time", host),
        sources_mtime=_int(sources, "the apt sources' time", host),
        kubelogin=(s["@@kubelogin"][0].strip() if s["@@kubelogin"] else "-") or "-",
        timer_active=timer[0], timer_enabled=timer[1] if len(timer) > 1 else "",
        snapshots=snapshots)
