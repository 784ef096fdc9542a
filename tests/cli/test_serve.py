"""``ampbase serve``: the outputs file it writes carries the region the server's auth is set up for."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import ampbase.cli.serve
from ampbase.cli.main import main

SCHEMA = """
type Todo @model @auth(rules: [{allow: public, provider: iam}, {allow: private, provider: iam}]) {
  content: String
}
"""


async def _started_then_stopped(
    app: Any, settings: Any, *, on_started: Callable[[], Awaitable[None] | None] | None = None, **_: Any
) -> None:
    """Stands in for the HTTP server: announce the start, then return as if stopped by a signal."""
    result = on_started() if on_started is not None else None
    if result is not None:
        await result


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No ``AMPBASE_*`` settings from the environment running the tests; no real HTTP server."""
    for name in list(os.environ):
        if name.startswith("AMPBASE_"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(ampbase.cli.serve, "serve_app", _started_then_stopped)
    return monkeypatch


def iam_config(tmp_path: Path, region: str | None) -> Path:
    config: dict[str, Any] = {
        "accountId": "123456789012",
        "credentials": [{"accessKeyId": "AKIDTEST", "secretAccessKey": "s", "kind": "iam"}],
    }
    if region is not None:
        config["region"] = region
    path = tmp_path / "iam.json"
    path.write_text(json.dumps(config))
    return path


def serve(tmp_path: Path) -> dict[str, Any]:
    schema = tmp_path / "schema.graphql"
    schema.write_text(SCHEMA)
    outputs = tmp_path / "out" / "amplify_outputs.json"
    code = main(
        [
            "serve",
            str(schema),
            "--database-url",
            f"sqlite:///{tmp_path / 'serve.db'}",
            "--host",
            "127.0.0.1",
            "--port",
            "4443",
            "--allow-plain-http",
            "--outputs",
            str(outputs),
            "--state-dir",
            str(tmp_path / "state"),
        ]
    )
    assert code == 0
    data: dict[str, Any] = json.loads(outputs.read_text())["data"]
    return data


def test_the_iam_config_region_reaches_the_outputs_file(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("AMPBASE_IAM_CONFIG", str(iam_config(tmp_path, "eu-west-1")))
    data = serve(tmp_path)
    assert data["aws_region"] == "eu-west-1"
    assert data["default_authorization_type"] == "AWS_IAM"


def test_the_aws_region_variable_reaches_the_outputs_file(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("AMPBASE_AWS_REGION", "ap-northeast-1")
    assert serve(tmp_path)["aws_region"] == "ap-northeast-1"


def test_the_iam_config_region_wins_over_the_variable(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("AMPBASE_AWS_REGION", "ap-northeast-1")
    clean_env.setenv("AMPBASE_IAM_CONFIG", str(iam_config(tmp_path, "sa-east-1")))
    assert serve(tmp_path)["aws_region"] == "sa-east-1"


def test_an_iam_config_without_region_keeps_the_variable(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("AMPBASE_AWS_REGION", "ca-central-1")
    clean_env.setenv("AMPBASE_IAM_CONFIG", str(iam_config(tmp_path, None)))
    assert serve(tmp_path)["aws_region"] == "ca-central-1"


def test_without_configuration_the_region_is_us_east_1(tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    assert serve(tmp_path)["aws_region"] == "us-east-1"
