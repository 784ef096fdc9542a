"""OpenTelemetry spans per request, resolver and storage call when a schema turns tracing on."""

from __future__ import annotations

import dataclasses
import sys

import pytest

from ampbase.errors import ConfigError
from ampbase.schema.ir import ResourceConfig, SchemaDef
from tests.engine.conftest import HarnessFactory
from tests.engine.harness import schema_from_sdl

otel_trace = pytest.importorskip("opentelemetry.trace", reason="the otel extra is not installed")
sdk_trace = pytest.importorskip("opentelemetry.sdk.trace", reason="opentelemetry-sdk is not installed")
in_memory = pytest.importorskip("opentelemetry.sdk.trace.export.in_memory_span_exporter")
export = pytest.importorskip("opentelemetry.sdk.trace.export")

pytestmark = pytest.mark.anyio

SDL = """
type Post @model @auth(rules: [{ allow: public }]) {
  id: ID!
  title: String
  comments: [Comment] @hasMany
}
type Comment @model @auth(rules: [{ allow: public }]) {
  id: ID!
  text: String
}
"""

_EXPORTER = in_memory.InMemorySpanExporter()


@pytest.fixture
def spans() -> in_memory.InMemorySpanExporter:
    provider = otel_trace.get_tracer_provider()
    if not isinstance(provider, sdk_trace.TracerProvider):
        provider = sdk_trace.TracerProvider()
        otel_trace.set_tracer_provider(provider)
        provider = otel_trace.get_tracer_provider()
    if not getattr(provider, "_ampbase_test_exporter", False):
        provider.add_span_processor(export.SimpleSpanProcessor(_EXPORTER))
        provider._ampbase_test_exporter = True  # type: ignore[attr-defined]
    _EXPORTER.clear()
    return _EXPORTER


def traced_schema() -> SchemaDef:
    return dataclasses.replace(schema_from_sdl(SDL), resources=ResourceConfig(tracing=True))


async def test_requests_resolvers_and_storage_calls_are_nested_spans(
    make_engine: HarnessFactory, spans: in_memory.InMemorySpanExporter
) -> None:
    h = await make_engine(traced_schema())
    await h.ok('mutation { createPost(input: {id: "p1", title: "t"}) { id } }')
    await h.ok('mutation { createComment(input: {id: "c1", text: "x", postCommentsId: "p1"}) { id } }')
    spans.clear()
    await h.ok("query Feed { listPosts { items { title comments { items { text } } } } }")
    finished = {s.name: s for s in spans.get_finished_spans()}
    assert {"graphql.request", "resolve Query.listPosts", "db.query Post", "resolve Post.comments"} <= set(
        finished
    )
    request = finished["graphql.request"]
    assert request.attributes["graphql.operation.type"] == "query"
    assert request.attributes["graphql.operation.name"] == "Feed"
    resolver = finished["resolve Query.listPosts"]
    db = finished["db.query Post"]
    assert resolver.parent.span_id == request.context.span_id
    assert db.parent.span_id == resolver.context.span_id
    assert db.attributes["db.collection.name"] == "Post" and db.attributes["db.items"] == 1
    related = [s for s in spans.get_finished_spans() if s.name.startswith("db.") and "Comment" in s.name]
    assert related and all(s.context.trace_id == request.context.trace_id for s in related)


async def test_request_spans_record_errors(
    make_engine: HarnessFactory, spans: in_memory.InMemorySpanExporter
) -> None:
    h = await make_engine(traced_schema())
    await h.error('mutation { deleteComment(input: {id: "missing"}) { id } }')
    (request,) = [s for s in spans.get_finished_spans() if s.name == "graphql.request"]
    assert request.attributes["graphql.operation.type"] == "mutation"
    assert request.attributes["graphql.errors"] == 1
    assert list(request.attributes["graphql.error_types"]) == ["DynamoDB:ConditionalCheckFailedException"]


async def test_untraced_schemas_make_no_spans(
    make_engine: HarnessFactory, spans: in_memory.InMemorySpanExporter
) -> None:
    h = await make_engine(schema_from_sdl(SDL))
    await h.ok("{ listPosts { items { id } } }")
    assert h.engine.tracing is None and spans.get_finished_spans() == ()


async def test_tracing_without_opentelemetry_is_a_config_error(
    make_engine: HarnessFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    with pytest.raises(ConfigError, match=r"pip install 'ampbase\[otel\]'"):
        await make_engine(traced_schema())
