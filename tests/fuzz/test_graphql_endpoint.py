"""Fuzzing ``POST /graphql`` with documents and variables generated from the compiled schema.

Through ``httpx.ASGITransport`` against ``create_app`` on a temporary SQLite database: every
response is HTTP 200/400/413 (never 5xx) with a JSON body whose errors are well formed
(``message`` and ``errorType`` strings), nothing is an internal failure, and rows written before
the fuzzing are byte for byte intact afterwards (the database passes ``integrity_check``).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import FUZZ_TIMEOUT, fuzz_settings
from tests.fuzz.strategies import garbage_bodies, requests
from tests.security.served import Served, dump_tables, served

# deep runs (--hypothesis-profile=long) take longer than the suite's default timeout
pytestmark = pytest.mark.timeout(FUZZ_TIMEOUT)

SEED_TODOS = [
    {
        "id": f"seed-{n}-6f1c2a",
        "name": f"seed {n}",
        "note": "it's 100% _seed_",
        "priority": n,
        "listId": "seed-list",
    }
    for n in range(5)
]
SEED_TAGS = [{"key": "seed-key-6f1c2a", "rank": n, "label": f"tag {n}"} for n in range(3)]


class _Runner:
    """The app on its own event loop, so synchronous hypothesis tests can drive it."""

    def __init__(self, tmp: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self._context = served(tmp, rate_limit=0)
        self.app: Served = self.loop.run_until_complete(self._context.__aenter__())

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        try:
            self.run(self._context.__aexit__(None, None, None))
        finally:
            self.loop.close()


@contextlib.contextmanager
def seeded_app(tmp: Path) -> Iterator[_Runner]:
    runner = _Runner(tmp)
    try:
        app = runner.app
        runner.run(app.ok('mutation { createTodoList(input: {id: "seed-list", title: "seed"}) { id } }'))
        for todo in SEED_TODOS:
            runner.run(
                app.ok("mutation ($i: CreateTodoInput!) { createTodo(input: $i) { id } }", {"i": todo})
            )
        for tag in SEED_TAGS:
            runner.run(app.ok("mutation ($i: CreateTagInput!) { createTag(input: $i) { key } }", {"i": tag}))
        yield runner
    finally:
        runner.close()


def _seed_rows(db: Path) -> dict[str, list[Any]]:
    tables = dump_tables(db)
    return {
        "Todo": [r for r in tables["Todo"] if str(r[0]).startswith("seed-")],
        "TodoList": [r for r in tables["TodoList"] if r[0] == "seed-list"],
        "Tag": [r for r in tables["Tag"] if r[0] == "seed-key-6f1c2a"],
        "_ampbase_api_keys": tables["_ampbase_api_keys"],
    }


def check_response(status: int, content: bytes) -> None:
    assert status in (200, 400, 413), (status, content[:500])
    body = orjson.loads(content)
    assert isinstance(body, dict), body
    errors = body.get("errors")
    if status != 200:
        assert errors, body
    assert "data" in body or errors, body
    for error in errors or ():
        assert isinstance(error.get("message"), str) and error["message"], error
        assert isinstance(error.get("errorType"), str) and error["errorType"], error
        assert error["errorType"] != "InternalFailure", (error, body)


def _check_intact(runner: _Runner, before: dict[str, list[Any]]) -> None:
    db = runner.app.db_path
    assert _seed_rows(db) == before
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    # the server still answers, and still sees the seed through the index
    data = runner.run(
        runner.app.ok('{ todosByList(listId: "seed-list", limit: 1000) { items { id note priority } } }')
    )
    seen = {i["id"]: i for i in data["todosByList"]["items"] if i["id"].startswith("seed-")}
    assert seen == {
        t["id"]: {"id": t["id"], "note": t["note"], "priority": t["priority"]} for t in SEED_TODOS
    }


def test_generated_requests_never_crash_the_endpoint(tmp_path: Path) -> None:
    with seeded_app(tmp_path) as runner:
        before = _seed_rows(runner.app.db_path)
        schema = runner.app.runtime.engine.graphql_schema

        @fuzz_settings(300)
        @given(body=requests(schema))
        def fuzz(body: dict[str, Any]) -> None:
            response = runner.run(runner.app.post(body))
            check_response(response.status_code, response.content)

        fuzz()
        _check_intact(runner, before)


def test_garbage_bodies_get_well_formed_errors(tmp_path: Path) -> None:
    with seeded_app(tmp_path) as runner:
        before = _seed_rows(runner.app.db_path)

        @fuzz_settings(200)
        @given(body=garbage_bodies(), content_type=st.sampled_from(["application/json", "text/plain", ""]))
        def fuzz(body: bytes, content_type: str) -> None:
            response = runner.run(runner.app.post(body, **{"content-type": content_type}))
            check_response(response.status_code, response.content)

        fuzz()
        _check_intact(runner, before)


def test_deeply_nested_filters_are_refused_cleanly(tmp_path: Path) -> None:
    """Nesting is the one dimension random generation rarely explores far."""
    with seeded_app(tmp_path) as runner:
        for depth in (10, 200, 900, 2000):
            text = '{"name": {"eq": "x"}}'
            for n in range(depth):
                key = ("and", "or", "not")[n % 3]
                text = f'{{"{key}": [{text}]}}' if key != "not" else f'{{"not": {text}}}'
            query = "query ($f: ModelTodoFilterInput) { listTodos(filter: $f) { items { id } } }"
            body = b'{"query": "' + query.encode() + b'", "variables": {"f": ' + text.encode() + b"}}"
            response = runner.run(runner.app.post(body))
            check_response(response.status_code, response.content)
