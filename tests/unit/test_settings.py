"""Stack settings: typed, with errors that name Pulumi.<stack>.yaml:line:col and the key."""
from __future__ import annotations

import pathlib

import pytest

from settings import SettingsError, load_settings

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_dev_stack_targets_the_test_guest():
    s = load_settings(ROOT / "Pulumi.dev.yaml")
    (host,) = s.hosts
    assert host.target().address == "127.0.0.1" and host.port == 2222 and host.host_key_alias == "keystone-guest"
    assert not s.authentik.enabled and not s.kubernetes.enabled
    assert s.zfs.home_parent == "rpool/crypt/home"


BAD = """\
config:
  keystone:minUid: 10
  keystone:hosts:
    - name: ws1
      address: ws1.example.org
    - name: WS_2
      address: "ws2;reboot"
      port: 70000
    - name: ws1
      address: other
  keystone:zfs:
    homeParent: rpool/../etc
  keystone:authentik:
    enabled: true
  keystone:color: blue
  keystone:authentikToken:
    secure: AAABAxyz
"""


def test_every_error_is_named_with_its_line(tmp_path):
    f = tmp_path / "Pulumi.bad.yaml"
    f.write_text(BAD)
    with pytest.raises(SettingsError) as e:
        load_settings(f)
    text = str(e.value)
    for expected in ("Pulumi.bad.yaml:2:20: keystone:minUid:", "Pulumi.bad.yaml:6:13: keystone:hosts.1.name:",
                     "Pulumi.bad.yaml:7:16: keystone:hosts.1.address:", "Pulumi.bad.yaml:8:13: keystone:hosts.1.port:",
                     "Pulumi.bad.yaml:6:13: keystone:hosts.1.name:", "Pulumi.bad.yaml:7:16: keystone:hosts.1.address:",
                     "Pulumi.bad.yaml:8:13: keystone:hosts.1.port:",
                     "Pulumi.bad.yaml:4:5: keystone:hosts: host names must be unique: ws1",
                     "Pulumi.bad.yaml:12:17: keystone:zfs.homeParent:", "keystone:authentik:",
                     "Pulumi.bad.yaml:15:19: keystone:color: Extra inputs are not permitted"):
        assert expected in text, text
    assert "AAABAxyz" not in text
