"""The offline runner over whole stacks: what it prints, its exit code, config handling, records as
the mock harness produces them, and its command line."""
from __future__ import annotations

import dataclasses
import io
import json
import sys
import types

import pytest
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

from policy import contract as c
from policy import offline
from policy.offline import ConfigError, ResourceRecord, evaluate, format_violations, print_violations, resolve_config
from policy.rules import POLICIES
from tests.harness import policy_records as b
from tests.harness.policy_records import faulty_stack, with_props

SECRET = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}


EXPECTED = """\
Policies:
    ❌ keystone@v0.1.0 (local: policy)
        - [mandatory] [severity: critical]  k8s-binding-tier  (kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding: bob-clusterrolebinding-cluster-admin)
          RBAC bindings carry tier/person labels; only tier admin is bound to cluster-admin.
          ClusterRoleBinding to cluster-admin for tier 'power-user': only tier 'admin' may be cluster admin.
        - [mandatory] [severity: critical]  os-account-password-hash  (pulumi-python:dynamic/os:Account: alice-account-ws2)
          OS account passwords are crypt hashes ($6$ or $y$) or null, and kept secret in state.
          password_hash is not a SHA-512 ($6$) or yescrypt ($y$) crypt hash (value not shown: it may be a plaintext password). Put only hashes in the roster/stack config, e.g. from `mkpasswd -m yescrypt`.
        - [mandatory] [severity: critical]  zfs-delegation-safe  (pulumi-python:dynamic/zfs:Delegation: bob-delegation-ws2)
          ZFS delegations never allow destroying the home itself, re-delegating, or everyone.
          'destroy' is delegated on 'rpool/crypt/home/bob' itself (permissions): the owner could destroy the home; delegate it in descendent_permissions only (zfs allow -d).
        - [mandatory] [severity: high]  bird-peer-file-limits-rpki  (pulumi-python:dynamic/bird:PeerFile: as64512-peer-rs2)
          BIRD peer files have positive import/receive limits, RPKI on, and sit under the base config.
          import_limit_v6 must be an integer > 0, got 0: without it a peer can flood the route server.
        - [mandatory] [severity: high]  os-account-identity-unique  (pulumi-python:dynamic/os:Account: bob-account-ws1)
          Each username has exactly one uid across all hosts, and no two usernames share a uid.
          uid 1002 is shared by usernames ['bob', 'carol']: files owned by one would belong to the other.
        - [advisory] [severity: medium]  authentik-gate-group  (pulumi-python:dynamic/authentik:Group: group-keystone)
          The Authentik gate group exists and holds exactly the active people.
          gate group 'keystone' has people in, but not active: dave

"""


def test_whole_stack_output_and_exit_code() -> None:
    violations = evaluate(faulty_stack())
    out = io.StringIO()
    assert print_violations(violations, file=out) == 1
    assert out.getvalue() == EXPECTED
    assert sum(v.mandatory for v in violations) == 5


def test_clean_stack_passes() -> None:
    out = io.StringIO()
    assert print_violations(evaluate(b.baseline()), file=out) == 0
    assert out.getvalue() == "Policies:\n    ✅ keystone@v0.1.0 (local: policy)\n\n"


def test_advisory_only_warns_and_exits_zero() -> None:
    recs = [r for r in b.baseline() if r.type != c.AUTHENTIK_GROUP]
    violations = evaluate(recs)
    out = io.StringIO()
    assert print_violations(violations, file=out, stack="prod") == 0
    text = out.getvalue()
    assert text.startswith("Policies:\n    ⚠️ keystone@v0.1.0 (local: policy)\n")
    # a stack violation without a resource is attributed to the root stack, as the engine does
    assert "- [advisory] [severity: medium]  authentik-gate-group  (pulumi:pulumi:Stack: keystone-prod)" in text
    assert violations[0].urn == "" and violations[0].message.startswith("The Authentik gate group exists")


# ---- config ----------------------------------------------------------------------------------

def test_config_defaults_come_from_the_schemas() -> None:
    props, levels = resolve_config(None, POLICIES)
    assert props[c.P_DATASET_QUOTA] == {"tier_quota_ceilings": c.DEFAULT_TIER_QUOTA_CEILINGS}
    assert props[c.P_DATASET_DESTROY_GATE] == {"allow_destroy": False}
    assert props[c.P_AUTHENTIK_GATE] == {"gate_group": "keystone"}
    assert levels[c.P_AUTHENTIK_GATE] == EnforcementLevel.ADVISORY
    assert all(levels[p.name] == EnforcementLevel.MANDATORY for p in POLICIES if p.name != c.P_AUTHENTIK_GATE)


def _destroyed_home() -> list[ResourceRecord]:
    return [with_props(r, ensure="destroyed", person_state="purged") if r.name == "bob-home-ws1" else r
            for r in b.baseline()]


def test_allow_destroy_config_opens_the_gate() -> None:
    names = [v.policy_name for v in evaluate(_destroyed_home())]
    assert names == [c.P_DATASET_DESTROY_GATE]
    assert evaluate(_destroyed_home(), {c.P_DATASET_DESTROY_GATE: {"allow_destroy": True}}) == []


def test_enforcement_levels_from_config() -> None:
    recs = faulty_stack()
    assert print_violations(evaluate(recs, {"all": "advisory"}), file=io.StringIO()) == 0
    names = {v.policy_name for v in evaluate(recs, {c.P_K8S_BINDING: "disabled"})}
    assert c.P_K8S_BINDING not in names and c.P_ACCOUNT_PASSWORD in names
    levels = {v.policy_name: v.enforcement_level
              for v in evaluate(recs, {c.P_AUTHENTIK_GATE: {"enforcementLevel": "mandatory"}})}
    assert levels[c.P_AUTHENTIK_GATE] == "mandatory"
    levels = {v.policy_name: v.enforcement_level for v in evaluate(recs, {c.P_K8S_BINDING: "remediate"})}
    assert levels[c.P_K8S_BINDING] == "mandatory"  # remediate without a remediation counts as mandatory


@pytest.mark.parametrize("config, fragment", [
    ({"no-such-policy": "advisory"}, "not a policy"),
    ({c.P_DATASET_DESTROY_GATE: {"allow_destroy": "yes"}}, "allow_destroy: 'yes' is not of type 'boolean'"),
    ({c.P_DATASET_QUOTA: {"tier_quota_ceilings": {"admin": "big"}}}, "tier_quota_ceilings.admin"),
    ({c.P_AUTHENTIK_GATE: {"gate_group": ""}}, "gate_group"),
    ({"all": "loud"}, "not a valid enforcement level"),
])
def test_invalid_config_is_refused(config, fragment) -> None:
    with pytest.raises(ConfigError) as e:
        evaluate(b.baseline(), config)
    assert fragment in str(e.value)


def test_config_merge_is_shallow_like_the_cli() -> None:
    props, _ = resolve_config({c.P_DATASET_QUOTA: {"tier_quota_ceilings": {"admin": "4T"}}}, POLICIES)
    assert props[c.P_DATASET_QUOTA]["tier_quota_ceilings"] == {"admin": "4T"}
    # so a power-user home then has no ceiling configured: reported, not waved through
    msgs = [v.detail for v in evaluate(b.baseline(), {c.P_DATASET_QUOTA: {"tier_quota_ceilings": {"admin": "4T"}}})]
    assert msgs and all("no quota ceiling is configured for tier 'power-user'" in m for m in msgs)


# ---- records as the mock harness produces them ------------------------------------------------

def test_raw_mock_inputs_are_understood() -> None:
    raw = dict(b.account().props)
    raw["password_hash"] = {**SECRET, "value": "hunter2"}             # a secret input, as mocks see it
    raw["__provider"] = {**SECRET, "value": "gASV...serialized..."}   # dropped, as the engine drops it
    raw["uid"] = c.UNKNOWN                                            # unknown during preview
    rec = {"type": c.OS_ACCOUNT, "name": "alice-account-ws1", "props": raw,
           "additional_secret_outputs": ["password_hash"]}
    details = {(v.policy_name, v.detail.split(":")[0]) for v in evaluate([rec])}
    assert (c.P_ACCOUNT_PASSWORD, "password_hash is not a SHA-512 ($6$) or yescrypt ($y$) crypt hash (value not shown") in details
    assert (c.P_ACCOUNT_LIFECYCLE, "cannot verify uid") in details
    assert (c.P_ACCOUNT_IDENTITY, "cannot verify uid") in details
    assert all(v.urn == "urn:pulumi:dev::keystone::pulumi-python:dynamic/os:Account::alice-account-ws1"
               for v in evaluate([rec]) if v.policy_name != c.P_AUTHENTIK_GATE)


def test_unknown_and_secret_fields_of_a_record() -> None:
    rec = dataclasses.replace(b.dataset(), unknown=frozenset({"ensure"}))
    assert [v.policy_name for v in evaluate([rec]) if v.mandatory] == [c.P_DATASET_DESTROY_GATE]
    rec = dataclasses.replace(with_props(b.account(), password_hash="hunter2"), secret=frozenset({"password_hash"}))
    assert c.P_ACCOUNT_PASSWORD in {v.policy_name for v in evaluate([rec])}  # secrets reach policies in plain text


def test_stack_args_link_parents_and_dependencies() -> None:
    parent = ResourceRecord(type="keystone:users:WorkstationUser", name="alice", urn="urn:p", custom=False)
    child = dataclasses.replace(b.account(), parent="urn:p", dependencies=("urn:p", "urn:missing"))
    args = offline.stack_args([parent, child])
    assert args.resources[1].parent is args.resources[0]
    assert args.resources[1].dependencies == [args.resources[0]]
    assert args.resources[1].opts.parent == "urn:p"
    assert args.resources[1].props["uid"] == 1001.0  # numbers travel as floats, as from the engine


def test_retain_on_delete_is_not_shown_to_policies_as_in_the_engine() -> None:
    args = offline.resource_args(dataclasses.replace(b.dataset(), retain_on_delete=True))
    assert not hasattr(args.opts, "retain_on_delete")


def test_an_unknown_escaping_a_rule_is_advisory_as_in_the_sdk() -> None:
    def naive(args, report_violation):
        if args.props["uid"] < 1000:
            report_violation("low uid")

    policy = ResourceValidationPolicy("naive", "A rule that reads the proxy directly.", naive,
                                      EnforcementLevel.MANDATORY)
    [v] = evaluate([with_props(b.account(), uid=c.UNKNOWN)], policies=[policy])
    assert v.enforcement_level == "advisory"
    assert v.detail == ("can't run policy 'naive' from policy pack 'keystone@v0.1.0' during preview: "
                        "string value at .uid can't be known during preview")


@pytest.mark.parametrize("type_, shown", [
    ("authentik:index/group:Group", "authentik:index:Group"),
    ("pulumi-python:dynamic/zfs:Dataset", "pulumi-python:dynamic/zfs:Dataset"),
    ("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"),
    ("pulumi:pulumi:Stack", "pulumi:pulumi:Stack"),
])
def test_display_type_matches_the_cli(type_, shown) -> None:
    assert offline.display_type(type_) == shown


def test_violations_format_multiline_messages_like_the_cli() -> None:
    v = offline.Violation("p", "Desc.", "line one\nline two", "mandatory", "urn:pulumi:dev::keystone::a:b:C::n")
    assert format_violations([v]).splitlines()[2:] == [
        "        - [mandatory]  p  (a:b:C: n)", "          Desc.", "          line one", "          line two", ""]


# ---- command line ----------------------------------------------------------------------------

@pytest.fixture
def fake_harness(monkeypatch):
    calls = []

    def collect_resources(stack: str, roster_path: str):
        calls.append((stack, roster_path))
        return faulty_stack() if stack == "dev" else b.baseline()

    module = types.ModuleType("policy.collect")
    module.collect_resources = collect_resources
    monkeypatch.setitem(sys.modules, "policy.collect", module)
    return calls


def test_main_prints_and_fails_on_mandatory(fake_harness, capsys) -> None:
    assert offline.main(["--stack", "dev"]) == 1
    out, err = capsys.readouterr()
    assert out == EXPECTED
    assert fake_harness == [("dev", "roster/roster.yaml")]
    assert "5 mandatory and 1 advisory" in err


def test_main_without_the_collector_is_a_usage_error(monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "policy.collect", None)  # import fails
    assert offline.main(["--stack", "dev"]) == 2
    assert "cannot load policy.collect.collect_resources" in capsys.readouterr().err


def test_the_config_check_is_never_skipped(fake_harness, monkeypatch, capsys) -> None:
    """Without jsonschema the config cannot be checked: that is an error, not a silent pass."""
    from policy import pack_config

    monkeypatch.setattr(pack_config, "jsonschema", None)
    with pytest.raises(ConfigError, match="jsonschema package is missing"):
        resolve_config({}, POLICIES)
    assert offline.main(["--stack", "staging"]) == 2
    assert "jsonschema package is missing" in capsys.readouterr().err


def test_the_runner_does_not_depend_on_the_test_tree() -> None:
    """``python -m policy.offline`` is production code: none of its modules imports ``tests``.  Parsed
    in a fresh interpreter: CPython 3.11's ``ast`` fails with "AST constructor recursion depth
    mismatch" in a process where a RecursionError was once caught (seen in a full run)."""
    import subprocess
    import sys

    probe = """
import ast, pathlib, sys
bad = []
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.py")):
    for node in ast.walk(ast.parse(path.read_text())):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        bad += [f"{path}: {n}" for n in names if n == "tests" or n.startswith("tests.")]
print("\\n".join(bad))
"""
    p = subprocess.run([sys.executable, "-c", probe, str(offline.PACK_DIR)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "", p.stdout


def test_main_passes_clean_stack_and_reads_policy_config(fake_harness, capsys, tmp_path) -> None:
    assert offline.main(["--stack", "staging", "--roster", "r.yaml"]) == 0
    assert fake_harness[-1] == ("staging", "r.yaml")
    capsys.readouterr()
    cfg = tmp_path / "policy-config.json"
    cfg.write_text(json.dumps({"all": "advisory"}))
    assert offline.main(["--stack", "dev", "--policy-config", str(cfg)]) == 0
    cfg.write_text(json.dumps({c.P_DATASET_DESTROY_GATE: {"allow_destroy": "yes"}}))
    assert offline.main(["--stack", "dev", "--policy-config", str(cfg)]) == 2
    assert "policy-pack config is invalid" in capsys.readouterr().err
    assert offline.main(["--stack", "dev", "--policy-config", str(tmp_path / "missing.json")]) == 2


def test_module_entry_point_runs() -> None:
    import subprocess

    result = subprocess.run([sys.executable, "-m", "policy.offline", "--help"], capture_output=True, text=True,
                            cwd=offline.PACK_DIR.parent, timeout=60)
    assert result.returncode == 0 and "--stack" in result.stdout and "--roster" in result.stdout
