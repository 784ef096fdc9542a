"""The schema of the custom operations interop suite (``ampbase serve`` this file)."""

from __future__ import annotations

import time
from typing import Any

from ampbase import HandlerContext, HandlerError, a, define_data


def echo(event: dict[str, Any]) -> dict[str, Any]:
    start = time.perf_counter()
    content = f"Echoing content: {event['arguments']['content']}"
    return {"content": content, "executionDuration": time.perf_counter() - start}


async def publish(event: dict[str, Any], context: HandlerContext) -> dict[str, Any]:
    args = event["arguments"]
    saved = await context.client.models.Note.create(body=f"{args['channel']}: {args.get('text')}")
    if saved.errors:
        raise HandlerError("could not save the message", error_type="SaveFailed")
    return {
        "channel": args["channel"],
        "text": args.get("text"),
        "status": args.get("status") or "OPEN",
        "at": args.get("at"),
        "noteId": saved.data["id"],
    }


async def note_count(*, context: HandlerContext) -> int:
    notes = await context.client.models.Note.list(limit=1000)
    return len(notes.data)


def fail(event: dict[str, Any]) -> Any:
    raise HandlerError("quota exceeded", error_type="QuotaExceeded", error_info={"limit": 3})


def crash(event: dict[str, Any]) -> Any:
    raise RuntimeError("database password is hunter2")


PUBLIC = lambda allow: [allow.public_api_key()]  # noqa: E731

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
                "noteId": a.id(),
            }
        ),
        "EchoResponse": a.custom_type({"content": a.string(), "executionDuration": a.float()}),
        "Note": a.model({"body": a.string()}).authorization(PUBLIC),
        "echo": a.query()
        .arguments({"content": a.string()})
        .returns(a.ref("EchoResponse"))
        .authorization(PUBLIC)
        .handler(a.handler.function(echo)),
        "shout": a.query()
        .arguments({"text": a.string().required()})
        .returns(a.string())
        .authorization(PUBLIC)
        .handler(a.handler.function("shouter")),  # bound by handlers.py next to this file
        "tags": a.query()
        .returns(a.string().array())
        .authorization(PUBLIC)
        .handler(a.handler.function(lambda event: ["red", "green"])),
        "noteCount": a.query()
        .returns(a.integer())
        .authorization(PUBLIC)
        .handler(a.handler.function(note_count)),
        "crash": a.query().returns(a.string()).authorization(PUBLIC).handler(a.handler.function(crash)),
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
        .handler(a.handler.function(publish)),
        "fail": a.mutation().returns(a.boolean()).authorization(PUBLIC).handler(a.handler.function(fail)),
        "receive": a.subscription()
        .for_(a.ref("publish"))
        .arguments({"channel": a.string()})
        .authorization(PUBLIC),
    }
)

data = define_data(
    schema=schema,
    authorization_modes={
        "default_authorization_mode": "apiKey",
        "api_key_authorization_mode": {"expires_in_days": 30},
    },
)
