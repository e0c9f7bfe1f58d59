"""The roster file's JSON schema, generated from the pydantic models (for editors and reviewers).

``roster/roster.schema.json`` is this function's output; a unit test fails when it is stale.
Regenerate with::

    python -m roster schema > roster/roster.schema.json

The schema helps editors (completion, descriptions on hover, obvious mistakes); the loader stays
the authority: some rules (uid ranges of the stack, SSH key structure, uniqueness across entries)
cannot be expressed in JSON schema.
"""
from __future__ import annotations

import json
from typing import Any

from .model import Roster

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
REGENERATE = "python -m roster schema > roster/roster.schema.json"


def json_schema() -> dict[str, Any]:
    """The JSON schema of ``roster.yaml`` (validation mode: what may be written in the file)."""
    schema = Roster.model_json_schema(mode="validation")
    return {
        "$schema": SCHEMA_DIALECT,
        **schema,
        "title": "Keystone roster",
        "description": (
            "Who has accounts on the stack's hosts (people, keyed by OS username) and who peers with "
            "its route servers (peers, keyed by ASN). Validate with: python -m roster validate"
        ),
    }


def render() -> str:
    """The schema as the committed file holds it: 2-space indented JSON with a final newline."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
