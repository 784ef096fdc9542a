"""Engine.execute end to end on the in-memory storage: CRUD, timestamps, defaults, errors."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from tests.engine.conftest import HarnessFactory
from tests.engine.harness import API_KEY, TRUSTED, oracle_schema

pytestmark = pytest.mark.anyio

TODO = """
type Todo @model @auth(rules: [{ allow: public }]) {
  id: ID!
  name: String!
  description: String
  tags: [String]
  done: Boolean
}
"""

CREATE = (
    "mutation ($input: CreateTodoInput!, $condition: ModelTodoConditionInput) "
    "{ createTodo(input: $input, condition: $condition) "
    "{ id name description tags done createdAt updatedAt } }"
)
GET = "query ($id: ID!) { getTodo(id: $id) { id name description createdAt updatedAt } }"
UPDATE = (
    "mutation ($input: UpdateTodoInput!, $condition: ModelTodoConditionInput) "
    "{ updateTodo(input: $input, condition: $condition) { id name description createdAt updatedAt } }"
)
DELETE = (
    "mutation ($input: DeleteTodoInput!, $condition: ModelTodoConditionInput) "
    "{ deleteTodo(input: $input, condition: $condition) { id name } }"
)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


async def test_create_generates_id_and_millisecond_utc_timestamps(make_engine: HarnessFactory) -> None:
    h = await make_engine(TODO)
    data = await h.ok(CREATE, {"input": {"name": "milk"}})
    todo = data["createTodo"]
    assert UUID.fullmatch(todo["id"])
    assert todo["createdAt"] == todo["updatedAt"] == "2026-11-22T05:34:15.846Z"
    assert todo["name"] == "milk" and todo["description"] is None


async def test_create_keeps_a_client_supplied_id(make_engine: HarnessFactory) -> None:
    h = await make_engine(TODO)
    data = await h.ok(CREATE, {"input": {"id": "t-1", "name": "milk"}})
    assert data["createTodo"]["id"] == "t-1"


async def test_get_returns_the_item_or_null(make_engine: HarnessFactory) -> None:
    h = await make_engine(TODO)
    await h.ok(CREATE, {"input": {"id": "t-1", "name": "milk"}})
    assert (await h.ok(GET, {"id": "t-1"}))["getTodo"]["name"] == "milk"
    assert (await h.ok(GET, {"id": "nope"}))["getTodo"] is None


async def test_duplicate_identifier_is_conditional_check_failure(make_engine: HarnessFactory) -> None:
    h = await make_engine(TODO)
    await h.ok(CREATE, {"input": {"id": "t-1", "name": "milk"}})
    body = await h.run(CREATE, {"input": {"id": "t-1", "name": "again"}})
    assert body["data"] == {"createTodo": None}
    error = body["errors"][0]
    assert error["errorType"] == "DynamoDB:ConditionalCheckFailedException"
    assert error["message"] == "The conditional request failed"
    assert error["path"] == ["createTodo"]
    assert error["data"] is None and error["errorInfo"] is None
    assert error["locations"] == [{"line": 1, "column": CREATE.index("createTodo") + 1, "sourceName": None}]
    assert (await h.ok(GET, {"id": "t-1"}))["getTodo"]["name"] == "milk"


async def test_update_is_partial_null_clears_and_refreshes_updated_at(make_engine: HarnessFactory) -> None:
    h = await make_engine(TODO)
    await h.ok(CREATE, {"input": {"id": "t-1", "name": "milk", "description": "2 litres"}})
    h.clock.advance(61.5)
    data = await h.ok(UPDATE, {"input": {"id": "t-1", "description": None}})
    todo = data["updateTodo"]
    assert todo["name"] == "milk"
    assert todo["description"] is None
    assert todo["createdAt"] == "2026-11-22T05:34:15.846Z"
    assert todo["updatedAt"] == "2026-11-22T05:35:17.346Z"


async def test_update_cannot_null_a_required_field(make_engine: HarnessFactory) -> None:
    h = await make_engine(TODO)
    await h.ok(CREATE, {"input": {"id": "t-1", "name": "milk"}})
    error = await h.error(UPDATE, {"input": {"id": "t-1", "name": None}})
    assert error["errorType"] == "ValidationError"
    assert "'name'" in error["message"]


async def test_update_and_delete_of_missing_item_are_conditional_check_failures(
    make_engine: HarnessFactory,
) -> None:
    h = await make_engine(TODO)
    for doc, variables in ((UPDATE, {"input": {"id": "x", "name": "a"}}), (DELETE, {"input": {"id": "x"}})):
        body = await h.run(doc, variables)
        assert body["errors"][0]["errorType"] == "DynamoDB:ConditionalCheckFailedException"
        assert list(body["data"].values()) == [None]
    assert h.pubsub.published == []


async def test_delete_returns_the_deleted_item(make_engine: HarnessFactory) -> None:
    h = await make_engine(TODO)
    await h.ok(CREATE, {"input": {"id": "t-1", "name": "milk"}})
    data = await h.ok(DELETE, {"input": {"id": "t-1"}})
    assert data["deleteTodo"] == {"id": "t-1", "name": "milk"}
    assert (await h.ok(GET, {"id": "t-1"}))["getTodo"] is None


async def test_conditions_guard_writes(make_engine: HarnessFactory) -> None:
    h = await make_engine(TODO)
    await h.ok(CREATE, {"input": {"id": "t-1", "name": "milk", "done": False}})
    body = await h.run(UPDATE, {"input": {"id": "t-1", "name": "x"}, "condition": {"done": {"eq": True}}})
    assert body["errors"][0]["errorType"] == "DynamoDB:ConditionalCheckFailedException"
    await h.ok(UPDATE, {"input": {"id": "t-1", "name": "y"}, "condition": {"done": {"eq": False}}})
    body = await h.run(DELETE, {"input": {"id": "t-1"}, "condition": {"name": {"beginsWith": "x"}}})
    assert body["errors"][0]["errorType"] == "DynamoDB:ConditionalCheckFailedException"
    await h.ok(DELETE, {"input": {"id": "t-1"}, "condition": {"name": {"eq": "y"}}})
    # a condition on create is evaluated against the (absent) existing item
    body = await h.run(CREATE, {"input": {"name": "z"}, "condition": {"name": {"attributeExists": True}}})
    assert body["errors"][0]["errorType"] == "DynamoDB:ConditionalCheckFailedException"
    await h.ok(CREATE, {"input": {"name": "z"}, "condition": {"name": {"attributeExists": False}}})


async def test_events_are_published_after_commit_with_the_full_record(make_engine: HarnessFactory) -> None:
    h = await make_engine(TODO)
    created = (await h.ok(CREATE, {"input": {"id": "t-1", "name": "milk"}}))["createTodo"]
    await h.ok(UPDATE, {"input": {"id": "t-1", "done": True}})
    await h.ok(DELETE, {"input": {"id": "t-1"}})
    events = h.pubsub.published
    assert [e.mutation for e in events] == ["createTodo", "updateTodo", "deleteTodo"]
    assert all(e.model == "Todo" for e in events)
    assert events[0].record["createdAt"] == created["createdAt"]
    assert events[1].record["done"] is True and events[1].record["name"] == "milk"
    assert events[2].record["id"] == "t-1"
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    # what storage held at publish time: the committed write was visible
    assert h.pubsub.stored_at_publish[0]["name"] == "milk"
    assert h.pubsub.stored_at_publish[1]["done"] is True
    assert h.pubsub.stored_at_publish[2] is None


async def test_publish_failure_is_logged_not_reported(
    make_engine: HarnessFactory, caplog: pytest.LogCaptureFixture
) -> None:
    h = await make_engine(TODO)
    h.pubsub.fail = True
    with caplog.at_level(logging.ERROR, logger="ampbase.engine"):
        data = await h.ok(CREATE, {"input": {"id": "t-1", "name": "milk"}})
    assert data["createTodo"]["id"] == "t-1"
    assert "publishing createTodo" in caplog.text


async def test_defaults_apply_on_create_when_missing_or_null(make_engine: HarnessFactory) -> None:
    h = await make_engine(oracle_schema("default-values"))
    doc = (
        "mutation ($input: CreateItemInput!) { createItem(input: $input) "
        "{ id title count ratio active status createdOn meta } }"
    )
    item = (await h.ok(doc, {"input": {"title": None}}))["createItem"]
    assert item["title"] == "untitled"
    assert item["count"] == 0 and item["ratio"] == 0.5 and item["active"] is True
    assert item["status"] == "DRAFT" and item["createdOn"] == "2024-01-01"
    assert item["meta"] == '{"a":1}'
    given = (await h.ok(doc, {"input": {"title": "mine", "count": 3}}))["createItem"]
    assert given["title"] == "mine" and given["count"] == 3
    # update does not apply defaults
    upd = "mutation ($input: UpdateItemInput!) { updateItem(input: $input) { title count } }"
    updated = (await h.ok(upd, {"input": {"id": given["id"], "title": None}}))["updateItem"]
    assert updated == {"title": None, "count": 3}


async def test_renamed_and_explicit_timestamps(make_engine: HarnessFactory) -> None:
    h = await make_engine(oracle_schema("timestamps"))
    schema = h.schema
    names = {m.name: m.timestamps for m in schema.models}
    assert names  # the sample defines several timestamp variants
    for model in schema.models:
        ops = model.operations
        assert ops is not None and ops.create is not None
        created, updated = model.timestamps
        wanted = " ".join(n for n in ("id", created, updated) if n)
        doc = f"mutation ($input: Create{model.name}Input!) {{ {ops.create}(input: $input) {{ {wanted} }} }}"
        required = {
            f.name: "x"
            for f in model.fields
            if f.type.required and f.relation is None and f.name not in ("id", created, updated)
        }
        record: dict[str, Any] = (await h.ok(doc, {"input": required}))[ops.create]
        for name in (created, updated):
            if name:
                assert record[name] == "2026-11-22T05:34:15.846Z", (model.name, name)


async def test_unknown_input_field_and_wrong_variable_type_are_validation_errors(
    make_engine: HarnessFactory,
) -> None:
    h = await make_engine(TODO)
    body = await h.run(CREATE, {"input": {"name": "a", "colour": "red"}})
    assert body["data"] is None
    assert body["errors"][0]["errorType"] == "ValidationError"
    assert "colour" in body["errors"][0]["message"]
    body = await h.run(CREATE, {"input": {"description": "no name"}})
    assert body["data"] is None and "name" in body["errors"][0]["message"]
    body = await h.run(GET, {"id": {"not": "an id"}})
    assert body["data"] is None and body["errors"][0]["errorType"] == "ValidationError"
    body = await h.run('{ getTodo(id: "1") { id colour } }')
    assert body["data"] is None and "colour" in body["errors"][0]["message"]
    body = await h.run("{ getTodo(id: ")
    assert body["data"] is None and body["errors"][0]["errorType"] == "ValidationError"
    assert h.storage.stats.statements == 0


async def test_subscription_documents_are_refused_with_a_pointer_to_realtime(
    make_engine: HarnessFactory,
) -> None:
    h = await make_engine(TODO)
    error = await h.error("subscription { onCreateTodo { id } }")
    assert error["errorType"] == "UnsupportedOperation"
    assert "realtime" in error["message"]


async def test_unexpected_errors_are_internal_and_logged_with_a_request_id(
    make_engine: HarnessFactory, caplog: pytest.LogCaptureFixture
) -> None:
    h = await make_engine(TODO)

    async def broken(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("sqlite3.OperationalError: secret detail at /srv/db")

    h.storage.get = broken
    with caplog.at_level(logging.ERROR, logger="ampbase.engine"):
        body = await h.run(GET, {"id": "1"})
    error = body["errors"][0]
    assert error["errorType"] == "InternalFailure"
    assert error["message"].startswith("Internal server error")
    assert "secret" not in str(body)
    request_id = error["message"].split("request id ")[1].rstrip(")")
    assert request_id in caplog.text and "secret detail" in caplog.text


async def test_documents_are_parsed_and_validated_once(make_engine: HarnessFactory) -> None:
    h = await make_engine(TODO)
    await h.ok(GET, {"id": "1"})
    cached = h.engine._documents[GET]
    await h.ok(GET, {"id": "2"})
    assert h.engine._documents[GET] is cached


async def test_trusted_identity_bypasses_authorization(make_engine: HarnessFactory) -> None:
    h = await make_engine(oracle_schema("todo-basic"))
    body = await h.run('mutation { createTodo(input: {name: "a"}) { id } }')
    assert body["errors"][0]["errorType"] == "Unauthorized"
    assert body["errors"][0]["message"] == "Not Authorized to access createTodo on type Mutation"
    await h.ok('mutation { createTodo(input: {name: "a"}) { id } }', identity=TRUSTED)


async def test_debug_mode_shows_the_exception_of_internal_errors(make_engine: HarnessFactory) -> None:
    h = await make_engine(TODO, debug=True)

    async def broken(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("disk on fire")

    h.storage.get = broken
    error = (await h.run(GET, {"id": "1"}))["errors"][0]
    assert error["errorType"] == "InternalFailure"
    assert error["message"].endswith("RuntimeError: disk on fire")


async def test_document_cache_is_bounded(
    make_engine: HarnessFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ampbase.engine import engine as engine_module

    monkeypatch.setattr(engine_module, "DOCUMENT_CACHE_SIZE", 3)
    h = await make_engine(TODO)
    for i in range(6):
        await h.ok(f'{{ getTodo(id: "{i}") {{ id }} }}')
    assert list(h.engine._documents) == [f'{{ getTodo(id: "{i}") {{ id }} }}' for i in (3, 4, 5)]


async def test_operation_name_selects_among_several_operations(make_engine: HarnessFactory) -> None:
    h = await make_engine(TODO)
    doc = 'query A { getTodo(id: "1") { id } } mutation B { createTodo(input: {id: "1", name: "n"}) { id } }'
    body = await h.run(doc)
    assert body["data"] is None and body["errors"][0]["errorType"] == "ValidationError"
    assert (await h.engine.execute(doc, None, API_KEY, "B"))["data"] == {"createTodo": {"id": "1"}}
    assert (await h.engine.execute(doc, None, API_KEY, "A"))["data"] == {"getTodo": {"id": "1"}}


async def test_events_reach_local_pubsub_subscribers() -> None:
    from ampbase.engine.engine import Engine
    from ampbase.pubsub.local import LocalPubSub
    from tests.engine.harness import schema_from_sdl
    from tests.engine.memory_storage import MemoryStorage

    schema = schema_from_sdl(TODO)
    storage = MemoryStorage()
    await storage.open(schema)
    pubsub = LocalPubSub()
    await pubsub.start()
    stream = pubsub.events()
    engine = Engine(schema, storage, pubsub, secret=b"s")
    body = await engine.execute(CREATE, {"input": {"id": "a", "name": "n"}}, API_KEY)
    assert "errors" not in body
    event = await stream.__anext__()
    assert (event.mutation, event.model, event.record["id"], event.record["name"]) == (
        "createTodo",
        "Todo",
        "a",
        "n",
    )
    await pubsub.close()


async def test_renamed_operations_are_served_under_their_names(make_engine: HarnessFactory) -> None:
    h = await make_engine(oracle_schema("operations-renamed"))
    await h.ok('mutation { addTodo(input: {id: "1", name: "a"}) { id } }')
    await h.ok('mutation { editTodo(input: {id: "1", name: "b"}) { id } }')
    assert (await h.ok('{ fetchTodo(id: "1") { name } }')) == {"fetchTodo": {"name": "b"}}
    assert (await h.ok("{ allTodos { items { id } } }")) == {"allTodos": {"items": [{"id": "1"}]}}
    await h.ok('mutation { removeTodo(input: {id: "1"}) { id } }')
    assert [e.mutation for e in h.pubsub.published] == ["addTodo", "editTodo", "removeTodo"]
    body = await h.run('{ getTodo(id: "1") { id } }')
    assert body["data"] is None and "getTodo" in body["errors"][0]["message"]


async def test_index_queries_survive_disabled_queries(make_engine: HarnessFactory) -> None:
    h = await make_engine(oracle_schema("operations-nulled-with-index"))
    await h.ok('mutation { createOrder(input: {id: "o", customerId: "c"}) { id } }')
    data = await h.ok('{ ordersByCustomer(customerId: "c") { items { id } nextToken } }')
    assert data == {"ordersByCustomer": {"items": [{"id": "o"}], "nextToken": None}}
    assert (await h.run("{ listOrders { items { id } } }"))["data"] is None
