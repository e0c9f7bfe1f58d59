"""The CI workflow: valid against GitHub's workflow schema (check-jsonschema), and doing what the
project needs on each event. check-jsonschema is a dev requirement: if it is missing this test
fails rather than skips, so CI can never silently stop linting the workflow."""
from __future__ import annotations

import importlib.util
import pathlib
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "keystone.yml"


def _check_jsonschema(*args: str) -> subprocess.CompletedProcess:
    if importlib.util.find_spec("check_jsonschema") is None:
        pytest.fail("check-jsonschema is not installed: `pip install -r requirements-dev.txt` "
                    "(it must list check-jsonschema)")
    return subprocess.run([sys.executable, "-m", "check_jsonschema", *args], capture_output=True, text=True,
                          timeout=120)


def test_workflow_matches_the_github_workflow_schema() -> None:
    result = _check_jsonschema("--builtin-schema", "vendor.github-workflows", str(WORKFLOW))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_linter_does_reject_a_broken_workflow(tmp_path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    stepz: []\n")
    assert _check_jsonschema("--builtin-schema", "vendor.github-workflows", str(broken)).returncode == 1


@pytest.fixture(scope="module")
def workflow() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def _steps(job: dict) -> list[dict]:
    return job["steps"]


def _runs(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in _steps(job))


def _pulumi_step(job: dict) -> dict:
    [step] = [s for s in _steps(job) if str(s.get("uses", "")).startswith("pulumi/actions@")
              and "command" in s.get("with", {})]
    assert step["uses"] == "pulumi/actions@v6"
    return step["with"]


def test_triggers(workflow) -> None:
    on = workflow["on"]
    assert "pull_request" in on and on["push"]["branches"] == ["main"]
    stack = on["workflow_dispatch"]["inputs"]["stack"]
    assert stack["type"] == "choice" and stack["options"] == ["staging", "prod"]


def test_checks_run_roster_tests_and_offline_policies(workflow) -> None:
    job = workflow["jobs"]["checks"]
    runs = _runs(job)
    assert 'sudo -E env "PATH=$PATH" bash scripts/setup.sh' in runs  # the README's set-up, as root
    assert "python -m roster validate roster/roster.yaml" in runs
    assert 'sudo -E env "PATH=$PATH" CI=true bash .ci/run' in runs  # the README's test command
    assert 'python -m policy.offline --stack "$STACK"' in runs
    [cli] = [s for s in _steps(job) if str(s.get("uses", "")).startswith("pulumi/actions@")]
    assert cli["with"]["pulumi-version"] == "${{ env.PULUMI_VERSION }}" and "command" not in cli["with"]
    assert job["env"]["KEYSTONE_CACHE"] in [s["with"]["path"] for s in _steps(job)
                                             if str(s.get("uses", "")).startswith("actions/cache@")]


def test_pull_request_previews_dev_with_the_policy_pack_and_comments(workflow) -> None:
    job = workflow["jobs"]["preview"]
    assert job["if"] == "github.event_name == 'pull_request'" and job["needs"] == "checks"
    assert job["permissions"]["pull-requests"] == "write"
    step = _pulumi_step(job)
    assert step["command"] == "preview" and step["stack-name"] == "dev"
    assert step["policyPacks"].endswith("/policy") and step["diff"] is True and step["comment-on-pr"] is True


def test_push_to_main_updates_dev(workflow) -> None:
    job = workflow["jobs"]["deploy-dev"]
    assert "github.event_name == 'push'" in job["if"] and "refs/heads/main" in job["if"]
    step = _pulumi_step(job)
    assert step["command"] == "up" and step["stack-name"] == "dev" and step["policyPacks"].endswith("/policy")
    assert job["concurrency"]["cancel-in-progress"] is False


def test_manual_promotion_goes_through_an_environment(workflow) -> None:
    job = workflow["jobs"]["promote"]
    assert "workflow_dispatch" in job["if"] and "refs/heads/main" in job["if"]
    assert job["environment"] == "${{ inputs.stack }}"
    step = _pulumi_step(job)
    assert step["command"] == "up" and step["stack-name"] == "${{ inputs.stack }}"
    assert step["policyPacks"].endswith("/policy")


def test_pulumi_secrets_only_reach_pulumi_jobs(workflow) -> None:
    assert "PULUMI_CONFIG_PASSPHRASE" not in (workflow.get("env") or {})
    for name, job in workflow["jobs"].items():
        has = "PULUMI_CONFIG_PASSPHRASE" in (job.get("env") or {})
        assert has == (name != "checks"), name
        if has:
            assert {"PULUMI_ACCESS_TOKEN", "PULUMI_BACKEND_URL"} <= set(job["env"])


def test_the_workflow_cli_is_the_pinned_sdk_version(workflow) -> None:
    from engine.paths import sdk_version

    pinned = next(line.split("==")[1].split()[0] for line in (ROOT / "requirements.txt").read_text().splitlines()
                  if line.startswith("pulumi=="))
    assert workflow["env"]["PULUMI_VERSION"] == pinned == sdk_version()
