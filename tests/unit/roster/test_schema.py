"""The committed JSON schema matches the models, describes every field, and accepts the sample."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from collections.abc import Iterator

import yaml

from roster.schema import REGENERATE, json_schema, render

ROOT = Path(__file__).resolve().parents[3]
SCHEMA_FILE = ROOT / "roster" / "roster.schema.json"


def test_committed_schema_is_up_to_date():
    committed = SCHEMA_FILE.read_text()
    assert committed == render(), (
        f"roster/roster.schema.json is out of date with roster/model.py; regenerate it with:\n    {REGENERATE}"
    )


def _properties(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from (("", p) for p in schema.get("properties", {}).items())
    for name, definition in schema.get("$defs", {}).items():
        yield from ((name, p) for p in definition.get("properties", {}).items())


def test_every_field_and_model_has_a_description():
    schema = json_schema()
    assert schema["title"] == "Keystone roster" and schema["description"]
    missing = [f"{model}.{name}" for model, (name, prop) in _properties(schema) if not prop.get("description")]
    assert not missing, f"fields without a description: {missing}"
    assert all(d.get("description") for d in schema["$defs"].values())


def test_schema_hides_the_injected_key_fields():
    defs = json_schema()["$defs"]
    assert "username" not in defs["Person"]["properties"] and "username" not in defs["Person"]["required"]
    assert "asn" not in defs["Peer"]["properties"] and "asn" not in defs["Peer"]["required"]
    assert defs["Person"]["additionalProperties"] is False and defs["Peer"]["additionalProperties"] is False


def test_sample_roster_satisfies_the_schema():
    import jsonschema  # in requirements-dev.txt: a missing one fails, never skips
    data = yaml.safe_load((ROOT / "roster" / "roster.yaml").read_text())
    data["peers"] = {str(k): v for k, v in data["peers"].items()}  # JSON object keys are strings
    jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text())).validate(data)


def test_schema_catches_an_unknown_field_in_editors():
    import jsonschema  # in requirements-dev.txt: a missing one fails, never skips
    data = {"people": {"alice": {"name": "A", "uid": 20001, "tier": "admin", "sudo": True}}}
    errors = list(jsonschema.Draft202012Validator(json_schema()).iter_errors(data))
    assert errors
