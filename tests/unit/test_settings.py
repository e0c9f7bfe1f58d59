"""Stack settings: typed, with errors that name Pulumi.<stack>.yaml:line:col and the key."""
from __future__ import annotations

import pathlib

import pytest

from settings import SettingsError, load_settings, settings_from_config

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
                     "Pulumi.bad.yaml:15:19: keystone:color: unknown key 'color'"):
        assert expected in text, text
    assert "AAABAxyz" not in text


def test_the_programs_path_reports_what_only_the_file_shows(tmp_path):
    """Under the CLI the program passes only the keys it reads; the file still yields unknown keys
    (which the program would silently ignore) and plain-text secrets (never echoed)."""
    f = tmp_path / "Pulumi.dev.yaml"
    f.write_text("config:\n  keystone:minUid: 1000\n  keystone:hots: []\n  keystone:zerotierToken: tok-S3CRET\n")
    with pytest.raises(SettingsError) as e:
        settings_from_config({"minUid": 1000}, f)
    assert e.value.issues == [
        "Pulumi.dev.yaml:3:3: keystone:hots: unknown key (did you mean 'hosts'?)",
        "Pulumi.dev.yaml:4:3: keystone:zerotierToken: a secret in plain text in the stack file (remove it and run "
        "`pulumi config set --secret keystone:zerotierToken ...`)",
    ]


def test_the_zerotier_providers_own_keys_are_known_and_checked(tmp_path):
    f = tmp_path / "Pulumi.dev.yaml"
    f.write_text("config:\n  keystone:minUid: 1000\n  keystone:zerotierTimeout: 30\n  keystone:zerotierRetries: 2\n")
    assert settings_from_config({"minUid": 1000}, f).min_uid == 1000  # the program's path
    assert load_settings(f).min_uid == 1000
    f.write_text("config:\n  keystone:minUid: 1000\n  keystone:zerotierRetries: many\n")
    with pytest.raises(SettingsError) as e:
        settings_from_config({"minUid": 1000}, f)
    assert e.value.issues == ["Pulumi.dev.yaml:3:29: keystone:zerotierRetries: expected a number, got 'many' "
                              "(retries of a failed ZeroTier call, from 0 to 20)"]


def test_an_unexpected_failure_becomes_one_line_naming_the_setting(tmp_path, monkeypatch):
    """Whatever a check raises beyond its own errors (here: the BIRD provider's model, which the
    peering settings consult, failing with a KeyError), the admin gets one line naming the key."""
    from providers.bird import models as bird

    def broken(**_kw):
        raise KeyError("internal detail")

    monkeypatch.setattr(bird, "RouteServer", broken)
    f = tmp_path / "Pulumi.dev.yaml"
    f.write_text("config:\n  keystone:minUid: 1000\n  keystone:peering:\n    rpki: {rtr: [{host: rtr1.example.net}]}\n"
                 "    routeServers: [{name: rs1, address: local, asn: 64511, routerId: 10.99.0.1}]\n")
    with pytest.raises(SettingsError) as e:
        load_settings(f)
    (issue,) = e.value.issues
    assert issue.startswith("Pulumi.dev.yaml:4:5: keystone:peering: this value cannot be checked (KeyError)"), issue
    assert "Traceback" not in issue and "internal detail" not in issue


def test_a_value_that_is_not_json_is_a_settings_error_at_its_line(tmp_path):
    """Under the CLI a key's value reaches the program as text: one that is not JSON (``minUid: abc``)
    is reported by the settings at its line, not as Pulumi's ConfigTypeError traceback."""
    import pulumi

    from program.stack import load_inputs

    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  keystone:minUid: abc\n  keystone:hosts: ws1\n")
    pulumi.runtime.set_all_config({"keystone:minUid": "abc", "keystone:hosts": "ws1"})
    try:
        with pytest.raises(pulumi.RunError) as e:
            load_inputs("dev", pulumi.Config("keystone"), tmp_path)
    finally:
        pulumi.runtime.set_all_config({})
    assert str(e.value).splitlines()[1:] == [
        "  Pulumi.dev.yaml:2:20: keystone:minUid: expected a whole number, got 'abc'",
        "  Pulumi.dev.yaml:3:19: keystone:hosts: expected a list, got 'ws1' (write a YAML list: one `- item` per line)",
    ]


def test_a_kubeconfig_that_cannot_be_read_is_one_line_naming_the_setting(tmp_path):
    import pulumi

    from program.stack import _read

    with pytest.raises(pulumi.RunError) as e:
        _read(str(tmp_path / "missing-kubeconfig"))
    assert str(e.value) == (f"keystone:kubernetes.kubeconfig: cannot read {tmp_path / 'missing-kubeconfig'}: "
                            "No such file or directory")
