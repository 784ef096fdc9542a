"""Storage layers: adapters that wrap another adapter to add one behaviour each.

:class:`StorageLayer` forwards every :class:`~ampbase.storage.base.StorageAdapter` call to the
adapter it wraps; a layer overrides what it changes. The engine stacks the layers a schema's
:class:`~ampbase.schema.ir.ResourceConfig` asks for (:func:`ampbase.engine.resources.layered`):

* :class:`TtlLayer` — time to live: items whose TTL attribute (epoch seconds) has passed are
  left out of every read, inside the storage query (so pages stay full and ``limit`` holds).
* :class:`ThroughputLayer` — provisioned throughput: reads and writes per second per table;
  over the limit a call fails with DynamoDB's ``ProvisionedThroughputExceededException``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ampbase.errors import ThrottledError
from ampbase.schema.ir import SchemaDef
from ampbase.storage.base import ApiKeyRecord, Page, Query, Record, StorageAdapter, StorageStats
from ampbase.storage.predicate import And, AttributeExists, Compare, Or, Predicate

__all__ = [
    "THROUGHPUT_ERROR_TYPE",
    "Capacity",
    "StorageLayer",
    "ThroughputLayer",
    "TtlLayer",
    "live_predicate",
]

THROUGHPUT_ERROR_TYPE = "DynamoDB:ProvisionedThroughputExceededException"


class StorageLayer:
    """Forwards everything to ``inner``."""

    def __init__(self, inner: StorageAdapter) -> None:
        self.inner = inner

    @property
    def stats(self) -> StorageStats:
        return self.inner.stats

    @stats.setter
    def stats(self, value: StorageStats) -> None:
        self.inner.stats = value

    def __getattr__(self, name: str) -> Any:
        # adapter-specific extras (``path``, ``pool`` ...) stay reachable
        return getattr(self.inner, name)

    async def open(self, schema: SchemaDef) -> None:
        await self.inner.open(schema)

    async def close(self) -> None:
        await self.inner.close()

    async def get(self, model: str, key: dict[str, Any]) -> Record | None:
        return await self.inner.get(model, key)

    async def get_many(self, model: str, keys: list[dict[str, Any]]) -> list[Record | None]:
        return await self.inner.get_many(model, keys)

    async def insert(self, model: str, record: Record, condition: Predicate | None = None) -> Record:
        return await self.inner.insert(model, record, condition)

    async def update(
        self, model: str, key: dict[str, Any], changes: Record, condition: Predicate | None = None
    ) -> Record:
        return await self.inner.update(model, key, changes, condition)

    async def delete(self, model: str, key: dict[str, Any], condition: Predicate | None = None) -> Record:
        return await self.inner.delete(model, key, condition)

    async def query(self, query: Query) -> Page:
        return await self.inner.query(query)

    async def query_related(
        self, query: Query, fields: tuple[str, ...], values: list[tuple[Any, ...]]
    ) -> dict[tuple[Any, ...], Page]:
        return await self.inner.query_related(query, fields, values)

    async def put_api_key(self, key: ApiKeyRecord) -> None:
        await self.inner.put_api_key(key)

    async def list_api_keys(self) -> list[ApiKeyRecord]:
        return await self.inner.list_api_keys()

    async def delete_api_key(self, key_id: str) -> bool:
        return await self.inner.delete_api_key(key_id)


def live_predicate(attribute: str, now: int) -> Predicate:
    """Not expired: no TTL value, or one still in the future."""
    return Or((AttributeExists(attribute, exists=False), Compare(attribute, "gt", now)))


def _and(first: Predicate | None, second: Predicate) -> Predicate:
    return second if first is None else And((first, second))


class TtlLayer(StorageLayer):
    """Hides expired items of the models in ``attributes`` (model → TTL attribute)."""

    def __init__(self, inner: StorageAdapter, attributes: Mapping[str, str], now: Callable[[], int]) -> None:
        super().__init__(inner)
        self.attributes = dict(attributes)
        self.now = now

    def _expired(self, model: str, record: Record | None) -> bool:
        attribute = self.attributes.get(model)
        if record is None or attribute is None:
            return False
        value = record.get(attribute)
        return isinstance(value, int | float) and not isinstance(value, bool) and value <= self.now()

    def _live(self, query: Query) -> Query:
        attribute = self.attributes.get(query.model)
        if attribute is None:
            return query
        return replace(query, filter=_and(query.filter, live_predicate(attribute, self.now())))

    async def get(self, model: str, key: dict[str, Any]) -> Record | None:
        record = await self.inner.get(model, key)
        return None if self._expired(model, record) else record

    async def get_many(self, model: str, keys: list[dict[str, Any]]) -> list[Record | None]:
        records = await self.inner.get_many(model, keys)
        return [None if self._expired(model, r) else r for r in records]

    async def query(self, query: Query) -> Page:
        return await self.inner.query(self._live(query))

    async def query_related(
        self, query: Query, fields: tuple[str, ...], values: list[tuple[Any, ...]]
    ) -> dict[tuple[Any, ...], Page]:
        return await self.inner.query_related(self._live(query), fields, values)

    async def expired(self, model: str, limit: int = 100) -> list[Record]:
        """Up to ``limit`` items of ``model`` whose time to live has passed (for the sweeper)."""
        attribute = self.attributes[model]
        page = await self.inner.query(
            Query(model=model, filter=Compare(attribute, "le", self.now()), limit=limit)
        )
        return page.items


@dataclass(slots=True)
class Capacity:
    """A token bucket: ``per_second`` units, at most one second's worth (at least one unit) saved up.

    A call needs one unit in the bucket; what it consumed is then taken out, possibly leaving
    the bucket in debt (a query that read 50 items costs 50 read units), as DynamoDB does.
    """

    per_second: float
    tokens: float = 0.0
    updated: float | None = None

    def admit(self, now: float) -> bool:
        burst = max(self.per_second, 1.0)
        if self.updated is None:
            self.tokens = burst
        else:
            self.tokens = min(burst, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        return self.tokens >= 1.0

    def consume(self, units: float) -> None:
        self.tokens -= units


def _throttled(model: str, kind: str) -> ThrottledError:
    return ThrottledError(
        f"The level of configured provisioned throughput for the table {model} was exceeded ({kind}). "
        "Consider increasing its provisioned throughput in backend.py, or retry after a short wait.",
        error_type=THROUGHPUT_ERROR_TYPE,
    )


class ThroughputLayer(StorageLayer):
    """Read and write units per second per model: ``limits`` maps a model to (read, write)."""

    def __init__(
        self,
        inner: StorageAdapter,
        limits: Mapping[str, tuple[float | None, float | None]],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(inner)
        self.clock = clock
        self.reads = {m: Capacity(r) for m, (r, _) in limits.items() if r}
        self.writes = {m: Capacity(w) for m, (_, w) in limits.items() if w}

    def _admit(self, buckets: dict[str, Capacity], model: str, kind: str) -> Capacity | None:
        bucket = buckets.get(model)
        if bucket is not None and not bucket.admit(self.clock()):
            raise _throttled(model, kind)
        return bucket

    async def get(self, model: str, key: dict[str, Any]) -> Record | None:
        bucket = self._admit(self.reads, model, "reads")
        record = await self.inner.get(model, key)
        if bucket is not None:
            bucket.consume(1)
        return record

    async def get_many(self, model: str, keys: list[dict[str, Any]]) -> list[Record | None]:
        bucket = self._admit(self.reads, model, "reads")
        records = await self.inner.get_many(model, keys)
        if bucket is not None:
            bucket.consume(max(1, len(keys)))
        return records

    async def query(self, query: Query) -> Page:
        bucket = self._admit(self.reads, query.model, "reads")
        page = await self.inner.query(query)
        if bucket is not None:
            bucket.consume(max(1, len(page.items)))
        return page

    async def query_related(
        self, query: Query, fields: tuple[str, ...], values: list[tuple[Any, ...]]
    ) -> dict[tuple[Any, ...], Page]:
        bucket = self._admit(self.reads, query.model, "reads")
        pages = await self.inner.query_related(query, fields, values)
        if bucket is not None:
            bucket.consume(max(1, sum(len(p.items) for p in pages.values())))
        return pages

    async def insert(self, model: str, record: Record, condition: Predicate | None = None) -> Record:
        bucket = self._admit(self.writes, model, "writes")
        if bucket is not None:
            bucket.consume(1)
        return await self.inner.insert(model, record, condition)

    async def update(
        self, model: str, key: dict[str, Any], changes: Record, condition: Predicate | None = None
    ) -> Record:
        bucket = self._admit(self.writes, model, "writes")
        if bucket is not None:
            bucket.consume(1)
        return await self.inner.update(model, key, changes, condition)

    async def delete(self, model: str, key: dict[str, Any], condition: Predicate | None = None) -> Record:
        bucket = self._admit(self.writes, model, "writes")
        if bucket is not None:
            bucket.consume(1)
        return await self.inner.delete(model, key, condition)
