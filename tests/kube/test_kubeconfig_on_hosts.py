"""End to end: ``pulumi up`` (the real engine) of a stack with a host (the test guest) and Kubernetes on
(the test control plane) with ``peopleKubeconfig`` — the file each person finds in their home on the
host, copied out as it is (but for the test's non-interactive grant, ``kubectl.with_password_grant``),
logs them in through the real kubelogin at the test issuer (dex) to the real API server as themselves
with their tier's rights; an offboard leaves the file in the home and cuts what it opens.

The issuer knows the sample roster's identities only, so these two people use two of them that no
other module binds (``dave``: offboarded, ``erin@example.org``: purged); the stack is destroyed at the
end so no binding of theirs outlives the module.
"""
from __future__ import annotations

import json

import pytest

from settings import kubeconfig
from settings.kubeconfig import PeopleKubeconfigSettings
from tests.harness import oidc
from tests.harness.engine_stack import guest_host
from tests.harness.kubectl import QUESTIONS, Kubectl, as_person, expected

pytestmark = [pytest.mark.kube, pytest.mark.engine, pytest.mark.guest]
PEOPLE = {  # no other test of the shared guest uses these uids
    "kea": {"name": "Kea Power", "uid": 24921, "tier": "power-user", "kubernetes": "dave", "ssh_keys": [],
            "zfs": {"quota": "1G"}},
    "keb": {"name": "Keb Owner", "uid": 24922, "tier": "namespace-owner", "kubernetes": "erin@example.org",
            "namespaces": ["team-a", "team-a-staging"], "ssh_keys": [], "zfs": {"quota": "1G"}},
}


def people_kubeconfig(cp) -> dict:
    return {"clusterName": "keystone-test", "server": cp.url, "certificateAuthority": (cp.dir / "ca.crt").read_text(),
            "issuerUrl": cp.issuer.url, "clientId": oidc.CLIENT_ID}


@pytest.fixture(scope="module")
def on_host(kube_stack, control_plane, guest):
    def write(people: dict) -> None:
        kube_stack.write_roster({"people": people}, hosts=[guest_host(guest)],
                                peopleKubeconfig=people_kubeconfig(control_plane))
    yield write
    kube_stack.ws.destroy("kube")  # the bindings go (none may outlive the module); homes and files stay


def up(stack):
    outcome = stack.up()
    assert outcome.errors() == [], outcome.output[-4000:]
    return outcome


def kubectl_from_home(guest, kube_binaries, control_plane, tmp_path, user: str) -> Kubectl:
    """kubectl with the file as it is in the person's home on the guest, logging in as them."""
    text = guest.ssh(f"runuser -u {user} -- cat /home/{user}/.kube/config").stdout
    return as_person(kube_binaries, control_plane.issuer, tmp_path / f"home-{user}", text, PEOPLE[user]["kubernetes"])


def test_up_writes_each_kubeconfig_that_logs_the_person_in_with_their_tier(
        on_host, kube_stack, guest, kube_binaries, control_plane, tmp_path):
    on_host(PEOPLE)
    outcome = up(kube_stack)
    assert {n: op for n, op in outcome.changed().items() if n.endswith("-kubeconfig")} == {
        "kea-guest-kubeconfig": "create", "keb-guest-kubeconfig": "create"}
    s = PeopleKubeconfigSettings.model_validate(people_kubeconfig(control_plane))
    wrong = []
    for user, p in PEOPLE.items():
        assert guest.ssh(f"stat -c '%U:%G %a' /home/{user}/.kube/config /home/{user}/.kube").stdout.split("\n")[:2] \
            == [f"{user}:{user} 600", f"{user}:{user} 700"]
        assert guest.ssh(f"cat /home/{user}/.kube/config").stdout == kubeconfig.render(s, user)
        k = kubectl_from_home(guest, kube_binaries, control_plane, tmp_path, user)
        who = json.loads(k("auth", "whoami", "-o", "json", check=True).stdout)["status"]["userInfo"]["username"]
        assert who == f"oidc:{p['kubernetes']}"
        wrong += [f"{user} ({p['tier']}): can-i {q[0]} said {not expected(p, q)}" for q in QUESTIONS
                  if k.can_i(*q[0]) != expected(p, q)]
    assert wrong == [], "\n".join(wrong)


def test_an_offboard_keeps_the_file_and_cuts_what_it_opens(on_host, kube_stack, guest, kube_binaries,
                                                            control_plane, tmp_path):
    on_host(PEOPLE)
    up(kube_stack)
    before = guest.ssh("stat -c '%i %Y' /home/kea/.kube/config").stdout
    on_host({**PEOPLE, "kea": {**PEOPLE["kea"], "state": "offboarded"}})
    outcome = up(kube_stack)
    assert outcome.changed().get("kea-k8s") == "delete"
    assert guest.ssh("stat -c '%i %Y' /home/kea/.kube/config").stdout == before  # still there, untouched
    k = kubectl_from_home(guest, kube_binaries, control_plane, tmp_path, "kea")
    gone = {**PEOPLE["kea"], "state": "offboarded"}
    assert [q[0] for q in QUESTIONS if k.can_i(*q[0]) != expected(gone, q)] == []
    assert k("get", "pods", "-n", "team-a").returncode != 0
