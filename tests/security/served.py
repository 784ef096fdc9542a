"""An in-process ampbase app on a temporary SQLite database, for the security and fuzz tests.

``served(tmp)`` starts the real :class:`~ampbase.server.wiring.Runtime` (SQLite storage, local
pub/sub, engine) for ``schema.graphql`` next to this file, creates an API key and yields a
:class:`Served` with an ``httpx`` client bound to ``create_app`` through ``ASGITransport``.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ampbase.server.settings import Settings

__all__ = ["SCHEMA", "SECRET", "Served", "dump_tables", "served"]

SCHEMA = Path(__file__).with_name("schema.graphql")
SECRET = "engine-secret-do-not-leak-7f3a9c"
URL = "http://ampbase.test/graphql"
_OWN_KEY = "<the app's key>"


@dataclass
class Served:
    runtime: Any
    api_key: str
    http: httpx.AsyncClient
    db_path: Path
    statements: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    async def post(self, body: bytes | Any, *, key: str | None = _OWN_KEY, **headers: str) -> httpx.Response:
        """POST ``body`` with the app's API key, another ``key``, or none (``key=None``)."""
        all_headers = {"content-type": "application/json", **headers}
        if key is not None:
            all_headers["x-api-key"] = self.api_key if key == _OWN_KEY else key
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return await self.http.post(URL, content=content, headers=all_headers)

    async def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The response body of a request that must come back with HTTP 200."""
        response = await self.post({"query": query, "variables": variables or {}})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def ok(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = await self.gql(query, variables)
        assert not body.get("errors"), body
        data: dict[str, Any] = body["data"]
        return data


def dump_tables(db_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, read straight from the file (for before/after comparisons)."""
    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as db:
        names = [
            r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        ]
        return {name: sorted(db.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr) for name in names}


@contextlib.asynccontextmanager
async def served(tmp: Path, **settings: Any) -> AsyncIterator[Served]:
    from ampbase.schema.loader import load_schema
    from ampbase.server.apikeys import create_api_key
    from ampbase.server.app import create_app
    from ampbase.server.wiring import Runtime

    db_path = tmp / "served.db"
    config = Settings(
        database_url=f"sqlite:///{db_path}", state_dir=tmp / "state", secret=SECRET, **settings
    ).validate()
    runtime = Runtime(load_schema(SCHEMA), config)
    await runtime.start()
    try:
        key = await create_api_key(runtime.storage, description="security tests")
        app = create_app(runtime)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
            yield Served(runtime, key.id, http, db_path)
    finally:
        await runtime.stop()
