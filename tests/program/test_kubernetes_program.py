"""The program's Kubernetes wiring under mocks: namespace reads before bindings, the plugin version."""
from __future__ import annotations

import pulumi

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
