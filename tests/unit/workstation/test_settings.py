"""keystone:workstation: typed, every error named with Pulumi.<stack>.yaml:line:col, all at once."""
from __future__ import annotations

import pytest

from settings import SettingsError, load_settings
from tests.harness.units import install_units

GOOD = """\
config:
  keystone:workstation:
    tierGroups: {admin: [sudo, adm]}
    services:
      - name: web-ide
        unit: web-ide
        unitFile: workstation/units/web-ide@.service
        basePort: 20000
        range: 100
        tiers: [admin, power-user]
        environment: |
          CODE={{ home }}/code
          LISTEN=127.0.0.1:{{ port }}
      - name: agent
        unit: browser-agent
        unitFile: workstation/units/browser-agent@.service
        basePort: 21000
        restart: always
    files:
      - path: .config/keystone/hello.sh
        mode: "0600"
        template: "echo {{ name }}\\n"
    workspace: {repository: "https://git.example.org/team/code.git"}
    maps:
      - {path: /etc/keystone/web-ide.map, service: web-ide, format: json}
"""

BAD = """\
config:
  keystone:workstation:
    tierGroups: {admin: ["Bad Group"], wizard: [x]}
    services:
      - name: web-ide
        unit: web-ide
        unitFile: /etc/web-ide.service
        basePort: 80
        environment: "PORT={{ prot }}"
        restart: sometimes
      - name: other
        unit: other
        unitFile: units/other@.service
        basePort: 65500
        range: 100
        environment: "not a line"
    files:
      - path: ../etc/passwd
        mode: "999"
        template: "{{ user }"
    workspace: {repository: "ftp://x; rm -rf /", branch: "a..b"}
    maps:
      - {path: relative.map, service: nope, format: xml}
"""


def test_a_full_stack_loads(tmp_path):
    install_units(tmp_path, "workstation/units/web-ide@.service", "workstation/units/browser-agent@.service")
    f = tmp_path / "Pulumi.ws.yaml"
    f.write_text(GOOD)
    w = load_settings(f).workstation
    assert [s.name for s in w.services] == ["web-ide", "agent"]
    assert w.services[0].ports == range(20000, 20100) and w.services[1].restart == "always"
    assert w.services[0].restart == "when-idle" and w.services[1].range == 100
    assert w.groups_for("admin") == ["adm", "sudo"] and w.groups_for("power-user") == []
    assert [s.name for s in w.services_for("power-user")] == ["web-ide", "agent"]
    assert w.files[0].mode == "0600" and w.workspace.branch == "main" and w.workspace.path == "code"


def test_every_error_is_named_with_its_line(tmp_path):
    f = tmp_path / "Pulumi.bad.yaml"
    f.write_text(BAD)
    with pytest.raises(SettingsError) as e:
        load_settings(f)
    text = str(e.value)
    for expected in (
        "Pulumi.bad.yaml:3:26: keystone:workstation.tierGroups.admin.0: invalid group name",
        "Pulumi.bad.yaml:3:48: keystone:workstation.tierGroups.wizard.[key]",
        "Pulumi.bad.yaml:7:19: keystone:workstation.services.0.unitFile:",
        "Pulumi.bad.yaml:8:19: keystone:workstation.services.0.basePort:",
        "Pulumi.bad.yaml:9:22: keystone:workstation.services.0.environment: template error: 'prot' is undefined",
        "Pulumi.bad.yaml:10:18: keystone:workstation.services.0.restart:",
        "Pulumi.bad.yaml:16:22: keystone:workstation.services.1.environment: environment line 1 is not KEY=value",
        "Pulumi.bad.yaml:18:15: keystone:workstation.files.0.path:",
        "Pulumi.bad.yaml:19:15: keystone:workstation.files.0.mode:",
        "Pulumi.bad.yaml:20:19: keystone:workstation.files.0.template: template error",
        "Pulumi.bad.yaml:21:29: keystone:workstation.workspace.repository:",
        "Pulumi.bad.yaml:21:58: keystone:workstation.workspace.branch:",
        "Pulumi.bad.yaml:23:16: keystone:workstation.maps.0.path:",
        "Pulumi.bad.yaml:23:53: keystone:workstation.maps.0.format:",
    ):
        assert expected in text, text


def test_cross_field_problems_are_reported_together(tmp_path):
    install_units(tmp_path, "u/a@.service", "u/b@.service", "u/c@.service")
    f = tmp_path / "Pulumi.x.yaml"
    f.write_text("""\
config:
  keystone:workstation:
    services:
      - {name: a, unit: a, unitFile: u/a@.service, basePort: 20000, range: 100}
      - {name: a, unit: b, unitFile: u/c@.service, basePort: 20050}
      - {name: c, unit: a, unitFile: u/a@.service, basePort: 30000}
    files:
      - {path: code, template: x}
    workspace: {repository: /srv/git/code.git}
    maps:
      - {path: /etc/keystone/m, service: zzz}
""")
    with pytest.raises(SettingsError) as e:
        load_settings(f)
    text = str(e.value)
    assert "Pulumi.x.yaml:5:9: keystone:workstation.services.1: unitFile must be named b@.service" in text
    f.write_text(f.read_text().replace("u/c@.service", "u/b@.service"))
    with pytest.raises(SettingsError) as e:
        load_settings(f)
    text = str(e.value)
    assert "Pulumi.x.yaml:2:3: keystone:workstation:" in text or "Pulumi.x.yaml:3:5: keystone:workstation" in text, text
    for part in ("service names must be unique: a", "port ranges of services a (20000-20099) and a (20050-20149) overlap",
                 "files and workspace paths must be distinct (one path, one resource): code",
                 "two services cannot share a template unit", "map /etc/keystone/m: no service named 'zzz'"):
        assert part in text, text


def test_a_value_that_would_render_as_none_is_an_error_naming_it():
    from providers.workstation.templates import TemplateProblem, render

    with pytest.raises(TemplateProblem, match=r"a value renders as None \(no value for: name\)"):
        render("hi {{ name }}", user="a", name=None)
    assert render("hi {{ user }}", user="a", name=None) == "hi a"  # an unused None is no problem


def test_the_environment_file_starts_with_the_port_keystone_assigns(tmp_path):
    from providers.workstation.templates import environment_file
    from settings.workstation import ServiceSettings

    svc = ServiceSettings(name="web", unit="web", unit_file="u/web@.service", base_port=20000,
                          environment="LISTEN=127.0.0.1:{{ port }}\n")
    assert environment_file(svc.environment, user="a", name="A", uid=1, home="/h", host="h", port=20001, service="web") == \
        "PORT=20001\nLISTEN=127.0.0.1:20001\n"
