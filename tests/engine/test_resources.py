"""backend.py customisations the engine applies: time to live (hidden reads, the sweeper)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from ampbase.engine.identity import Identity
from ampbase.engine.resources import sweep_expired
from ampbase.engine.subscriptions import event_matches, prepare_subscription
from ampbase.errors import ThrottledError
from ampbase.schema.ir import ResourceConfig, SchemaDef, TableConfig
from ampbase.storage.base import Query
from ampbase.storage.layers import ThroughputLayer
from tests.engine.conftest import HarnessFactory
from tests.engine.harness import Harness, schema_from_sdl
from tests.engine.memory_storage import MemoryStorage

pytestmark = pytest.mark.anyio

SDL = """
type Session @model @auth(rules: [{ allow: public }]) {
  id: ID!
  user: String
  ttl: AWSTimestamp
  notes: [Note] @hasMany
}
type Note @model @auth(rules: [{ allow: public }]) {
  id: ID!
  text: String
  expires: AWSTimestamp
}
"""


def ttl_schema() -> SchemaDef:
    schema = schema_from_sdl(SDL)
    return dataclasses.replace(
        schema, resources=ResourceConfig(tables=(TableConfig("Session", ttl_attribute="ttl"),))
    )


async def seed(h: Harness) -> int:
    now = int(h.clock().timestamp())
    for i, ttl in enumerate([now - 10, now + 10, None, now + 100]):
        variables: dict[str, Any] = {"input": {"id": f"s{i}", "user": "u", "ttl": ttl}}
        await h.ok(
            "mutation ($input: CreateSessionInput!) { createSession(input: $input) { id } }", variables
        )
    return now


async def test_expired_items_disappear_from_reads_at_once(make_engine: HarnessFactory) -> None:
    h = await make_engine(ttl_schema())
    await seed(h)
    listed = await h.ok("{ listSessions { items { id } } }")
    assert sorted(i["id"] for i in listed["listSessions"]["items"]) == ["s1", "s2", "s3"]
    assert await h.ok('{ getSession(id: "s0") { id } }') == {"getSession": None}
    assert await h.ok('{ getSession(id: "s1") { id } }') == {"getSession": {"id": "s1"}}
    h.clock.advance(11)  # s1 expires too
    page = await h.ok("{ listSessions(limit: 2) { items { id } nextToken } }")
    assert sorted(i["id"] for i in page["listSessions"]["items"]) == ["s2", "s3"]  # limit counts live items
    assert await h.ok('{ getSession(id: "s1") { id } }') == {"getSession": None}


async def test_expired_related_items_are_left_out_of_relationship_fields(make_engine: HarnessFactory) -> None:
    schema = schema_from_sdl(SDL)
    schema = dataclasses.replace(
        schema, resources=ResourceConfig(tables=(TableConfig("Note", ttl_attribute="expires"),))
    )
    h = await make_engine(schema)
    now = int(h.clock().timestamp())
    await h.ok('mutation { createSession(input: {id: "s"}) { id } }')
    for i, expires in enumerate([now - 1, now + 60]):
        note = {"id": f"n{i}", "sessionNotesId": "s", "expires": expires}
        await h.ok("mutation ($n: CreateNoteInput!) { createNote(input: $n) { id } }", {"n": note})
    data = await h.ok('{ getSession(id: "s") { notes { items { id } } } }')
    assert data == {"getSession": {"notes": {"items": [{"id": "n1"}]}}}


async def test_the_sweeper_deletes_expired_items_and_publishes_on_delete(make_engine: HarnessFactory) -> None:
    h = await make_engine(ttl_schema())
    await seed(h)
    sub = prepare_subscription(
        h.engine, "subscription { onDeleteSession { id } }", {}, Identity(mode="apiKey")
    )
    h.pubsub.published.clear()
    assert await sweep_expired(h.engine, batch=1) == 1
    assert [(e.mutation, e.record["id"]) for e in h.pubsub.published] == [("deleteSession", "s0")]
    assert event_matches(sub, "deleteSession", h.pubsub.published[0].record)
    assert await h.storage.get("Session", {"id": "s0"}) is None
    assert await h.storage.get("Session", {"id": "s1"}) is not None
    h.clock.advance(1000)
    assert await sweep_expired(h.engine, batch=1) == 2  # several batches
    assert await h.storage.get("Session", {"id": "s2"}) is not None  # no ttl: kept forever
    assert await sweep_expired(h.engine) == 0


async def test_models_without_ttl_and_schemas_without_resources_are_untouched(
    make_engine: HarnessFactory,
) -> None:
    h = await make_engine(schema_from_sdl(SDL))
    assert h.engine.storage is h.storage
    assert await sweep_expired(h.engine) == 0
    h = await make_engine(ttl_schema())
    await h.ok('mutation { createNote(input: {id: "n", text: "x"}) { id } }')
    assert await h.ok('{ getNote(id: "n") { text } }') == {"getNote": {"text": "x"}}


def throughput_schema(read: float | None, write: float | None) -> SchemaDef:
    schema = schema_from_sdl(SDL)
    table = TableConfig("Note", read_capacity=read, write_capacity=write)
    return dataclasses.replace(schema, resources=ResourceConfig(tables=(table,)))


async def test_provisioned_throughput_throttles_a_table_with_dynamodbs_error(
    make_engine: HarnessFactory,
) -> None:
    # one unit saved up and one more every 1000 s: the second call within the test is over
    h = await make_engine(throughput_schema(read=0.001, write=0.001))
    await h.ok('mutation { createNote(input: {id: "n1", text: "x"}) { id } }')
    error = await h.error('mutation { createNote(input: {id: "n2", text: "y"}) { id } }')
    assert error["errorType"] == "DynamoDB:ProvisionedThroughputExceededException"
    assert "provisioned throughput for the table Note" in error["message"]
    assert await h.storage.get("Note", {"id": "n2"}) is None  # refused before the database
    assert await h.ok('{ getNote(id: "n1") { id } }') == {"getNote": {"id": "n1"}}
    error = await h.error("{ listNotes { items { id } } }")
    assert error["errorType"] == "DynamoDB:ProvisionedThroughputExceededException"
    # other tables are not limited
    await h.ok('mutation { createSession(input: {id: "s"}) { id } }')
    await h.ok('mutation { createSession(input: {id: "t"}) { id } }')


async def test_capacity_refills_over_time_and_queries_cost_one_unit_per_item() -> None:

    now = [0.0]
    storage = MemoryStorage()
    schema = schema_from_sdl(SDL)
    await storage.open(schema)
    for i in range(5):
        await storage.insert("Note", {"id": f"n{i}"})
    layer = ThroughputLayer(storage, {"Note": (2.0, None)}, clock=lambda: now[0])
    page = await layer.query(Query(model="Note", limit=5))  # 2 saved, costs 5: 3 in debt
    assert len(page.items) == 5
    with pytest.raises(ThrottledError):
        await layer.get("Note", {"id": "n0"})
    now[0] = 1.5  # +3 units: back to 0, still not a whole unit
    with pytest.raises(ThrottledError):
        await layer.get("Note", {"id": "n0"})
    now[0] = 2.0  # +1
    assert await layer.get("Note", {"id": "n0"}) is not None
    await layer.insert("Note", {"id": "w"})  # writes unlimited here
