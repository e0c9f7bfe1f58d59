"""A sample stack for the program tests: three hosts' worth of settings and a roster text."""
from __future__ import annotations

import textwrap

from program.stack import ProgramInputs
from roster import RosterContext, parse_roster_text
from settings import settings_from_config
from tests.harness import keys

HOSTS = [{"name": "ws1", "address": "ws1.example.org"}, {"name": "ws2", "address": "ws2.example.org", "port": 2222}]


def settings(**over):
    values = {"hosts": HOSTS, "authentik": {"enabled": True, "url": "https://sso.example.org"},
              "kubernetes": {"enabled": True, "oidcPrefix": "oidc:"}}
    values.update(over)
    return settings_from_config(values)


ROSTER = textwrap.dedent(f"""\
    people:
      alice:
        name: Alice Admin
        uid: 20001
        tier: admin
        authentik: alice.a
        kubernetes: alice@example.org
        groups: [sudo]
        ssh_keys: ["{keys.ALICE_LAPTOP}"]
        zfs: {{quota: 200G}}
      bob:
        name: Bob Power
        uid: 20002
        tier: power-user
        ssh_keys: ["{keys.BOB}"]
        zfs: {{quota: 100G}}
      carol:
        name: Carol Owner
        uid: 20003
        tier: namespace-owner
        namespaces: [team-a, team-b]
        hosts: [ws1]
        ssh_keys: ["{keys.CAROL}"]
        zfs: {{quota: 50G}}
      dave:
        name: Dave Gone
        uid: 20004
        tier: power-user
        state: offboarded
        ssh_keys: ["{keys.DAVE}"]
        zfs: {{quota: 50G}}
      erin:
        name: Erin Purged
        uid: 20005
        tier: namespace-owner
        namespaces: [team-c]
        state: purged
        zfs: {{quota: 50G}}
    """)

AUTHENTIK = {"alice.a": 11, "bob": 12, "carol": 13}


def inputs(roster_text: str = ROSTER, stack: str = "dev", **settings_over) -> ProgramInputs:
    s = settings(**settings_over)
    roster = parse_roster_text(roster_text, RosterContext(min_uid=s.min_uid, hosts=[h.name for h in s.hosts]))
    return ProgramInputs(stack=stack, settings=s, roster=roster, authentik_token="test-token")


WORKSTATION = {
    "tierGroups": {"admin": ["adm", "docker"]},
    "services": [
        {"name": "echo", "unit": "keystone-echo", "unitFile": "workstation/units/keystone-echo@.service",
         "basePort": 20000, "range": 50, "tiers": ["admin", "power-user", "namespace-owner"],
         "environment": "GREETING=hello {{ name }}\n"},
    ],
    "files": [{"path": ".config/keystone/env.sh", "mode": "0600", "template": "export WHO={{ user }}\n"}],
    "workspace": {"repository": "https://git.example.org/team/code.git"},
    "maps": [{"path": "/etc/keystone/echo.map", "service": "echo", "format": "tsv"}],
}
