"""The benchmark's people: what every contender provisions, and the inputs Keystone's providers take."""
from __future__ import annotations

from dataclasses import dataclass

HOME_PARENT = "rpool/crypt/home"
HOME_DIR = "/home"
UID_BASE = 40000
# docs/design.md ("ZFS homes"): the home's delegation; destroy only on descendants.
PERMISSIONS = ("atime", "bookmark", "compression", "create", "diff", "hold", "mount", "quota", "readonly",
               "receive", "recordsize", "refquota", "release", "rollback", "send", "snapshot", "userprop")
DESCENDENT_PERMISSIONS = ("destroy",)
TEAM = "benchteam"  # the group the group-change step adds everyone to (created on the host first)
TEAM_GID = 39999


@dataclass(frozen=True)
class Person:
    username: str
    uid: int
    quota: str
    compression: str = "lz4"
    recordsize: str = "128K"
    atime: str = "off"
    shell: str = "/bin/bash"
    groups: tuple[str, ...] = ()

    @property
    def gid(self) -> int:
        return self.uid

    @property
    def comment(self) -> str:
        return f"Bench {self.username}"

    @property
    def dataset(self) -> str:
        return f"{HOME_PARENT}/{self.username}"

    @property
    def home(self) -> str:
        return f"{HOME_DIR}/{self.username}"

    def with_quota(self, quota: str) -> Person:
        return Person(self.username, self.uid, quota, self.compression, self.recordsize, self.atime, self.shell,
                      self.groups)

    def with_groups(self, *groups: str) -> Person:
        return Person(self.username, self.uid, self.quota, self.compression, self.recordsize, self.atime, self.shell,
                      tuple(groups))

    def properties(self) -> dict[str, str]:
        return {"quota": self.quota, "compression": self.compression, "recordsize": self.recordsize,
                "atime": self.atime}

    # --- Keystone's inputs (what components/workstation_user.py gives the providers) -----------
    def dataset_inputs(self, host: dict) -> dict:
        return {"host": host, "dataset": self.dataset, "owner": self.username, "owner_uid": self.uid,
                "owner_gid": self.gid, "mode": "0700", "properties": self.properties()}

    def account_inputs(self, host: dict) -> dict:
        return {"host": host, "username": self.username, "uid": self.uid, "shell": self.shell, "home": self.home,
                "comment": self.comment, "locked": False, "groups": list(self.groups)}

    def delegation_inputs(self, host: dict) -> dict:
        return {"host": host, "dataset": self.dataset, "user": self.username,
                "permissions": list(PERMISSIONS), "descendent_permissions": list(DESCENDENT_PERMISSIONS)}


def people(n: int) -> list[Person]:
    return [Person(f"bench{i:03d}", UID_BASE + i, f"{1 + i % 4}G") for i in range(n)]


def bigger(p: Person) -> Person:
    """The change step: every person's quota doubles."""
    return p.with_quota(f"{2 * int(p.quota[:-1])}G")


def joined(p: Person) -> Person:
    """The group-change step: everyone joins ``TEAM``."""
    return p.with_groups(*p.groups, TEAM)
