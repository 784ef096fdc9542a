"""OpenTelemetry tracing (``backend.data.resources.graphql_api.tracing_enabled``), in place of X-Ray.

With tracing on, every request is a span (``graphql.request``: operation type and name, the
request id, whether it had errors), every resolver a child span (``resolve Type.field``) and
every storage call a grandchild (``db.<call> Model``, ``db.system``). Spans go to the tracer
provider the application configured (``opentelemetry.trace.set_tracer_provider``, or the
``opentelemetry-instrument`` environment variables); without one they are no-ops.

Needs the ``otel`` extra (``pip install 'ampbase[otel]'``); OpenTelemetry is imported only when
a schema turns tracing on.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from graphql import GraphQLObjectType, GraphQLSchema

from ampbase.errors import ConfigError
from ampbase.storage.base import Page, Query, Record, StorageAdapter
from ampbase.storage.layers import StorageLayer
from ampbase.storage.predicate import Predicate

if TYPE_CHECKING:
    from ampbase.engine.identity import Identity

__all__ = ["TRACER_NAME", "RequestTracer", "TracingLayer", "load_tracer", "trace_resolvers"]

TRACER_NAME = "ampbase"

Execute = Callable[[str, "dict[str, Any] | None", "Identity", "str | None"], Awaitable[dict[str, Any]]]


def load_tracer() -> Any:
    """The ``ampbase`` OpenTelemetry tracer, or a :class:`ConfigError` naming the extra."""
    try:
        from opentelemetry import trace
    except ImportError:
        raise ConfigError(
            "tracing_enabled needs OpenTelemetry: pip install 'ampbase[otel]' "
            "(or turn tracing off in backend.py)"
        ) from None
    return trace.get_tracer(TRACER_NAME)


_OPERATION = re.compile(r"\s*(query|mutation|subscription)\b\s*([_A-Za-z][_0-9A-Za-z]*)?")


def _operation(query: str, operation_name: str | None) -> tuple[str, str | None]:
    """Cheap reading of the operation's type and name for the span (the engine parses)."""
    match = _OPERATION.match(query)
    if match is None:
        return "query", operation_name
    return match.group(1), operation_name or match.group(2)


class RequestTracer:
    """Wraps :meth:`Engine.execute` in a request span."""

    def __init__(self, tracer: Any) -> None:
        self.tracer = tracer

    async def request(
        self,
        run: Execute,
        query: str,
        variables: dict[str, Any] | None,
        identity: Identity,
        operation_name: str | None,
    ) -> dict[str, Any]:
        kind, name = _operation(query, operation_name)
        with self.tracer.start_as_current_span("graphql.request") as span:
            span.set_attribute("graphql.operation.type", kind)
            if name:
                span.set_attribute("graphql.operation.name", name)
            if identity.mode:
                span.set_attribute("ampbase.auth_mode", identity.mode)
            body = await run(query, variables, identity, operation_name)
            errors = body.get("errors")
            if errors:
                span.set_attribute("graphql.errors", len(errors))
                span.set_attribute("graphql.error_types", sorted({str(e.get("errorType")) for e in errors}))
            return body


def trace_resolvers(schema: GraphQLSchema, tracer: Any) -> int:
    """Wrap every bound resolver of ``schema`` in a span; how many were wrapped."""
    count = 0
    for gtype in schema.type_map.values():
        if not isinstance(gtype, GraphQLObjectType) or gtype.name.startswith("__"):
            continue
        for field_name, gfield in gtype.fields.items():
            if gfield.resolve is not None and inspect.iscoroutinefunction(gfield.resolve):
                gfield.resolve = _traced_resolver(
                    gfield.resolve, tracer, f"resolve {gtype.name}.{field_name}"
                )
                count += 1
    return count


def _traced_resolver(resolve: Callable[..., Awaitable[Any]], tracer: Any, name: str) -> Callable[..., Any]:
    @functools.wraps(resolve)
    async def traced(source: Any, info: Any, **args: Any) -> Any:
        with tracer.start_as_current_span(name) as span:
            span.set_attribute("graphql.field.path", ".".join(str(p) for p in info.path.as_list()))
            return await resolve(source, info, **args)

    return traced


class TracingLayer(StorageLayer):
    """A span per storage call."""

    def __init__(self, inner: StorageAdapter, tracer: Any, system: str) -> None:
        super().__init__(inner)
        self.tracer = tracer
        self.system = system

    def _span(self, call: str, model: str) -> Any:
        span = self.tracer.start_as_current_span(f"db.{call} {model}")
        return _Span(span, self.system, model)

    async def get(self, model: str, key: dict[str, Any]) -> Record | None:
        with self._span("get", model):
            return await self.inner.get(model, key)

    async def get_many(self, model: str, keys: list[dict[str, Any]]) -> list[Record | None]:
        with self._span("get_many", model) as span:
            span.set_attribute("db.keys", len(keys))
            return await self.inner.get_many(model, keys)

    async def insert(self, model: str, record: Record, condition: Predicate | None = None) -> Record:
        with self._span("insert", model):
            return await self.inner.insert(model, record, condition)

    async def update(
        self, model: str, key: dict[str, Any], changes: Record, condition: Predicate | None = None
    ) -> Record:
        with self._span("update", model):
            return await self.inner.update(model, key, changes, condition)

    async def delete(self, model: str, key: dict[str, Any], condition: Predicate | None = None) -> Record:
        with self._span("delete", model):
            return await self.inner.delete(model, key, condition)

    async def query(self, query: Query) -> Page:
        with self._span("query", query.model) as span:
            if query.index:
                span.set_attribute("db.index", query.index)
            page = await self.inner.query(query)
            span.set_attribute("db.items", len(page.items))
            return page

    async def query_related(
        self, query: Query, fields: tuple[str, ...], values: list[tuple[Any, ...]]
    ) -> dict[tuple[Any, ...], Page]:
        with self._span("query_related", query.model) as span:
            span.set_attribute("db.parents", len(values))
            return await self.inner.query_related(query, fields, values)


class _Span:
    """``start_as_current_span`` plus the attributes every storage span has."""

    def __init__(self, manager: Any, system: str, model: str) -> None:
        self.manager = manager
        self.system = system
        self.model = model

    def __enter__(self) -> Any:
        span = self.manager.__enter__()
        span.set_attribute("db.system", self.system)
        span.set_attribute("db.collection.name", self.model)
        return span

    def __exit__(self, *exc: Any) -> Any:
        return self.manager.__exit__(*exc)
