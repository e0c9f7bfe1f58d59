"""``ZeroTierMember`` registers as ``pulumi-python:dynamic/zerotier:Member`` with typed args, no token."""
from __future__ import annotations

from typing import Any

import pulumi

from providers.zerotier.member import ZeroTierMember, ZeroTierMemberArgs, ZeroTierMemberProvider

SECRET_SIG = "4dabf18193072939515e22adb298388d"


class _Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        return "8056c2e21c000001-a1b2c3d4e5", {**args.inputs, "revision": 1}

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


def test_registers_type_token_and_inputs() -> None:
    mocks = _Mocks()
    pulumi.runtime.set_mocks(mocks, project="keystone", stack="test", preview=False)

    @pulumi.runtime.test
    def program():
        m = ZeroTierMember("as64501-zt", ZeroTierMemberArgs(
            network_id="8056c2e21c000001", member_id="A1B2C3D4E5", api_mode="self_hosted",
            api_url="http://zt-ctl:9993", ip_assignments=["10.99.0.2"], name="AS64501", asn=64501))
        return pulumi.Output.all(m.id, m.revision, m.ip_assignments).apply(lambda v: v)

    program()
    (res,) = {r.name: r for r in mocks.resources}.values()
    assert res.typ == "pulumi-python:dynamic/zerotier:Member"
    inputs = dict(res.inputs)
    provider = inputs.pop("__provider")
    assert SECRET_SIG in provider  # the serialized provider travels as a secret
    assert inputs == {"network_id": "8056c2e21c000001", "member_id": "A1B2C3D4E5", "api_mode": "self_hosted",
                      "api_url": "http://zt-ctl:9993", "authorized": True, "ip_assignments": ["10.99.0.2"],
                      "name": "AS64501", "asn": 64501, "peer_state": "active", "delete_on_remove": False}


def test_provider_holds_nothing() -> None:
    assert vars(ZeroTierMemberProvider()) == {}
