"""Threat: error responses reveal internals (SQL text, file paths, tracebacks, exception text).

Defence: ``engine/results.py`` is the one error formatter. Errors the caller caused keep their
message; anything else is logged with a request id and reported as ``InternalFailure`` /
``Internal server error (request id …)``; only ``AMPBASE_DEBUG=1`` adds the exception text.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ampbase.storage.base import Page, Query
from tests.security.served import Served, served

pytestmark = pytest.mark.anyio

INTERNAL = re.compile(r"^Internal server error \(request id [0-9a-f]{8}-\d+\)$")
LEAKS = ("SELECT", "sqlite", "no such table", "Traceback", ".py", "/tmp", "_ampbase", 'File "')


def assert_no_leak(body: Any, *extra: str) -> None:
    text = repr(body)
    for needle in (*LEAKS, *extra):
        assert needle not in text, (needle, body)


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Served]:
    async with served(tmp_path) as s:
        await s.ok('mutation { createTag(input: {key: "k", rank: 1}) { key } }')
        yield s


async def test_a_database_failure_is_an_internal_error_with_a_request_id_only(
    app: Served, caplog: pytest.LogCaptureFixture
) -> None:
    with contextlib.closing(sqlite3.connect(app.db_path)) as db:
        db.execute('DROP TABLE "Tag"')
    with caplog.at_level(logging.ERROR):
        body = await app.gql('{ listTags { items { key } } getTag(key: "k", rank: 1) { key } }')
    assert body["data"] == {"listTags": None, "getTag": None}
    for error in body["errors"]:
        assert error["errorType"] == "InternalFailure"
        assert INTERNAL.match(error["message"]), error["message"]
    assert_no_leak(body, str(app.db_path))
    # the operator can find the cause in the log by the request id
    request_id = body["errors"][0]["message"].split("request id ")[1].rstrip(")")
    assert request_id in caplog.text
    assert "no such table" in caplog.text


async def test_exception_text_from_storage_never_reaches_the_client(app: Served, tmp_path: Path) -> None:
    secret_path = tmp_path / "private" / "data.db"

    async def explode(query: Query) -> Page:
        raise RuntimeError(f'near "SELECT * FROM \\"Todo\\"": syntax error in {secret_path}')

    app.runtime.storage.query = explode
    body = await app.gql("{ listTodos { items { id } } }")
    assert body["errors"][0]["errorType"] == "InternalFailure"
    assert_no_leak(body, str(secret_path), "syntax error", "RuntimeError")


async def test_debug_mode_adds_the_exception_for_developers(tmp_path: Path) -> None:
    async with served(tmp_path, debug=True) as app:

        async def explode(query: Query) -> Page:
            raise RuntimeError("the detail a developer wants")

        app.runtime.storage.query = explode
        body = await app.gql("{ listTodos { items { id } } }")
        message = body["errors"][0]["message"]
        assert "RuntimeError: the detail a developer wants" in message
        assert "Traceback" not in message


async def test_a_bug_in_the_engine_is_a_200_with_a_generic_message(
    app: Served, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise KeyError("/srv/app/secret/config.py line 12")

    app.runtime._engine.execute = broken
    with caplog.at_level(logging.ERROR):
        response = await app.post({"query": "{ listTodos { items { id } } }"})
    assert response.status_code == 200
    assert response.json() == {
        "data": None,
        "errors": [{"errorType": "InternalFailure", "message": "An internal error occurred."}],
    }
    assert "unexpected error" in caplog.text


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"\xff\xfe\x00",
        b"[]",
        b'{"query": 5}',
        b'{"query": "{ listTodos { items { id } } }", "variables": [1]}',
        b'{"query": "{ listTodos(filter: 5) { items { id } } }"}',
        b'{"query": "query ($f: ModelTodoFilterInput) { listTodos(filter: $f) { items { id } } }", '
        b'"variables": {"f": {"name": {"eq": {"deep": [1, 2]}}}}}',
        b'{"query": "{ getTodo(id: \\"x\\") { id ... on Tag { key } } }"}',
        b'{"query": "mutation { createTodo(input: {name: null}) { id } }"}',
        b'{"query": "subscription { onCreateTodo { id } }"}',
        b'{"query": "{ __schema { types { name } } }", "operationName": 7}',
    ],
)
async def test_request_errors_are_well_formed_and_mention_no_internals(app: Served, body: bytes) -> None:
    response = await app.post(body)
    assert response.status_code in (200, 400)
    payload = response.json()
    assert payload["errors"]
    for error in payload["errors"]:
        assert isinstance(error["message"], str) and error["message"]
        assert isinstance(error["errorType"], str) and error["errorType"]
    assert_no_leak(payload)
