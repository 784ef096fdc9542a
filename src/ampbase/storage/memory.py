"""An in-memory reference adapter: the storage semantics in plain Python.

Nothing persists. It exists to pin down what the conformance suite
(``tests/storage``) means — it passes the same suite as the SQL adapters — and
to give engine tests a fast, dependency-free :class:`StorageAdapter`.

Records are kept per model in a dict keyed by primary key tuple, normalised the
way the SQL adapters store them (every stored field present, ``None`` for
missing; lists and custom types copied through JSON). Queries filter with
:func:`~ampbase.storage.predicate.evaluate` and sort by the same ordering
fields as the SQL adapters; validation reuses :mod:`ampbase.storage.sql`'s
planner, so both kinds of adapter refuse exactly the same queries.
"""

from __future__ import annotations

from typing import Any

import orjson

from ampbase.errors import ConditionalCheckFailedError, ConfigError, StorageError, ValidationError
from ampbase.schema.ir import SchemaDef
from ampbase.storage.base import ApiKeyRecord, Page, Query, Record, SortKeyCondition, StorageStats
from ampbase.storage.predicate import Predicate, evaluate
from ampbase.storage.sql import ColumnKind, Dialect, TableLayout, plan_select, table_layout

__all__ = ["MemoryStorage"]

_DIALECT = Dialect()
_INT64 = (-(2**63), 2**63 - 1)
_BATCH = 500


def _copy_json(value: Any) -> Any:
    return orjson.loads(orjson.dumps(value))


class _MemTable:
    def __init__(self, layout: TableLayout) -> None:
        self.layout = layout
        self.rows: dict[tuple[Any, ...], Record] = {}

    def normalise(self, name: str, value: Any) -> Any:
        if value is None:
            return None
        col = self.layout.by_name[name]
        if col.kind.is_json:
            try:
                return _copy_json(value)
            except TypeError:
                raise ValidationError(f"field {name!r} of {self.layout.model!r} is not JSON") from None
        if not isinstance(value, str | int | float):
            raise ValidationError(
                f"field {name!r} of {self.layout.model!r} cannot hold a {type(value).__name__}"
            )
        if isinstance(value, int) and not isinstance(value, bool) and not _INT64[0] <= value <= _INT64[1]:
            raise ValidationError(f"a value cannot be stored (OverflowError) in {self.layout.model}")
        if col.kind is ColumnKind.REAL and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if col.kind is ColumnKind.BOOLEAN and type(value) is int:
            return value != 0
        return value

    def check_fields(self, record: Record) -> None:
        for name in record:
            if name not in self.layout.by_name:
                raise ValidationError(f"{self.layout.model!r} has no stored field {name!r}")

    def key(self, key: dict[str, Any]) -> tuple[Any, ...]:
        try:
            return tuple(key[k] for k in self.layout.primary_key)
        except KeyError as exc:
            raise ValidationError(f"the key of {self.layout.model!r} needs field {exc.args[0]!r}") from None


def _copy(record: Record) -> Record:
    return {k: _copy_json(v) if isinstance(v, list | dict) else v for k, v in record.items()}


def _sort_matches(cond: SortKeyCondition, record: Record) -> bool:
    values = tuple(record.get(f) for f in cond.fields)
    if any(v is None for v in values):
        return False
    try:
        if cond.op == "eq":
            return values == tuple(cond.values)
        if cond.op == "beginsWith":
            last = values[-1]
            return (
                values[:-1] == tuple(cond.values[:-1])
                and isinstance(last, str)
                and last.startswith(cond.values[-1])
            )
        if cond.op == "between":
            return tuple(cond.values) <= values <= tuple(cond.high_values)
        if cond.op == "lt":
            return values < tuple(cond.values)
        if cond.op == "le":
            return values <= tuple(cond.values)
        if cond.op == "gt":
            return values > tuple(cond.values)
        if cond.op == "ge":
            return values >= tuple(cond.values)
    except TypeError:
        return False
    raise ValidationError(f"unknown sort key operator {cond.op!r}")


class MemoryStorage:
    """:class:`~ampbase.storage.base.StorageAdapter` holding everything in dicts."""

    def __init__(self) -> None:
        self.stats = StorageStats()
        self._tables: dict[str, _MemTable] | None = None
        self._keys: dict[str, ApiKeyRecord] = {}

    async def open(self, schema: SchemaDef) -> None:
        old = self._tables or {}
        tables: dict[str, _MemTable] = {}
        for model in schema.models:
            table = _MemTable(table_layout(model))
            previous = old.get(model.name)
            if previous is not None and previous.layout.primary_key != table.layout.primary_key:
                if previous.rows:
                    raise ConfigError(
                        f"The primary key of model {model.name!r} changed; "
                        "an in-memory store cannot re-key its rows"
                    )
                previous = None
            if previous is not None:
                for pk, row in previous.rows.items():
                    table.rows[pk] = {c.name: row.get(c.name) for c in table.layout.columns}
            tables[model.name] = table
        self._tables = tables

    async def close(self) -> None:
        """Nothing to release; the data stays for a later ``open`` of this object."""

    def _table(self, model: str) -> _MemTable:
        if self._tables is None:
            raise StorageError("the storage is not open")
        table = self._tables.get(model)
        if table is None:
            raise ValidationError(f"unknown model {model!r}")
        return table

    # -- single items ------------------------------------------------------------

    async def get(self, model: str, key: dict[str, Any]) -> Record | None:
        table = self._table(model)
        pk = table.key(key)
        self.stats.statements += 1
        row = table.rows.get(pk)
        return None if row is None else _copy(row)

    async def get_many(self, model: str, keys: list[dict[str, Any]]) -> list[Record | None]:
        table = self._table(model)
        pks = [table.key(k) for k in keys]
        self.stats.statements += -(-len(set(pks)) // _BATCH)
        return [None if (row := table.rows.get(pk)) is None else _copy(row) for pk in pks]

    async def insert(self, model: str, record: Record, condition: Predicate | None = None) -> Record:
        table = self._table(model)
        table.check_fields(record)
        pk = table.key(record)
        if any(v is None for v in pk):
            raise ValidationError(f"the key of {model!r} cannot be null")
        if condition is not None and not evaluate(condition, {}):
            raise ConditionalCheckFailedError()
        row = {c.name: table.normalise(c.name, record.get(c.name)) for c in table.layout.columns}
        self.stats.statements += 1
        if pk in table.rows:
            raise ConditionalCheckFailedError()
        table.rows[pk] = row
        return _copy(row)

    async def update(
        self,
        model: str,
        key: dict[str, Any],
        changes: Record,
        condition: Predicate | None = None,
    ) -> Record:
        table = self._table(model)
        pk = table.key(key)
        table.check_fields(changes)
        for k in table.layout.primary_key:
            if k in changes and changes[k] != key[k]:
                raise ValidationError(f"the key field {k!r} of {model!r} cannot be changed")
        new = {n: table.normalise(n, v) for n, v in changes.items() if n not in table.layout.primary_key}
        self.stats.statements += 1 if condition is None and new else 2
        current = table.rows.get(pk)
        if current is None or (condition is not None and not evaluate(condition, current)):
            raise ConditionalCheckFailedError()
        current.update(new)
        return _copy(current)

    async def delete(self, model: str, key: dict[str, Any], condition: Predicate | None = None) -> Record:
        table = self._table(model)
        pk = table.key(key)
        self.stats.statements += 1 if condition is None else 2
        current = table.rows.get(pk)
        if current is None or (condition is not None and not evaluate(condition, current)):
            raise ConditionalCheckFailedError()
        del table.rows[pk]
        return current

    # -- queries -----------------------------------------------------------------

    def _run(self, table: _MemTable, query: Query, extra: dict[str, Any]) -> Page:
        layout = table.layout
        order = layout.ordering(query.index)
        index_fields = layout.index(query.index).key_fields if query.index is not None else ()
        rows: list[Record] = []
        for record in table.rows.values():
            if any(record.get(f) is None for f in index_fields):
                continue
            if any(record.get(f) != v for f, v in extra.items()):
                continue
            key = query.key
            if key is not None:
                if any(record.get(f) != v for f, v in key.partition):
                    continue
                if key.sort is not None and not _sort_matches(key.sort, record):
                    continue
            if query.filter is not None and not evaluate(query.filter, record):
                continue
            rows.append(record)

        def position(r: Record) -> tuple[Any, ...]:
            return tuple(r[f] for f in order)

        rows.sort(key=position, reverse=query.descending)
        if query.after is not None:
            after = tuple(query.after)
            rows = [r for r in rows if (position(r) < after if query.descending else position(r) > after)]
        items = [_copy(r) for r in rows[: query.limit]]
        more = len(rows) > query.limit
        return Page(items, position(items[-1]) if more else None)

    def _validate(self, table: _MemTable, query: Query, fields: tuple[str, ...] = ()) -> None:
        if query.limit < 1:
            raise ValidationError("limit must be at least 1")
        plan_select(table.layout, query, _DIALECT, related_fields=fields)

    async def query(self, query: Query) -> Page:
        table = self._table(query.model)
        self._validate(table, query)
        self.stats.statements += 1
        return self._run(table, query, {})

    async def query_related(
        self, query: Query, fields: tuple[str, ...], values: list[tuple[Any, ...]]
    ) -> dict[tuple[Any, ...], Page]:
        table = self._table(query.model)
        self._validate(table, query, fields)
        if not fields:
            raise ValidationError("query_related needs at least one field")
        for f in fields:
            if table.layout.column(f) is None:
                raise ValidationError(f"{query.model!r} has no stored field {f!r}")
        result: dict[tuple[Any, ...], Page] = {}
        for v in values:
            v = tuple(v)
            if len(v) != len(fields):
                raise ValidationError("each parent value needs one value per field")
            if v not in result:
                result[v] = (
                    Page([])
                    if any(x is None for x in v)
                    else self._run(table, query, dict(zip(fields, v, strict=True)))
                )
        parents = sum(1 for v in result if all(x is not None for x in v))
        self.stats.statements += -(-parents // _BATCH)
        return result

    # -- API keys ----------------------------------------------------------------

    async def put_api_key(self, key: ApiKeyRecord) -> None:
        self.stats.statements += 1
        self._keys[key.id] = key

    async def list_api_keys(self) -> list[ApiKeyRecord]:
        self.stats.statements += 1
        return sorted(self._keys.values(), key=lambda k: (k.created_at, k.id))

    async def delete_api_key(self, key_id: str) -> bool:
        self.stats.statements += 1
        return self._keys.pop(key_id, None) is not None
