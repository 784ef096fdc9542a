"""Realtime authorization: SigV4 handshakes and starts, owner-filtered events for JWT subscribers."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from ampbase.auth.issuer import LocalIssuer
from ampbase.auth.sigv4 import sign_headers
from ampbase.server.app import create_app
from ampbase.server.settings import Settings
from ampbase.server.wiring import Runtime
from tests.engine.harness import schema_from_sdl
from tests.engine.memory_storage import MemoryStorage

SDL = """
type Todo @model @auth(rules: [{allow: owner}, {allow: private, provider: iam, operations: [read]}]) {
  content: String
}
"""
HOST = "testserver"
ON_CREATE = "subscription { onCreateTodo { content owner } }"
CREATE = 'mutation { createTodo(input: {content: "%s"}) { id content owner } }'


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, LocalIssuer]]:
    iam = {"credentials": [{"accessKeyId": "AKID", "secretAccessKey": "s3cret", "kind": "authenticated"}]}
    (tmp_path / "iam.json").write_text(json.dumps(iam))
    monkeypatch.setenv("AMPBASE_IAM_CONFIG", str(tmp_path / "iam.json"))
    monkeypatch.delenv("AMPBASE_LOCAL_ISSUER", raising=False)
    storage = MemoryStorage()
    runtime = Runtime(
        schema_from_sdl(SDL), Settings(secret="s", state_dir=tmp_path), storage_factory=lambda: storage
    )
    with TestClient(create_app(runtime)) as client:
        yield client, LocalIssuer.load_or_create(tmp_path)


def b64url(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def sigv4(path: str, body: str) -> dict[str, str]:
    return sign_headers(
        method="POST",
        url_path=path,
        host=HOST,
        body=body.encode(),
        access_key_id="AKID",
        secret_access_key="s3cret",
        region="us-east-1",
        headers={
            "accept": "application/json, text/javascript",
            "content-type": "application/json; charset=UTF-8",
        },
    )


def receive(ws: Any) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = ws.receive_json()
        if frame["type"] not in ("ka", "ping"):
            return frame


def start(ws: Any, sub_id: str, auth: dict[str, str] | None = None, *, sign: bool = False) -> dict[str, Any]:
    data = json.dumps({"query": ON_CREATE, "variables": {}})
    authorization = sigv4("/graphql", data) if sign else auth
    ws.send_json(
        {
            "id": sub_id,
            "type": "start",
            "payload": {"data": data, "extensions": {"authorization": authorization}},
        }
    )
    return receive(ws)


def connect(client: TestClient, auth: dict[str, str]) -> Any:
    ws = client.websocket_connect("/graphql/realtime", subprotocols=["graphql-ws", "header-" + b64url(auth)])
    return ws


def test_sigv4_handshake_and_start_and_owner_filtered_events(setup: tuple[TestClient, LocalIssuer]) -> None:
    client, issuer = setup
    alice, bob = issuer.issue_token("alice", sub="A-SUB"), issuer.issue_token("bob")
    with (
        connect(client, sigv4("/graphql/connect", "{}")) as iam_ws,
        connect(client, {"Authorization": alice, "host": HOST}) as alice_ws,
    ):
        for ws in (iam_ws, alice_ws):
            ws.send_json({"type": "connection_init"})
            assert ws.receive_json()["type"] == "connection_ack"
        assert start(iam_ws, "i1", sign=True) == {"type": "start_ack", "id": "i1"}
        assert start(alice_ws, "a1", {"Authorization": alice, "host": HOST}) == {
            "type": "start_ack",
            "id": "a1",
        }
        denied = start(alice_ws, "a2", {"Authorization": bob[:-4] + "AAAA", "host": HOST})
        assert denied["type"] == "error" and denied["id"] == "a2"
        for who, token in (("bob", bob), ("alice", alice)):
            response = client.post("/graphql", json={"query": CREATE % who}, headers={"authorization": token})
            assert response.json()["data"]["createTodo"]["owner"] == who
        iam_events = [receive(iam_ws)["payload"]["data"]["onCreateTodo"] for _ in range(2)]
        assert [e["content"] for e in iam_events] == ["bob", "alice"]  # static role: every event
        event = receive(alice_ws)
        assert event["id"] == "a1" and event["payload"]["data"]["onCreateTodo"] == {
            "content": "alice",
            "owner": "alice",
        }


def test_a_bad_sigv4_handshake_is_refused(setup: tuple[TestClient, LocalIssuer]) -> None:
    client, _issuer = setup
    headers = sigv4("/graphql", "{}")  # signed for the wrong path
    with connect(client, headers) as ws:
        ws.send_json({"type": "connection_init"})
        frame = ws.receive_json()
        assert frame["type"] == "connection_error"
        assert frame["payload"]["errors"][0]["errorType"] == "UnauthorizedException"
