"""The admin console sub-app: token check, metadata, schema docs, trusted GraphQL, static files.

In process over a real :class:`~ampbase.server.wiring.Runtime` (SQLite in a temporary folder)
serving a schema whose only model admits nobody but the owner, so the console's trusted
requests are visibly different from a client's. The browser side is covered by
``tests/e2e/test_web_apps.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from ampbase.schema.loader import load_schema
from ampbase.server.apikeys import ensure_api_key
from ampbase.server.console import (
    STATIC_DIR,
    console_token,
    console_url,
    create_console_app,
    generate_console_token,
)
from ampbase.server.settings import Settings
from ampbase.server.wiring import Runtime

pytestmark = pytest.mark.anyio

TOKEN = "abc-test-console-token"
SCHEMA = """
from ampbase import a, define_data

schema = a.schema(
    {
        "Note": a.model({"title": a.string().required(), "email": a.email()}).authorization(
            lambda allow: [allow.owner()]
        ),
        "Tag": a.model({"label": a.string()}).authorization(lambda allow: [allow.public_api_key()]),
    }
)

data = define_data(
    schema=schema,
    authorization_modes={
        "default_authorization_mode": "userPool",
        "api_key_authorization_mode": {"expires_in_days": 7},
    },
)
"""


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    schema_file = tmp_path / "resource.py"
    schema_file.write_text(SCHEMA)
    runtime = Runtime(
        load_schema(schema_file),
        Settings(database_url=f"sqlite:///{tmp_path / 'console.db'}", state_dir=tmp_path / "state"),
    )
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=[Mount("/console", app=create_console_app(runtime, token=TOKEN))])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1:4443") as c:
        yield c


def admin(**headers: str) -> dict[str, str]:
    return {"authorization": f"Bearer {TOKEN}", **headers}


async def graphql(client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None) -> Any:
    response = await client.post(
        "/console/api/graphql", json={"query": query, "variables": variables or {}}, headers=admin()
    )
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("path", ["/console/api/meta", "/console/api/schema"])
@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "Bearer wrong"}, {"authorization": TOKEN}, {"authorization": f"Basic {TOKEN}"}],
)
async def test_api_refuses_requests_without_the_console_token(
    client: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> None:
    response = await client.get(path, headers=headers)
    assert response.status_code == 401
    assert response.json()["errors"][0]["errorType"] == "UnauthorizedException"
    assert response.headers["cache-control"] == "no-store"


async def test_graphql_refuses_requests_without_the_console_token(client: httpx.AsyncClient) -> None:
    response = await client.post("/console/api/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 401


async def test_meta_lists_models_auth_modes_and_a_usable_api_key(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    key, _created = await ensure_api_key(runtime.storage)
    response = await client.get("/console/api/meta", headers=admin())
    assert response.status_code == 200
    meta = response.json()
    assert set(meta["modelIntrospection"]["models"]) == {"Note", "Tag"}
    assert meta["modelIntrospection"]["models"]["Note"]["fields"]["email"]["type"] == "AWSEmail"
    assert {"userPool", "apiKey"} <= set(meta["authModes"])
    assert meta["defaultAuthMode"] == "userPool"
    assert meta["apiKey"] == key.id
    assert meta["graphqlPath"] == "/graphql"
    assert meta["realtimePath"] == "/graphql/realtime"


async def test_schema_returns_sdl_and_graphql_introspection(client: httpx.AsyncClient) -> None:
    response = await client.get("/console/api/schema", headers=admin())
    docs = response.json()
    assert "type Note" in docs["sdl"]
    types = {t["name"]: t for t in docs["introspection"]["__schema"]["types"]}
    assert {f["name"] for f in types["Query"]["fields"]} >= {"getNote", "listNotes", "getTag", "listTags"}
    assert "CreateNoteInput" in types


async def test_graphql_runs_as_a_trusted_caller_past_the_model_rules(client: httpx.AsyncClient) -> None:
    created = await graphql(
        client,
        "mutation ($input: CreateNoteInput!) { createNote(input: $input) { id title } }",
        {"input": {"title": "written by the admin"}},
    )
    assert "errors" not in created
    note_id = created["data"]["createNote"]["id"]

    listed = await graphql(client, "query { listNotes { items { id title } nextToken } }")
    assert listed["data"]["listNotes"]["items"] == [{"id": note_id, "title": "written by the admin"}]

    deleted = await graphql(
        client,
        "mutation ($input: DeleteNoteInput!) { deleteNote(input: $input) { id } }",
        {"input": {"id": note_id}},
    )
    assert deleted["data"]["deleteNote"] == {"id": note_id}


async def test_graphql_reports_schema_validation_errors(client: httpx.AsyncClient) -> None:
    result = await graphql(
        client,
        "mutation ($input: CreateNoteInput!) { createNote(input: $input) { id } }",
        {"input": {"title": "x", "email": "not-an-email"}},
    )
    assert result["data"] is None
    assert "AWSEmail" in result["errors"][0]["message"]


@pytest.mark.parametrize(
    "body", [b"not json", b"[]", b'{"query": 1}', b'{"query": "{ a }", "variables": []}']
)
async def test_graphql_rejects_malformed_bodies(client: httpx.AsyncClient, body: bytes) -> None:
    response = await client.post(
        "/console/api/graphql", content=body, headers=admin(**{"content-type": "application/json"})
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["errorType"] == "BadRequestException"


async def test_page_is_served_without_a_token_and_with_a_strict_content_security_policy(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/console/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'src="static/console.js"' in response.text
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "connect-src 'self' wss://127.0.0.1:4443" in csp
    assert "frame-ancestors 'none'" in csp


async def test_bare_console_path_redirects_to_the_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/console")
    assert response.status_code in (307, 308)
    assert response.headers["location"].endswith("/console/")


@pytest.mark.parametrize("name", ["console.js", "console.css"])
async def test_static_files_are_served(client: httpx.AsyncClient, name: str) -> None:
    response = await client.get(f"/console/static/{name}")
    assert response.status_code == 200
    assert response.content == (STATIC_DIR / name).read_bytes()


async def test_static_files_do_not_escape_their_folder(client: httpx.AsyncClient) -> None:
    response = await client.get("/console/static/../__init__.py")
    assert response.status_code == 404


def test_generated_tokens_are_long_and_distinct() -> None:
    tokens = {generate_console_token() for _ in range(20)}
    assert len(tokens) == 20
    assert all(len(t) >= 32 for t in tokens)


async def test_an_empty_token_is_refused(runtime: Runtime) -> None:
    with pytest.raises(ValueError, match="non-empty token"):
        create_console_app(runtime, token="")


def test_console_token_comes_from_the_environment_first(tmp_path: Path) -> None:
    token, source = console_token(tmp_path, {"AMPBASE_CONSOLE_TOKEN": " from-env "})
    assert (token, source) == ("from-env", None)
    assert not (tmp_path / "console-token").exists()


def test_console_token_is_created_once_in_the_state_dir_and_kept(tmp_path: Path) -> None:
    state = tmp_path / "state"
    token, source = console_token(state, {})
    assert source == state / "console-token"
    assert source.stat().st_mode & 0o777 == 0o600
    assert console_token(state, {"AMPBASE_CONSOLE_TOKEN": ""}) == (token, source)


def test_console_url_sits_next_to_the_graphql_endpoint() -> None:
    assert console_url("https://127.0.0.1:4443/graphql") == "https://127.0.0.1:4443/console/"
    assert console_url("https://api.example.com/graphql") == "https://api.example.com/console/"


async def test_create_app_mounts_the_console_only_when_settings_carry_a_token(tmp_path: Path) -> None:
    from ampbase.server.app import create_app

    schema_file = tmp_path / "resource.py"
    schema_file.write_text(SCHEMA)
    base = Settings(database_url=f"sqlite:///{tmp_path / 'app.db'}", state_dir=tmp_path / "state")
    for token, expected in ((None, 404), (TOKEN, 200)):
        runtime = Runtime(load_schema(schema_file), base.merged(console_token=token))
        await runtime.start()
        try:
            transport = httpx.ASGITransport(app=create_app(runtime))
            async with httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1:4443") as c:
                response = await c.get("/console/api/meta", headers=admin())
        finally:
            await runtime.stop()
        assert response.status_code == expected


def test_settings_never_show_the_console_token() -> None:
    assert TOKEN not in repr(Settings(console_token=TOKEN))


def test_serve_takes_a_console_flag_that_is_off_by_default() -> None:
    from ampbase.cli.main import build_parser

    assert build_parser().parse_args(["serve", "schema.graphql", "--console"]).console is True
    assert build_parser().parse_args(["serve", "schema.graphql"]).console is False
