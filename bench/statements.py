"""Database statements per request, counted in process with the storage adapter's own counter.

The server process exposes no metrics endpoint, so this runs the same engine in process, on a
consistent copy (SQLite backup API) of the database the server used, and reads
``storage.stats.statements`` (every statement the adapter sends) around each request.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["count_statements"]


def _copy_database(source: Path, destination: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(destination)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


async def _count(
    schema_path: Path, db: Path, api_key: str, bodies: dict[str, dict[str, Any]]
) -> dict[str, int]:
    from ampbase.engine.identity import Identity
    from ampbase.schema.loader import load_schema
    from ampbase.server.settings import Settings
    from ampbase.server.wiring import Runtime

    settings = Settings(database_url=f"sqlite:///{db}", state_dir=db.parent / "state")
    runtime = Runtime(load_schema(schema_path), settings)
    await runtime.start()
    identity = Identity(mode="apiKey", api_key=api_key)
    counts: dict[str, int] = {}
    try:
        for name, body in bodies.items():
            await runtime.engine.execute(body["query"], body.get("variables"), identity)  # warm caches
            before = runtime.storage.stats.statements
            result = await runtime.engine.execute(body["query"], body.get("variables"), identity)
            if result.get("errors"):
                raise RuntimeError(f"{name}: {result['errors']}")
            counts[name] = runtime.storage.stats.statements - before
    finally:
        await runtime.stop()
    return counts


def count_statements(
    schema_path: Path, db: Path, api_key: str, bodies: dict[str, dict[str, Any]]
) -> dict[str, int]:
    """Statements the storage adapter sends for one request of each body (by workload name).

    Mutations in ``bodies`` run against the copy, never against ``db``.
    """
    with tempfile.TemporaryDirectory(prefix="ampbase-statements-") as tmp:
        copy = Path(tmp) / "copy.db"
        _copy_database(db, copy)
        return asyncio.run(_count(schema_path, copy, api_key, bodies))
