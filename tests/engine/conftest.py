"""Engine fixtures: ``make_engine`` builds a Harness on each storage adapter (in-memory fake, SQLite)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from ampbase.schema.ir import SchemaDef
from ampbase.storage.sqlite import SQLiteStorage
from tests.engine.harness import Harness, schema_from_sdl
from tests.engine.memory_storage import MemoryStorage

HarnessFactory = Callable[..., Awaitable[Harness]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["memory", "sqlite"])
async def make_engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[HarnessFactory]:
    opened: list[Any] = []

    async def factory(schema: SchemaDef | str, **kw: Any) -> Harness:
        if isinstance(schema, str):
            schema = schema_from_sdl(schema)
        storage: Any
        if request.param == "sqlite":
            storage = SQLiteStorage(tmp_path / f"engine-{len(opened)}.sqlite")
        else:
            storage = MemoryStorage()
        await storage.open(schema)
        opened.append(storage)
        return Harness(schema, storage, **kw)

    yield factory
    for storage in opened:
        await storage.close()
