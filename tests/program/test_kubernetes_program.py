"""The program's Kubernetes wiring under mocks: namespace reads before bindings, the plugin version."""
from __future__ import annotations

import pathlib

import pulumi

from settings import kubeconfig
from program.mocks import RecordingMocks, run_program
from program.stack import owned_namespaces
from tests.harness import sample


class ReadRecordingMocks(RecordingMocks):
    """Also records which namespaces were read (``Namespace.get``) and by what id."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.reads: dict[str, str] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        if args.resource_id and args.typ == "kubernetes:core/v1:Namespace":
            self.reads[args.name] = args.resource_id
        return super().new_resource(args)


def test_each_owned_namespace_is_read_once_and_only_for_active_owners():
    inputs = sample.inputs()
    assert owned_namespaces(inputs.roster) == ["team-a", "team-b"]
    mocks = ReadRecordingMocks(authentik_users=sample.AUTHENTIK)
    run_program(inputs, mocks)
    assert mocks.reads == {"namespace-team-a": "team-a", "namespace-team-b": "team-b"}


def test_no_namespace_is_read_when_kubernetes_is_off():
    mocks = ReadRecordingMocks(authentik_users=sample.AUTHENTIK)
    run_program(sample.inputs(kubernetes={"enabled": False}), mocks)
    assert mocks.reads == {}


def test_the_provider_plugin_version_is_the_stack_setting():
    captured: dict[str, str | None] = {}

    def capture(args: pulumi.ResourceTransformationArgs):
        if args.type_ == "pulumi:providers:kubernetes":
            captured[args.name] = args.opts.version
        return None

    mocks = RecordingMocks(authentik_users=sample.AUTHENTIK)
    pulumi.runtime.set_mocks(mocks, project="keystone", stack="dev")
    pulumi.runtime.register_stack_transformation(capture)
    run_program(sample.inputs(kubernetes={"enabled": True, "providerVersion": "4.25.0"}), mocks)
    assert captured == {"kubernetes": "4.25.0"}


PEOPLE_KUBECONFIG = {
    "clusterName": "prod", "server": "https://k8s.example.org:6443",
    "certificateAuthority": (pathlib.Path(__file__).parents[1] / "unit/kubeconfig/fixtures/ca.crt").read_text(),
    "issuerUrl": "https://sso.example.org/application/o/kubernetes/", "clientId": "kubernetes",
}


def test_every_active_person_gets_their_kubeconfig_on_each_of_their_hosts():
    inputs = sample.inputs(kubernetes={"enabled": True, "peopleKubeconfig": PEOPLE_KUBECONFIG})
    run = run_program(inputs, RecordingMocks(authentik_users=sample.AUTHENTIK))
    files = {r.name: r for r in run.of_type("host:ManagedFile") if r.name.endswith("-kubeconfig")}
    # carol lives on ws1 only; dave (offboarded) and erin (purged) get none
    assert sorted(files) == ["alice-ws1-kubeconfig", "alice-ws2-kubeconfig", "bob-ws1-kubeconfig",
                             "bob-ws2-kubeconfig", "carol-ws1-kubeconfig"]
    settings = inputs.settings.kubernetes.people_kubeconfig
    for name, r in files.items():
        user = name.split("-")[0]
        uid = inputs.roster.people[user].uid
        assert r.inputs["path"] == f"/home/{user}/.kube/config"
        assert (r.inputs["mode"], r.inputs["owner"], r.inputs["group"]) == ("0600", uid, uid)
        assert r.inputs["seed"] is True and r.inputs["as_owner"] is True and r.inputs["private"] is True
        assert r.inputs["content"] == kubeconfig.render(settings, user)
        assert r.options["parent"] == user
    people = run.outputs["people"]
    assert people["alice"]["hosts"]["ws2"]["kubeconfig"] == "/home/alice/.kube/config"
    assert "kubeconfig" not in people["dave"]["hosts"]["ws1"]


def test_no_kubeconfig_without_the_setting():
    run = run_program(sample.inputs(), RecordingMocks(authentik_users=sample.AUTHENTIK))
    assert [r.name for r in run.of_type("host:ManagedFile") if r.name.endswith("-kubeconfig")] == []
