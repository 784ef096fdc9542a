"""Threat: owner B replays a ``nextToken`` that owner A's list returned, to page through A's rows.

Defence: the token is bound to the query, and every page is still filtered by the caller's owner
rule, so B's replay yields an error or only B's rows, never A's. Runs the real app in process
with user-pool JWTs from the local issuer (``ampbase.auth.issuer``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ampbase.auth.issuer import LocalIssuer
from ampbase.server.settings import Settings

pytestmark = pytest.mark.anyio

URL = "http://ampbase.test/graphql"
SCHEMA = """
type Note @model @auth(rules: [{allow: owner}]) {
  content: String
}
"""
CREATE = "mutation ($i: CreateNoteInput!) { createNote(input: $i) { id owner } }"
LIST = "query ($t: String) { listNotes(limit: 2, nextToken: $t) { items { id content owner } nextToken } }"


@dataclass
class App:
    http: httpx.AsyncClient
    tokens: dict[str, str]

    async def gql(self, user: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(
            URL, json={"query": query, "variables": variables}, headers={"authorization": self.tokens[user]}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    from ampbase.schema.loader import load_schema
    from ampbase.server.app import create_app
    from ampbase.server.wiring import Runtime

    schema = tmp_path / "owners.graphql"
    schema.write_text(SCHEMA)
    state = tmp_path / "state"
    issuer = LocalIssuer.load_or_create(state)
    tokens = {user: issuer.issue_token(user) for user in ("alice", "bob")}
    config = Settings(
        database_url=f"sqlite:///{tmp_path / 'owners.db'}", state_dir=state, secret="owners-test-secret"
    ).validate()
    runtime = Runtime(load_schema(schema), config)
    await runtime.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(runtime))) as http:
            yield App(http, tokens)
    finally:
        await runtime.stop()


async def test_owner_b_replaying_owner_a_next_token_sees_none_of_a_rows(app: App) -> None:
    # ids fix the order: every one of bob's rows sorts after alice's, so the replayed position
    # (after alice's second row) still has bob's rows behind it, and an empty answer would be a bug
    for user, count in (("alice", 5), ("bob", 3)):
        for n in range(count):
            body = await app.gql(user, CREATE, {"i": {"id": f"{user}-{n}", "content": f"{user}-{n}"}})
            assert not body.get("errors"), body
    first = await app.gql("alice", LIST, {"t": None})
    assert not first.get("errors"), first
    page = first["data"]["listNotes"]
    assert page["nextToken"] and {item["content"][:5] for item in page["items"]} == {"alice"}

    replay = await app.gql("bob", LIST, {"t": page["nextToken"]})
    listed = (replay.get("data") or {}).get("listNotes") or {"items": [], "nextToken": None}
    seen = [item["content"] for item in listed["items"]]
    assert replay.get("errors") or seen, replay
    assert all(content.startswith("bob-") for content in seen), replay
    assert all(not item["owner"].endswith("::alice") and item["owner"] != "alice" for item in listed["items"])
    token = listed["nextToken"]
    while token:
        more = await app.gql("bob", LIST, {"t": token})
        items = more["data"]["listNotes"]["items"] if more.get("data") else []
        assert all(item["content"].startswith("bob-") for item in items), more
        token = more["data"]["listNotes"]["nextToken"] if more.get("data") else None
