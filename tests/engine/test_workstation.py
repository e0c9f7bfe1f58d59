"""Each person's own service instance, map entry and seeded file through `pulumi up` on the real
guest (real systemd, real logind): instances run as the person on their sticky port; ports stay put
while people are added, offboarded, re-activated and removed; offboarding stops the instance and
drops the map entry; an open SSH session holds a restart back until the next run after it closed
(and the instance's outputs say why); a seeded file the person edited is never overwritten; each
person's workspace is a git-crypt locked clone of a repository holding a file the real git-crypt
encrypted: ciphertext there, plain text elsewhere, and the person can commit."""
from __future__ import annotations

import base64
import subprocess
import textwrap

import pytest

from tests.harness.engine_stack import stack_config
from tests.harness.gitcrypt import MAGIC, README, encrypted_repository, tarball_b64
from tests.harness.logind import logged_in
from tests.harness.wait import wait_for

pytestmark = [pytest.mark.guest, pytest.mark.engine]
DYNAMIC = "pulumi-python:dynamic/"
MAP = "/etc/keystone/echo.map"
REPOSITORY = "/srv/git/ws-code.git"


def workstation(greeting: str = "hi", seed: str = "export WHO={{ user }}\\n") -> dict:
    return {
        "tierGroups": {"admin": ["adm"]},
        "services": [{"name": "echo", "unit": "keystone-echo", "unitFile": "workstation/units/keystone-echo@.service",
                      "basePort": 20200, "range": 20,
                      "environment": f"GREETING={greeting} {{{{ user }}}}\n"}],
        "files": [{"path": ".config/keystone/env.sh", "mode": "0600", "template": seed.replace("\\n", "\n")}],
        "maps": [{"path": MAP, "service": "echo", "format": "tsv"}],
        "workspace": {"repository": REPOSITORY, "branch": "main", "path": "code"},
    }


def roster(keys, ben="active", abe=None, cyd=None) -> str:
    text = textwrap.dedent(f"""\
        people:
          ana:
            name: Ana WS
            uid: 23101
            tier: admin
            ssh_keys: ["{keys['ana'][1]}"]
            zfs: {{quota: 1G}}
          ben:
            name: Ben WS
            uid: 23102
            tier: power-user
            ssh_keys: ["{keys['ben'][1]}"]
            zfs: {{quota: 1G}}
            state: {ben}
        """)
    if abe:
        text += f"  abe:\n    name: Abe WS\n    uid: 23100\n    tier: power-user\n    zfs: {{quota: 1G}}\n    state: {abe}\n"
    if cyd:
        text += (f"  cyd:\n    name: Cyd WS\n    uid: 23103\n    tier: power-user\n    zfs: {{quota: 1G}}\n"
                 f"    ssh_keys: [\"{keys['cyd'][1]}\"]\n    state: {cyd}\n")
    return text


def answer(guest, port: int) -> str:
    return guest.ssh(f"perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(\"127.0.0.1:{port}\") or exit 3; "
                     f"print scalar <$s>'", check=False).stdout.strip()


def pid_of(guest, user: str) -> str:
    return guest.ssh(f"systemctl show -p MainPID --value keystone-echo@{user}.service").stdout.strip()


def share_repository(guest, tmp_path) -> None:
    """The git-crypt repository (made on this machine) on the guest, readable by everyone; the host's
    /etc/gitconfig trusts it (git refuses a repository of another owner), as an admin would set up."""
    bare = encrypted_repository(tmp_path)
    guest.ssh(f"rm -rf {REPOSITORY} && mkdir -p /srv/git && base64 -d | tar -xz -C /srv/git && "
              f"mv /srv/git/code.git {REPOSITORY} && chmod -R a+rX {REPOSITORY} && "
              f"(git config --system --get-all safe.directory | grep -qx {REPOSITORY} || "
              f"git config --system --add safe.directory {REPOSITORY})", input=tarball_b64(bare))


def test_workstation_through_the_real_engine(guest, workspace, keys, tmp_path):
    ws = workspace
    share_repository(guest, tmp_path / "repo")
    stack = "ws"
    roster_path = str(ws.project / "rosters" / "roster.yaml")

    def apply(roster_text, **settings):
        ws.write_roster(roster_text)
        ws.write_stack(stack, stack_config(guest, roster_path, workstation=workstation(**settings)))
        return ws.up(stack).changed(DYNAMIC)

    def ports() -> dict:
        return {u: s["workstation"]["ports"]["guest"]["echo"] for u, s in ws.outputs(stack)["people"].items()}

    ws.write_roster(roster(keys))
    ws.write_stack(stack, stack_config(guest, roster_path, workstation=workstation()))
    ws.init(stack)

    # 1. two people: each instance runs as its person on their port; the map lists both
    changed = apply(roster(keys))
    assert {n: op for n, op in changed.items() if "-svc-" in n or "map" in n or "unit" in n} == {
        "ana-guest-svc-echo": "create", "ben-guest-svc-echo": "create", "guest-unit-echo": "create",
        "guest-map-echo": "create"}, changed
    assert ports() == {"ana": 20200, "ben": 20201}
    assert answer(guest, 20200) == "ana 20200 hi ana" and answer(guest, 20201) == "ben 20201 hi ben"
    assert guest.ssh(f"ps -o user= -p {pid_of(guest, 'ana')}").stdout.strip() == "ana"
    assert guest.ssh(f"cat {MAP}").stdout == "ana\t20200\nben\t20201\n"
    assert "adm" in guest.ssh("id -nG ana").stdout.split()  # the admin tier's group, added
    assert guest.ssh("stat -c '%U %a' /home/ana/.config/keystone/env.sh").stdout.strip() == "ana 600"
    # the workspace: cloned as the person, git-crypt locked, and theirs to commit in
    assert {n: op for n, op in changed.items() if n.endswith("-workspace")} == {
        "ana-guest-workspace": "create", "ben-guest-workspace": "create"}
    assert guest.ssh("head -c 10 /home/ben/code/secret.env | base64").stdout.strip() == base64.b64encode(MAGIC).decode()
    assert guest.ssh("stat -c %U /home/ben/code/README; cat /home/ben/code/README").stdout == f"ben\n{README}"
    guest.ssh("runuser -u ben -- sh -c 'cd /home/ben/code && echo mine >> README && "
              "git -c user.email=ben@example.org -c user.name=Ben commit -qam mine'")
    assert guest.ssh("runuser -u ben -- git -C /home/ben/code status --porcelain").stdout == ""
    assert ws.preview(stack).changed(DYNAMIC) == {}

    # 2. abe (sorts first) joins: the preview shows his port; nobody else's moves.  A group ana was
    #    given by hand stays (tier groups are added, never stripped)
    guest.ssh("gpasswd -a ana video >/dev/null")
    ws.write_roster(roster(keys, abe="active"))
    preview = ws.preview(stack)
    planned = {meta["urn"].rsplit("::", 1)[1]: (meta.get("new") or {}).get("inputs", {})
               for e in preview.events if (meta := (e.get("resourcePreEvent") or {}).get("metadata"))}
    assert planned["abe-guest-svc-echo"]["port"] == 20202 and preview.changed(DYNAMIC)["abe-guest-svc-echo"] == "create"
    apply(roster(keys, abe="active"))
    assert {"adm", "video"} <= set(guest.ssh("id -nG ana").stdout.split())
    assert ports() == {"ana": 20200, "ben": 20201, "abe": 20202}
    assert answer(guest, 20202) == "abe 20202 hi abe"

    # 3. offboard ben: stopped, out of the map; his port stays his
    changed = apply(roster(keys, ben="offboarded", abe="active"))
    assert changed["ben-guest-svc-echo"] == "update" and changed["guest-map-echo"] == "update"
    assert answer(guest, 20201) == ""
    assert guest.ssh("systemctl is-enabled keystone-echo@ben.service", check=False).stdout.strip() == "disabled"
    assert guest.ssh(f"cat {MAP}").stdout == "abe\t20202\nana\t20200\n"

    # 4. cyd joins while ben is away (ben's port is not given away); abe offboarded then removed
    apply(roster(keys, ben="offboarded", abe="offboarded", cyd="active"))
    assert ports() == {"ana": 20200, "ben": 20201, "abe": 20202, "cyd": 20203}
    apply(roster(keys, ben="offboarded", cyd="active"))
    assert ports() == {"ana": 20200, "ben": 20201, "cyd": 20203}

    # 5. ben re-activated: the same port, back in the map
    apply(roster(keys, cyd="active"))
    assert ports() == {"ana": 20200, "ben": 20201, "cyd": 20203}
    assert answer(guest, 20201) == "ben 20201 hi ben"
    assert guest.ssh(f"cat {MAP}").stdout == "ana\t20200\nben\t20201\ncyd\t20203\n"

    # 6. ana is logged in; the environment changes for everyone: ben and cyd restart, ana waits
    guest.ssh("runuser -u ana -- sh -c 'echo mine > /home/ana/.config/keystone/env.sh'")
    ana_pid, ben_pid = pid_of(guest, "ana"), pid_of(guest, "ben")
    session = subprocess.Popen(guest.ssh_argv("ana", keys["ana"][0]) + ["read line"], stdin=subprocess.PIPE)
    try:
        wait_for("ana's logind session", lambda: "ana" in logged_in(guest), timeout=60, interval=0.5)
        changed = apply(roster(keys, cyd="active"), greeting="hello", seed="export WHO=again\\n")
        assert changed["ana-guest-svc-echo"] == "update" and changed["ben-guest-svc-echo"] == "update"
        assert pid_of(guest, "ben") != ben_pid and answer(guest, 20201) == "ben 20201 hello ben"
        assert pid_of(guest, "ana") == ana_pid and answer(guest, 20200) == "ana 20200 hi ana"
        assert "GREETING=hello ana" in guest.ssh("cat /etc/keystone/workstation/keystone-echo/ana.env").stdout
        state = {r["urn"].rsplit("::", 1)[1]: r for r in ws.export(stack)["deployment"]["resources"]}
        assert state["ana-guest-svc-echo"]["outputs"]["pending_restart"] is True
        assert "reports no idle time" in state["ana-guest-svc-echo"]["outputs"]["pending_reason"]  # no terminal
        assert state["ben-guest-svc-echo"]["outputs"]["pending_restart"] is False
        # the preview says so, and a run while she is still here changes nothing
        assert ws.preview(stack).changed(DYNAMIC) == {"ana-guest-svc-echo": "update"}
    finally:
        session.stdin.close()  # EOF: the remote shell's `read` returns, the login session ends
        session.wait(timeout=30)
    wait_for("ana's session to end", lambda: "ana" not in logged_in(guest), timeout=60, interval=0.5)

    # 7. the next run, ana idle: restarted once; her edited seeded file is untouched
    changed = apply(roster(keys, cyd="active"), greeting="hello", seed="export WHO=again\\n")
    assert changed == {"ana-guest-svc-echo": "update"}, changed
    assert pid_of(guest, "ana") != ana_pid and answer(guest, 20200) == "ana 20200 hello ana"
    assert guest.ssh("cat /home/ana/.config/keystone/env.sh").stdout == "mine\n"
    assert guest.ssh("cat /home/ana/.config/keystone/env.sh.keystone-seed").stdout == "export WHO=again\n"
    assert ws.preview(stack).changed(DYNAMIC) == {}

    # 8. teardown: every instance stopped, its environment file gone; homes and files kept
    ws.destroy(stack)
    for user in ("ana", "ben", "cyd"):
        assert guest.ssh(f"systemctl is-active keystone-echo@{user}.service", check=False).stdout.strip() == "inactive"
    assert guest.ssh("cat /home/ana/.config/keystone/env.sh").stdout == "mine\n"
