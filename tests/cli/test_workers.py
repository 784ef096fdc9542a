"""``ampbase serve --workers N``: the parent writes amplify_outputs.json once, before spawning."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ampbase.cli.workers import _prepare
from ampbase.server.settings import Settings

SCHEMA = "type Todo @model @auth(rules: [{allow: private, provider: iam}]) { content: String }"


@pytest.mark.anyio
async def test_the_outputs_file_carries_the_configured_region(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("AMPBASE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AMPBASE_AWS_REGION", "eu-north-1")
    schema = tmp_path / "schema.graphql"
    schema.write_text(SCHEMA)
    outputs = tmp_path / "amplify_outputs.json"
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'workers.db'}",
        outputs=outputs,
        state_dir=tmp_path / "state",
    )
    await _prepare(schema, settings)
    data = json.loads(outputs.read_text())["data"]
    assert data["aws_region"] == "eu-north-1"
    assert data["default_authorization_type"] == "AWS_IAM"
