"""Group commit in the SQLite adapter: queued writes share one transaction, each in a savepoint.

To make a group deterministic, a test holds the writer thread with a job that waits on an
event, queues the writes behind it, then lets it go: the queued writes form one group.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ampbase.errors import ConditionalCheckFailedError, StorageError
from ampbase.storage.base import Query, Record
from ampbase.storage.predicate import Compare
from ampbase.storage.sqlite import SQLiteStorage
from tests.storage.schemas import conformance_schema

pytestmark = pytest.mark.anyio


@pytest.fixture
async def storage(db_path: Path) -> AsyncIterator[SQLiteStorage]:
    adapter = SQLiteStorage(db_path)
    await adapter.open(conformance_schema())
    yield adapter
    await adapter.close()


@pytest.fixture
def external(db_path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(db_path, isolation_level=None)
    yield conn
    conn.close()


async def on_writer(storage: SQLiteStorage, fn: Any) -> Any:
    writer = storage._writer
    assert writer is not None
    job = await writer.call(fn, (), group=False)
    assert job.error is None
    return job.result


async def trace_writer(storage: SQLiteStorage) -> list[str]:
    """Every statement the writer connection runs from now on."""
    statements: list[str] = []
    await on_writer(storage, lambda c: c.db.set_trace_callback(statements.append))
    return statements


async def in_one_group(storage: SQLiteStorage, *writes: Awaitable[Any]) -> list[Any]:
    """Run ``writes`` queued behind a held writer thread (so they form one group); outcomes in order."""
    writer = storage._writer
    assert writer is not None
    entered, release = threading.Event(), threading.Event()

    def hold(_conn: object) -> None:
        entered.set()
        release.wait(10)

    holding = asyncio.create_task(writer.call(hold, (), group=False))
    await asyncio.to_thread(entered.wait, 10)
    tasks = [asyncio.ensure_future(w) for w in writes]
    for _ in range(1000):  # each write is queued on its task's first step
        if writer._queue.qsize() >= len(tasks):
            break
        await asyncio.sleep(0)
    assert writer._queue.qsize() == len(tasks)
    release.set()
    await holding
    return list(await asyncio.gather(*tasks, return_exceptions=True))


def todo(n: int, **fields: Any) -> Record:
    return {"id": f"{n:03d}", "createdAt": "c", **fields}


def ids(external: sqlite3.Connection) -> list[str]:
    return [r[0] for r in external.execute('SELECT id FROM "Todo" ORDER BY id')]


async def test_queued_writes_commit_in_one_transaction_and_are_visible_when_acknowledged(
    storage: SQLiteStorage, external: sqlite3.Connection
) -> None:
    trace = await trace_writer(storage)
    storage.stats.statements = 0
    results = await in_one_group(storage, *(storage.insert("Todo", todo(n, priority=n)) for n in range(40)))
    assert [r["priority"] for r in results] == list(range(40))
    # acknowledged = committed: another connection sees every row at once
    assert ids(external) == [f"{n:03d}" for n in range(40)]
    assert trace.count("BEGIN IMMEDIATE") == 1
    assert trace.count("COMMIT") == 1
    assert sum(s.startswith("SAVEPOINT") for s in trace) == 40
    assert storage.stats.statements == 40  # transaction control is not counted


async def test_a_failing_write_in_a_group_rolls_back_alone(
    storage: SQLiteStorage, external: sqlite3.Connection
) -> None:
    await storage.insert("Todo", todo(1, title="one", priority=1))
    await storage.insert("Todo", todo(2, title="two", priority=2))
    trace = await trace_writer(storage)
    outcomes = await in_one_group(
        storage,
        storage.insert("Todo", todo(10, title="ten")),
        storage.insert("Todo", todo(1, title="duplicate")),  # unique violation
        # a false condition: the read-check-write of this write is undone, nothing else
        storage.update("Todo", {"id": "002"}, {"title": "changed"}, Compare("priority", "eq", 99)),
        storage.update("Todo", {"id": "001"}, {"title": "one!"}, Compare("priority", "eq", 1)),
        storage.delete("Todo", {"id": "404"}),  # missing
        storage.insert("Todo", todo(11, title="eleven")),
        storage.update("Todo", {"id": "010"}, {"priority": 10}),  # sees the insert before it
        storage.delete("Todo", {"id": "002"}, Compare("title", "eq", "two")),
    )
    assert trace.count("COMMIT") == 1
    assert any(s.startswith("ROLLBACK TO") for s in trace)
    assert outcomes[0]["id"] == "010"
    assert isinstance(outcomes[1], ConditionalCheckFailedError)
    assert isinstance(outcomes[2], ConditionalCheckFailedError)
    assert outcomes[3]["title"] == "one!"
    assert isinstance(outcomes[4], ConditionalCheckFailedError)
    assert outcomes[5]["id"] == "011"
    assert outcomes[6]["priority"] == 10
    assert outcomes[7]["id"] == "002"
    rows = external.execute('SELECT id, title, priority FROM "Todo" ORDER BY id').fetchall()
    assert rows == [("001", "one!", 1), ("010", "ten", 10), ("011", "eleven", None)]


async def test_a_failed_commit_runs_the_group_again_one_by_one(
    storage: SQLiteStorage, external: sqlite3.Connection
) -> None:
    # A deferred foreign key fails only at COMMIT: a row titled "bad" makes the group's commit fail.
    external.executescript(
        """
        CREATE TABLE parent (id TEXT PRIMARY KEY);
        CREATE TABLE child (p TEXT REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);
        CREATE TRIGGER bad AFTER INSERT ON "Todo" WHEN NEW.title = 'bad'
        BEGIN INSERT INTO child VALUES ('missing'); END;
        """
    )
    await on_writer(storage, lambda c: c.db.execute("PRAGMA foreign_keys=ON"))
    trace = await trace_writer(storage)
    outcomes = await in_one_group(
        storage,
        storage.insert("Todo", todo(1, title="good")),
        storage.insert("Todo", todo(2, title="bad")),
        storage.insert("Todo", todo(3, title="good")),
    )
    assert trace.count("ROLLBACK") == 1  # the group, then each write alone
    assert outcomes[0]["id"] == "001"
    assert isinstance(outcomes[1], StorageError)
    assert isinstance(outcomes[1].__cause__, sqlite3.IntegrityError)
    assert outcomes[2]["id"] == "003"
    assert ids(external) == ["001", "003"]


async def test_a_group_waiting_for_a_lock_fails_like_each_write_alone(
    db_path: Path, external: sqlite3.Connection
) -> None:
    storage = SQLiteStorage(db_path, busy_timeout=0.05)
    await storage.open(conformance_schema())
    try:
        external.execute("BEGIN IMMEDIATE")
        try:
            outcomes = await in_one_group(storage, *(storage.insert("Todo", todo(n)) for n in range(3)))
        finally:
            external.execute("ROLLBACK")
        assert all(isinstance(o, StorageError) and "busy" in str(o) for o in outcomes)
        assert [r["id"] for r in await in_one_group(storage, storage.insert("Todo", todo(7)))] == ["007"]
    finally:
        await storage.close()


async def test_grouped_writes_survive_reopening_the_database(db_path: Path) -> None:
    storage = SQLiteStorage(db_path)
    await storage.open(conformance_schema())
    try:
        await in_one_group(storage, *(storage.insert("Todo", todo(n, tags=[n])) for n in range(50)))
        await asyncio.gather(*(storage.update("Todo", {"id": f"{n:03d}"}, {"done": True}) for n in range(25)))
    finally:
        await storage.close()
    reopened = SQLiteStorage(db_path)
    await reopened.open(conformance_schema())
    try:
        page = await reopened.query(Query("Todo", limit=100))
    finally:
        await reopened.close()
    assert [r["tags"] for r in page.items] == [[n] for n in range(50)]
    assert [r.get("done") for r in page.items] == [True] * 25 + [None] * 25


async def test_many_concurrent_writes_and_reads_on_an_in_memory_database() -> None:
    storage = SQLiteStorage(":memory:")
    await storage.open(conformance_schema())
    try:

        async def write_then_read(n: int) -> Record | None:
            await storage.insert("Todo", todo(n, priority=n))
            return await storage.get("Todo", {"id": f"{n:03d}"})

        got = await asyncio.gather(*(write_then_read(n) for n in range(100)))
        assert [r["priority"] if r else None for r in got] == list(range(100))
    finally:
        await storage.close()


async def test_writes_queued_before_close_are_committed(db_path: Path, external: sqlite3.Connection) -> None:
    storage = SQLiteStorage(db_path)
    await storage.open(conformance_schema())
    writes = [asyncio.ensure_future(storage.insert("Todo", todo(n))) for n in range(30)]
    await asyncio.sleep(0)  # queued
    await storage.close()
    assert len(await asyncio.gather(*writes)) == 30
    assert len(ids(external)) == 30
