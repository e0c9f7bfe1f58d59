"""A canonical dump of what the contenders manage on the guest, to prove they all end in the same state."""
from __future__ import annotations

import re
import shlex

from bench.people import TEAM, Person

_PROPS = "quota,compression,recordsize,atime"


def dump_script(people: list[Person]) -> str:
    users = " ".join(p.username for p in people)
    datasets = " ".join(p.dataset for p in people)
    homes = " ".join(p.home for p in people)
    return "\n".join([
        f"echo @@passwd; getent passwd {users}",
        f"echo @@group; getent group {users} {TEAM}",
        f"echo @@shadow; getent shadow {users}",
        f"echo @@zfs; zfs get -H -o name,property,value,source {_PROPS} {datasets}",
        f"echo @@stat; stat -c '%n %U %G %a' {homes}",
        f"echo @@allow; for ds in {datasets}; do zfs allow \"$ds\"; done",
        "true",
    ]) + "\n"


def canonical(raw: str) -> list[str]:
    """Sorted lines; shadow's last-change day dropped (it depends on the date only); delegation lines
    as `dataset scope principal sorted-perms`."""
    out: list[str] = []
    section = None
    dataset = scope = None
    for line in raw.splitlines():
        if line.startswith("@@"):
            section = line[2:]
            continue
        if not line.strip():
            continue
        if section == "shadow":
            f = line.split(":")
            f[2] = "<day>"
            out.append("shadow " + ":".join(f))
        elif section == "allow":
            if m := re.match(r"^---- Permissions on (\S+) ", line):
                dataset = m.group(1)
            elif line.endswith("permissions:"):
                scope = line[:-len(" permissions:")]
            elif line.startswith("\t"):
                kind, _, rest = line.strip().partition(" ")
                name, _, perms = rest.rpartition(" ")
                out.append(f"allow {dataset} {scope} {kind} {name} {','.join(sorted(perms.split(',')))}")
        elif section == "group":  # members in a canonical order (the order they were added in varies)
            f = line.split(":")
            f[-1] = ",".join(sorted(m for m in f[-1].split(",") if m))
            out.append("group " + ":".join(f))
        else:
            out.append(f"{section} {line}")
    return sorted(out)


def dump(ssh, people: list[Person]) -> list[str]:
    """``ssh(script) -> stdout``: the guest's canonical state for these people."""
    return canonical(ssh(dump_script(people)))


def diff(a: list[str], b: list[str], limit: int = 12) -> list[str]:
    sa, sb = set(a), set(b)
    return [f"- {x}" for x in sorted(sa - sb)][:limit] + [f"+ {x}" for x in sorted(sb - sa)][:limit]


def quote(*args: str) -> str:
    return shlex.join(args)
