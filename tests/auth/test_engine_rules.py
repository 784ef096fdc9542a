"""Rules enforced through the engine: queries, mutations, relations and field-level access (SQLite)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ampbase import a
from ampbase.auth.policy import PolicySettings
from ampbase.engine.identity import Identity
from ampbase.storage.sqlite import SQLiteStorage
from tests.auth.fixtures import IAM, IAMUSER, KEY, schema_for, up
from tests.engine.harness import Harness

pytestmark = pytest.mark.anyio

TYPES: dict[str, Any] = {
    "Todo": a.model({"content": a.string(), "done": a.boolean()})
    .secondary_indexes(lambda index: [index("content")])
    .authorization(lambda allow: [allow.owner(), allow.group("Admin")]),
    "Employee": a.model(
        {"name": a.string(), "ssn": a.string().authorization(lambda allow: [allow.owner()])}
    ).authorization(lambda allow: [allow.authenticated().to(["read"]), allow.owner()]),
    "Post": a.model({"title": a.string(), "team": a.string()}).authorization(
        lambda allow: [allow.group_defined_in("team")]
    ),
    "Blog": a.model({"name": a.string(), "entries": a.has_many("Entry", "blogId")}).authorization(
        lambda allow: [allow.owner()]
    ),
    "Entry": a.model(
        {"title": a.string(), "blogId": a.id(), "blog": a.belongs_to("Blog", "blogId")}
    ).authorization(lambda allow: [allow.owner(), allow.authenticated().to(["read"])]),
    "Secret": a.model({"content": a.string()}).authorization(lambda allow: [allow.custom()]),
}


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    schema = schema_for(TYPES, lambda_mode=True)
    storage = SQLiteStorage(tmp_path / "rules.sqlite")
    await storage.open(schema)
    yield Harness(schema, storage, policy_settings=PolicySettings.for_schema(schema, iam=IAM))
    await storage.close()


CREATE_TODO = "mutation ($input: CreateTodoInput!) { createTodo(input: $input) { id content owner } }"
LIST_TODOS = "{ listTodos { items { id content owner } nextToken } }"


async def create_todo(h: Harness, who: Identity, todo_id: str) -> dict[str, Any]:
    data = await h.ok(CREATE_TODO, {"input": {"id": todo_id, "content": todo_id}}, who)
    return dict(data["createTodo"])


async def test_owner_is_stored_in_full_and_returned_as_username(h: Harness) -> None:
    created = await create_todo(h, up("alice"), "t1")
    assert created["owner"] == "alice"
    stored = await h.storage.get("Todo", {"id": "t1"})
    assert stored["owner"] == "A-SUB::alice"


async def test_lists_and_index_queries_hold_only_the_callers_rows(h: Harness) -> None:
    await create_todo(h, up("alice"), "a1")
    await create_todo(h, up("bob"), "b1")
    await create_todo(h, up("alice"), "a2")
    data = await h.ok("{ listTodos(limit: 2) { items { id } nextToken } }", identity=up("alice"))
    assert sorted(i["id"] for i in data["listTodos"]["items"]) == ["a1", "a2"]  # full page, filtered in SQL
    by_content = await h.ok('{ listTodoByContent(content: "b1") { items { id } } }', identity=up("alice"))
    assert by_content["listTodoByContent"]["items"] == []
    carol = await h.ok(LIST_TODOS, identity=up("carol"))
    assert len(carol["listTodos"]["items"]) == 3


async def test_get_of_anothers_record_is_unauthorized_and_missing_is_null(h: Harness) -> None:
    await create_todo(h, up("bob"), "b1")
    error = await h.error('{ getTodo(id: "b1") { id } }', identity=up("alice"))
    assert error["errorType"] == "Unauthorized"
    assert error["message"] == "Not Authorized to access getTodo on type Query"
    assert error["path"] == ["getTodo"]
    assert await h.ok('{ getTodo(id: "nope") { id } }', identity=up("alice")) == {"getTodo": None}


async def test_updates_and_deletes_check_the_stored_record(h: Harness) -> None:
    await create_todo(h, up("bob"), "b1")
    update = 'mutation { updateTodo(input: {id: "b1", content: "x"}) { id } }'
    error = await h.error(update, identity=up("alice"))
    assert error["message"] == "Not Authorized to access updateTodo on type Mutation"
    error = await h.error('mutation { deleteTodo(input: {id: "b1"}) { id } }', identity=up("alice"))
    assert error["message"] == "Not Authorized to access deleteTodo on type Mutation"
    assert (await h.storage.get("Todo", {"id": "b1"}))["content"] == "b1"
    await h.ok(update, identity=up("bob"))
    await h.ok(update, identity=up("carol"))


async def test_protected_fields_are_nulled_per_item_with_a_path(h: Harness) -> None:
    create = "mutation ($i: CreateEmployeeInput!) { createEmployee(input: $i) { id name ssn } }"
    created = await h.ok(create, {"i": {"id": "e1", "name": "Alice", "ssn": "123"}}, up("alice"))
    assert created["createEmployee"]["ssn"] is None  # mutation responses null protected fields
    body = await h.run("{ listEmployees { items { name ssn } } }", identity=up("bob"))
    assert body["data"]["listEmployees"]["items"] == [{"name": "Alice", "ssn": None}]
    (error,) = body["errors"]
    assert error["message"] == "Not Authorized to access ssn on type Employee"
    assert error["path"] == ["listEmployees", "items", 0, "ssn"]
    own = await h.ok('{ getEmployee(id: "e1") { ssn } }', identity=up("alice"))
    assert own["getEmployee"]["ssn"] == "123"


async def test_dynamic_groups_filter_lists_and_refuse_callers_without_groups(h: Harness) -> None:
    create = "mutation ($i: CreatePostInput!) { createPost(input: $i) { id } }"
    await h.ok(create, {"i": {"id": "p1", "team": "Blue"}}, IAMUSER)
    await h.ok(create, {"i": {"id": "p2", "team": "Red"}}, IAMUSER)
    dave = await h.ok("{ listPosts { items { id } } }", identity=up("dave"))
    assert [i["id"] for i in dave["listPosts"]["items"]] == ["p1"]
    carol = await h.ok("{ listPosts { items { id } } }", identity=up("carol"))
    assert carol["listPosts"]["items"] == []
    error = await h.error("{ listPosts { items { id } } }", identity=up("alice"))
    assert error["message"] == "Not Authorized to access listPosts on type Query"


async def test_related_records_use_their_own_rules(h: Harness) -> None:
    await h.ok('mutation { createBlog(input: {id: "b1", name: "A"}) { id } }', identity=up("alice"))
    await h.ok('mutation { createEntry(input: {id: "e1", blogId: "b1"}) { id } }', identity=up("alice"))
    body = await h.run('{ getEntry(id: "e1") { id blog { name } } }', identity=up("bob"))
    assert body["data"]["getEntry"] == {"id": "e1", "blog": None}
    assert body["errors"][0]["message"] == "Not Authorized to access blog on type Entry"
    own = await h.ok(
        '{ getEntry(id: "e1") { blog { name entries { items { id } } } } }', identity=up("alice")
    )
    assert own["getEntry"]["blog"]["entries"]["items"] == [{"id": "e1"}]
    mutation = await h.ok(
        'mutation { updateEntry(input: {id: "e1", title: "t"}) { id blog { name } } }', identity=up("alice")
    )
    assert mutation["updateEntry"]["blog"] is None  # relational redaction


async def test_generic_iam_and_api_key_callers(h: Harness) -> None:
    await create_todo(h, up("alice"), "a1")
    data = await h.ok(LIST_TODOS, identity=IAMUSER)
    assert len(data["listTodos"]["items"]) == 1
    error = await h.error(LIST_TODOS, identity=KEY)
    assert error["message"] == "Not Authorized to access listTodos on type Query"


async def test_lambda_denied_fields_are_null(h: Harness) -> None:
    await h.ok('mutation { createSecret(input: {id: "s1", content: "x"}) { id } }', identity=IAMUSER)
    caller = Identity(mode="lambda", resolver_context={"u": "1"}, denied_fields=("Secret.content",))
    data = await h.run("{ listSecrets { items { id content } } }", identity=caller)
    assert data["data"]["listSecrets"]["items"] == [{"id": "s1", "content": None}]
