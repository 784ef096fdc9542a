"""Custom operations end to end on the engine: Python handlers, errors, the handler's data
client, custom types and enums as arguments and results, custom subscriptions."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from ampbase import HandlerContext, HandlerError, a, define_data
from ampbase.engine.identity import Identity
from ampbase.engine.subscriptions import event_matches, prepare_subscription, render_event
from ampbase.schema.ir import SchemaDef
from ampbase.schema.resolve import resolve_schema
from tests.engine.conftest import HarnessFactory
from tests.engine.harness import API_KEY, ORACLE

pytestmark = pytest.mark.anyio

USER = Identity(mode="userPool", claims={"sub": "u1", "cognito:username": "alice"})
PUBLIC = lambda allow: [allow.public_api_key()]  # noqa: E731


def chat_schema(**handlers: Any) -> SchemaDef:
    """A Gen 2 style schema: enum, custom types, a model and custom operations."""

    def publish(event: dict[str, Any]) -> dict[str, Any]:
        args = event["arguments"]
        return {
            "channel": args["channel"],
            "text": args["text"],
            "status": args.get("status"),
            "at": args.get("at"),
        }

    schema = a.schema(
        {
            "Status": a.enum(["OPEN", "DONE"]),
            "Point": a.custom_type({"x": a.float().required(), "y": a.float()}),
            "Message": a.custom_type(
                {
                    "channel": a.string().required(),
                    "text": a.string(),
                    "status": a.ref("Status"),
                    "at": a.ref("Point"),
                }
            ),
            "Note": a.model({"body": a.string(), "owner": a.string()}).authorization(PUBLIC),
            "publish": a.mutation()
            .arguments(
                {
                    "channel": a.string().required(),
                    "text": a.string(),
                    "status": a.ref("Status"),
                    "at": a.ref("Point"),
                }
            )
            .returns(a.ref("Message"))
            .authorization(PUBLIC)
            .handler(a.handler.function(handlers.get("publish", publish))),
            "receive": a.subscription()
            .for_(a.ref("publish"))
            .arguments({"channel": a.string()})
            .returns(a.ref("Message"))
            .authorization(PUBLIC),
            "recent": a.query()
            .arguments({"limit": a.integer()})
            .returns(a.ref("Message").array())
            .authorization(PUBLIC)
            .handler(a.handler.function(handlers.get("recent", lambda event: []))),
            "tags": a.query()
            .returns(a.string().array())
            .authorization(PUBLIC)
            .handler(a.handler.function(handlers.get("tags", lambda event: ["a", "b"]))),
            "noteCount": a.query()
            .returns(a.integer())
            .authorization(lambda allow: [allow.public_api_key(), allow.authenticated()])
            .handler(a.handler.function(handlers.get("noteCount", lambda event: 0))),
        }
    )
    data = define_data(
        schema=schema,
        authorization_modes={
            "default_authorization_mode": "apiKey",
            "api_key_authorization_mode": {"expires_in_days": 30},
        },
    )
    return resolve_schema(data.schema)


PUBLISH = """mutation ($c: String!, $t: String, $s: Status, $at: PointInput) {
  publish(channel: $c, text: $t, status: $s, at: $at) { channel text status at { x y } }
}"""


async def test_enum_and_custom_type_arguments_reach_the_handler_and_results_come_back(
    make_engine: HarnessFactory,
) -> None:
    h = await make_engine(chat_schema())
    data = await h.ok(PUBLISH, {"c": "general", "t": "hi", "s": "OPEN", "at": {"x": 1.5, "y": 2}})
    assert data == {
        "publish": {"channel": "general", "text": "hi", "status": "OPEN", "at": {"x": 1.5, "y": 2.0}}
    }
    error = await h.error(PUBLISH, {"c": "general", "s": "LATER"})
    assert error["errorType"] == "ValidationError"


async def test_lists_of_custom_types_and_of_scalars_are_results(make_engine: HarnessFactory) -> None:
    async def recent(*, arguments: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"channel": "c", "text": str(i), "status": "DONE"} for i in range(arguments["limit"])]

    h = await make_engine(chat_schema(recent=recent))
    data = await h.ok("{ recent(limit: 2) { channel text status } tags }")
    assert data == {
        "recent": [
            {"channel": "c", "text": "0", "status": "DONE"},
            {"channel": "c", "text": "1", "status": "DONE"},
        ],
        "tags": ["a", "b"],
    }


async def test_custom_subscription_receives_the_custom_mutations_result(make_engine: HarnessFactory) -> None:
    h = await make_engine(chat_schema())
    query = "subscription ($c: String) { receive(channel: $c) { channel text status } }"
    general = prepare_subscription(h.engine, query, {"c": "general"}, Identity(mode="apiKey"))
    assert general.mutations == {"publish"}
    await h.ok(PUBLISH, {"c": "general", "t": "hello", "s": "DONE"})
    await h.ok(PUBLISH, {"c": "random", "t": "elsewhere"})
    (first, second) = h.pubsub.published
    assert (first.mutation, first.model) == ("publish", None)
    assert event_matches(general, first.mutation, first.record)
    assert not event_matches(general, second.mutation, second.record)
    payload = await render_event(general, first.mutation, first.record)
    assert payload == {"data": {"receive": {"channel": "general", "text": "hello", "status": "DONE"}}}


async def test_handler_error_gives_its_message_type_and_info(make_engine: HarnessFactory) -> None:
    def publish(event: dict[str, Any]) -> Any:
        raise HandlerError("channel is read-only", error_type="Forbidden", error_info={"channel": "x"})

    def recent(event: dict[str, Any]) -> Any:
        raise HandlerError("nope")

    h = await make_engine(chat_schema(publish=publish, recent=recent))
    error = await h.error(PUBLISH, {"c": "x"})
    assert (error["message"], error["errorType"], error["errorInfo"]) == (
        "channel is read-only",
        "Forbidden",
        {"channel": "x"},
    )
    assert error["extensions"] == {"errorType": "Forbidden"} and error["path"] == ["publish"]
    error = await h.error("{ recent { text } }")
    assert (error["message"], error["errorType"]) == ("nope", "Lambda:Unhandled")
    assert not h.pubsub.published  # a failed custom mutation publishes nothing


async def test_unexpected_exceptions_are_logged_with_the_request_id_and_not_leaked(
    make_engine: HarnessFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async def recent(event: dict[str, Any]) -> Any:
        raise RuntimeError("connection string postgres://admin:hunter2@db")

    h = await make_engine(chat_schema(recent=recent))
    with caplog.at_level(logging.ERROR, logger="ampbase.engine"):
        error = await h.error("{ recent { text } }")
    assert error["errorType"] == "InternalFailure"
    assert "hunter2" not in error["message"] and "RuntimeError" not in error["message"]
    request_id = error["message"].split("request id ")[1].rstrip(")")
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert logged and logged[0].exc_info is not None
    assert "hunter2" in str(logged[0].exc_info[1])


async def test_event_and_context_handlers_use_the_trusted_data_client(make_engine: HarnessFactory) -> None:
    seen: list[HandlerContext] = []

    async def publish(event: dict[str, Any], context: HandlerContext) -> dict[str, Any]:
        seen.append(context)
        note = await context.client.models.Note.create(body=event["arguments"]["text"], owner="bob")
        assert note.errors is None, note.errors
        return {"channel": event["arguments"]["channel"], "text": note.data["id"]}

    async def note_count(event: dict[str, Any], context: HandlerContext) -> int:
        notes = await context.client.models.Note.list()
        return len(notes.data)

    h = await make_engine(chat_schema(publish=publish, noteCount=note_count))
    data = await h.ok(PUBLISH, {"c": "general", "t": "remember"})
    note_id = data["publish"]["text"]
    assert await h.ok("{ noteCount }") == {"noteCount": 1}
    context = seen[0]
    assert (context.type_name, context.field_name, context.identity) == ("Mutation", "publish", API_KEY)
    assert context.client is context.client  # one trusted client per engine
    stored = await h.storage.get("Note", {"id": note_id})
    assert stored is not None and stored["body"] == "remember" and stored["owner"] == "bob"
    assert [e.mutation for e in h.pubsub.published] == ["createNote", "publish"]


async def test_caller_client_applies_the_callers_rules(make_engine: HarnessFactory) -> None:
    async def note_count(*, context: HandlerContext) -> int:
        trusted = await context.client.models.Note.list()
        as_caller = await context.caller_client.models.Note.list()
        if as_caller.errors:
            return -len(trusted.data)
        return len(as_caller.data)

    h = await make_engine(chat_schema(noteCount=note_count))
    for i in range(2):
        await h.ok("mutation ($b: String) { createNote(input: {body: $b}) { id } }", {"b": str(i)})
    assert await h.ok("{ noteCount }") == {"noteCount": 2}
    # Notes are API-key only: a signed-in caller may run noteCount but not read notes
    assert await h.ok("{ noteCount }", identity=USER) == {"noteCount": -2}


async def test_gen1_function_directive_served_by_handlers_py(
    make_engine: HarnessFactory, tmp_path: Path
) -> None:
    from ampbase.schema.loader import load_schema

    (tmp_path / "schema.graphql").write_text((ORACLE / "custom-operations" / "input.graphql").read_text())
    (tmp_path / "handlers.py").write_text(
        "from ampbase import HandlerError\n"
        "def echo(event):\n"
        "    return {'message': event['arguments']['msg'] + ' from ' + event['fieldName']}\n"
        "def count(event, context):\n"
        "    return len(event['identity']['username'])\n"
        "def doer(event):\n"
        "    raise HandlerError('not today', error_type='Closed')\n"
        "handlers = {'echofunction': echo, 'counter': count, 'doer': doer}\n"
    )
    h = await make_engine(load_schema(tmp_path / "schema.graphql"))
    assert await h.ok('{ echo(msg: "hi") { message } }') == {"echo": {"message": "hi from echo"}}
    assert await h.ok("{ todoCount }", identity=USER) == {"todoCount": 5}
    error = await h.error('mutation { doSomething(id: "x") { id } }')
    assert (error["errorType"], error["message"]) == ("Closed", "not today")
