"""Threat: SQL injection through any input that reaches the database.

Defences proved here: every value travels as a bound parameter (the SQL text of every statement
run during an attack is recorded and never contains the attack strings), every identifier comes
from the compiled schema (names a client invents are refused by GraphQL validation before any
SQL is built), and hostile values round-trip byte for byte without matching more than they say.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from ampbase.schema.sdl import load_sdl
from ampbase.storage import sqlite as sqlite_module
from ampbase.storage.sql import quote_ident
from tests.security.served import Served, dump_tables, served

pytestmark = pytest.mark.anyio

MARK = "INJ3CT"
HOSTILE = [
    f"x' OR '1'='1 {MARK}",
    f'"; DROP TABLE "Todo"; -- {MARK}',
    f"{MARK}'); DELETE FROM \"Todo\" WHERE ('a'='a",
    f"%{MARK}%",
    f"_{MARK}_",
    f"{MARK}\\' \\\" \\\\",
    f"{MARK}\x00after-nul",
    f"{MARK} ünïcødé \U0001d518\U0001d52b 🙂 \u202e rtl \ufeff",
    f"{MARK} */ /* -- #",
    f'{MARK}\' UNION SELECT id, expires_at FROM "_ampbase_api_keys" --',
]

CREATE = "mutation ($i: CreateTodoInput!) { createTodo(input: $i) { id name note tags meta listId } }"
UPDATE = (
    "mutation ($i: UpdateTodoInput!, $c: ModelTodoConditionInput) "
    "{ updateTodo(input: $i, condition: $c) { id note } }"
)
DELETE = (
    "mutation ($i: DeleteTodoInput!, $c: ModelTodoConditionInput) "
    "{ deleteTodo(input: $i, condition: $c) { id } }"
)
LIST = (
    "query ($f: ModelTodoFilterInput, $t: String) "
    "{ listTodos(filter: $f, limit: 1000, nextToken: $t) { items { id name note } nextToken } }"
)
BY_LIST = (
    "query ($l: ID!, $n: ModelStringKeyConditionInput, $f: ModelTodoFilterInput) "
    "{ todosByList(listId: $l, name: $n, filter: $f) { items { id name } } }"
)
GET = "query ($id: ID!) { getTodo(id: $id) { id name note } }"


class _RecordingConnection(sqlite3.Connection):
    """Records the SQL text and parameters of every statement."""

    log: list[tuple[str, tuple[Any, ...]]] = []
    lock = threading.Lock()

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:  # type: ignore[override]
        with self.lock:
            self.log.append((sql, tuple(parameters)))
        return super().execute(sql, parameters)


@pytest.fixture
def recorded_sql(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    real_connect = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        return real_connect(*args, factory=_RecordingConnection, **kwargs)

    monkeypatch.setattr(sqlite_module.sqlite3, "connect", connect)
    _RecordingConnection.log = []
    yield _RecordingConnection.log


@pytest.fixture
async def app(tmp_path: Path, recorded_sql: list[Any]) -> AsyncIterator[Served]:
    async with served(tmp_path) as s:
        yield s


async def test_hostile_values_in_every_input_path_are_bound_parameters(
    app: Served, recorded_sql: list[tuple[str, tuple[Any, ...]]]
) -> None:
    await app.ok(CREATE, {"i": {"id": "plain", "name": "plain", "listId": "L"}})
    for n, value in enumerate(HOSTILE):
        created = await app.ok(
            CREATE,
            {
                "i": {
                    "id": value,
                    "name": value,
                    "note": value,
                    "tags": [value],
                    "meta": f'{{"v": {len(value)}}}',
                    "listId": "L",
                }
            },
        )
        assert created["createTodo"]["id"] == value
        assert created["createTodo"]["tags"] == [value]
        assert (await app.ok(GET, {"id": value}))["getTodo"]["note"] == value
        for op in ("eq", "ne", "contains", "notContains", "beginsWith", "gt", "le"):
            await app.ok(LIST, {"f": {"note": {op: value}}})
        await app.ok(
            LIST, {"f": {"note": {"between": [value, value + "z"]}, "or": [{"name": {"eq": value}}]}}
        )
        await app.ok(LIST, {"f": {"tags": {"contains": value}}, "not": {"id": {"eq": value}}})
        await app.ok(BY_LIST, {"l": value, "n": {"beginsWith": value}, "f": {"note": {"ne": value}}})
        await app.ok(BY_LIST, {"l": "L", "n": {"between": [value, value]}})
        await app.ok(UPDATE, {"i": {"id": value, "note": value + str(n)}, "c": {"name": {"eq": value}}})
        refused = await app.gql(DELETE, {"i": {"id": value}, "c": {"note": {"eq": value}}})  # note changed
        assert refused["errors"][0]["errorType"] == "DynamoDB:ConditionalCheckFailedException"
        await app.ok(
            "query ($k: String!) { getTag(key: $k, rank: 1) { key } listTags(key: $k) { items { key } } }",
            {"k": value},
        )
    # every attack string reached the database, and only ever as a parameter
    assert any(MARK in str(p) for _, params in recorded_sql for p in params)
    leaking = [sql for sql, _ in recorded_sql if MARK in sql]
    assert leaking == []
    # nothing was dropped or deleted: every item is still there, exactly as written
    data = await app.ok(LIST)
    names = sorted(item["name"] for item in data["listTodos"]["items"])
    assert names == sorted(["plain", *HOSTILE])
    tables = dump_tables(app.db_path)
    assert {"Todo", "TodoList", "Tag", "_ampbase_api_keys"} <= set(tables)
    assert len(tables["_ampbase_api_keys"]) == 1


async def test_like_wildcards_and_quotes_match_only_themselves(app: Served) -> None:
    for name in ("100%", "1000", "a_b", "axb", "it's", "its", "back\\slash", "nul\x00byte", "nul"):
        await app.ok(CREATE, {"i": {"name": name, "listId": "W"}})

    async def names(f: dict[str, Any]) -> list[str]:
        items = (await app.ok(LIST, {"f": f}))["listTodos"]["items"]
        return sorted(i["name"] for i in items)

    assert await names({"name": {"contains": "%"}}) == ["100%"]
    assert await names({"name": {"contains": "_"}}) == ["a_b"]
    assert await names({"name": {"beginsWith": "a_"}}) == ["a_b"]
    assert await names({"name": {"contains": "'"}}) == ["it's"]
    assert await names({"name": {"eq": "it's"}}) == ["it's"]
    assert await names({"name": {"contains": "\\"}}) == ["back\\slash"]
    assert await names({"name": {"eq": "nul\x00byte"}}) == ["nul\x00byte"]
    assert await names({"name": {"beginsWith": "nul"}}) == ["nul", "nul\x00byte"]
    by_list = (await app.ok(BY_LIST, {"l": "W", "n": {"beginsWith": "1000"}}))["todosByList"]["items"]
    assert [i["name"] for i in by_list] == ["1000"]


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        # an unknown field name in a filter variable: refused while coercing variables
        (LIST, {"f": {'id" = 1 OR 1=1 --': {"eq": "x"}}}),
        (LIST, {"f": {"and": [{"name; DROP TABLE Todo": {"eq": "x"}}]}}),
        # an unknown operator
        (LIST, {"f": {"name": {"eq) OR (1=1": "x"}}}),
        # an unknown input field on a mutation
        (CREATE, {"i": {"name": "n", 'note" TEXT); DROP TABLE "Todo"; --': "x"}}),
        # the same, written inline in the document
        ('{ listTodos(filter: {bogus: {eq: "x"}}) { items { id } } }', None),
        ('{ listTodos(filter: {name: {like: "%"}}) { items { id } } }', None),
        # a sort direction is an enum, not text
        ('{ todosByList(listId: "L", sortDirection: "ASC; DROP TABLE Todo") { items { id } } }', None),
        (
            'query ($d: ModelSortDirection) { todosByList(listId: "L", sortDirection: $d) { items { id } } }',
            {"d": "DESC --"},
        ),
        # selecting a field that is not in the schema
        ('{ listTodos { items { id "_ampbase_api_keys" } } }', None),
        ("{ listTodos { items { id __sql } } }", None),
    ],
)
async def test_names_a_client_invents_never_reach_sql(
    app: Served, recorded_sql: list[tuple[str, tuple[Any, ...]]], query: str, variables: dict[str, Any] | None
) -> None:
    before = len(recorded_sql)
    body = await app.gql(query, variables)
    assert body["data"] is None
    assert body["errors"][0]["errorType"] == "ValidationError"
    # refused before any statement on a model table was built (only the API key lookup ran)
    assert [sql for sql, _ in recorded_sql[before:] if "_ampbase_api_keys" not in sql] == []


def test_every_schema_name_is_a_graphql_name_so_quoting_is_total() -> None:
    """Identifiers in SQL come from the compiled schema; a name with a quote is not a valid schema."""
    with pytest.raises(Exception):  # noqa: B017 - any parse/definition error will do
        load_sdl('type Todo @model { id: ID! "na""me": String }')
    with pytest.raises(Exception):  # noqa: B017
        load_sdl('type "Todo; DROP" @model { id: ID! }')
    # and even a hostile name would stay one quoted identifier
    assert quote_ident('a"; DROP TABLE "x') == '"a""; DROP TABLE ""x"'
    with pytest.raises(Exception, match="NUL"):
        quote_ident("a\x00b")


async def test_numbers_that_do_not_fit_are_refused_not_truncated(app: Served) -> None:
    body = await app.gql(CREATE, {"i": {"name": "n", "priority": 2**31}})
    assert body["data"] is None and body["errors"][0]["errorType"] == "ValidationError"
    body = await app.gql(LIST, {"f": {"score": {"gt": "1e999"}}})
    assert body["data"] is None and body["errors"][0]["errorType"] == "ValidationError"
