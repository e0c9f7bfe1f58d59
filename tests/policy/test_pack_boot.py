"""Start the policy pack exactly as the Pulumi CLI does and talk to it over the analyzer gRPC API.

The CLI (pulumi 3.260, ``plugin.NewPolicyAnalyzer`` + the ``pulumi-analyzer-policy-python`` shim)
runs ``<virtualenv>/bin/python -u -m pulumi.policy <engine-address> .`` with the pack directory
as working directory, reads the port from the first line of stdout, calls ``Configure`` with the
reconciled policy config, then ``Analyze`` per resource and ``AnalyzeStack`` once. This test does
the same with the SDK's protobuf messages, and checks that the real pack reports exactly what
``policy.offline`` reports for the same resources - including failing closed on unknown values,
which the SDK alone would turn into advisory notes.
"""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import EnforcementLevel

from policy import contract as c
from policy import offline
from policy.offline import ResourceRecord
from policy.rules import POLICIES
from tests.harness import policy_records as b
from tests.harness.policy_records import faulty_stack, with_props

PACK_DIR = pathlib.Path(offline.__file__).resolve().parent
_LEVELS = {EnforcementLevel.ADVISORY: analyzer_pb2.ADVISORY, EnforcementLevel.MANDATORY: analyzer_pb2.MANDATORY,
           EnforcementLevel.DISABLED: analyzer_pb2.DISABLED, EnforcementLevel.REMEDIATE: analyzer_pb2.REMEDIATE}
_LEVEL_NAMES = {analyzer_pb2.ADVISORY: "advisory", analyzer_pb2.MANDATORY: "mandatory"}


def _start(pack_dir: pathlib.Path, timeout: float = 60) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.Popen([sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", "."], cwd=pack_dir,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return proc, (line[0].strip() if line else "")


def _stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    try:
        _, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    proc, port = _start(PACK_DIR)
    if not port.isdigit():
        err = _stop(proc)
        pytest.fail(f"the policy pack did not start: first line {port!r}\n{err}")
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        channel.close()
        _stop(proc)


def _configure(stub: analyzer_pb2_grpc.AnalyzerStub, config: dict | None = None) -> None:
    props, levels = offline.resolve_config(config, POLICIES)
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for name, level in levels.items():
        entry = request.policyConfig[name]
        entry.enforcementLevel = _LEVELS[level]
        if props[name]:
            entry.properties.update(props[name])
    stub.Configure(request)


def _options(rec: ResourceRecord) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=rec.protect, additionalSecretOutputs=list(rec.additional_secret_outputs),
        ignoreChanges=list(rec.ignore_changes), aliases=list(rec.aliases), parent=rec.parent or "")


def _via_grpc(stub: analyzer_pb2_grpc.AnalyzerStub, recs: list[ResourceRecord]) -> set[tuple[str, str, str, str]]:
    found = set()
    for rec in recs:
        response = stub.Analyze(analyzer_pb2.AnalyzeRequest(
            type=rec.type, properties=offline.to_struct(offline.wire_properties(rec)), urn=rec.urn, name=rec.name,
            options=_options(rec)))
        found |= {(d.policyName, d.message, _LEVEL_NAMES[d.enforcementLevel], rec.urn) for d in response.diagnostics}
    response = stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[
        analyzer_pb2.AnalyzerResource(type=r.type, properties=offline.to_struct(offline.wire_properties(r)), urn=r.urn,
                                      name=r.name, options=_options(r), parent=r.parent or "",
                                      dependencies=list(r.dependencies))
        for r in recs]))
    found |= {(d.policyName, d.message, _LEVEL_NAMES[d.enforcementLevel], d.urn) for d in response.diagnostics}
    return found


def _via_offline(recs: list[ResourceRecord], config: dict | None = None) -> set[tuple[str, str, str, str]]:
    return {(v.policy_name, v.message, v.enforcement_level, v.urn) for v in offline.evaluate(recs, config)}


def test_analyzer_info_lists_every_policy(analyzer) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == c.POLICY_PACK_NAME and info.supportsConfig
    levels = {p.name: p.enforcementLevel for p in info.policies}
    assert set(levels) == {p.name for p in POLICIES}
    assert levels[c.P_AUTHENTIK_GATE] == analyzer_pb2.ADVISORY
    assert {n for n, lvl in levels.items() if lvl == analyzer_pb2.MANDATORY} == {p.name for p in POLICIES} - {c.P_AUTHENTIK_GATE}
    schemas = {p.name: p.configSchema for p in info.policies}
    assert dict(schemas[c.P_DATASET_QUOTA].properties["tier_quota_ceilings"]["default"]) == c.DEFAULT_TIER_QUOTA_CEILINGS
    assert schemas[c.P_DATASET_DESTROY_GATE].properties["allow_destroy"]["default"] is False


def test_real_pack_matches_offline_runner(analyzer) -> None:
    _configure(analyzer)
    recs = faulty_stack()
    via_grpc = _via_grpc(analyzer, recs)
    assert via_grpc == _via_offline(recs)
    assert len(via_grpc) == 6


def test_real_pack_fails_closed_on_unknowns(analyzer) -> None:
    _configure(analyzer)
    recs = [with_props(b.account(), uid=c.UNKNOWN), with_props(b.peer_file(), base_config_id=c.UNKNOWN),
            b.server_config()]
    found = _via_grpc(analyzer, recs)
    assert found == _via_offline(recs)
    mandatory = sorted(name for name, message, level, _ in found if level == "mandatory" and "cannot verify" in message)
    assert mandatory == sorted([c.P_ACCOUNT_IDENTITY, c.P_ACCOUNT_LIFECYCLE, c.P_BIRD_PEER_FILE])


def test_real_pack_reads_policy_config(analyzer) -> None:
    recs = [with_props(b.dataset(), ensure="destroyed", person_state="purged")]
    _configure(analyzer)
    assert {n for n, *_ in _via_grpc(analyzer, recs) if n != c.P_AUTHENTIK_GATE} == {c.P_DATASET_DESTROY_GATE}
    config = {c.P_DATASET_DESTROY_GATE: {"allow_destroy": True}}
    _configure(analyzer, config)
    found = _via_grpc(analyzer, recs)
    assert found == _via_offline(recs, config)
    assert {n for n, *_ in found if n != c.P_AUTHENTIK_GATE} == set()
    _configure(analyzer)


def test_no_module_of_the_pack_shadows_the_standard_library() -> None:
    names = {p.stem for p in PACK_DIR.iterdir() if p.suffix == ".py"} | {p.name for p in PACK_DIR.iterdir() if p.is_dir()}
    assert names & set(sys.stdlib_module_names) == set()


def test_a_types_module_would_break_the_pack(tmp_path) -> None:
    """Why the constants module is policy/contract.py and not policy/types.py."""
    shutil.copytree(PACK_DIR, tmp_path / "policy", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "policy" / "types.py").write_text("UNKNOWN = object()\n")
    proc, first_line = _start(tmp_path / "policy", timeout=30)
    err = _stop(proc)
    assert not first_line.isdigit()
    assert "cannot import name" in err and "types.py" in err
