"""Authentication through the running app: local-issuer JWTs, the JWKS route, SigV4, ``ampbase token``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from ampbase.auth.issuer import LOCAL_ISSUER, LocalIssuer
from ampbase.auth.sigv4 import sign_headers
from ampbase.cli.main import main
from ampbase.schema.resolve import resolve_schema
from ampbase.schema.sdl import load_sdl
from ampbase.server.app import create_app
from ampbase.server.settings import Settings
from ampbase.server.wiring import Runtime

pytestmark = pytest.mark.anyio

SDL = """
type Todo @model @auth(rules: [{allow: owner}, {allow: private, provider: iam, operations: [read]}]) {
  content: String
}
"""
HOST = "127.0.0.1:4443"


@pytest.fixture
async def app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[httpx.AsyncClient, Path]]:
    iam = {
        "identityPoolId": "us-east-1:pool",
        "credentials": [
            {"accessKeyId": "AKIDAUTH", "secretAccessKey": "s3cret", "kind": "authenticated"},
            {"accessKeyId": "AKIDGUEST", "secretAccessKey": "s3cret", "kind": "unauthenticated"},
        ],
    }
    (tmp_path / "iam.json").write_text(json.dumps(iam))
    for name in ("AMPBASE_USER_POOL_ISSUER", "AMPBASE_LOCAL_ISSUER", "AMPBASE_AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AMPBASE_IAM_CONFIG", str(tmp_path / "iam.json"))
    schema = resolve_schema(load_sdl(SDL))
    assert set(schema.auth.modes) >= {"userPool", "iam"}
    state = tmp_path / "state"
    runtime = Runtime(schema, Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", state_dir=state))
    await runtime.start()
    transport = httpx.ASGITransport(app=create_app(runtime))
    try:
        async with httpx.AsyncClient(transport=transport, base_url=f"https://{HOST}") as client:
            yield client, state
    finally:
        await runtime.stop()


def gql(query: str, **headers: str) -> dict[str, Any]:
    return {
        "content": orjson.dumps({"query": query}),
        "headers": {"content-type": "application/json", **headers},
    }


CREATE = 'mutation { createTodo(input: {content: "mine"}) { id owner } }'
LIST = "{ listTodos { items { content owner } } }"


async def test_local_issuer_tokens_carry_the_owner_rules(app: tuple[httpx.AsyncClient, Path]) -> None:
    client, state = app
    issuer = LocalIssuer.load_or_create(state)
    alice, bob = issuer.issue_token("alice", sub="A-SUB"), issuer.issue_token("bob")
    created = (await client.post("/graphql", **gql(CREATE, authorization=alice))).json()
    assert created["data"]["createTodo"]["owner"] == "alice" and "errors" not in created
    mine = (await client.post("/graphql", **gql(LIST, authorization=alice))).json()
    assert mine["data"]["listTodos"]["items"] == [{"content": "mine", "owner": "alice"}]
    theirs = (await client.post("/graphql", **gql(LIST, authorization=bob))).json()
    assert theirs["data"]["listTodos"]["items"] == []


async def test_bad_tokens_are_401(app: tuple[httpx.AsyncClient, Path]) -> None:
    client, state = app
    expired = LocalIssuer.load_or_create(state).issue_token("alice", now=0)
    response = await client.post("/graphql", **gql(LIST, authorization=expired))
    assert response.status_code == 401
    assert response.json() == {
        "errors": [{"errorType": "UnauthorizedException", "message": "Token has expired."}]
    }
    foreign = LocalIssuer.generate().issue_token("alice")  # same issuer URL, another key
    response = await client.post("/graphql", **gql(LIST, authorization=foreign))
    assert response.status_code == 401
    response = await client.post("/graphql", **gql(LIST, authorization="garbage"))
    assert response.status_code == 401 and "data" not in response.json()


async def test_the_jwks_is_served(app: tuple[httpx.AsyncClient, Path]) -> None:
    client, state = app
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.json() == LocalIssuer.load_or_create(state).jwks()


def signed(key: str, body: bytes) -> dict[str, str]:
    return sign_headers(
        method="POST",
        url_path="/graphql",
        host=HOST,
        body=body,
        access_key_id=key,
        secret_access_key="s3cret",
        region="us-east-1",
        headers={"content-type": "application/json"},
    )


async def test_sigv4_identity_pool_roles(app: tuple[httpx.AsyncClient, Path]) -> None:
    client, _state = app
    body = orjson.dumps({"query": LIST})
    ok = await client.post("/graphql", content=body, headers=signed("AKIDAUTH", body))
    assert ok.status_code == 200 and ok.json() == {"data": {"listTodos": {"items": []}}}
    guest = (await client.post("/graphql", content=body, headers=signed("AKIDGUEST", body))).json()
    assert guest["errors"][0]["message"] == "Not Authorized to access listTodos on type Query"
    tampered = await client.post("/graphql", content=body + b" ", headers=signed("AKIDAUTH", body))
    assert tampered.status_code == 401


async def test_the_token_command_signs_with_the_servers_key(
    app: tuple[httpx.AsyncClient, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    client, state = app
    assert (
        main(["token", "--state-dir", str(state), "--username", "carol", "--groups", "Admin, Editors"]) == 0
    )
    token = capsys.readouterr().out.strip()
    claims = await LocalIssuer.load_or_create(state).verifier().verify(token)
    assert claims["iss"] == LOCAL_ISSUER and claims["username"] == "carol"
    assert claims["cognito:groups"] == ["Admin", "Editors"]
    response = await client.post("/graphql", **gql(CREATE, authorization=token))
    assert response.json()["data"]["createTodo"]["owner"] == "carol"


def test_the_token_command_warns_when_user_pools_are_off(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = tmp_path / "amplify_outputs.json"
    outputs.write_text(
        json.dumps({"data": {"default_authorization_type": "API_KEY", "authorization_types": []}})
    )
    args = ["token", "--state-dir", str(tmp_path), "--username", "a", "--outputs", str(outputs), "--id-token"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "does not enable user pools" in captured.err and captured.out.count(".") == 2
    assert main(["token", "--state-dir", str(tmp_path), "--username", "a", "--ttl", "0"]) == 2
