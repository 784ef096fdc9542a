"""The ``storage`` fixtures, parametrised over every storage backend.

SQLite, PostgreSQL and the in-memory reference adapter. Each PostgreSQL
"database" is a fresh schema (``test_<pid>_<random>_<n>``), dropped at the end of
the session; without a reachable server the PostgreSQL cases skip (fail under CI).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from ampbase.schema.ir import SchemaDef
from ampbase.storage.base import StorageAdapter
from ampbase.storage.memory import MemoryStorage
from ampbase.storage.sqlite import SQLiteStorage
from tests.services import drop_schema, postgres_dsn, unique_name
from tests.storage.schemas import conformance_schema

BACKENDS = ["sqlite", "memory", "postgres"]
_MEMORY: dict[Path, MemoryStorage] = {}
_SCHEMAS: dict[Path, str] = {}
_SESSION = unique_name("test")
_COUNTER = itertools.count()

StorageFactory = Callable[..., Awaitable[StorageAdapter]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where a SQLite-only test keeps its database."""
    return tmp_path / "app.sqlite"


def create_storage(backend: str, directory: Path, name: str) -> StorageAdapter:
    """A new (unopened) adapter of ``backend``; the same ``name`` = the same database."""
    if backend == "sqlite":
        return SQLiteStorage(directory / f"{name}.sqlite")
    if backend == "memory":
        # The same object for the same name, so a reopen sees the earlier data.
        return _MEMORY.setdefault(directory / name, MemoryStorage())
    if backend == "postgres":
        from ampbase.storage.postgres import PostgresStorage

        dsn = postgres_dsn()
        # The same schema for the same name, so a reopen sees the earlier data.
        schema = _SCHEMAS.setdefault(directory / name, f"{_SESSION}_{next(_COUNTER)}")
        return PostgresStorage(dsn, min_size=1, max_size=4, schema=schema)
    raise AssertionError(f"unknown backend {backend}")


@pytest.fixture(scope="session", autouse=True)
def _drop_postgres_schemas() -> Iterator[None]:
    yield
    for schema in _SCHEMAS.values():
        drop_schema(postgres_dsn(), schema)
    _SCHEMAS.clear()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def open_storage(backend: str, tmp_path: Path) -> AsyncIterator[StorageFactory]:
    """``await open_storage(schema, name="db")``: an opened adapter, closed after the test."""
    opened: list[StorageAdapter] = []

    async def factory(schema: SchemaDef, *, name: str = "db") -> StorageAdapter:
        storage = create_storage(backend, tmp_path, name)
        await storage.open(schema)
        opened.append(storage)
        return storage

    yield factory
    for storage in opened:
        await storage.close()
    for key in [k for k in _MEMORY if k.parent == tmp_path]:
        del _MEMORY[key]


@pytest.fixture
async def storage(open_storage: StorageFactory) -> StorageAdapter:
    return await open_storage(conformance_schema())
