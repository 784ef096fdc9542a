"""``write_outputs``: amplify_outputs.json on disk, with the configured region."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ampbase.compiler.outputs import build_amplify_outputs
from ampbase.errors import ConfigError
from ampbase.schema.resolve import resolve_schema
from ampbase.schema.sdl import load_sdl
from ampbase.server.outputs import write_outputs

URL = "https://127.0.0.1:4443/graphql"
SCHEMA = resolve_schema(
    load_sdl("type Todo @model @auth(rules: [{allow: public, provider: iam}]) { content: String }")
)


def test_the_region_becomes_data_aws_region(tmp_path: Path) -> None:
    path = tmp_path / "amplify_outputs.json"
    write_outputs(path, SCHEMA, url=URL, api_key=None, region="eu-central-1")
    data = json.loads(path.read_text())["data"]
    assert data["aws_region"] == "eu-central-1"
    assert data["url"] == URL


def test_the_file_is_the_pretty_printed_outputs_object_and_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "amplify_outputs.json"  # parents are created
    write_outputs(path, SCHEMA, url=URL, api_key="da2-key", region="ap-southeast-2")
    text = path.read_text()
    assert text.endswith("}\n") and text.startswith('{\n  "version"')
    assert json.loads(text) == build_amplify_outputs(
        SCHEMA, url=URL, api_key="da2-key", region="ap-southeast-2"
    )
    assert [p.name for p in path.parent.iterdir()] == ["amplify_outputs.json"]  # no temporary file left


def test_rewriting_replaces_the_previous_region(tmp_path: Path) -> None:
    path = tmp_path / "amplify_outputs.json"
    write_outputs(path, SCHEMA, url=URL, api_key=None, region="us-east-1")
    write_outputs(path, SCHEMA, url=URL, api_key=None, region="eu-west-3")
    assert json.loads(path.read_text())["data"]["aws_region"] == "eu-west-3"


def test_an_invalid_outputs_leaves_the_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "amplify_outputs.json"
    write_outputs(path, SCHEMA, url=URL, api_key=None, region="eu-west-1")
    before = path.read_bytes()
    with pytest.raises(ConfigError, match="trailing slash"):
        write_outputs(path, SCHEMA, url=URL + "/", api_key=None, region="eu-west-2")
    assert path.read_bytes() == before
