"""Workstation providers through the real dynamic-provider gRPC host on the guest's real systemd and
logind: the instance runs as the person on their port, offboarding stops it, re-activation brings it
back, an open SSH session defers a restart that the next run makes once the person has left; the
idle rule on the real logind (an active terminal defers, one idle past idleMinutes restarts, an open
connection defers, logind stopped defers; always/never as they were); seeded files are never
clobbered and never written through a planted symlink; the workspace is a git-crypt locked clone made
as the person only if nothing is at its path."""
from __future__ import annotations

import base64
import pathlib
import subprocess
import time

import pytest

from providers.hostcache import read_host_state
from providers.hostfile.file import ManagedFileProvider
from providers.transport import for_host
from providers.workstation.instance import SCOPE, ServiceInstanceProvider
from providers.workstation.workspace import WorkspaceProvider
from tests.harness.gitcrypt import MAGIC, README, encrypted_repository, tarball_b64
from tests.harness.logind import idle_since, logged_in, set_last_input, ssh_login, terminal_session, terminals
from tests.harness.provider_host import DynamicProviderHost, ProviderError
from tests.harness.wait import wait_for

pytestmark = pytest.mark.guest
ROOT = pathlib.Path(__file__).resolve().parents[2]
UNIT = (ROOT / "workstation/units/keystone-echo@.service").read_text()
USER, UID = "wsa", 24901  # no other test of the shared guest uses this uid


@pytest.fixture(scope="module")
def person(guest, tmp_path_factory):
    """A person with a home and an SSH key of their own (as os:Account would leave them)."""
    key = tmp_path_factory.mktemp("wskey") / "id"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    pub = key.with_suffix(".pub").read_text()
    guest.ssh(f"getent passwd {USER} >/dev/null || {{ groupadd -g {UID} {USER} && "
              f"useradd -u {UID} -g {USER} -m -d /home/{USER} -s /bin/sh {USER}; }}; "
              f"install -d -m 0700 -o {UID} -g {UID} /home/{USER}/.ssh && "
              f"cat > /home/{USER}/.ssh/authorized_keys && chown {UID}:{UID} /home/{USER}/.ssh/authorized_keys",
              input=pub)
    return key


def answer(guest, port: int) -> str:
    return guest.ssh(f"perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(\"127.0.0.1:{port}\") or exit 3; "
                     f"print scalar <$s>'", check=False).stdout.strip()


def main_pid(guest, unit: str) -> str:
    return guest.ssh(f"systemctl show -p MainPID --value {unit}").stdout.strip()


def instance(target, **over):
    base = {"host": target.model_dump(), "service": "echo", "unit": "keystone-echo", "user": USER, "uid": UID,
            "port": 20100, "environment": "PORT=20100\nGREETING=one\n"}
    return {**base, **over}


def install_unit(provider_host, guest_target) -> None:
    """The tests' listener as its template unit (what the stack's ``<host>-unit-<service>`` writes)."""
    files = provider_host.resource(ManagedFileProvider())
    unit_in, _ = files.check({"host": guest_target.model_dump(), "path": "/etc/systemd/system/keystone-echo@.service",
                              "content": UNIT, "reload": "systemd"})
    files.create(unit_in)


def test_instance_lifecycle_and_idle_restart(guest, guest_target, provider_host, person):
    install_unit(provider_host, guest_target)
    r = provider_host.resource(ServiceInstanceProvider())
    u = f"keystone-echo@{USER}.service"

    # active: enabled, running as the person, listening on the port with its environment
    checked, failures = r.check(instance(guest_target))
    assert failures == []
    id_, outs = r.create(checked)
    assert id_ == f"guest/keystone-echo@{USER}"
    assert outs["running"] and outs["unit_enabled"] and outs["pending_restart"] is False
    assert answer(guest, 20100) == f"{USER} 20100 one"
    pid = main_pid(guest, u)
    assert guest.ssh(f"ps -o user= -p {pid}").stdout.strip() == USER
    assert guest.ssh(f"stat -c '%U:%G %a' /etc/keystone/workstation/keystone-echo/{USER}.env").stdout.strip() == \
        f"root:{USER} 640"
    assert r.diff(id_, outs, checked).changes is False
    _, read_outs, read_in = r.read(id_, outs)
    assert read_in["enabled"] is True and read_outs["env_digest"] == outs["env_digest"]

    # unchanged environment: an update never restarts
    outs = r.update(id_, outs, checked)
    assert main_pid(guest, u) == pid

    # an open SSH session of the person defers the restart of a changed environment
    with ssh_login(guest, USER, person):
        changed, _ = r.check(instance(guest_target, environment="PORT=20100\nGREETING=two\n"))
        assert r.diff(id_, outs, changed).changes is True
        outs = r.update(id_, outs, changed)
        assert outs["pending_restart"] is True and outs["sessions"] >= 1
        assert main_pid(guest, u) == pid and answer(guest, 20100) == f"{USER} 20100 one"
        assert "GREETING=two" in guest.ssh(f"cat /etc/keystone/workstation/keystone-echo/{USER}.env").stdout
        # the next run sees it pending (the preview shows an update) and still waits while they are here
        assert r.diff(id_, outs, changed).changes is True
        outs = r.update(id_, outs, changed)
        assert outs["pending_restart"] is True and main_pid(guest, u) == pid
    outs = r.update(id_, outs, changed)  # the person is idle: restarted once
    assert outs["pending_restart"] is False
    assert main_pid(guest, u) != pid and answer(guest, 20100) == f"{USER} 20100 two"
    assert r.diff(id_, outs, changed).changes is False

    # offboard: disabled and stopped, port closed, environment file kept
    off, _ = r.check(instance(guest_target, environment="PORT=20100\nGREETING=two\n", enabled=False,
                              person_state="offboarded"))
    outs = r.update(id_, outs, off)
    assert not outs["running"] and not outs["unit_enabled"]
    assert guest.ssh(f"systemctl is-enabled {u}", check=False).stdout.strip() == "disabled"
    assert answer(guest, 20100) == ""
    assert guest.ssh(f"test -f /etc/keystone/workstation/keystone-echo/{USER}.env").returncode == 0

    # re-activate: the same port again
    outs = r.update(id_, outs, changed)
    assert outs["running"] and answer(guest, 20100) == f"{USER} 20100 two"

    # drift: stopped out of band shows in refresh (the next command: its own provider process, as
    # every `pulumi` command starts one; a process keeps what it read and wrote itself)
    guest.ssh(f"systemctl stop {u}")
    with DynamicProviderHost() as later:
        r2 = later.resource(ServiceInstanceProvider())
        _, _, drifted = r2.read(id_, outs)
        assert drifted["enabled"] is False and r2.diff(id_, drifted, changed).changes is True
        outs = r2.update(id_, drifted, changed)
    assert answer(guest, 20100) == f"{USER} 20100 two"

    # delete (purge): stopped, disabled, environment file removed
    r.delete(id_, outs)
    assert guest.ssh(f"systemctl is-active {u}", check=False).stdout.strip() == "inactive"
    assert guest.ssh(f"test -e /etc/keystone/workstation/keystone-echo/{USER}.env", check=False).returncode == 1


def test_a_port_held_by_something_else_is_refused_naming_it(guest, guest_target, provider_host, person):
    # root's listener on the port (no '$' in it: systemd-run would expand it)
    guest.ssh("systemctl is-active keystone-squatter >/dev/null 2>&1 || systemd-run --unit keystone-squatter "
              "python3 -c 'import socket, time; s = socket.socket(); s.bind((\"127.0.0.1\", 20109)); s.listen(1); "
              "time.sleep(600)'")
    wait_for("the squatter", lambda: ":20109" in guest.ssh("ss -ltnH").stdout, timeout=60, interval=0.5)
    r = provider_host.resource(ServiceInstanceProvider())
    checked, _ = r.check(instance(guest_target, port=20109, environment="PORT=20109\n"))
    try:
        with pytest.raises(ProviderError) as e:
            r.create(checked)
        assert "host guest: port 20109 of keystone-echo@wsa.service is already in use by python3 (pid" in e.value.details
        assert "of uid 0" in e.value.details
    finally:
        guest.ssh("systemctl stop keystone-squatter", check=False)


def test_seeded_files_are_never_clobbered_nor_written_through_a_symlink(guest, guest_target, provider_host, person):
    r = provider_host.resource(ManagedFileProvider())

    def seed(path, content, **over):
        props = {"host": guest_target.model_dump(), "path": path, "content": content, "mode": "0600",
                 "owner": UID, "group": UID, "as_owner": True, "seed": True, "private": True, **over}
        checked, failures = r.check(props)
        assert failures == []
        return checked

    # absent: written as the person, private, directories made as the person
    first = seed(f"/home/{USER}/.config/keystone/env.sh", "export A=1\n")
    id_, outs = r.create(first)
    assert guest.ssh(f"stat -c '%U %a' /home/{USER}/.config/keystone/env.sh /home/{USER}/.config/keystone"
                     ).stdout.split("\n")[:2] == [f"{USER} 600", f"{USER} 700"]
    assert outs["diverged"] is False and outs.get("backup") is None  # a None output is not sent

    # the person edits it; a new seed leaves their file alone and keeps one copy of the seed beside it
    guest.ssh(f"runuser -u {USER} -- sh -c 'echo mine > /home/{USER}/.config/keystone/env.sh'")
    second = seed(f"/home/{USER}/.config/keystone/env.sh", "export A=2\n")
    outs = r.update(id_, outs, second)
    assert guest.ssh(f"cat /home/{USER}/.config/keystone/env.sh").stdout == "mine\n"
    assert guest.ssh(f"cat /home/{USER}/.config/keystone/env.sh.keystone-seed").stdout == "export A=2\n"
    assert outs["diverged"] is True and outs["backup"] == f"/home/{USER}/.config/keystone/env.sh.keystone-seed"
    _, _, read_in = r.read(id_, outs)
    assert r.diff(id_, outs, second).changes is False and read_in["content"] == "export A=2\n"  # never drift

    # a symlink to /etc/shadow planted at a seeded path: neither followed nor replaced
    shadow = guest.ssh("sha256sum /etc/shadow; stat -c %a /etc/shadow").stdout
    guest.ssh(f"runuser -u {USER} -- ln -sfn /etc/shadow /home/{USER}/.keystone-hook")
    linked = seed(f"/home/{USER}/.keystone-hook", "pwned::0:0:::::\n")
    _, louts = r.create(linked)
    assert guest.ssh("sha256sum /etc/shadow; stat -c %a /etc/shadow").stdout == shadow
    assert guest.ssh(f"readlink /home/{USER}/.keystone-hook").stdout.strip() == "/etc/shadow"
    assert louts["diverged"] is True and louts["kind"] == "link"
    assert guest.ssh(f"stat -c %U /home/{USER}/.keystone-hook.keystone-seed").stdout.strip() == USER

    # a directory of the home replaced by a symlink to /etc: the write, as the person, is refused
    guest.ssh(f"runuser -u {USER} -- ln -sfn /etc /home/{USER}/.cfg")
    with pytest.raises(ProviderError) as e:
        r.create(seed(f"/home/{USER}/.cfg/keystone-planted", "x\n"))
    assert "Permission denied" in e.value.details
    assert guest.ssh("test -e /etc/keystone-planted", check=False).returncode == 1


def test_plain_files_are_authoritative_and_refresh_sees_drift(guest, guest_target, provider_host):
    r = provider_host.resource(ManagedFileProvider())
    props, _ = r.check({"host": guest_target.model_dump(), "path": "/etc/keystone/test.map",
                        "content": "wsa\t20100\n"})
    id_, outs = r.create(props)
    assert guest.ssh("stat -c '%U %a' /etc/keystone/test.map /etc/keystone; cat /etc/keystone/test.map").stdout == \
        "root 644\nroot 755\nwsa\t20100\n"
    guest.ssh("echo intruder >> /etc/keystone/test.map")
    _, drifted_outs, drifted = r.read(id_, outs)
    assert drifted["content"].startswith("(changed on the host") and r.diff(id_, drifted_outs, props).changes is True
    r.update(id_, drifted_outs, props)
    assert guest.ssh("cat /etc/keystone/test.map").stdout == "wsa\t20100\n"
    r.delete(id_, outs)
    assert guest.ssh("test -e /etc/keystone/test.map", check=False).returncode == 1


def test_the_idle_rule_on_the_real_logind(guest, guest_target, provider_host, person):
    install_unit(provider_host, guest_target)
    r = provider_host.resource(ServiceInstanceProvider())
    u, port = f"keystone-echo@{USER}.service", 20110
    checked, _ = r.check(instance(guest_target, port=port, environment=f"PORT={port}\nGREETING=a\n"))
    id_, outs = r.create(checked)
    pid = main_pid(guest, u)

    def change(greeting: str, **over) -> dict:
        nonlocal outs
        new, failures = r.check(instance(guest_target, port=port, environment=f"PORT={port}\nGREETING={greeting}\n",
                                         **over))
        assert failures == []
        outs = r.update(id_, outs, new)
        return outs

    def restarted(greeting: str) -> bool:
        nonlocal pid
        now = main_pid(guest, u)
        moved, pid = now != pid, now
        return moved and answer(guest, port) == f"{USER} {port} {greeting}"

    # 1. the person on a terminal, typing just now: deferred, and the outputs say why
    session = terminal_session(guest, USER, person)
    try:
        wait_for("the person's terminal session", lambda: terminals(guest, USER), timeout=60, interval=0.5)
        (tty,) = terminals(guest, USER)
        change("b")
        assert outs["pending_restart"] is True and main_pid(guest, u) == pid
        assert "had input" in outs["pending_reason"] and "(idle after 20 min)" in outs["pending_reason"]
        # 2. the same session, its terminal's last input 30 minutes ago (logind reports it): idle, restarted
        set_last_input(guest, tty, 30)
        assert all(since < (time.time() - 25 * 60) * 1e6 for since in idle_since(guest, USER))
        change("b")
        assert outs["pending_restart"] is False and outs.get("pending_reason") is None and restarted("b")
        # … unless idleMinutes asks for more than those 30 minutes
        change("c", idle_minutes=45)
        assert outs["pending_restart"] is True and "idle after 45 min" in outs["pending_reason"]
        change("c")
        assert outs["pending_restart"] is False and restarted("c")
    finally:
        session.terminate()
        session.wait(timeout=30)
    wait_for("the session to end", lambda: USER not in logged_in(guest), timeout=60, interval=0.5)

    # 3. no session, but an open connection to the instance (a person in the web IDE): deferred
    guest.ssh("systemd-run --unit keystone-hold-conn python3 -c 'import socket, time; "
              f"s = socket.create_connection((\"127.0.0.1\", {port})); time.sleep(600)'")
    try:
        wait_for("the connection", lambda: guest.ssh(f"ss -Htn state established '( sport = :{port} )'").stdout.strip(),
                 timeout=60, interval=0.5)
        change("d")
        assert outs["pending_restart"] is True and outs["pending_reason"] == f"open connection to port {port} (1)"
    finally:
        guest.ssh("systemctl stop keystone-hold-conn", check=False)
    wait_for("the connection to close", lambda: not guest.ssh(
        f"ss -Htn state established '( sport = :{port} )'").stdout.strip(), timeout=60, interval=0.5)
    change("d")
    assert outs["pending_restart"] is False and restarted("d")

    # 4. logind stopped (masked, so D-Bus cannot start it again): idleness unknown, deferred;
    #    restart: always restarts regardless, never never restarts
    guest.ssh("systemctl mask --runtime systemd-logind && systemctl stop systemd-logind")
    try:
        assert guest.ssh("loginctl list-sessions", check=False).returncode != 0
        change("e")
        assert outs["pending_restart"] is True and outs["pending_reason"].startswith("logind's sessions cannot be read")
        assert main_pid(guest, u) == pid
        change("e", restart="always")
        assert outs["pending_restart"] is False and restarted("e")
        change("f", restart="never")
        assert outs["pending_restart"] is True and outs["pending_reason"].startswith("restart: never")
        assert main_pid(guest, u) == pid
    finally:
        guest.ssh("systemctl unmask --runtime systemd-logind && systemctl start systemd-logind")
    r.delete(id_, outs)


def test_the_gather_lists_every_session_of_a_person_that_logind_lists(guest, guest_target, person):
    """The gather reads the session list from logind's own files: the same sessions as ``loginctl``'s
    list for people, none of a system account's (the gather's own root login over SSH)."""
    with ssh_login(guest, USER, person):
        rows = [line.split() for line in guest.ssh("loginctl list-sessions --no-legend").stdout.splitlines()]
        facts = read_host_state(for_host(guest_target), SCOPE).workstation
        assert facts is not None and facts.sessions_error is None
        listed = {(r[0], r[2]) for r in rows if int(r[1]) >= 1000}
        assert {(s.id, s.user) for found in facts.sessions.values() for s in found} == listed
        assert USER in facts.sessions and "root" in {r[2] for r in rows} and "root" not in facts.sessions


UNIT_STATES = {  # instance of the tests' listener -> how it is left (each has an environment file)
    "keystone-echo@nobody.service": "systemctl enable --now --no-reload {u}",
    "keystone-echo@daemon.service": "systemctl start {u}",  # running, never enabled
    "keystone-echo@wsx1.service": "systemctl enable --no-reload {u}",  # enabled, never started
    "keystone-echo@wsx2.service": "systemctl enable --runtime --no-reload {u}",  # enabled until reboot
    "keystone-echo@wsx3.service": "systemctl mask --no-reload {u}",
    "keystone-echo@wsx4.service": "true",  # an environment file only: systemd never loaded it
}
UNIT_STATES_SETUP = "\n".join(
    f"printf 'PORT={20190 + i}\\nGREETING=states\\n' > /etc/keystone/workstation/keystone-echo/"
    f"{u.split('@')[1].removesuffix('.service')}.env && " + how.format(u=u)
    for i, (u, how) in enumerate(UNIT_STATES.items()))
UNIT_STATES_UNDO = "\n".join(
    [f"systemctl unmask --no-reload {' '.join(UNIT_STATES)}",
     f"systemctl disable --runtime --no-reload {' '.join(UNIT_STATES)}",
     f"systemctl disable --now --no-reload {' '.join(UNIT_STATES)}"]
    + [f"rm -f /etc/keystone/workstation/keystone-echo/{u.split('@')[1].removesuffix('.service')}.env"
       for u in UNIT_STATES])


def test_the_gather_reads_every_instance_state_as_systemd_shows_it(guest, guest_target, provider_host):
    """Active from one ``systemctl list-units`` of the templates, enabled from the instances'
    ``.wants/`` links (in ``/etc``, or in ``/run``: enabled until reboot): the same answer as systemd's
    own ``ActiveState`` and ``UnitFileState`` for running, stopped, never-enabled, runtime-enabled,
    masked and never-loaded instances."""
    install_unit(provider_host, guest_target)
    guest.ssh("mkdir -p /etc/keystone/workstation/keystone-echo\n" + UNIT_STATES_SETUP)
    try:
        wait_for("the started instances", lambda: guest.ssh(
            "systemctl is-active keystone-echo@nobody.service keystone-echo@daemon.service",
            check=False).returncode == 0, timeout=60, interval=0.5)
        facts = read_host_state(for_host(guest_target), SCOPE).workstation
        shown = guest.ssh(f"systemctl show -p Id,ActiveState,UnitFileState {' '.join(UNIT_STATES)}").stdout
        systemd = {}
        for block in shown.strip().split("\n\n"):
            props = dict(line.split("=", 1) for line in block.splitlines())
            systemd[props["Id"]] = (props["ActiveState"] == "active",
                                    props["UnitFileState"] in ("enabled", "enabled-runtime"))
        assert facts is not None
        gathered = {u: (facts.units[u].running, facts.units[u].is_enabled) if u in facts.units else (False, False)
                    for u in UNIT_STATES}
        assert gathered == systemd
        assert systemd == {"keystone-echo@nobody.service": (True, True), "keystone-echo@daemon.service": (True, False),
                           "keystone-echo@wsx1.service": (False, True), "keystone-echo@wsx2.service": (False, True),
                           "keystone-echo@wsx3.service": (False, False), "keystone-echo@wsx4.service": (False, False)}
        assert facts.units["keystone-echo@wsx2.service"].enabled == "enabled-runtime"
    finally:
        guest.ssh(UNIT_STATES_UNDO, check=False)


def test_workspace_is_a_locked_clone_made_as_the_person_only_if_absent(guest, guest_target, provider_host, person,
                                                                       tmp_path):
    bare = encrypted_repository(tmp_path)  # made with the real git-crypt on this machine; the guest needs only git
    guest.ssh(f"rm -rf /srv/git/code.git /home/{USER}/code /home/{USER}/linked && mkdir -p /srv/git && "
              "base64 -d | tar -xz -C /srv/git && chown -R wsa: /srv/git/code.git",  # the person's own: git refuses
              input=tarball_b64(bare))                                                # a repository of another owner
    r = provider_host.resource(WorkspaceProvider())

    def workspace(path: str) -> dict:
        props, failures = r.check({"host": guest_target.model_dump(), "user": USER, "uid": UID,
                                   "home": f"/home/{USER}", "path": path, "repository": "/srv/git/code.git",
                                   "branch": "main"})
        assert failures == []
        return props

    props = workspace("code")
    id_, outs = r.create(props)
    assert outs["cloned"] is True
    code = f"/home/{USER}/code"
    # the encrypted file stays ciphertext, the rest is plain text, everything the person's
    assert guest.ssh(f"head -c {len(MAGIC)} {code}/secret.env | base64").stdout.strip() == \
        base64.b64encode(MAGIC).decode()
    assert guest.ssh(f"stat -c %U {code}/README {code}/secret.env; cat {code}/README").stdout == \
        f"{USER}\n{USER}\n{README}"
    assert guest.ssh(f"git config --file {code}/.git/config --get-regexp '^filter[.]git-crypt[.]'").stdout == \
        "filter.git-crypt.smudge cat\nfilter.git-crypt.clean cat\nfilter.git-crypt.required false\n"
    # a commit as the person succeeds (no key needed); the encrypted file is not seen as changed
    guest.ssh(f"runuser -u {USER} -- sh -c 'cd {code} && echo work >> README && "
              "git -c user.email=w@example.org -c user.name=W commit -qam work && git status --porcelain'")
    assert guest.ssh(f"runuser -u {USER} -- git -C {code} status --porcelain").stdout == ""
    assert guest.ssh(f"runuser -u {USER} -- git -C {code} log --format=%s -1").stdout.strip() == "work"
    outs = r.update(id_, outs, props)
    assert outs["cloned"] is False  # there already: left as it is
    assert guest.ssh(f"cat {code}/README").stdout == README + "work\n"
    r.delete(id_, outs)
    assert guest.ssh(f"test -d {code}/.git").returncode == 0

    # a symlink at the path (even a dangling one) counts as something there: nothing is cloned through it
    guest.ssh(f"runuser -u {USER} -- ln -s /srv/elsewhere /home/{USER}/linked")
    _, louts = r.create(workspace("linked"))
    assert louts["cloned"] is False
    assert guest.ssh(f"readlink /home/{USER}/linked; test -e /srv/elsewhere", check=False).stdout == "/srv/elsewhere\n"
