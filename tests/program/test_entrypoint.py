"""The real entry point (``__main__`` → ``program.stack.main``) with the dev stack's config."""
from __future__ import annotations

import json
import os
import pathlib

import pulumi
import pytest
import yaml

from program.mocks import RecordingMocks

ROOT = pathlib.Path(__file__).resolve().parents[2]


def dev_config() -> dict[str, str]:
    data = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}


def run_main(config: dict[str, str]) -> RecordingMocks:
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project="keystone", stack="dev", preview=True)
    pulumi.runtime.set_all_config(config)
    from program import stack

    @pulumi.runtime.test
    def program():
        stack.main()

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        program()
    finally:
        os.chdir(cwd)
        pulumi.runtime.set_all_config({})
    return mocks


def test_dev_stack_program_registers_the_sample_roster():
    mocks = run_main(dev_config())
    accounts = sorted(r.name for r in mocks.resources if r.type.endswith("os:Account"))
    assert accounts == ["alice-guest-account", "bob-guest-account", "carol-guest-account", "dave-guest-account"]
    assert all(r.inputs["host"]["port"] == 2222 for r in mocks.resources if r.type.endswith("os:Account"))


def test_bad_stack_config_fails_before_anything_is_registered():
    config = dev_config()
    config["keystone:minUid"] = "12"
    with pytest.raises(Exception, match=r"Pulumi.dev.yaml:\d+:\d+: keystone:minUid"):
        run_main(config)
