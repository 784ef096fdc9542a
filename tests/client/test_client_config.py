"""Configuring ``generate_client``: outputs file, ``schema=``, explicit options, import isolation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ampbase.client import generate_client
from ampbase.errors import ConfigError
from tests.client.app import SCHEMA
from tests.client.conftest import API_KEY, Recorder, outputs

pytestmark = pytest.mark.anyio


async def test_outputs_path_and_default_auth_mode(tmp_path: Path) -> None:
    path = tmp_path / "amplify_outputs.json"
    path.write_text(json.dumps(outputs()))
    client = generate_client(path)
    assert set(client.models) == {"Todo", "Team", "Member", "Customer", "Product"}
    assert set(client.queries) == {"echo", "todosByPriority", "locate"}
    assert client.enums.Priority.values() == ["LOW", "MEDIUM", "HIGH"]
    assert client._core.auth.mode == "apiKey" and client._core.auth.api_key == API_KEY
    await client.close()


async def test_schema_and_url_without_an_outputs_file() -> None:
    from ampbase.schema.loader import load_schema

    rec = Recorder()
    client = rec.client(outputs=None, schema=load_schema(SCHEMA), url="https://h:1/graphql", api_key="da2-k")
    assert "Blog" in client.models and "echo" in dir(client.queries)
    await client.models.Blog.list()
    request = rec.requests[0]
    assert str(request.url) == "https://h:1/graphql" and request.headers["x-api-key"] == "da2-k"


async def test_define_data_result_is_accepted_as_schema() -> None:
    import runpy

    data = runpy.run_path(str(SCHEMA))["data"]
    client = generate_client(schema=data, url="https://h/graphql", api_key="k")
    assert client.models.Customer.index_queries == ("listCustomerByAccountRepresentativeIdAndName",)


def test_bad_configuration_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        generate_client(tmp_path / "missing.json")
    with pytest.raises(ConfigError, match="version"):
        generate_client({"version": 1, "data": {"url": "https://h/graphql"}})
    with pytest.raises(ConfigError, match="No GraphQL endpoint"):
        generate_client({"version": "1", "data": {}})
    client = generate_client({"version": "1", "data": {"url": "https://h/graphql"}})
    assert len(client.models) == 0
    assert client._core.auth.mode == "iam"  # the JS client's fallback for a missing default mode


def test_the_client_imports_without_server_extras() -> None:
    # (``ampbase/__init__`` itself re-exports the light ``HandlerContext``; the engine proper,
    # graphql-core, the server and the storage drivers must stay out.)
    code = (
        "import sys, ampbase.client, ampbase.client.sync\n"
        "heavy = ('graphql', 'starlette', 'uvicorn', 'asyncpg', 'redis', 'ampbase.server', "
        "'ampbase.engine.engine', 'ampbase.compiler', 'ampbase.storage', 'ampbase.pubsub')\n"
        "print([m for m in sys.modules if m.startswith(heavy)])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
