"""Per-request limits: document depth and size, resolver executions, wall time."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from graphql import parse

from ampbase.engine.limits import (
    RESOLVER_LIMIT_ERROR_TYPE,
    TIMEOUT_ERROR_TYPE,
    ExecutionLimits,
    document_depth,
)
from ampbase.storage.base import Page, Query
from tests.engine.conftest import HarnessFactory
from tests.engine.harness import Harness, oracle_schema
from tests.engine.memory_storage import MemoryStorage

pytestmark = pytest.mark.anyio


def test_depth_counts_field_nesting_through_fragments() -> None:
    assert document_depth(parse("{ a }")) == 1
    assert document_depth(parse("{ listTodos { items { id } } }")) == 3
    doc = parse("{ a { ...F } } fragment F on T { b { ... on T { c { d } } } }")
    assert document_depth(doc) == 4
    assert document_depth(parse("query A { a } query B { a { b { c } } }")) == 3


def test_negative_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="max_depth"):
        ExecutionLimits(max_depth=-1)


async def blog(make_engine: HarnessFactory, posts: int, comments: int, **limits: Any) -> Harness:
    h = await make_engine(oracle_schema("has-many-index"), limits=ExecutionLimits(**limits))
    cp = "mutation ($input: CreatePostInput!) { createPost(input: $input) { id } }"
    cc = "mutation ($input: CreateCommentInput!) { createComment(input: $input) { id } }"
    for p in range(posts):
        await h.ok(cp, {"input": {"id": f"p{p}", "title": f"post {p}"}})
        for c in range(comments):
            await h.ok(cc, {"input": {"id": f"p{p}c{c}", "postID": f"p{p}", "content": f"c{c}"}})
    return h


NESTED = "{ listPosts { items { id comments { items { id post { id } } } } } }"


async def test_query_deeper_than_the_limit_is_a_validation_error(make_engine: HarnessFactory) -> None:
    h = await blog(make_engine, 1, 1, max_depth=5)
    error = await h.error(NESTED)  # depth 6
    assert error["errorType"] == "ValidationError"
    assert error["message"] == "The query has depth 6, over the limit of 5."
    assert (await h.run(NESTED))["data"] is None
    assert await h.ok("{ listPosts { items { id comments { items { id } } } } }")  # depth 5


async def test_document_with_too_many_tokens_is_refused_before_validation(
    make_engine: HarnessFactory,
) -> None:
    h = await blog(make_engine, 0, 0, max_tokens=50)
    error = await h.error("{ listPosts { items { " + " ".join(["id"] * 60) + " } } }")
    assert error["errorType"] == "ValidationError"
    assert "tokens" in error["message"]


async def test_absurdly_nested_document_is_a_syntax_error_not_a_crash(make_engine: HarnessFactory) -> None:
    h = await blog(make_engine, 0, 0, max_tokens=0)
    error = await h.error("{ a " * 5000 + "}" * 5000)
    assert error["errorType"] == "ValidationError"


async def test_resolver_executions_over_the_limit_fail_the_whole_request(make_engine: HarnessFactory) -> None:
    # 1 (listPosts) + 3 (comments per post) + 6 (post per comment) = 10 resolver executions
    h = await blog(make_engine, 3, 2, max_resolvers=10)
    data = await h.ok(NESTED)
    assert len(data["listPosts"]["items"]) == 3
    h.engine.limits = ExecutionLimits(max_resolvers=9)
    body = await h.run(NESTED)
    assert body["data"] is None
    assert len(body["errors"]) == 1
    assert body["errors"][0]["errorType"] == RESOLVER_LIMIT_ERROR_TYPE
    assert "more than 9 resolver executions" in body["errors"][0]["message"]


async def test_resolver_limit_counts_aliased_root_fields(make_engine: HarnessFactory) -> None:
    h = await blog(make_engine, 1, 0, max_resolvers=3)
    aliases = " ".join(f"a{i}: getPost(id: $id) {{ id }}" for i in range(4))
    body = await h.run(f"query ($id: ID!) {{ {aliases} }}", {"id": "p0"})
    assert body["data"] is None
    assert body["errors"][0]["errorType"] == RESOLVER_LIMIT_ERROR_TYPE


class _HangingStorage(MemoryStorage):
    """Queries never finish; records that they were cancelled."""

    def __init__(self) -> None:
        super().__init__()
        self.cancelled = 0

    async def query(self, query: Query) -> Page:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        raise AssertionError("unreachable")


async def test_request_over_the_timeout_is_cancelled_with_a_clear_error() -> None:
    schema = oracle_schema("has-many-index")
    storage = _HangingStorage()
    await storage.open(schema)
    h = Harness(schema, storage, limits=ExecutionLimits(timeout=0.05))
    body = await h.run("{ a: listPosts { items { id } } b: listComments { items { id } } }")
    assert body["data"] is None
    [error] = body["errors"]
    assert error["errorType"] == TIMEOUT_ERROR_TYPE
    assert "did not finish within 0.05 seconds" in error["message"]
    assert storage.cancelled == 2  # both pending resolvers were cancelled


async def test_a_compiled_query_over_the_timeout_is_cancelled_with_the_same_error() -> None:
    schema = oracle_schema("has-many-index")
    storage = _HangingStorage()
    await storage.open(schema)
    h = Harness(schema, storage, limits=ExecutionLimits(timeout=0.05))
    query = "query Q($limit: Int) { listPosts(limit: $limit) { items { id } } }"
    body = await h.run(query, {"limit": 5})
    assert query in h.engine._compiled  # the compiled path ran it
    assert body["data"] is None
    [error] = body["errors"]
    assert error["errorType"] == TIMEOUT_ERROR_TYPE
    assert "did not finish within 0.05 seconds" in error["message"]
    assert storage.cancelled == 1
