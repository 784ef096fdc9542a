"""Relationship fields: hasMany connections and hasOne/belongsTo objects.

The related records of a parent are those of ``RelationDef.related_model``
whose ``remote_fields`` equal the parent's ``local_fields`` (read through
``remote_index``). Loads are batched per request: every parent asking for the
same relationship field with the same arguments joins one
``storage.query_related`` (hasMany, hasOne by index) or ``storage.get_many``
(belongsTo by primary key) call. A hasMany page given a ``nextToken`` is read on
its own (its position belongs to that parent).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ampbase.engine.filters import combine
from ampbase.engine.keys import KeySpec, sort_condition
from ampbase.engine.loader import BatchLoader
from ampbase.engine.operations import DataOperations
from ampbase.engine.pagination import query_binding
from ampbase.schema.ir import FieldDef, ModelDef, RelationDef, RelationKind
from ampbase.storage.base import KeyCondition, Page, Query, Record
from ampbase.storage.predicate import Predicate

__all__ = ["RelationField", "empty_connection"]

_PAGING_ARGS = frozenset({"limit", "nextToken"})


def empty_connection() -> dict[str, Any]:
    return {"items": [], "nextToken": None}


@dataclass(frozen=True, slots=True)
class RelationField:
    """One relationship field of a model, ready to resolve."""

    parent: ModelDef
    field: FieldDef
    relation: RelationDef
    related: ModelDef
    # hasMany: the sort fields left after the remote fields, and their argument name
    sort_spec: KeySpec | None = None

    @property
    def by_primary_key(self) -> bool:
        return self.relation.remote_index is None and self.relation.remote_fields == self.related.primary_key

    def parent_values(self, source: Mapping[str, Any]) -> tuple[Any, ...] | None:
        values = tuple(source.get(f) for f in self.relation.local_fields)
        if not values or any(v is None for v in values):
            return None
        return values

    # ------------------------------------------------------------------ hasMany

    async def connection(
        self,
        ops: DataOperations,
        loaders: dict[Any, Any],
        source: Mapping[str, Any],
        args: Mapping[str, Any],
        *,
        auth: Predicate | None = None,
    ) -> dict[str, Any]:
        """The parent's page of related records; ``auth`` = the caller's read predicate on them."""
        values = self.parent_values(source)
        if values is None:
            return empty_connection()
        limit = ops.limit(args.get("limit"))
        sort = None
        if self.sort_spec is not None and self.sort_spec.sort_argument is not None:
            sort_value = args.get(self.sort_spec.sort_argument)
            if sort_value is not None:
                sort = sort_condition(self.sort_spec, sort_value)
        query = Query(
            model=self.related.name,
            index=self.relation.remote_index,
            key=KeyCondition(partition=(), sort=sort) if sort is not None else None,
            filter=combine(ops.predicate(self.related, args.get("filter")), auth),
            descending=args.get("sortDirection") == "DESC",
            limit=limit,
        )
        arg_part = {k: v for k, v in args.items() if k not in _PAGING_ARGS}
        token = args.get("nextToken")
        if token:
            binding = query_binding(self.parent.name, self.field.name, list(values), arg_part)
            after = ops.codec.decode(token, binding)
            pages = await ops.storage.query_related(
                replace(query, after=after), self.relation.remote_fields, [values]
            )
            return ops.page_result(pages.get(values, Page([])), binding)
        loader_key = (
            "hasMany",
            self.parent.name,
            self.field.name,
            query_binding(arg_part) if arg_part else "",
        )
        loader: BatchLoader[tuple[Any, ...], Page] | None = loaders.get(loader_key)
        if loader is None:

            async def batch(keys: list[tuple[Any, ...]]) -> list[Page]:
                pages = await ops.storage.query_related(query, self.relation.remote_fields, keys)
                return [pages.get(k, Page([])) for k in keys]

            loader = BatchLoader(batch)
            loaders[loader_key] = loader
        page = await loader.load(values)
        if page.last_key is None:  # the usual case: no token, so no binding to compute
            return {"items": page.items, "nextToken": None}
        return ops.page_result(page, query_binding(self.parent.name, self.field.name, list(values), arg_part))

    # ------------------------------------------------------------------ hasOne / belongsTo

    async def single(
        self, ops: DataOperations, loaders: dict[Any, Any], source: Mapping[str, Any]
    ) -> Record | None:
        values = self.parent_values(source)
        if values is None:
            return None
        loader_key = ("single", self.parent.name, self.field.name)
        loader: BatchLoader[tuple[Any, ...], Record | None] | None = loaders.get(loader_key)
        if loader is None:
            if self.by_primary_key:

                async def batch(keys: list[tuple[Any, ...]]) -> list[Record | None]:
                    fields = self.relation.remote_fields
                    return await ops.storage.get_many(
                        self.related.name, [dict(zip(fields, k, strict=True)) for k in keys]
                    )

            else:
                query = Query(model=self.related.name, index=self.relation.remote_index, limit=1)

                async def batch(keys: list[tuple[Any, ...]]) -> list[Record | None]:
                    pages = await ops.storage.query_related(query, self.relation.remote_fields, keys)
                    result: list[Record | None] = []
                    for k in keys:
                        page = pages.get(k)
                        result.append(page.items[0] if page is not None and page.items else None)
                    return result

            loader = BatchLoader(batch)
            loaders[loader_key] = loader
        return await loader.load(values)

    @property
    def is_connection(self) -> bool:
        return self.relation.kind in (RelationKind.HAS_MANY, RelationKind.MANY_TO_MANY)
