"""Custom queries and mutations served by Python handlers."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import pytest

from ampbase.engine.custom import HandlerContext
from ampbase.engine.identity import Identity
from ampbase.errors import RequestError, ValidationError
from ampbase.schema.ir import HandlerDef, SchemaDef
from tests.engine.conftest import HarnessFactory
from tests.engine.harness import API_KEY, TRUSTED, oracle_schema

pytestmark = pytest.mark.anyio

USER = Identity(mode="userPool", claims={"sub": "u1", "cognito:username": "alice"})


def with_handlers(schema: SchemaDef, **handlers: Any) -> SchemaDef:
    ops = tuple(
        replace(op, handlers=(HandlerDef(kind="python", callable=handlers[op.name]),))
        if op.name in handlers
        else op
        for op in schema.operations
    )
    return replace(schema, operations=ops)


async def test_async_handler_gets_arguments_identity_and_context(make_engine: HarnessFactory) -> None:
    calls: list[tuple[dict[str, Any], Identity, HandlerContext]] = []

    async def echo(
        *, arguments: dict[str, Any], identity: Identity, context: HandlerContext
    ) -> dict[str, Any]:
        calls.append((arguments, identity, context))
        return {"message": arguments["msg"].upper(), "at": "2026-01-01T00:00:00.000Z"}

    h = await make_engine(with_handlers(oracle_schema("custom-operations"), echo=echo))
    data = await h.ok("query ($m: String!) { echo(msg: $m) { message at } }", {"m": "hi"})
    assert data == {"echo": {"message": "HI", "at": "2026-01-01T00:00:00.000Z"}}
    arguments, identity, context = calls[0]
    assert arguments == {"msg": "hi"} and identity == API_KEY
    assert context.field_name == "echo" and context.type_name == "Query"
    assert context.engine is h.engine and context.request_id


async def test_sync_handler_runs_in_a_thread(make_engine: HarnessFactory) -> None:
    threads: list[str] = []

    def count(*, arguments: dict[str, Any], identity: Identity, context: HandlerContext) -> int:
        threads.append(threading.current_thread().name)
        return 42

    h = await make_engine(with_handlers(oracle_schema("custom-operations"), todoCount=count))
    assert await h.ok("{ todoCount }", identity=USER) == {"todoCount": 42}
    assert threads and threads[0] != threading.main_thread().name


async def test_custom_mutation_can_use_the_engine_and_publishes_its_result(
    make_engine: HarnessFactory,
) -> None:
    async def do_something(*, arguments: dict[str, Any], identity: Identity, context: HandlerContext) -> Any:
        body = await context.engine.execute(
            "mutation ($input: CreateTodoInput!) { createTodo(input: $input) { id name } }",
            {"input": {"id": arguments["id"], "name": "made by handler"}},
            TRUSTED,
        )
        return body["data"]["createTodo"]

    h = await make_engine(with_handlers(oracle_schema("custom-operations"), doSomething=do_something))
    data = await h.ok('mutation { doSomething(id: "x") { id name } }')
    assert data == {"doSomething": {"id": "x", "name": "made by handler"}}
    assert [(e.mutation, e.model) for e in h.pubsub.published] == [
        ("createTodo", "Todo"),
        ("doSomething", None),
    ]
    assert h.pubsub.published[1].record["name"] == "made by handler"


async def test_request_errors_from_handlers_keep_their_error_type(make_engine: HarnessFactory) -> None:
    async def echo(**_: Any) -> Any:
        raise ValidationError("msg must be polite")

    def count(**_: Any) -> Any:
        raise RequestError("quota", error_type="Throttled")

    h = await make_engine(with_handlers(oracle_schema("custom-operations"), echo=echo, todoCount=count))
    error = await h.error('{ echo(msg: "x") { message } }')
    assert (error["errorType"], error["message"], error["path"]) == (
        "ValidationError",
        "msg must be polite",
        ["echo"],
    )
    error = await h.error("{ todoCount }", identity=USER)
    assert (error["errorType"], error["message"]) == ("Throttled", "quota")


async def test_handler_crash_is_an_internal_error(make_engine: HarnessFactory) -> None:
    def count(**_: Any) -> Any:
        raise KeyError("password")

    h = await make_engine(with_handlers(oracle_schema("custom-operations"), todoCount=count))
    error = await h.error("{ todoCount }", identity=USER)
    assert error["errorType"] == "InternalFailure" and "password" not in error["message"]


async def test_missing_handler_and_authorization(make_engine: HarnessFactory) -> None:
    h = await make_engine(oracle_schema("custom-operations"))
    error = await h.error('{ echo(msg: "x") { message } }')
    assert error["errorType"] == "HandlerNotFound" and "echofunction" in error["message"]
    # todoCount allows only signed-in users (private → userPools)
    error = await h.error("{ todoCount }")
    assert (error["errorType"], error["message"]) == (
        "Unauthorized",
        "Not Authorized to access todoCount on type Query",
    )


async def test_lambda_style_handlers_get_an_appsync_like_event(make_engine: HarnessFactory) -> None:
    events: list[dict[str, Any]] = []

    def count(event: dict[str, Any]) -> int:
        events.append(event)
        return 7

    h = await make_engine(with_handlers(oracle_schema("custom-operations"), todoCount=count))
    assert await h.ok("{ todoCount }", identity=USER) == {"todoCount": 7}
    event = events[0]
    assert (event["typeName"], event["fieldName"], event["arguments"]) == ("Query", "todoCount", {})
    assert event["identity"]["sub"] == "u1" and event["identity"]["username"] == "alice"


async def test_gen2_dsl_handler_end_to_end(make_engine: HarnessFactory) -> None:
    from ampbase import a

    async def echo(event: dict[str, Any]) -> dict[str, Any]:
        return {"content": event["arguments"]["content"] + "!"}

    schema = a.schema(
        {
            "Echo": a.custom_type({"content": a.string()}),
            "echo": a.query()
            .arguments({"content": a.string().required()})
            .returns(a.ref("Echo"))
            .authorization(lambda allow: [allow.public_api_key()])
            .handler(a.handler.function(echo)),
        }
    )
    from ampbase.schema.ir import AuthConfig
    from ampbase.schema.resolve import resolve_schema

    h = await make_engine(resolve_schema(schema.to_schema_def(AuthConfig())))
    assert await h.ok('{ echo(content: "hi") { content } }') == {"echo": {"content": "hi!"}}
