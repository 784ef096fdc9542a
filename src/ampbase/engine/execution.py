"""A graphql-core execution context with a fast path for plain fields of stored records.

graphql-core resolves every field through the same machinery: a ``Path``, a
``GraphQLResolveInfo``, argument coercion, the default resolver, ``complete_value`` and the
leaf type's ``serialize``. For the records ampbase returns (plain ``dict`` rows) most selected
fields are scalars read straight from the row, so that machinery is almost all of the cost of a
100-item list. :class:`FastExecutionContext` plans each selection set once (per document, shared
across requests) and, for a field that is a leaf with the default resolver and no arguments,
serialises ``row[name]`` directly — skipping the serializer too when it would return the value
unchanged (a ``str`` for ``String``/``ID``/``AWS*``, a ``bool``, an ``int`` in ``Int``'s range).
Every other field — a resolver (relations, owner and protected fields, introspection), a null in
a non-null field, a value the scalar rejects — goes through graphql-core's own
``execute_field``, so results and errors are exactly the stock ones; only the cost differs.
"""

from __future__ import annotations

from asyncio import gather
from collections import OrderedDict
from collections.abc import AsyncIterable, Callable, Iterable
from typing import Any, NamedTuple

from graphql import (
    FieldNode,
    GraphQLInt,
    GraphQLList,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    Undefined,
    is_leaf_type,
    is_non_null_type,
    is_object_type,
    located_error,
)
from graphql.execution import ExecutionContext
from graphql.pyutils import AwaitableOrValue, Path

from ampbase.engine.scalars import PASSTHROUGH_SERIALIZERS

__all__ = [
    "INT",
    "INT_MAX",
    "INT_MIN",
    "PASSTHROUGH",
    "PLAN_CACHE_SIZE",
    "SERIALIZE",
    "TYPENAME",
    "FastExecutionContext",
    "FieldPlan",
    "SelectionPlans",
    "context_class",
    "leaf_kind",
]

PLAN_CACHE_SIZE = 8192
INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # GraphQL Int

Serializer = Callable[[Any], Any]

# FieldPlan.kind
RESOLVE = 0  # graphql-core's execute_field
TYPENAME = 1  # the parent type's name
PASSTHROUGH = 2  # row[name] unchanged when its type is `exact`
INT = 3  # row[name] unchanged when an int in Int's range
SERIALIZE = 4  # serialize(row[name])


class FieldPlan(NamedTuple):
    """How to produce one response key of a selection set."""

    key: str
    kind: int
    name: str  # the schema field read from the row
    nodes: list[FieldNode]
    serialize: Serializer | None
    exact: type | None
    non_null: bool


class SelectionPlans:
    """Plans per (object type, selection), shared by every request of an engine.

    Keyed by the identity of the selection's field nodes, which belong to documents the engine
    caches; each entry keeps its nodes alive, so an id is never reused while its plan exists.
    """

    def __init__(self, size: int = PLAN_CACHE_SIZE) -> None:
        self._size = size
        self._plans: OrderedDict[tuple[Any, ...], tuple[FieldPlan, ...]] = OrderedDict()

    def get(
        self, parent_type: GraphQLObjectType, fields: dict[str, list[FieldNode]]
    ) -> tuple[FieldPlan, ...]:
        key = (parent_type.name, *[id(nodes[0]) for nodes in fields.values()])
        plan = self._plans.get(key)
        if plan is None:
            plan = plan_selection(parent_type, fields)
            self._plans[key] = plan
            if len(self._plans) > self._size:
                self._plans.popitem(last=False)
        return plan


def plan_selection(
    parent_type: GraphQLObjectType, fields: dict[str, list[FieldNode]]
) -> tuple[FieldPlan, ...]:
    """The plan of one collected selection set on ``parent_type``."""
    plans: list[FieldPlan] = []
    for key, nodes in fields.items():
        node = nodes[0]
        name = node.name.value
        if name == "__typename":
            plans.append(FieldPlan(key, TYPENAME, parent_type.name, nodes, None, None, True))
            continue
        field_def = parent_type.fields.get(name)
        if field_def is None or field_def.resolve is not None or node.arguments:
            plans.append(FieldPlan(key, RESOLVE, name, nodes, None, None, False))
            continue
        field_type: Any = field_def.type
        non_null = is_non_null_type(field_type)
        leaf = field_type.of_type if non_null else field_type
        if not is_leaf_type(leaf):
            plans.append(FieldPlan(key, RESOLVE, name, nodes, None, None, False))
            continue
        kind, exact, serialize = leaf_kind(leaf)
        plans.append(FieldPlan(key, kind, name, nodes, serialize, exact, non_null))
    return tuple(plans)


def leaf_kind(leaf: Any) -> tuple[int, type | None, Serializer | None]:
    """``(kind, exact, serialize)`` for a scalar or enum type: how its values reach the response."""
    serialize: Serializer = leaf.serialize
    exact = PASSTHROUGH_SERIALIZERS.get(serialize)
    if exact is not None:
        return PASSTHROUGH, exact, None
    if serialize is GraphQLInt.serialize:
        return INT, int, None
    return SERIALIZE, None, serialize


class FastExecutionContext(ExecutionContext):
    """``ExecutionContext`` whose ``execute_fields`` and list completion skip per-field work."""

    plans: SelectionPlans  # each engine gets a subclass with its own cache (context_class)

    def _plans_for(
        self, parent_type: GraphQLObjectType, fields: dict[str, list[FieldNode]]
    ) -> tuple[FieldPlan, ...]:
        # `fields` dicts come from collect_subfields' per-request cache, so their ids are stable
        memo: dict[int, tuple[FieldPlan, ...]] = self.__dict__.setdefault("_plan_memo", {})
        plans = memo.get(id(fields))
        if plans is None:
            plans = memo[id(fields)] = self.plans.get(parent_type, fields)
        return plans

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        fields: dict[str, list[FieldNode]],
    ) -> AwaitableOrValue[dict[str, Any]]:
        if type(source_value) is not dict or self.middleware_manager is not None:
            return super().execute_fields(parent_type, source_value, path, fields)
        return self._execute_plans(parent_type, source_value, path, self._plans_for(parent_type, fields))

    def _execute_plans(
        self,
        parent_type: GraphQLObjectType,
        row: dict[str, Any],
        path: Path | None,
        plans: tuple[FieldPlan, ...],
    ) -> AwaitableOrValue[dict[str, Any]]:
        results: dict[str, Any] = {}
        awaitable_fields: list[str] | None = None
        get = row.get
        for key, kind, name, nodes, serialize, exact, non_null in plans:
            if kind == TYPENAME:
                results[key] = name
                continue
            if kind != RESOLVE:
                value: Any = get(name)
                if value is None:
                    if not non_null:
                        results[key] = None
                        continue
                elif type(value) is exact and (kind == PASSTHROUGH or INT_MIN <= value <= INT_MAX):  # type: ignore[operator]
                    results[key] = value
                    continue
                elif kind == SERIALIZE and serialize is not None:
                    try:
                        serialized = serialize(value)
                    except Exception:  # noqa: BLE001 - execute_field below reports it like graphql-core
                        serialized = None
                    if serialized is not None and serialized is not Undefined:
                        results[key] = serialized
                        continue
            # A resolver, or a value graphql-core must report: its own path, exactly.
            result = self.execute_field(parent_type, row, nodes, Path(path, key, parent_type.name))
            if result is not Undefined:
                results[key] = result
                if self.is_awaitable(result):
                    if awaitable_fields is None:
                        awaitable_fields = []
                    awaitable_fields.append(key)
        if awaitable_fields is None:
            return results
        pending = awaitable_fields

        async def get_results() -> dict[str, Any]:
            values = await gather(*(results[key] for key in pending))
            results.update(zip(pending, values, strict=True))
            return results

        return get_results()

    def complete_list_value(
        self,
        return_type: GraphQLList[GraphQLOutputType],
        field_nodes: list[FieldNode],
        info: GraphQLResolveInfo,
        path: Path,
        result: AsyncIterable[Any] | Iterable[Any],
    ) -> AwaitableOrValue[list[Any]]:
        item_type: Any = return_type.of_type
        object_type: Any = item_type.of_type if is_non_null_type(item_type) else item_type
        if (
            type(result) is not list
            or self.middleware_manager is not None
            or not is_object_type(object_type)
            or object_type.is_type_of is not None
            or not all(type(item) is dict for item in result)
        ):
            return super().complete_list_value(return_type, field_nodes, info, path, result)
        plans = self._plans_for(object_type, self.collect_subfields(object_type, field_nodes))
        is_awaitable = self.is_awaitable
        completed: list[Any] = []
        awaitable_indices: list[int] = []
        for index, item in enumerate(result):
            item_path = path.add_key(index, None)
            value: Any
            try:
                value = self._execute_plans(object_type, item, item_path, plans)
            except Exception as raw_error:  # noqa: BLE001 - located and reported like graphql-core
                error = located_error(raw_error, field_nodes, item_path.as_list())
                self.handle_field_error(error, item_type, item_path)
                value = None
            if is_awaitable(value):
                value = self._guarded(value, item_type, field_nodes, item_path)
                awaitable_indices.append(index)
            completed.append(value)
        if not awaitable_indices:
            return completed

        async def get_completed() -> list[Any]:
            values = await gather(*(completed[index] for index in awaitable_indices))
            for index, value in zip(awaitable_indices, values, strict=True):
                completed[index] = value
            return completed

        return get_completed()

    async def _guarded(
        self, pending: Any, item_type: GraphQLOutputType, nodes: list[FieldNode], path: Path
    ) -> Any:
        try:
            return await pending
        except Exception as raw_error:  # noqa: BLE001 - located and reported like graphql-core
            self.handle_field_error(located_error(raw_error, nodes, path.as_list()), item_type, path)
            return None


def context_class() -> type[FastExecutionContext]:
    """A ``FastExecutionContext`` subclass with its own plan cache (one per engine)."""
    return type("EngineExecutionContext", (FastExecutionContext,), {"plans": SelectionPlans()})
