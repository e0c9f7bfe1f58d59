"""Stack settings for the engine tier: a dev-like stack on the test guest (or on a guest nobody
reaches, for previews and empty rosters)."""
from __future__ import annotations


class FakeGuest:
    """Stack settings need a host entry; nothing in this file reaches it (preview or an empty roster)."""

    def target_fields(self, name):
        return {"name": name, "address": "127.0.0.1", "port": 9, "user": "root", "identity_file": None,
                "known_hosts_file": None, "host_key_alias": None}


def guest_host(guest, name: str = "guest") -> dict:
    """A ``keystone:hosts`` entry that reaches the test guest as root."""
    f = guest.target_fields(name)
    return {"name": name, "address": f["address"], "port": f["port"], "user": f["user"],
            "identityFile": f["identity_file"], "knownHostsFile": f["known_hosts_file"],
            "hostKeyAlias": f["host_key_alias"]}


def stack_config(guest, roster: str, **over) -> dict:
    """A dev-like stack on the test guest: Authentik and Kubernetes off."""
    config = {
        "roster": roster,
        "minUid": 1000,
        "hosts": [guest_host(guest)],
        "zfs": {"homeParent": "rpool/crypt/home", "archiveParent": "rpool/crypt/archive", "homeMountpoint": "/home"},
        "offboarding": {"allowDestroy": False, "allowDeleteWithoutOffboarding": False},
        "authentik": {"enabled": False},
        "kubernetes": {"enabled": False},
    }
    config.update(over)
    return config
