"""The storage seam: what the engine needs from a database.

Records are plain dicts keyed by the model's field names (wire names), holding
JSON-compatible values: scalars as their wire form (AWSDateTime as ISO strings,
AWSTimestamp as int, AWSJSON as the JSON *string*), lists as lists, custom types
as dicts. Relationship fields are never stored; their key fields are.

Adapters: ``SQLiteStorage`` (default), ``PostgresStorage``. Both pass the same
conformance suite (``tests/storage``). Driver exceptions never escape an adapter:
conflicts and failed conditions raise ``ConditionalCheckFailedError``; anything
else raises ``StorageError`` with the driver exception as ``__cause__``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ampbase.schema.ir import SchemaDef
from ampbase.storage.predicate import Predicate

__all__ = [
    "ApiKeyRecord",
    "KeyCondition",
    "Page",
    "Query",
    "Record",
    "SortKeyCondition",
    "StorageAdapter",
    "StorageStats",
]

Record = dict[str, Any]


@dataclass(frozen=True, slots=True)
class SortKeyCondition:
    """A condition on the sort key fields of an index or primary key.

    ``fields`` are the sort key fields the condition constrains (a prefix of the
    key's sort fields for composite keys); ``op`` is one of
    ``eq lt le gt ge between beginsWith``; ``values`` has one value per field
    (for ``between``: ``low`` in ``values``, ``high`` in ``high_values``).
    Composite sort keys compare as tuples (row values), and ``beginsWith``
    applies to the last given part after equality on the ones before it.
    """

    fields: tuple[str, ...]
    op: Literal["eq", "lt", "le", "gt", "ge", "between", "beginsWith"]
    values: tuple[Any, ...]
    high_values: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class KeyCondition:
    """Equality on the partition key (and optionally a sort key condition)."""

    partition: tuple[tuple[str, Any], ...]
    sort: SortKeyCondition | None = None


@dataclass(frozen=True, slots=True)
class Query:
    """Read a page of ``model``.

    ``index`` is an ``IndexDef.name`` of the model, or ``None`` for the primary
    key. Results are ordered by the index's (or primary key's) key fields, then
    the primary key fields as a tie-breaker, ascending unless ``descending``.
    ``filter`` is applied *before* ``limit``: a page holds up to ``limit``
    matching items. ``after`` is the keyset position returned as
    ``Page.last_key`` by the previous page of the same query.
    """

    model: str
    index: str | None = None
    key: KeyCondition | None = None
    filter: Predicate | None = None
    descending: bool = False
    limit: int = 100
    after: tuple[Any, ...] | None = None


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Record]
    # Keyset position of the last item when more items may follow, else None.
    last_key: tuple[Any, ...] | None = None


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    id: str  # the key itself, e.g. "da2-..."
    expires_at: int  # epoch seconds
    description: str = ""
    created_at: int = 0


@dataclass(slots=True)
class StorageStats:
    """Counters for tests and benchmarks (statements sent to the database)."""

    statements: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class StorageAdapter(Protocol):
    stats: StorageStats

    async def open(self, schema: SchemaDef) -> None:
        """Connect, then create or additively evolve tables and indexes for ``schema``.

        Refuses (``ConfigError``) a change of a model's primary key when the
        table already exists, naming what to do.
        """
        ...

    async def close(self) -> None: ...

    async def get(self, model: str, key: dict[str, Any]) -> Record | None: ...

    async def get_many(self, model: str, keys: list[dict[str, Any]]) -> list[Record | None]:
        """Batch get in one round trip; results align with ``keys``."""
        ...

    async def insert(self, model: str, record: Record, condition: Predicate | None = None) -> Record:
        """Insert; a duplicate key or a false ``condition`` → ConditionalCheckFailedError."""
        ...

    async def update(
        self,
        model: str,
        key: dict[str, Any],
        changes: Record,
        condition: Predicate | None = None,
    ) -> Record:
        """Apply ``changes`` (``None`` values clear a field); return the new record.

        A missing item or a false ``condition`` (evaluated on the stored item)
        → ConditionalCheckFailedError.
        """
        ...

    async def delete(self, model: str, key: dict[str, Any], condition: Predicate | None = None) -> Record:
        """Delete and return the deleted record; missing/false condition → ConditionalCheckFailedError."""
        ...

    async def query(self, query: Query) -> Page: ...

    async def query_related(
        self, query: Query, fields: tuple[str, ...], values: list[tuple[Any, ...]]
    ) -> dict[tuple[Any, ...], Page]:
        """One round trip for many parents: ``query`` once per tuple in ``values``
        (``fields`` = ``values``), each page limited separately. Used to load
        hasMany/hasOne without N+1."""
        ...

    async def put_api_key(self, key: ApiKeyRecord) -> None: ...

    async def list_api_keys(self) -> list[ApiKeyRecord]: ...

    async def delete_api_key(self, key_id: str) -> bool: ...
