"""The time-to-live layer on every backend: the live condition runs inside the storage query."""

from __future__ import annotations

import pytest

from ampbase.schema.resolve import resolve_schema
from ampbase.schema.sdl import load_sdl
from ampbase.storage.base import Query
from ampbase.storage.layers import TtlLayer
from tests.storage.conftest import StorageFactory

pytestmark = pytest.mark.anyio

SCHEMA = resolve_schema(
    load_sdl(
        """
type Session @model @auth(rules: [{allow: public}]) {
  id: ID!
  user: String @index(name: "byUser", sortKeyFields: ["id"])
  ttl: AWSTimestamp
}
"""
    )
)
NOW = 1_800_000_000


async def test_expired_items_are_filtered_in_the_query_so_pages_stay_full(
    open_storage: StorageFactory,
) -> None:
    storage = await open_storage(SCHEMA)
    for i in range(6):
        ttl = NOW - 1 if i % 2 == 0 else (NOW + 1 if i < 5 else None)
        await storage.insert("Session", {"id": f"s{i}", "user": "u", "ttl": ttl})
    layer = TtlLayer(storage, {"Session": "ttl"}, lambda: NOW)
    page = await layer.query(Query(model="Session", limit=3))
    assert [r["id"] for r in page.items] == ["s1", "s3", "s5"]
    assert page.last_key is None  # the three expired items do not make the adapter expect more
    assert await layer.get("Session", {"id": "s0"}) is None
    assert [r and r["id"] for r in await layer.get_many("Session", [{"id": "s0"}, {"id": "s1"}])] == [
        None,
        "s1",
    ]
    related = await layer.query_related(Query(model="Session", index="byUser", limit=10), ("user",), [("u",)])
    assert [r["id"] for r in related[("u",)].items] == ["s1", "s3", "s5"]
    assert sorted(r["id"] for r in await layer.expired("Session")) == ["s0", "s2", "s4"]
    assert await storage.get("Session", {"id": "s0"}) is not None  # hidden, not deleted
