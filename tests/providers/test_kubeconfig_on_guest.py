"""A person's ``~/.kube/config`` on the guest: the ``host:ManagedFile`` the program registers for them
(taken from the program run under mocks, so the inputs are the component's own) applied by the real
provider host over SSH to the guest's real accounts and homes.

The file is there, private (0600 in a 0700 ``~/.kube``), owned by the person, written as the person;
the real kubectl, run on the guest as the person, parses it; a kubeconfig the person already has is
left untouched and reported (``diverged``), and the seed kept once beside it.
"""
from __future__ import annotations

import gzip
import json
import pathlib
import shutil
import subprocess
import textwrap

import pytest

from providers.hostfile.file import ManagedFileProvider
from roster import RosterContext, parse_roster_text
from program.stack import ProgramInputs
from settings import settings_from_config
from tests.harness import kube
from program.mocks import RecordingMocks, run_program

pytestmark = [pytest.mark.guest, pytest.mark.kube]
ROOT = pathlib.Path(__file__).resolve().parents[2]
USER, UID = "kcg", 24911  # no other test of the shared guest uses this uid
CA = (ROOT / "tests/unit/kubeconfig/fixtures/ca.crt").read_text()
PEOPLE_KUBECONFIG = {"clusterName": "prod", "server": "https://k8s.example.org:6443", "certificateAuthority": CA,
                     "issuerUrl": "https://sso.example.org/application/o/kubernetes/", "clientId": "kubernetes"}
KUBECTL = "/usr/local/bin/kubectl"


@pytest.fixture(scope="module")
def person(guest):
    guest.ssh(f"getent passwd {USER} >/dev/null || {{ groupadd -g {UID} {USER} && "
              f"useradd -u {UID} -g {USER} -m -d /home/{USER} -s /bin/sh {USER}; }}; "
              f"rm -rf /home/{USER}/.kube")
    return USER


@pytest.fixture(scope="module")
def guest_kubectl(guest, tmp_path_factory) -> str:
    """The kube cache's kubectl (static) copied into the guest, compressed on the way."""
    binary = kube.build(log=lambda m: print(m)).kubectl
    packed = tmp_path_factory.mktemp("kubectl") / "kubectl.gz"
    with binary.open("rb") as src, gzip.open(packed, "wb", compresslevel=1) as dst:
        shutil.copyfileobj(src, dst)
    with packed.open("rb") as fh:
        subprocess.run(guest.ssh_argv() + [f"gunzip > {KUBECTL}.new && chmod 0755 {KUBECTL}.new && "
                                           f"mv {KUBECTL}.new {KUBECTL}"], stdin=fh, check=True, timeout=600)
    return KUBECTL


def registered_inputs(guest) -> dict:
    """The program's ``<user>-guest-kubeconfig`` registration for a roster of one person on the guest."""
    roster_text = textwrap.dedent(f"""\
        people:
          {USER}:
            name: Kube Config
            uid: {UID}
            tier: power-user
            ssh_keys: []
        """)
    s = settings_from_config({"hosts": [{k: v for k, v in guest.target_fields("guest").items()}],
                              "kubernetes": {"enabled": True, "peopleKubeconfig": PEOPLE_KUBECONFIG}})
    inputs = ProgramInputs("dev", s, parse_roster_text(roster_text, RosterContext(min_uid=1000, hosts=["guest"])))
    run = run_program(inputs, RecordingMocks())
    return run.named(f"{USER}-guest-kubeconfig").inputs


def test_the_kubeconfig_is_private_owned_written_as_the_person_and_parses(guest, provider_host, person,
                                                                         guest_kubectl):
    props = registered_inputs(guest)
    r = provider_host.resource(ManagedFileProvider())
    checked, failures = r.check(props)
    assert failures == []
    id_, outs = r.create(checked)
    assert id_ == f"guest:/home/{USER}/.kube/config" and outs["diverged"] is False
    assert guest.ssh(f"stat -c '%U:%G %a' /home/{USER}/.kube/config /home/{USER}/.kube").stdout.split("\n")[:2] == [
        f"{USER}:{USER} 600", f"{USER}:{USER} 700"]
    assert guest.ssh(f"cat /home/{USER}/.kube/config").stdout == props["content"]
    # the person's own kubectl reads it (kubectl config view parses the whole file)
    view = json.loads(guest.ssh(f"runuser -u {USER} -- env HOME=/home/{USER} {guest_kubectl} config view --raw "
                                f"-o json --kubeconfig /home/{USER}/.kube/config").stdout)
    assert view["current-context"] == "prod"
    assert view["clusters"][0]["cluster"]["server"] == "https://k8s.example.org:6443"
    assert view["users"][0]["user"]["exec"]["args"][:2] == ["oidc-login", "get-token"]
    # nobody else can read it
    assert guest.ssh(f"runuser -u nobody -- cat /home/{USER}/.kube/config", check=False).returncode != 0


def test_a_kubeconfig_the_person_has_is_left_untouched_and_reported(guest, provider_host, person):
    guest.ssh(f"rm -rf /home/{USER}/.kube && runuser -u {USER} -- sh -c "
              f"'mkdir -m 0755 /home/{USER}/.kube && echo \"# my own cluster\" > /home/{USER}/.kube/config'")
    mine = guest.ssh(f"stat -c '%a %Y %i' /home/{USER}/.kube/config; stat -c %a /home/{USER}/.kube").stdout
    r = provider_host.resource(ManagedFileProvider())
    checked, _ = r.check(registered_inputs(guest))
    _, outs = r.create(checked)
    assert guest.ssh(f"cat /home/{USER}/.kube/config").stdout == "# my own cluster\n"
    # the same file (inode, mode, mtime) in the same directory mode: the seed copy is the only addition
    assert guest.ssh(f"stat -c '%a %Y %i' /home/{USER}/.kube/config; stat -c %a /home/{USER}/.kube").stdout == mine
    assert outs["diverged"] is True and outs["backup"] == f"/home/{USER}/.kube/config.keystone-seed"
    assert guest.ssh(f"stat -c '%U %a' /home/{USER}/.kube/config.keystone-seed").stdout.strip() == f"{USER} 600"
