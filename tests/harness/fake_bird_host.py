"""A fake route-server host for the apply tests: files in a dict, a BIRD daemon that behaves like the
real one where the apply depends on it (replies copied from the captured fixtures), and fault injection.

It runs exactly the argv lists the plan produces (``cat``, ``tee``, ``bird -p``, ``birdc ...``), so a
test sees every command and round trip.  It is deliberately small: real-BIRD behaviour is proven by
the netns tests; this proves the orchestration (ordering, rollback, error messages) fast and without root.
"""
from __future__ import annotations

import fnmatch
import posixpath
import re
import threading
from dataclasses import dataclass, field
from collections.abc import Callable

from providers.bird import parse
from providers.host import Command, HostTarget, Result, TransportError
from providers.transport import Transport


@dataclass
class FakeDaemon:
    config_file: str
    protocols: dict[str, str] = field(default_factory=dict)   # name → proto type (BGP, Device, Static)
    undo: dict[str, str] | None = None                          # pending undo snapshot
    undo_in: float = 29.998                                     # seconds left before the pending undo
    unreachable: str | None = None                              # birdc cannot connect: what it prints
    reconfigurations: int = 0
    drop_on_configure: set[str] = field(default_factory=set)    # protocols the daemon "fails" to start


class FakeBirdHost(Transport):
    def __init__(self, config_dir: str = "/etc/bird"):
        super().__init__(HostTarget(name="rs1", address="fake"))
        self.files: dict[str, str] = {}
        self.unreadable_by_bird: set[str] = set()
        self.absent_dirs: set[str] = set()      # directories that do not exist (until ``mkdir``)
        self.daemon = FakeDaemon(config_file=posixpath.join(config_dir, "bird.conf"))
        self.batches: list[list[tuple[str, ...]]] = []
        self.fail: Callable[[tuple[str, ...]], tuple[int, str, str] | None] = lambda argv: None
        self.cut_after: int | None = None       # raise TransportError after this many commands of a batch
        self.confirm_too_late = False           # the undo timer "expires" before confirm arrives
        self._busy = threading.Lock()
        self.overlaps = 0
        self.journal: list[str] = []             # the lines Keystone wrote to the host's journal (logger -t keystone)

    # --- transport ---------------------------------------------------------------------------
    def _execute(self, commands, stop_on_error):
        if not self._busy.acquire(blocking=False):
            self.overlaps += 1
            self._busy.acquire()
        try:
            self.batches.append([c.argv for c in commands])
            results = []
            for i, cmd in enumerate(commands):
                if self.cut_after is not None and i >= self.cut_after:
                    raise TransportError("rs1", "host rs1: SSH connection failed or was cut (simulated)")
                injected = self.fail(cmd.argv)
                code, out, err = injected if injected else self._run(cmd)
                results.append(Result(cmd, code, out, err))
                if stop_on_error and cmd.check and code != 0:
                    break
            return results
        finally:
            self._busy.release()

    @property
    def round_trips(self) -> int:
        return len(self.batches)

    # --- the commands ------------------------------------------------------------------------
    def _run(self, cmd: Command) -> tuple[int, str, str]:
        argv = list(cmd.argv)
        name = argv[0]
        if name == "cat":
            return (0, self.files[argv[1]], "") if argv[1] in self.files else (1, "", f"cat: {argv[1]}: No such file or directory\n")
        if name == "tee":
            if posixpath.dirname(argv[1]) in self.absent_dirs:
                return 1, "", f"tee: {argv[1]}: No such file or directory\n"
            self.files[argv[1]] = cmd.stdin or ""
            return 0, cmd.stdin or "", ""
        if name == "mkdir":
            self.absent_dirs.discard(argv[-1])
            return 0, "", ""
        if name in ("chmod", "chgrp"):
            return 0, "", ""
        if name == "rm":
            for p in argv[2:]:
                self.files.pop(p, None)
            return 0, "", ""
        if name == "ln":
            self.files[argv[3]] = self.files[argv[2]]
            return 0, "", ""
        if name == "cp":
            self.files[argv[3]] = self.files[argv[2]]
            return 0, "", ""
        if name == "mv":
            src, dst = argv[2], argv[3]
            if src not in self.files:
                return 1, "", f"mv: cannot stat '{src}': No such file or directory\n"
            self.files[dst] = self.files.pop(src)
            return 0, "", ""
        if name == "find":
            d = argv[1]
            if d in self.absent_dirs:
                return 1, "", f"find: '{d}': No such file or directory\n"
            hits = [p for p in self.files if posixpath.dirname(p) == d and fnmatch.fnmatch(posixpath.basename(p), "*.conf")]
            return 0, "".join(f"{p}\n" for p in sorted(hits)), ""
        if name == "grep":
            d, pattern = argv[-1], argv[argv.index("-e") + 1]
            if d in self.absent_dirs:
                return 2, "", f"grep: {d}: No such file or directory\n"
            out = []
            for p in sorted(self.files):
                if p.startswith(d + "/") and p.endswith(".conf"):
                    out += [f"{p}:{line}" for line in self.files[p].splitlines()
                            if not pattern or re.match(r"^\s*neighbor\s", line)]
            return (0 if out else 1), "".join(f"{line}\n" for line in out), ""
        if name == "bird":
            return self._bird_p(argv[argv.index("-c") + 1], as_bird=False)
        if name == "runuser":
            rest = argv[argv.index("--") + 1:]
            return self._bird_p(rest[rest.index("-c") + 1], as_bird=True)
        if name == "birdc":
            return self._birdc(argv[3:])
        if name == "logger" and argv[1:4] == ["-t", "keystone", "--"]:
            self.journal.append(argv[4])
            return 0, "", ""
        raise AssertionError(f"unexpected command {argv}")

    def _expand(self, path: str, as_bird: bool, out: list[tuple[str, int, str]]) -> str | None:
        """Flatten includes; returns an error text or None.  ``out`` gets (file, line, text)."""
        if path not in self.files:
            return f"bird: Unable to open configuration file {path}: No such file or directory\n"
        if as_bird and path in self.unreadable_by_bird:
            return f"bird: Unable to open configuration file {path}: Permission denied\n"
        for n, line in enumerate(self.files[path].splitlines(), 1):
            m = re.match(r'^\s*include "([^"]+)";', line)
            if not m:
                out.append((path, n, line))
                continue
            pattern = m.group(1)
            targets = sorted(p for p in self.files if fnmatch.fnmatch(p, pattern) and
                             not posixpath.basename(p).startswith(".")) if "*" in pattern else [pattern]
            for t in targets:
                if as_bird and t in self.unreadable_by_bird:
                    return f"bird: {path}:{n}:10 Unable to open included file {t}: Permission denied\n"
                err = self._expand(t, as_bird, out)
                if err:
                    return err
        return None

    def _parse(self, path: str, as_bird: bool) -> tuple[str | None, dict[str, str]]:
        lines: list[tuple[str, int, str]] = []
        err = self._expand(path, as_bird, lines)
        if err:
            return err, {}
        depth = 0
        for file, n, text in lines:
            if "BROKEN" in text:
                return f"{file}:{n}:3 syntax error, unexpected CF_SYM_UNDEFINED", {}
            depth += text.count("{") - text.count("}")
        if depth:
            return f"{path}:1:0 syntax error, unexpected END", {}
        protocols = {}
        for _file, _n, text in lines:
            m = re.match(r"^\s*protocol\s+(\w+)\s+(\w+)", text)
            if m:
                protocols[m.group(2)] = {"bgp": "BGP", "device": "Device", "static": "Static"}.get(m.group(1), m.group(1))
        return None, protocols

    def _bird_p(self, path: str, as_bird: bool) -> tuple[int, str, str]:
        err, _ = self._parse(path, as_bird)
        if err:
            return 1, "", err if err.startswith("bird: ") else f"bird: {err}\n"
        return 0, "", ""

    def _birdc(self, args: list[str]) -> tuple[int, str, str]:
        d = self.daemon
        banner = "BIRD 2.0.12 ready.\n"
        reading = f"Reading configuration from {d.config_file}\n"
        if d.unreachable is not None:
            return 1, "", d.unreachable + "\n"
        if args in (["show", "protocols"], ["show", "protocols", "all"]):  # (no channel details: no routes here)
            rows = "".join(
                f"{n:<10} {t:<10} ---        {'start':<6} 2026-11-23 23:01:48  {'Active' if t == 'BGP' else ''}\n"
                for n, t in d.protocols.items())
            return 0, banner + "Name       Proto      Table      State  Since         Info\n" + rows, ""
        if args == ["show", "route", "filtered", "table", "all", "all"]:
            return 0, banner, ""  # no route in this fake (real output: tests/unit/bird/fixtures/show_route_filtered_all.txt)
        if args == ["configure", "status"]:
            pending = f"Configuration unconfirmed, undo in {d.undo_in:g} s\n" if d.undo is not None else ""
            return 0, banner + "Daemon is up and running\n" + pending, ""
        if args == ["configure", "check"]:
            err, _ = self._parse(d.config_file, as_bird=True)
            return (1, banner + reading + err + "\n", "") if err else (0, banner + reading + "Configuration OK\n", "")
        if args[:2] == ["configure", "timeout"]:
            err, protocols = self._parse(d.config_file, as_bird=True)
            if err:
                return 1, banner + reading + err + "\n", ""
            d.undo, d.undo_in = dict(d.protocols), float(args[2])
            d.protocols = {n: t for n, t in protocols.items() if n not in d.drop_on_configure}
            d.reconfigurations += 1
            return 0, banner + reading + f"Undo scheduled in {args[2]} s\nReconfigured\n", ""
        if args == ["configure", "confirm"]:
            if self.confirm_too_late and d.undo is not None:  # the timer fired just before
                d.protocols, d.undo = d.undo, None
            if d.undo is None:
                return 0, banner + "Nothing to do\n", ""
            d.undo = None
            return 0, banner + "Reconfiguration confirmed\n", ""
        if args == ["configure", "undo"]:
            if d.undo is None:
                return 0, banner + "Nothing to do\n", ""
            d.protocols, d.undo = d.undo, None
            return 0, banner + "Undo requested\nReconfigured\n", ""
        if args[0] == "restart":
            return 0, banner + f"{args[1]}: restarted\n", ""
        raise AssertionError(f"unexpected birdc {args}")

    # --- helpers for tests ---------------------------------------------------------------------
    def start_daemon(self) -> None:
        """Load the config on disk, as `bird` does at start."""
        protocols = self.loaded()
        assert protocols is not None, self._parse(self.daemon.config_file, as_bird=True)[0]
        self.daemon.protocols = protocols

    def loaded(self) -> dict[str, str] | None:
        """The protocols the config on disk declares (name → proto type), None if it does not parse."""
        err, protocols = self._parse(self.daemon.config_file, as_bird=True)
        return None if err else protocols

    def running(self) -> dict[str, str]:
        return dict(self.daemon.protocols)

    def scratch_files(self) -> list[str]:
        return sorted(p for p in self.files if ".keystone-" in p and not p.endswith(".keystone-orig"))


def protocols_of(text: str) -> list[str]:
    return parse.declared_protocols(text)
