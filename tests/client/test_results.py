"""Errors are returned, never raised: GraphQL errors, HTTP errors, retries and network failures map
to ``errors`` the way the JS client reports them (captured responses of the client study)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ampbase.client import generate_client
from tests.client.conftest import Recorder, load_fixture, outputs

pytestmark = pytest.mark.anyio

ERRORS: list[dict[str, Any]] = load_fixture("captured_http.json")["errors"]


def response(index: int) -> dict[str, Any]:
    return ERRORS[index]["response"]  # type: ignore[no-any-return]


async def test_partial_results_keep_data_and_errors() -> None:
    rec = Recorder([response(1), response(2)])
    todo = rec.client().models.Todo
    got = await todo.get(id="x")
    assert got.data is not None and got.errors
    page = await todo.list()
    assert page.data and page.errors


async def test_null_root_and_null_data_give_none_or_empty_with_errors() -> None:
    rec = Recorder([response(3), response(4), response(5), response(6)])
    todo = rec.client().models.Todo
    got = await todo.get(id="x")
    assert got.data is None and got.errors and got.errors[0]["errorType"] == "Unauthorized"
    page = await todo.list()
    assert page.data == [] and page.errors
    invalid = await todo.get(id="x")
    assert invalid.data is None and invalid.errors and "FieldUndefined" in invalid.errors[0]["message"]
    empty = await todo.list()
    assert empty.data == [] and empty.errors


async def test_http_401_becomes_unauthorized_and_400_unknown_error() -> None:
    unauthorized = {
        "status": 401,
        "headers": {"x-amzn-ErrorType": "UnauthorizedException"},
        "body": response(7)["body"],
    }
    rec = Recorder([unauthorized, response(9)])
    todo = rec.client().models.Todo
    got = await todo.get(id="x")
    assert got.data is None and got.errors is not None
    assert got.errors[0]["message"] == "Unauthorized" and "recoverySuggestion" in got.errors[0]
    bad = await todo.get(id="x")
    assert bad.errors is not None and bad.errors[0]["message"] == "Unknown error"


async def test_http_500_is_retried_three_times_then_reported() -> None:
    rec = Recorder([response(11)] * 3)
    client = generate_client(outputs(), http_client=httpx.AsyncClient(transport=httpx.MockTransport(rec)))
    client._core.transport.retry_base_delay = 0  # type: ignore[attr-defined]
    got = await client.models.Todo.get(id="x")
    assert len(rec.requests) == 3
    assert got.errors is not None and got.errors[0]["message"] == "Unknown error"


async def test_network_errors_are_returned_after_retries() -> None:
    calls: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("connection refused", request=request)

    client = generate_client(outputs(), http_client=httpx.AsyncClient(transport=httpx.MockTransport(refuse)))
    client._core.transport.retry_base_delay = 0  # type: ignore[attr-defined]
    got = await client.models.Todo.list()
    assert len(calls) == 3
    assert got.data == [] and got.errors is not None
    assert got.errors[0]["message"] == "A network error has occurred."


async def test_conditional_check_failure_on_create_is_returned() -> None:
    rec = Recorder([response(len(ERRORS) - 1)])
    got = await rec.client().models.Todo.create(id="dup", content="dup")
    assert got.data is None and got.errors is not None
    assert got.errors[0]["errorType"] == "DynamoDB:ConditionalCheckFailedException"


async def test_raw_graphql_returns_the_body() -> None:
    rec = Recorder([{"status": 200, "body": {"data": {"echo": "x"}}}])
    client = rec.client()
    body = await client.graphql('query { echo(content: "x") }')
    assert body == {"data": {"echo": "x"}}
    assert client.result(body).data == "x"
