"""The safe apply of one BIRD file, as pure functions: state in, commands out.

One *change* is "this file should now hold this text" (or "should not exist"), for the main config
(``bird:ServerConfig``) or one peer file (``bird:PeerFile``).  ``apply.py`` runs it in three round
trips, under a per-route-server lock:

1. **gather** (``gather_commands``/``observe``): the main config, the live file, the peer files and
   their ``neighbor`` lines, ``show protocols`` and ``configure status``.
2. **stage → check → swap → configure timeout** (``apply_steps``), stopping at the first failure:
   the candidate is written *beside* the live file (``.<name>.keystone-new``, a name BIRD's
   ``*.conf`` include never matches), then ``bird -p`` parses three check configs built from the
   main config: the base alone (is the running base sound?), base + candidate alone (names the real
   culprit: an unclosed ``{`` is otherwise reported in the *next* file), and base + every peer file
   with the candidate in place (the whole config); then as the ``bird`` user (the daemon must be
   able to read every file).  Only then: hard-link the live file as ``.<name>.keystone-old``,
   ``mv -f`` the candidate over it (atomic), ``birdc configure check`` (the daemon's own view, and
   which file it reads), ``birdc configure timeout N`` and ``show protocols``.
3. **confirm** (``confirm_commands``) when ``verify`` finds what was asked for, else **roll back**
   (``rollback_commands``): restore the previous file (or remove the new one) and ``configure undo``
   when an undo is pending, so the daemon is left as it was.

A main config's change may carry **seeds**: peer files that do not exist yet, staged, checked (in
the whole-config parse) and swapped in with it, so a route server's first deployment is one
``configure`` for all its peers instead of one safe apply per file.  If that apply fails for any
reason, ``apply.py`` rolls it back and applies the main config alone; each peer file then goes
through its own safe apply and reports its own problem.

``check`` adds what BIRD does not check: a neighbor address already used by another file (the
second session would sit Idle forever), removing the last peer (every session would drop) unless
explicitly allowed, a main config that does not include the peers directory, a pending undo left
by another apply, and a live file that Keystone does not manage.
"""
from __future__ import annotations

import dataclasses
import enum
import posixpath
import re
from dataclasses import dataclass, field
from typing import Literal
from collections.abc import Sequence

import validators
from providers.bird import parse
from providers.bird.models import RouteServer, check_path
from providers.bird.render import include_line, sha256
from providers.host import Command, Result

Kind = Literal["server", "peer"]


class PlanError(RuntimeError):
    """The change must not be applied; the message lists every problem with a hint."""


# --- paths ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Paths:
    live: str
    new: str
    old: str
    base: str
    alone: str
    full: str

    @staticmethod
    def beside(live: str) -> Paths:
        d, name = posixpath.split(live)
        stage = lambda kind: posixpath.join(d, f".{name}.keystone-{kind}")  # noqa: E731
        return Paths(live, stage("new"), stage("old"), stage("base"), stage("alone"), stage("full"))

    @property
    def orig(self) -> str:
        """Where a file Keystone took over (``take_over_existing``) is kept for good."""
        return self.live + ".keystone-orig"

    @property
    def scratch(self) -> tuple[str, ...]:
        return (self.new, self.base, self.alone, self.full)


# --- the change ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Seed:
    """A peer file laid down together with a new main config (see ``Change.seed``)."""

    live: str
    content: str

    @property
    def staged(self) -> str:
        return Paths.beside(self.live).new


@dataclass(frozen=True)
class Change:
    kind: Kind
    rs: RouteServer
    resource: str                 # "bird:PeerFile rs1/64500" — names the change in every message
    live: str                     # the file this change owns
    content: str | None           # None: the file must not exist
    marker: tuple[str, str]       # the Keystone header that says the file is ours
    adopt: bool = False           # create: an existing file must be ours (or identical) ...
    take_over: bool = False       # ... unless the admin explicitly lets us replace it
    previous_protocols: tuple[str, ...] = ()  # from state: protocols the old version declared
    # kind "server" only: peer files that go live in the same apply (a route server's first deployment:
    # one `configure` for all its peers).  ``fit_seeds`` keeps only those that cannot clash.
    seed: tuple[Seed, ...] = ()

    @property
    def paths(self) -> Paths:
        return Paths.beside(self.live)

    @property
    def expected_protocols(self) -> list[str]:
        own = parse.declared_protocols(self.content) if self.content is not None else []
        return own + [p for s in self.seed for p in parse.declared_protocols(s.content)]

    def removed_protocols(self, live_text: str | None) -> list[str]:
        before = set(parse.declared_protocols(live_text or "")) | set(self.previous_protocols)
        return sorted(before - set(self.expected_protocols))

    @property
    def where(self) -> str:
        return f"{self.resource} (route server {self.rs.name}, host {self.rs.target.name}, file {self.live})"


def birdc(rs: RouteServer, *args: str, check: bool = False) -> Command:
    return Command.of("birdc", "-s", rs.control_socket, *args, check=check)


# --- round trip 1: gather ------------------------------------------------------------------------

def gather_commands(change: Change) -> list[Command]:
    rs = change.rs
    return [
        Command.of("cat", rs.config_file, check=False),
        Command.of("cat", change.live, check=False),
        Command.of("find", rs.peers_dir, "-mindepth", "1", "-maxdepth", "1", "-name", "*.conf", check=False),
        Command.of("grep", "-r", "-H", "-E", "--include=*.conf", "-e", r"^[[:space:]]*neighbor[[:space:]]", rs.peers_dir,
                   check=False),
        birdc(rs, "show", "protocols"),
        birdc(rs, "configure", "status"),
    ]


@dataclass(frozen=True)
class Observed:
    main: str | None
    live: str | None
    peer_files: tuple[str, ...]
    neighbors: dict[str, list[str]]
    protocols: dict[str, parse.Protocol] | None
    birdc_error: str | None
    pending_undo: float | None
    peers_dir_exists: bool


def observe(change: Change, results: Sequence[Result]) -> Observed:
    rs = change.rs
    main, live, files, grep, protocols, status = results
    peer_files = []
    for line in files.stdout.splitlines():
        d, name = posixpath.split(line.strip())
        if d == rs.peers_dir and name.endswith(".conf") and not name.startswith("."):
            peer_files.append(line.strip())
    neighbors = {f: a for f, a in parse.parse_neighbor_grep(grep.stdout).items() if f in peer_files}
    birdc_error = None
    if not protocols.ok or "Unable to connect" in protocols.stdout + protocols.stderr:
        birdc_error = (protocols.stderr.strip() or protocols.stdout.strip() or f"exit {protocols.exit_code}")
    return Observed(
        main=main.stdout if main.ok else None,
        live=live.stdout if live.ok else None,
        peer_files=tuple(sorted(peer_files)),
        neighbors=neighbors,
        protocols=None if birdc_error else parse.parse_show_protocols(protocols.stdout),
        birdc_error=birdc_error,
        pending_undo=parse.parse_configure_status(status.stdout) if status.ok else None,
        peers_dir_exists=files.ok,
    )


# --- reads (refresh) -----------------------------------------------------------------------------------

def read_commands(rs: RouteServer) -> list[Command]:
    """One round trip for every Read of a route server: main config, every peer file, protocols with
    their route counts, and every filtered route with its attributes (its reject-cause community)."""
    return [
        Command.of("cat", rs.config_file, check=False),
        Command.of("find", rs.peers_dir, "-mindepth", "1", "-maxdepth", "1", "-name", "*.conf", check=False),
        # every line of every peer file, as FILE:LINE (the file names contain no ':')
        Command.of("grep", "-R", "-H", "-a", "--include=*.conf", "-e", "", rs.peers_dir, check=False),
        birdc(rs, "show", "protocols", "all"),
        # size: about 8 lines per filtered route, bounded by the sessions' receive limits
        birdc(rs, "show", "route", "filtered", "table", "all", "all"),
    ]


def _plain(path: str) -> bool:
    """A path Keystone would write into a BIRD file itself (``models.check_path``)."""
    return validators.passes(check_path, path)


def parse_peer_files(rs: RouteServer, listing: str, lines: str) -> dict[str, str]:
    """Peer file → content, from ``find`` and ``grep -H -e ''`` output (a file that does not end
    with a newline reads back with one; Keystone's files always end with one)."""
    files: dict[str, list[str]] = {}
    for line in listing.splitlines():
        d, name = posixpath.split(line.strip())
        if d == rs.peers_dir and name.endswith(".conf") and not name.startswith(".") and _plain(line.strip()):
            files[line.strip()] = []
    for line in lines.split("\n"):
        path, sep, text = line.partition(":")
        if sep and path in files:
            files[path].append(text)
    return {path: "".join(f"{x}\n" for x in content) for path, content in files.items()}


# --- checks BIRD does not make ---------------------------------------------------------------------

def candidate_neighbors(change: Change) -> list[str]:
    return [a for a, _asn in parse.neighbors(change.content or "")]


def check(change: Change, seen: Observed) -> list[str]:
    """Every reason not to apply, each with a hint (empty: go ahead)."""
    rs = change.rs
    problems: list[str] = []
    if seen.birdc_error:
        problems.append(f"cannot talk to BIRD on {rs.control_socket}: {seen.birdc_error} "
                        "(is the daemon running, and is control_socket right?)")
    if seen.pending_undo is not None:
        problems.append(f"BIRD has an unconfirmed reconfiguration (undo in {seen.pending_undo:g} s): another apply "
                        "is running or was cut off; retry once BIRD has undone it")
    if change.kind == "peer":
        if seen.main is None:
            problems.append(f"main config {rs.config_file} is missing: create the bird:ServerConfig for {rs.name} first")
        elif main_include_index(seen.main, rs) is None:
            problems.append(f"main config {rs.config_file} does not contain the line `{include_line(rs)}`: "
                            f"apply the bird:ServerConfig for {rs.name} first (peer files would not be loaded)")
        if not seen.peers_dir_exists:
            problems.append(f"peers directory {rs.peers_dir} does not exist: apply the bird:ServerConfig first")
    for f in seen.peer_files:
        if not _plain(f):
            problems.append(f"peer file name {f!r} has characters Keystone will not include; rename it")
    if change.content is not None and change.adopt and seen.live is not None and seen.live != change.content:
        found = parse.marker(seen.live)
        if found != change.marker and not change.take_over:
            problems.append(
                f"{change.live} already exists and is not managed by Keystone as {' '.join(change.marker)} "
                f"(found {('marker ' + ' '.join(found)) if found else 'no Keystone marker'}): move it away, or set "
                "take_over_existing: true to replace it (the old file is then kept as "
                f"{change.paths.orig})")
    if change.kind == "peer" and change.content is not None:
        mine = set(candidate_neighbors(change))
        for f in seen.peer_files:
            if f == change.live:
                continue
            dup = sorted(mine & set(seen.neighbors.get(f, [])))
            for addr in dup:
                problems.append(f"neighbor {addr} is already configured in {f}: BIRD would accept both files and "
                                "the second session would sit Idle forever; remove it there first")
    if change.kind == "peer" and change.content is None:
        others = [f for f in seen.peer_files if f != change.live]
        if not others and not rs.allow_empty_peer_set:
            problems.append(f"removing {change.live} would leave {rs.name} with no peer at all (every session drops): "
                            "set allow_empty_peer_set: true on the route server to allow it")
    return problems


def fit_seeds(change: Change, seen: Observed) -> Change:
    """The change with only the seeds that are safe to lay down: the file does not exist yet, its
    name is one Keystone includes, and none of its neighbors is configured in another file (or an
    earlier seed).  The others are left to their own ``bird:PeerFile``, which reports the problem."""
    taken = {a for f in seen.peer_files for a in seen.neighbors.get(f, [])}
    present = set(seen.peer_files)
    kept = []
    for seed in change.seed:
        mine = {a for a, _asn in parse.neighbors(seed.content)}
        if seed.live in present or not _plain(seed.live) or mine & taken:
            continue
        if posixpath.dirname(seed.live) != change.rs.peers_dir:
            continue
        kept.append(seed)
        taken |= mine
    return dataclasses.replace(change, seed=tuple(kept))


def is_noop(change: Change, seen: Observed) -> bool:
    """Already applied: the file holds exactly the content and the daemon runs it."""
    if seen.protocols is None or seen.pending_undo is not None:
        return False
    if change.content is None:
        return seen.live is None and not any(p in seen.protocols for p in change.removed_protocols(None))
    return seen.live == change.content and all(p in seen.protocols for p in change.expected_protocols)


@dataclass(frozen=True)
class Decision:
    """What round trip 1 decides: the change to apply (with only the seeds that fit), every reason
    not to apply it (empty: go ahead), and whether it is applied already."""

    change: Change
    problems: list[str]
    noop: bool


def decide(change: Change, seen: Observed) -> Decision:
    """``fit_seeds``, then ``check``, then ``is_noop``: the order every apply follows."""
    if change.seed:
        change = fit_seeds(change, seen)
    problems = check(change, seen)
    return Decision(change, problems, not problems and is_noop(change, seen))


# --- check configs -------------------------------------------------------------------------------

def main_include_index(main: str, rs: RouteServer) -> int | None:
    lines = main.splitlines()
    hits = [i for i, line in enumerate(lines) if line.strip() == include_line(rs)]
    return hits[0] if len(hits) == 1 else None


def _replace_include(main: str, rs: RouteServer, replacement: list[str]) -> str:
    """The main config with its peer include replaced (line numbers before it stay the same)."""
    lines = main.splitlines()
    i = main_include_index(main, rs)
    if i is None:
        raise PlanError(f"main config {rs.config_file} does not include {rs.peers_glob} exactly once")
    return "\n".join(lines[:i] + (replacement or ["# (peer files left out for this check)"]) + lines[i + 1:]) + "\n"


def _include(path: str) -> str:
    return f'include "{path}";'


@dataclass(frozen=True)
class CheckConfigs:
    base: str                 # the base alone (no peer file)
    alone: str | None         # base + the candidate alone (None: nothing to check alone)
    full: str | None          # text of the full check config (None: the candidate itself is the full config)


def check_configs(change: Change, seen: Observed) -> CheckConfigs:
    rs, p = change.rs, change.paths
    if change.kind == "server":
        assert change.content is not None
        full = None
        if change.seed:  # the glob would not pick up the staged seeds: name every file
            files = sorted([(f, f) for f in seen.peer_files] + [(s.live, s.staged) for s in change.seed])
            full = _replace_include(change.content, rs, [_include(staged) for _live, staged in files])
        return CheckConfigs(base=_replace_include(change.content, rs, []), alone=None, full=full)
    assert seen.main is not None
    others = [f for f in seen.peer_files if f != change.live]
    mine = [p.new] if change.content is not None else []
    return CheckConfigs(
        base=_replace_include(seen.main, rs, []),
        alone=_replace_include(seen.main, rs, [_include(p.new)]) if mine else None,
        full=_replace_include(seen.main, rs, [_include(f) for f in others + mine] or []),
    )


# --- round trip 2: stage, check, swap, configure timeout ----------------------------------------------

class Step(enum.Enum):
    STAGE = "stage the candidate"
    CHECK_BASE = "parse the main config without peer files (bird -p)"
    CHECK_ALONE = "parse the candidate alone with the main config (bird -p)"
    CHECK_FULL = "parse the whole config with the candidate in place (bird -p)"
    CHECK_USER = "parse the whole config as the bird user (runuser ... bird -p)"
    BACKUP = "keep the previous file"
    SWAP = "move the candidate into place"
    CONFIGURE_CHECK = "birdc configure check"
    CONFIGURE_TIMEOUT = "birdc configure timeout"
    SHOW = "birdc show protocols"


SWAPPED = (Step.SWAP, Step.CONFIGURE_CHECK, Step.CONFIGURE_TIMEOUT, Step.SHOW)


def apply_steps(change: Change, seen: Observed) -> list[tuple[Step, Command]]:
    rs, p = change.rs, change.paths
    cfg = check_configs(change, seen)
    mode = "0640" if rs.bird_user else "0644"
    seeds = change.seed
    steps: list[tuple[Step, Command]] = [(Step.STAGE, Command.of("rm", "-f", *p.scratch, p.old,
                                                                 *(s.staged for s in seeds)))]
    if change.kind == "server":
        dir_mode = "0750" if rs.bird_user else "0755"
        steps.append((Step.STAGE, Command.of("mkdir", "-p", "-m", dir_mode, rs.peers_dir)))
        if rs.file_group and not seen.peers_dir_exists:
            steps.append((Step.STAGE, Command.of("chgrp", rs.file_group, rs.peers_dir)))
    written: list[str] = []
    if change.content is not None:
        steps.append((Step.STAGE, Command.of("tee", p.new, stdin=change.content)))
        written.append(p.new)
    for s in seeds:
        steps.append((Step.STAGE, Command.of("tee", s.staged, stdin=s.content)))
        written.append(s.staged)
    steps.append((Step.STAGE, Command.of("tee", p.base, stdin=cfg.base)))
    written.append(p.base)
    if cfg.alone is not None:
        steps.append((Step.STAGE, Command.of("tee", p.alone, stdin=cfg.alone)))
        written.append(p.alone)
    if cfg.full is not None:
        steps.append((Step.STAGE, Command.of("tee", p.full, stdin=cfg.full)))
        written.append(p.full)
    full = p.full if cfg.full is not None else p.new
    steps.append((Step.STAGE, Command.of("chmod", mode, *written)))
    if rs.file_group:
        steps.append((Step.STAGE, Command.of("chgrp", rs.file_group, *written)))
    steps.append((Step.CHECK_BASE, Command.of("bird", "-p", "-c", p.base)))
    if cfg.alone is not None:
        steps.append((Step.CHECK_ALONE, Command.of("bird", "-p", "-c", p.alone)))
    steps.append((Step.CHECK_FULL, Command.of("bird", "-p", "-c", full)))
    if rs.bird_user:
        steps.append((Step.CHECK_USER, Command.of("runuser", "-u", rs.bird_user, "--", "bird", "-p", "-c", full)))
    if seen.live is not None:
        steps.append((Step.BACKUP, Command.of("ln", "-f", p.live, p.old)))
        if change.take_over and seen.live != change.content and parse.marker(seen.live) != change.marker:
            steps.append((Step.BACKUP, Command.of("cp", "-p", p.live, p.orig)))
    if change.content is not None:
        steps.append((Step.SWAP, Command.of("mv", "-f", p.new, p.live)))
    elif seen.live is not None:
        steps.append((Step.SWAP, Command.of("rm", "-f", p.live)))
    for s in seeds:
        steps.append((Step.SWAP, Command.of("mv", "-f", s.staged, s.live)))
    steps.append((Step.CONFIGURE_CHECK, birdc(rs, "configure", "check", check=True)))
    steps.append((Step.CONFIGURE_TIMEOUT, birdc(rs, "configure", "timeout", str(rs.confirm_timeout), check=True)))
    steps.append((Step.SHOW, birdc(rs, "show", "protocols")))
    return steps


# --- after round trip 2 --------------------------------------------------------------------------------

@dataclass
class Outcome:
    """What round trip 2 reached, for verify / confirm / rollback."""

    reached: Step | None                          # last step that ran (None: nothing ran)
    failed: Step | None = None                    # the step that failed (None: all ran)
    failure: Result | None = None
    configure_check: parse.ConfigureReply | None = None
    configure: parse.ConfigureReply | None = None
    protocols: dict[str, parse.Protocol] | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def swapped(self) -> bool:
        return self.reached in SWAPPED

    @property
    def undo_pending(self) -> bool:
        return self.configure is not None and self.configure.undo_scheduled is not None


def outcome(steps: Sequence[tuple[Step, Command]], results: Sequence[Result], failed_command: Command | None) -> Outcome:
    """Map the batch's results (and the failing command, if any) onto the steps."""
    by_id = {id(c): s for s, c in steps}
    out = Outcome(reached=None)
    for r in results:
        step = by_id.get(id(r.command))
        out.reached = step
        if step is Step.CONFIGURE_CHECK:
            out.configure_check = parse.parse_configure(r.stdout + r.stderr)
        elif step is Step.CONFIGURE_TIMEOUT:
            out.configure = parse.parse_configure(r.stdout + r.stderr)
        elif step is Step.SHOW and r.ok:
            out.protocols = parse.parse_show_protocols(r.stdout)
    if failed_command is not None:
        out.failed = by_id.get(id(failed_command))
        out.failure = next((r for r in results if r.command is failed_command), None)
    return out


def verify(change: Change, seen: Observed, out: Outcome) -> list[str]:
    """After ``configure timeout``: did the daemon load the right file and get the protocols we asked for?"""
    problems = []
    rs = change.rs
    if out.configure_check is not None and out.configure_check.config_file not in (None, rs.config_file):
        problems.append(f"the daemon on {rs.control_socket} reads {out.configure_check.config_file}, not "
                        f"{rs.config_file}: config_dir does not match the running BIRD")
    if out.configure is None or not out.configure.ok:
        problems.append("`configure timeout` did not reconfigure: " + (out.configure.text if out.configure else "(no reply)"))
    elif out.configure.undo_scheduled is None:
        problems.append("`configure timeout` scheduled no undo: " + out.configure.text)
    if out.protocols is None:
        problems.append("could not read `show protocols` after reconfiguring")
        return problems
    missing = [p for p in change.expected_protocols if p not in out.protocols]
    if missing:
        problems.append(f"protocols missing after reconfiguring: {', '.join(missing)}")
    left = [p for p in change.removed_protocols(seen.live)
            if p in out.protocols and out.protocols[p].state in ("up", "start")]
    if left:
        problems.append(f"protocols still running after reconfiguring: {', '.join(left)}")
    return problems


def unclosed_brace_line(text: str) -> int | None:
    """Line of the first ``{`` that is never closed (quoted strings and ``#`` comments ignored)."""
    stack: list[int] = []
    for n, line in enumerate(text.splitlines(), 1):
        line = re.sub(r'"[^"]*"', '""', line).split("#", 1)[0]
        for ch in line:
            if ch == "{":
                stack.append(n)
            elif ch == "}" and stack:
                stack.pop()
    return stack[0] if stack else None


def failure_message(change: Change, out: Outcome, seen: Observed | None = None) -> str:
    """What went wrong in round trip 2, naming file, line and BIRD's message."""
    p = change.paths
    if out.failed is None or out.failure is None:
        return "; ".join(out.problems) or "unknown failure"
    r = out.failure
    text = (r.stderr + "\n" + r.stdout).strip()
    errors = parse.parse_bird_errors(text)
    step = out.failed
    located = [_relocate(change, e) for e in errors]
    detail = "; ".join(located) or text[:1500] or f"exit {r.exit_code}"
    hint = ""
    if step is Step.CHECK_ALONE and change.content is not None and not any(e.file == p.new for e in errors):
        line = unclosed_brace_line(change.content)
        hint = (f" (BIRD reports it past the end of the candidate: the `{{` opened at {p.live}:{line} is never closed)"
                if line else " (BIRD reports it past the end of the candidate)")
    if step is Step.CHECK_FULL and seen is not None and errors and errors[0].file:
        order = [f for f in seen.peer_files if f != change.live]
        if errors[0].file in order and order.index(errors[0].file) > 0:
            before = order[order.index(errors[0].file) - 1]
            hint = (f" (if {errors[0].file} looks right, look for an unclosed `{{` in {before}, included just "
                    "before it: BIRD reports that in the next file)")
    if step is Step.CHECK_BASE:
        culprit = f"the main config {change.rs.config_file} is broken without any peer file (not caused by this change)" \
            if change.kind == "peer" else "the rendered main config does not parse"
    elif step is Step.CHECK_ALONE:
        culprit = f"the candidate {p.live} does not parse (checked alone with the main config)"
    elif step is Step.CHECK_FULL:
        culprit = ("the candidate parses alone, but the whole config does not (another peer file is broken or "
                   "conflicts with it)") if change.kind == "peer" else \
            "the new main config does not parse together with the existing peer files"
    elif step is Step.CHECK_USER:
        culprit = f"the config parses as root but not as the {change.rs.bird_user} user (file or directory permissions)"
    elif step is Step.CONFIGURE_CHECK:
        culprit = "the daemon's own `configure check` failed"
    elif step is Step.CONFIGURE_TIMEOUT:
        culprit = "the daemon refused to reconfigure"
    else:
        culprit = f"`{r.command.display()}` failed ({step.value})"
    return f"{culprit}: {detail}{hint}"


def _relocate(change: Change, e: parse.BirdError) -> str:
    """Name the live files instead of the scratch ones in BIRD's messages."""
    p = change.paths
    file = e.file
    seeded = {s.staged: s.live for s in change.seed}
    if file == p.new:
        file = f"{p.live} (candidate)"
    elif file in seeded:
        file = f"{seeded[file]} (seeded with the main config)"
    elif file in (p.base, p.alone, p.full):
        file = change.rs.config_file if change.kind == "peer" else f"{p.live} (candidate)"
    if file is None:
        return e.message.replace(p.new, p.live)
    return f"{file}:{e.line}" + (f":{e.column}" if e.column is not None else "") + f": {e.message}"


# --- round trip 3 ----------------------------------------------------------------------------------------

def restart_after(change: Change, seen: Observed) -> list[str]:
    """Protocols to restart once the new config runs.

    Observed on bird 2.0.12: when a reconfiguration replaces the ``device`` protocol by one with
    another name (e.g. Debian's anonymous ``device1`` → ``ks_device``), the new one starts before
    the old one's shutdown flushes the interface list, and BIRD then sees no interface at all until
    the next scan (60 s): every direct BGP session sits Idle.  Restarting the new one rescans.
    """
    if change.content is None or seen.protocols is None:
        return []
    new = {n for n, t in parse.declared_protocol_types(change.content).items() if t == "device"}
    old = {n for n, p in seen.protocols.items() if p.proto == "Device"}
    return sorted(new) if old - new else []


def confirm_commands(change: Change, seen: Observed) -> list[Command]:
    p = change.paths
    return ([birdc(change.rs, "configure", "confirm")]
            + [birdc(change.rs, "restart", name) for name in restart_after(change, seen)]
            + [Command.of("rm", "-f", *p.scratch, p.old, *(s.staged for s in change.seed), check=False)])


def rollback_commands(change: Change, seen: Observed, out: Outcome) -> list[Command]:
    """Put the previous file back (or remove the new one) and undo a pending reconfiguration."""
    p = change.paths
    cmds: list[Command] = []
    if out.swapped:
        if seen.live is not None:
            cmds.append(Command.of("mv", "-f", p.old, p.live, check=False))
        else:
            cmds.append(Command.of("rm", "-f", p.live, check=False))
        if change.seed:  # they did not exist before (fit_seeds)
            cmds.append(Command.of("rm", "-f", *(s.live for s in change.seed), check=False))
    if out.undo_pending:
        cmds.append(birdc(change.rs, "configure", "undo"))
    cmds.append(Command.of("rm", "-f", *p.scratch, *(s.staged for s in change.seed), check=False))
    if not out.swapped:
        cmds.append(Command.of("rm", "-f", p.old, check=False))
    return cmds


def content_sha(text: str | None) -> str | None:
    return None if text is None else sha256(text)
