"""Threat: a client forges, alters or replays a ``nextToken`` to read outside its query.

Defence: tokens are HMAC-signed with the engine secret and bound to the exact query (field,
model, key arguments, filter, direction, and for relationship fields the parent). Anything else
is refused with a ``ValidationError`` and no data.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ampbase.engine.pagination import TokenCodec
from tests.security.served import Served, served

pytestmark = pytest.mark.anyio

LIST = (
    "query ($f: ModelTodoFilterInput, $t: String, $l: Int) "
    "{ listTodos(filter: $f, limit: $l, nextToken: $t) { items { id } nextToken } }"
)
TAGS = "query ($t: String) { listTags(limit: 2, nextToken: $t) { items { key } nextToken } }"
BY_LIST = (
    "query ($l: ID!, $t: String, $d: ModelSortDirection) "
    "{ todosByList(listId: $l, limit: 2, nextToken: $t, sortDirection: $d) { items { id name } nextToken } }"
)
RELATION = (
    "query ($id: ID!, $t: String) "
    "{ getTodoList(id: $id) { todos(limit: 2, nextToken: $t) { items { id } nextToken } } }"
)


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Served]:
    async with served(tmp_path) as s:
        for list_id in ("A", "B"):
            await s.ok(
                "mutation ($i: CreateTodoListInput!) { createTodoList(input: $i) { id } }",
                {"i": {"id": list_id}},
            )
            for n in range(5):
                await s.ok(
                    "mutation ($i: CreateTodoInput!) { createTodo(input: $i) { id } }",
                    {"i": {"id": f"{list_id}{n}", "name": f"n{n}", "listId": list_id, "priority": n}},
                )
        for n in range(5):
            await s.ok(
                "mutation ($i: CreateTagInput!) { createTag(input: $i) { key } }",
                {"i": {"key": "k", "rank": n}},
            )
        yield s


async def refused(app: Served, query: str, variables: dict[str, Any]) -> str:
    body = await app.gql(query, variables)
    assert "items" not in json.dumps(body["data"]), body  # no page at all
    [error] = body["errors"]
    assert error["errorType"] == "ValidationError"
    assert error["message"].startswith("Invalid nextToken")
    message: str = error["message"]
    return message


async def first_token(app: Served, query: str, variables: dict[str, Any], field: str) -> str:
    data = await app.ok(query, variables)
    token: str = data[field]["nextToken"] if field in data else data["getTodoList"]["todos"]["nextToken"]
    assert token
    return token


async def test_a_token_continues_its_own_query_and_can_be_replayed_there(app: Served) -> None:
    token = await first_token(app, LIST, {"l": 3}, "listTodos")
    once = await app.ok(LIST, {"l": 3, "t": token})
    again = await app.ok(LIST, {"l": 3, "t": token})  # a replay is the same page, nothing more
    assert once == again
    assert len(once["listTodos"]["items"]) == 3
    # limit is not part of the binding: a page size change keeps the position
    assert (await app.ok(LIST, {"l": 1, "t": token}))["listTodos"]["items"] == once["listTodos"]["items"][:1]


async def test_tokens_are_refused_on_another_model_filter_partition_parent_or_direction(app: Served) -> None:
    todos = await first_token(app, LIST, {"l": 2}, "listTodos")
    assert "different query" in await refused(app, TAGS, {"t": todos})
    assert "different query" in await refused(app, LIST, {"l": 2, "t": todos, "f": {"priority": {"ge": 0}}})
    filtered = await first_token(app, LIST, {"l": 1, "f": {"priority": {"ge": 1}}}, "listTodos")
    assert "different query" in await refused(
        app, LIST, {"l": 1, "t": filtered, "f": {"priority": {"ge": 0}}}
    )
    assert "different query" in await refused(app, LIST, {"l": 1, "t": filtered})
    in_a = await first_token(app, BY_LIST, {"l": "A"}, "todosByList")
    assert "different query" in await refused(app, BY_LIST, {"l": "B", "t": in_a})
    assert "different query" in await refused(app, BY_LIST, {"l": "A", "t": in_a, "d": "DESC"})
    assert "different query" in await refused(app, LIST, {"t": in_a})
    parent_a = await first_token(app, RELATION, {"id": "A"}, "todos")
    assert "different query" in await refused(app, RELATION, {"id": "B", "t": parent_a})
    assert "different query" in await refused(app, BY_LIST, {"l": "A", "t": parent_a})


def _parts(token: str) -> tuple[dict[str, Any], str]:
    head, _, tail = token.partition(".")
    payload = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    return payload, tail


def _encode(payload: dict[str, Any], tail: str) -> str:
    head = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    return f"{head}.{tail}"


async def test_altered_or_forged_tokens_are_refused(app: Served) -> None:
    token = await first_token(app, BY_LIST, {"l": "A"}, "todosByList")
    payload, tail = _parts(token)
    moved = dict(payload, k=["B", "n0", "B0"])  # jump into another partition
    forged_binding = dict(payload, b="0" * 32)
    other_secret = TokenCodec(b"another server's secret").encode(payload["b"], tuple(payload["k"]))
    candidates = [
        _encode(moved, tail),
        _encode(forged_binding, tail),
        other_secret,
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        token.replace(".", ""),
        "." + tail,
        token + ".",
        "not a token",
        "",
        "a" * 9000 + "." + "b",
        base64.urlsafe_b64encode(b'{"b": "x", "k": []}').decode() + ".",
        "\x00.\x00",
        "🙂.🙂",
        '{"b": 1}.e30',
    ]
    for candidate in candidates:
        body = await app.gql(BY_LIST, {"l": "A", "t": candidate})
        if candidate == "":
            assert not body.get("errors"), body  # an empty token means "from the start"
            continue
        assert body["data"] == {"todosByList": None}, (candidate, body)
        assert body["errors"][0]["errorType"] == "ValidationError", (candidate, body)


async def test_a_token_reveals_no_secret_and_only_the_last_key(app: Served) -> None:
    token = await first_token(app, BY_LIST, {"l": "A"}, "todosByList")
    payload, _ = _parts(token)
    assert set(payload) == {"b", "k"}
    assert payload["k"] == ["A", "n1", "A1"]  # the position: index key fields, then the primary key
    assert "engine-secret" not in json.dumps(payload)
