"""The host base's gather parser and the observations made of it (pure)."""
from __future__ import annotations

import pytest

from providers.hostbase.facts import ParseError, parse_gather, parse_policy
from providers.hostbase.plan import BackupInputs, BaseInputs, as_found, home_ages, observe
from providers.host import HostTarget

HOST = HostTarget(name="ws1", address="local")
SAMPLE = """@@now
1700010000
@@swap
1048572
@@dpkg
git\tii
zsh\tun
@@policy
git:
  Installed: 1:2.39.2-1.1
  Candidate: 1:2.39.2-1.1
zsh:
  Installed: (none)
  Candidate: 5.9-4+b2
gti:
  Installed: (none)
  Candidate: (none)
@@lists
1700000000\t1690000000
@@kubelogin
absent
@@timer
active\tenabled
@@snapshots
rpool/crypt/home/alice@keystone-1\t1700000000
rpool/crypt/home/alice@keystone-2\t1700007000
rpool/crypt/home/bob@manual\t1699990000
rpool/crypt/backup/alice@keystone-1\t1700000000
"""


def desired(**over):
    base = {"host": HOST, "packages": ["git", "zsh", "gti"], "kubelogin": "/usr/local/bin/kubectl-oidc_login",
            "timer": "keystone-backup.timer",
            "backup": BackupInputs(home_parent="rpool/crypt/home", backup_parent="rpool/crypt/backup",
                                   max_age_hours=3, people=["alice", "bob", "carol"])}
    return BaseInputs(**{**base, **over})


def test_gather_parsed():
    f = parse_gather(SAMPLE, "ws1")
    assert f.now == 1700010000 and f.swap_kib == 1048572
    assert f.installed == {"git"} and f.knows("zsh") and not f.knows("gti") and not f.knows("nosuch")
    assert f.lists_current and f.kubelogin == "absent" and f.timer_running
    assert f.newest("rpool/crypt/home/alice") == 1700007000 and f.newest("rpool/crypt/home/carol") is None


def test_ages_lag_and_stale_people():
    f = parse_gather(SAMPLE, "ws1")
    d = desired()
    assert home_ages(d, f) == {"alice": {"newest": 1700007000, "backup_lag": 7000},
                               "bob": {"newest": 1699990000, "backup_lag": None}}
    out = observe(d, f)
    assert out["stale"] == ["bob", "carol"]  # bob's newest is 5.6 h old, carol has none
    assert out["missing"] == ["zsh", "gti"] and out["kubelogin_present"] is False and out["timer_running"] is True


def test_a_refresh_records_what_the_host_lacks():
    found = as_found(desired(), parse_gather(SAMPLE, "ws1"))
    assert found["packages"] == ["git"]
    assert found["kubelogin"] == "(missing on the host) /usr/local/bin/kubectl-oidc_login"
    assert found["timer"] == "keystone-backup.timer"


def test_policy_of_unknown_package_is_absent():
    assert parse_policy(["git:", "  Candidate: 1", "N: Unable to locate package nosuch"]) == {"git": "1"}


@pytest.mark.parametrize("text, message", [
    ("@@now\n1\n", "sections"),
    (SAMPLE.replace("1048572", "lots"), "the swap is not a number"),
    (SAMPLE.replace("rpool/crypt/home/bob@manual", "rpool/crypt/home/bob"), "not a snapshot line"),
])
def test_unexpected_output_names_the_host(text, message):
    with pytest.raises(ParseError, match=f"host ws1: .*{message}"):
        parse_gather(text, "ws1")


def test_the_inputs_hold_the_settings_rules():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=r"invalid Debian package name 'zsh; rm' \(lower-case letters"):
        desired(packages=["git", "zsh; rm"])
    with pytest.raises(ValidationError, match=r"dataset 'rpool/b@s' contains '@' \('@' names a snapshot"):
        BackupInputs(home_parent="rpool/crypt/home", backup_parent="rpool/b@s")
