"""The floor of the host: the same shell commands, over one persistent SSH connection (ControlMaster),
with no tool in between.

create: (a) one round trip per command, (b) one script per person, (c) one script for everyone;
read:   every fact Keystone reads for these people, (a) one round trip per command, (b) one script per
        person, (c) one script for the whole host (whole-host reads: ``getent`` once, ``zfs get`` of the
        home tree once, one ``stat``, and ``zfs allow`` once per home — it takes one dataset per process);
change: ``zfs set quota`` per person, (b) one script per person, (c) one script for everyone;
group change: ``usermod -a -G`` per person, the same ways (the group created before, untimed).
"""
from __future__ import annotations

import os
import shlex
import subprocess
import time

from bench.people import DESCENDENT_PERMISSIONS, HOME_PARENT, PERMISSIONS, TEAM, TEAM_GID, Person

READ_PROPS = "type,mountpoint,readonly,encryption,quota,compression,recordsize,atime"


class Ssh:
    """Plain OpenSSH with its own ControlMaster: ``run(script)`` is one round trip."""

    def __init__(self, target: dict, control_dir: str):
        os.makedirs(control_dir, mode=0o700, exist_ok=True)
        self.argv = ["ssh", "-T", "-o", "ControlMaster=auto", "-o", f"ControlPath={control_dir}/%C",
                     "-o", "ControlPersist=600", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
                     "-p", str(target["port"]), "-l", target["user"], "-i", target["identity_file"],
                     "-o", "IdentitiesOnly=yes", "-o", f"UserKnownHostsFile={target['known_hosts_file']}",
                     "-o", "StrictHostKeyChecking=yes", "-o", f"HostKeyAlias={target['host_key_alias']}",
                     "--", target["address"]]
        self.round_trips = 0

    def run(self, script: str, check: bool = True) -> str:
        self.round_trips += 1
        p = subprocess.run(self.argv + ["sh", "-s"], input=script, capture_output=True, text=True)
        if check and p.returncode != 0:
            raise RuntimeError(f"floor: script exited {p.returncode}: {p.stderr.strip()[:500]}\n{script[:300]}")
        return p.stdout

    def close(self) -> None:
        subprocess.run(self.argv[:-2] + ["-O", "exit", "--", self.argv[-1]], capture_output=True)


def q(*args: str) -> str:
    return shlex.join(args)


def create_commands(p: Person) -> list[str]:
    props = [x for k, v in p.properties().items() for x in ("-o", f"{k}={v}")]
    return [
        q("groupadd", "-g", str(p.gid), p.username),
        q("useradd", "-u", str(p.uid), "-g", p.username, "-M", "-d", p.home, "-s", p.shell, "-c", p.comment,
          p.username),
        q("zfs", "create", *props, p.dataset),
        q("chown", f"{p.uid}:{p.gid}", p.home),
        q("chmod", "0700", p.home),
        q("zfs", "allow", "-u", p.username, ",".join(PERMISSIONS), p.dataset),
        q("zfs", "allow", "-d", "-u", p.username, ",".join(DESCENDENT_PERMISSIONS), p.dataset),
    ]


def read_commands(p: Person) -> list[str]:
    return [
        q("getent", "passwd", p.username),
        q("getent", "group"),
        q("getent", "shadow", p.username),
        f"cat {shlex.quote(p.home + '/.ssh/authorized_keys')} 2>/dev/null || true",
        q("zfs", "get", "-H", "-p", "-o", "name,property,value,source", READ_PROPS, p.dataset),
        q("stat", "-c", "%u:%g:%a", p.home),
        q("zfs", "allow", p.dataset),
    ]


def read_all_script(people: list[Person]) -> str:
    homes = " ".join(shlex.quote(p.home) for p in people)
    return "\n".join([
        "getent passwd; getent group; getent shadow",
        "grep -H '' " + " ".join(shlex.quote(p.home + "/.ssh/authorized_keys") for p in people) + " 2>/dev/null",
        q("zfs", "get", "-H", "-p", "-o", "name,property,value,source", "-d", "1", "-t", "filesystem",
          READ_PROPS, HOME_PARENT),
        f"stat -c '%u:%g:%a %n' {homes}",
        f"for ds in {' '.join(p.dataset for p in people)}; do zfs allow \"$ds\"; done",
        "true",
    ]) + "\n"


def change_commands(p: Person) -> list[str]:
    return [q("zfs", "set", f"quota={p.quota}", p.dataset)]


def group_change_commands(p: Person) -> list[str]:
    return [q("usermod", "-a", "-G", ",".join(p.groups), "--", p.username)]


def add_team() -> str:
    """What every contender's host gets before the group change (untimed): the group."""
    return q("groupadd", "-f", "-g", str(TEAM_GID), TEAM) + "\n"


def script(lines: list[str]) -> str:
    return "set -e\n" + "\n".join(lines) + "\n"


def timed(fn) -> tuple[float, int]:
    started = time.perf_counter()
    trips = fn()
    return time.perf_counter() - started, trips


def per_command(ssh: Ssh, people: list[Person], commands) -> int:
    before = ssh.round_trips
    for p in people:
        for c in commands(p):
            ssh.run(c + "\n")
    return ssh.round_trips - before


def per_person(ssh: Ssh, people: list[Person], commands) -> int:
    before = ssh.round_trips
    for p in people:
        ssh.run(script(commands(p)))
    return ssh.round_trips - before


def everyone(ssh: Ssh, people: list[Person], commands) -> int:
    before = ssh.round_trips
    ssh.run(script([c for p in people for c in commands(p)]))
    return ssh.round_trips - before


def read_everyone(ssh: Ssh, people: list[Person]) -> int:
    out = ssh.run(read_all_script(people))
    if out.count("---- Permissions on") < len(people):
        raise RuntimeError("floor read: missing zfs allow output")
    return 1
