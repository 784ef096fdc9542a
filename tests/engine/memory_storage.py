"""A small dict-backed StorageAdapter for engine tests (semantics of ``storage.base``)."""

from __future__ import annotations

import copy
from typing import Any

from ampbase.errors import ConditionalCheckFailedError
from ampbase.schema.ir import ModelDef, SchemaDef
from ampbase.storage.base import (
    ApiKeyRecord,
    KeyCondition,
    Page,
    Query,
    Record,
    SortKeyCondition,
    StorageStats,
)
from ampbase.storage.predicate import Predicate, evaluate

__all__ = ["MemoryStorage"]


def _sort_matches(cond: SortKeyCondition, record: Record) -> bool:
    values = tuple(record.get(f) for f in cond.fields)
    if any(v is None for v in values):
        return False
    if cond.op == "beginsWith":
        head, last = values[:-1], values[-1]
        return head == cond.values[:-1] and isinstance(last, str) and last.startswith(str(cond.values[-1]))
    if cond.op == "between":
        return cond.values <= values <= cond.high_values
    ops = {
        "eq": values == cond.values,
        "lt": values < cond.values,
        "le": values <= cond.values,
        "gt": values > cond.values,
        "ge": values >= cond.values,
    }
    return ops[cond.op]


class MemoryStorage:
    def __init__(self) -> None:
        self.stats = StorageStats()
        self.tables: dict[str, dict[tuple[Any, ...], Record]] = {}
        self.models: dict[str, ModelDef] = {}
        self.keys: dict[str, ApiKeyRecord] = {}

    async def open(self, schema: SchemaDef) -> None:
        for m in schema.models:
            self.models[m.name] = m
            self.tables.setdefault(m.name, {})

    async def close(self) -> None:
        pass

    def _pk(self, model: str, key: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(key[k] for k in self.models[model].primary_key)

    async def get(self, model: str, key: dict[str, Any]) -> Record | None:
        self.stats.statements += 1
        found = self.tables[model].get(self._pk(model, key))
        return copy.deepcopy(found)

    async def get_many(self, model: str, keys: list[dict[str, Any]]) -> list[Record | None]:
        self.stats.statements += 1
        return [copy.deepcopy(self.tables[model].get(self._pk(model, k))) for k in keys]

    async def insert(self, model: str, record: Record, condition: Predicate | None = None) -> Record:
        self.stats.statements += 1
        pk = self._pk(model, record)
        if pk in self.tables[model] or (condition is not None and not evaluate(condition, {})):
            raise ConditionalCheckFailedError()
        self.tables[model][pk] = copy.deepcopy(record)
        return copy.deepcopy(record)

    async def update(
        self, model: str, key: dict[str, Any], changes: Record, condition: Predicate | None = None
    ) -> Record:
        self.stats.statements += 1
        pk = self._pk(model, key)
        current = self.tables[model].get(pk)
        if current is None or (condition is not None and not evaluate(condition, current)):
            raise ConditionalCheckFailedError()
        for name, value in changes.items():
            if value is None:
                current.pop(name, None)
            else:
                current[name] = copy.deepcopy(value)
        return copy.deepcopy(current)

    async def delete(self, model: str, key: dict[str, Any], condition: Predicate | None = None) -> Record:
        self.stats.statements += 1
        pk = self._pk(model, key)
        current = self.tables[model].get(pk)
        if current is None or (condition is not None and not evaluate(condition, current)):
            raise ConditionalCheckFailedError()
        del self.tables[model][pk]
        return current

    def _order_fields(self, query: Query) -> tuple[str, ...]:
        m = self.models[query.model]
        if query.index is None:
            return m.primary_key
        index = next(i for i in m.indexes if i.name == query.index)
        return index.key_fields + tuple(k for k in m.primary_key if k not in index.key_fields)

    def _run(self, query: Query, extra: dict[str, Any]) -> Page:
        order = self._order_fields(query)
        m = self.models[query.model]
        index_fields = next(i for i in m.indexes if i.name == query.index).key_fields if query.index else ()
        rows = []
        for record in self.tables[query.model].values():
            if query.index is not None and any(record.get(f) is None for f in index_fields):
                continue
            if any(record.get(f) != v for f, v in extra.items()):
                continue
            key: KeyCondition | None = query.key
            if key is not None:
                if any(record.get(f) != v for f, v in key.partition):
                    continue
                if key.sort is not None and not _sort_matches(key.sort, record):
                    continue
            if query.filter is not None and not evaluate(query.filter, record):
                continue
            rows.append(record)

        def position(r: Record) -> tuple[Any, ...]:
            return tuple(r.get(f) for f in order)

        rows.sort(key=position, reverse=query.descending)
        if query.after is not None:
            after = tuple(query.after)
            rows = [r for r in rows if (position(r) < after if query.descending else position(r) > after)]
        page = rows[: query.limit]
        more = len(rows) > query.limit
        return Page([copy.deepcopy(r) for r in page], position(page[-1]) if more and page else None)

    async def query(self, query: Query) -> Page:
        self.stats.statements += 1
        return self._run(query, {})

    async def query_related(
        self, query: Query, fields: tuple[str, ...], values: list[tuple[Any, ...]]
    ) -> dict[tuple[Any, ...], Page]:
        self.stats.statements += 1
        return {v: self._run(query, dict(zip(fields, v, strict=True))) for v in values}

    async def put_api_key(self, key: ApiKeyRecord) -> None:
        self.keys[key.id] = key

    async def list_api_keys(self) -> list[ApiKeyRecord]:
        return list(self.keys.values())

    async def delete_api_key(self, key_id: str) -> bool:
        return self.keys.pop(key_id, None) is not None
