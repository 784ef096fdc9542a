"""Engine test helpers: schemas from SDL, a recording pub/sub, a fixed clock, a harness."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ampbase.engine.engine import Engine
from ampbase.engine.identity import Identity
from ampbase.pubsub.base import ChangeEvent
from ampbase.schema.ir import SchemaDef
from ampbase.schema.loader import load_schema
from ampbase.schema.resolve import resolve_schema
from ampbase.schema.sdl import load_sdl

__all__ = [
    "API_KEY",
    "ORACLE",
    "TRUSTED",
    "Clock",
    "Harness",
    "RecordingPubSub",
    "oracle_schema",
    "schema_from_sdl",
]

ORACLE = Path(__file__).resolve().parents[1] / "fixtures" / "oracle"

API_KEY = Identity(mode="apiKey", api_key="da2-test")
TRUSTED = Identity(mode=None)


def schema_from_sdl(text: str) -> SchemaDef:
    return resolve_schema(load_sdl(text))


def oracle_schema(sample: str) -> SchemaDef:
    """A golden sample's input schema, through the same loader the CLI and server use."""
    return load_schema(ORACLE / sample / "input.graphql")


class RecordingPubSub:
    """Records published events and what storage held at that moment; ``fail`` makes publish raise."""

    def __init__(self) -> None:
        self.published: list[ChangeEvent] = []
        self.stored_at_publish: list[Any] = []
        self.storage: Any = None
        self.schema: SchemaDef | None = None
        self.fail = False

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def publish(self, event: ChangeEvent) -> None:
        model = self.schema.get_model(event.model) if self.schema and event.model else None
        if self.storage is not None and model is not None:
            key = {k: event.record[k] for k in model.primary_key}
            self.stored_at_publish.append(await self.storage.get(event.model, key))
        if self.fail:
            raise RuntimeError("broker down")
        self.published.append(event)

    async def events(self) -> AsyncIterator[ChangeEvent]:
        for event in list(self.published):
            yield event


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 5, 34, 15, 846000, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 1.0) -> None:
        self.now += timedelta(seconds=seconds)


class Harness:
    def __init__(self, schema: SchemaDef, storage: Any, **kw: Any) -> None:
        self.schema = schema
        self.storage = storage
        self.pubsub = RecordingPubSub()
        self.pubsub.storage = storage
        self.pubsub.schema = schema
        self.clock = Clock()
        self.engine = Engine(schema, storage, self.pubsub, secret=b"test-secret", clock=self.clock, **kw)

    async def run(
        self, query: str, variables: dict[str, Any] | None = None, identity: Identity = API_KEY
    ) -> dict[str, Any]:
        return await self.engine.execute(query, variables or {}, identity)

    async def ok(
        self, query: str, variables: dict[str, Any] | None = None, identity: Identity = API_KEY
    ) -> dict[str, Any]:
        body = await self.run(query, variables, identity)
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    async def error(
        self, query: str, variables: dict[str, Any] | None = None, identity: Identity = API_KEY
    ) -> dict[str, Any]:
        """The single error of a failing request."""
        body = await self.run(query, variables, identity)
        assert body.get("errors"), body
        assert len(body["errors"]) == 1, body
        error: dict[str, Any] = body["errors"][0]
        return error
