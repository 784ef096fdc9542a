"""What is specific to the SQLite adapter: the on-disk layout, schema evolution,
durability, error translation and concurrency."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from ampbase.errors import ConfigError, StorageError, ValidationError
from ampbase.schema.ir import IndexDef, SchemaDef
from ampbase.storage.base import KeyCondition, Query, SortKeyCondition
from ampbase.storage.predicate import Compare
from ampbase.storage.sqlite import SQLiteStorage
from tests.storage.schemas import COMMENT, POST, TODO, conformance_schema, field, model

pytestmark = pytest.mark.anyio

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def opened(db_path: Path) -> AsyncIterator[list[SQLiteStorage]]:
    """Adapters opened by a test; all closed at its end."""
    adapters: list[SQLiteStorage] = []
    yield adapters
    for adapter in adapters:
        await adapter.close()


async def open_at(
    path: Path, schema: SchemaDef, opened: list[SQLiteStorage], *, busy_timeout: float = 5.0
) -> SQLiteStorage:
    storage = SQLiteStorage(path, busy_timeout=busy_timeout)
    await storage.open(schema)
    opened.append(storage)
    return storage


@pytest.fixture
def external(db_path: Path) -> Iterator[sqlite3.Connection]:
    """A second, independent connection to the database file."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    yield conn
    conn.close()


# -- layout -------------------------------------------------------------------------


async def test_layout_is_a_table_per_model_with_typed_columns(
    db_path: Path, opened: list[SQLiteStorage], external: sqlite3.Connection
) -> None:
    await open_at(db_path, conformance_schema(), opened)
    tables = {r[0] for r in external.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
    assert tables == {"Todo", "Event", "Post", "Comment", 'Odd "Name"', "_ampbase_meta", "_ampbase_api_keys"}
    columns = external.execute("SELECT name, type, pk FROM pragma_table_info('Todo') ORDER BY cid").fetchall()
    assert columns == [
        ("id", "TEXT", 1),
        ("title", "TEXT", 0),
        ("done", "INTEGER", 0),
        ("priority", "INTEGER", 0),
        ("score", "REAL", 0),
        ("status", "TEXT", 0),
        ("tags", "TEXT", 0),
        ("numbers", "TEXT", 0),
        ("meta", "TEXT", 0),
        ("payload", "TEXT", 0),
        ("ownerId", "TEXT", 0),
        ("createdAt", "TEXT", 0),
    ]
    # Relationship fields have no column.
    post_columns = [r[0] for r in external.execute("SELECT name FROM pragma_table_info('Post')")]
    assert post_columns == ["id", "title"]
    event_pk = external.execute(
        "SELECT name FROM pragma_table_info('Event') WHERE pk > 0 ORDER BY pk"
    ).fetchall()
    assert event_pk == [("tenant",), ("day",), ("seq",)]
    index_columns = external.execute("SELECT name FROM pragma_index_info('Event/byKind') ORDER BY seqno")
    assert [r[0] for r in index_columns] == ["kind", "day", "seq", "tenant"]
    meta = external.execute("SELECT primary_key FROM _ampbase_meta WHERE model = 'Event'").fetchone()
    assert meta == ('["tenant","day","seq"]',)


async def test_booleans_are_integers_and_lists_are_json_on_disk(
    db_path: Path, opened: list[SQLiteStorage], external: sqlite3.Connection
) -> None:
    storage = await open_at(db_path, conformance_schema(), opened)
    await storage.insert(
        "Todo", {"id": "1", "createdAt": "c", "done": True, "tags": ["a"], "meta": {"b": 1, "a": 2}}
    )
    row = external.execute("SELECT done, typeof(done), tags, meta FROM Todo").fetchone()
    assert row == (1, "integer", '["a"]', '{"a":2,"b":1}')


async def test_database_runs_in_wal_mode_with_full_synchronous_writes(
    db_path: Path, opened: list[SQLiteStorage], external: sqlite3.Connection
) -> None:
    storage = await open_at(db_path, conformance_schema(), opened)
    assert external.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    writer = storage._writer
    assert writer is not None
    job = await writer.call(lambda c: c.db.execute("PRAGMA synchronous").fetchone(), (), group=False)
    assert job.result == (2,)  # FULL


async def test_in_memory_database_works(opened: list[SQLiteStorage]) -> None:
    storage = SQLiteStorage(":memory:")
    await storage.open(conformance_schema())
    opened.append(storage)
    await storage.insert("Todo", {"id": "1", "createdAt": "c"})
    assert (await storage.get("Todo", {"id": "1"})) is not None


@pytest.mark.parametrize(
    ("query", "index"),
    [
        (Query("Todo", index="byOwner", key=KeyCondition((("ownerId", "a"),))), "Todo/byOwner"),
        (
            Query(
                "Todo",
                index="byOwner",
                key=KeyCondition(
                    (("ownerId", "a"),), SortKeyCondition(("createdAt",), "beginsWith", ("2024-",))
                ),
                descending=True,
                after=("a", "2024-05", "x"),
                filter=Compare("title", "ne", "x"),
            ),
            "Todo/byOwner",
        ),
        (
            Query(
                "Event",
                index="byKind",
                key=KeyCondition((("kind", "k"),), SortKeyCondition(("day", "seq"), "gt", ("d", 1))),
            ),
            "Event/byKind",
        ),
        (Query("Event", key=KeyCondition((("tenant", "t"),)), after=("t", "d", 3)), "PRIMARY KEY"),
        (Query("Todo", after=("x",)), "PRIMARY KEY"),
    ],
    ids=["partition", "sort-prefix-desc-after-filter", "composite-sort", "pk-after", "scan-after"],
)
async def test_queries_are_index_range_scans_in_index_order(
    db_path: Path, opened: list[SQLiteStorage], query: Query, index: str
) -> None:
    storage = await open_at(db_path, conformance_schema(), opened)
    plan = " | ".join(await storage.explain(query))
    assert index in plan
    assert "TEMP B-TREE" not in plan  # no sort step: rows come in index order
    if query.key is not None:
        assert "SEARCH" in plan


# -- schema evolution ---------------------------------------------------------------


async def test_adding_fields_models_and_indexes_keeps_existing_data(
    db_path: Path, opened: list[SQLiteStorage]
) -> None:
    small_todo = model("Todo", (field("id", "ID", required=True), field("title")))
    first = await open_at(db_path, SchemaDef(models=(small_todo,)), opened)
    await first.insert("Todo", {"id": "1", "title": "old"})
    await first.close()

    second = await open_at(db_path, SchemaDef(models=(TODO, POST, COMMENT)), opened)
    stored = await second.get("Todo", {"id": "1"})
    assert stored is not None
    assert stored["title"] == "old"
    assert stored["ownerId"] is None
    await second.update("Todo", {"id": "1"}, {"ownerId": "alice", "createdAt": "c"})
    page = await second.query(Query("Todo", index="byOwner", key=KeyCondition((("ownerId", "alice"),))))
    assert [r["id"] for r in page.items] == ["1"]
    await second.insert("Post", {"id": "p"})
    assert await second.get("Post", {"id": "p"}) == {"id": "p", "title": None}


async def test_removed_field_keeps_its_column_and_data(db_path: Path, opened: list[SQLiteStorage]) -> None:
    first = await open_at(db_path, SchemaDef(models=(TODO,)), opened)
    await first.insert("Todo", {"id": "1", "createdAt": "c", "title": "kept"})
    await first.close()
    without_title = replace(TODO, fields=tuple(f for f in TODO.fields if f.name != "title"), indexes=())
    second = await open_at(db_path, SchemaDef(models=(without_title,)), opened)
    assert "title" not in (await second.get("Todo", {"id": "1"}) or {})
    await second.close()
    third = await open_at(db_path, SchemaDef(models=(TODO,)), opened)
    assert (await third.get("Todo", {"id": "1"}) or {})["title"] == "kept"


async def test_changed_field_type_keeps_stored_values_and_warns(
    db_path: Path, opened: list[SQLiteStorage], caplog: pytest.LogCaptureFixture
) -> None:
    first = await open_at(db_path, SchemaDef(models=(TODO,)), opened)
    await first.insert("Todo", {"id": "1", "createdAt": "c", "title": "12"})
    await first.close()
    retyped = replace(
        TODO, fields=tuple(field("title", "Int") if f.name == "title" else f for f in TODO.fields)
    )
    with caplog.at_level(logging.WARNING, logger="ampbase.storage.sqlite"):
        second = await open_at(db_path, SchemaDef(models=(retyped,)), opened)
    assert any("'title'" in r.getMessage() and "integer" in r.getMessage() for r in caplog.records)
    assert (await second.get("Todo", {"id": "1"}) or {})["title"] == "12"


async def test_changed_index_is_rebuilt_and_removed_index_dropped(
    db_path: Path, opened: list[SQLiteStorage], external: sqlite3.Connection
) -> None:
    first = await open_at(db_path, SchemaDef(models=(TODO,)), opened)
    await first.close()
    changed = replace(TODO, indexes=(IndexDef("byOwner", "ownerId", ("priority",)),))
    await open_at(db_path, SchemaDef(models=(changed,)), opened)
    names = {r[0] for r in external.execute("SELECT name FROM pragma_index_list('Todo') WHERE origin = 'c'")}
    assert names == {"Todo/byOwner"}
    cols = [
        r[0] for r in external.execute("SELECT name FROM pragma_index_info('Todo/byOwner') ORDER BY seqno")
    ]
    assert cols == ["ownerId", "priority", "id"]


async def test_changed_primary_key_of_a_table_with_rows_is_refused(
    db_path: Path, opened: list[SQLiteStorage]
) -> None:
    first = await open_at(db_path, SchemaDef(models=(TODO,)), opened)
    await first.insert("Todo", {"id": "1", "createdAt": "c", "title": "t"})
    await first.close()
    rekeyed = replace(TODO, primary_key=("title", "id"))
    storage = SQLiteStorage(db_path)
    with pytest.raises(ConfigError) as info:
        await storage.open(SchemaDef(models=(rekeyed,)))
    message = str(info.value)
    assert "'Todo'" in message
    assert "(id) to (title, id)" in message
    assert "export" in message
    assert "new database" in message
    # Nothing changed: the old schema still opens with its data.
    again = await open_at(db_path, SchemaDef(models=(TODO,)), opened)
    assert await again.get("Todo", {"id": "1"}) is not None


async def test_changed_primary_key_of_an_empty_table_recreates_it(
    db_path: Path, opened: list[SQLiteStorage]
) -> None:
    first = await open_at(db_path, SchemaDef(models=(TODO,)), opened)
    await first.close()
    rekeyed = replace(TODO, primary_key=("title", "id"))
    second = await open_at(db_path, SchemaDef(models=(rekeyed,)), opened)
    await second.insert("Todo", {"id": "1", "title": "a", "createdAt": "c"})
    assert await second.get("Todo", {"id": "1", "title": "a"}) is not None


async def test_model_named_like_an_internal_table_is_refused(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "x.sqlite")
    with pytest.raises(ConfigError):
        await storage.open(SchemaDef(models=(model("_ampbase_meta", (field("id", "ID", required=True),)),)))


# -- errors -------------------------------------------------------------------------


async def test_driver_errors_become_storage_errors_without_sql(
    db_path: Path,
    opened: list[SQLiteStorage],
    external: sqlite3.Connection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    storage = await open_at(db_path, conformance_schema(), opened)
    external.execute('DROP TABLE "Todo"')
    with (
        caplog.at_level(logging.WARNING, logger="ampbase.storage.sqlite"),
        pytest.raises(StorageError) as info,
    ):
        await storage.get("Todo", {"id": "1"})
    assert isinstance(info.value.__cause__, sqlite3.Error)
    assert "SELECT" not in str(info.value)
    assert "Todo" in str(info.value)
    assert any("SELECT" in r.getMessage() for r in caplog.records)


async def test_locked_database_is_a_storage_error(
    db_path: Path, opened: list[SQLiteStorage], external: sqlite3.Connection
) -> None:
    storage = await open_at(db_path, conformance_schema(), opened, busy_timeout=0.05)
    external.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StorageError, match="busy"):
            await storage.insert("Todo", {"id": "1", "createdAt": "c"})
    finally:
        external.execute("ROLLBACK")
    await storage.insert("Todo", {"id": "1", "createdAt": "c"})


async def test_out_of_range_integer_is_validation_error(db_path: Path, opened: list[SQLiteStorage]) -> None:
    storage = await open_at(db_path, conformance_schema(), opened)
    with pytest.raises(ValidationError):
        await storage.insert("Todo", {"id": "1", "createdAt": "c", "priority": 2**70})
    with pytest.raises(ValidationError):
        await storage.insert("Todo", {"id": "1", "createdAt": "c", "title": {"not": "text"}})


async def test_unopenable_database_is_a_storage_error_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "missing-directory" / "app.sqlite"
    with pytest.raises(StorageError) as info:
        await SQLiteStorage(path).open(conformance_schema())
    assert str(path) in str(info.value)


async def test_use_before_open_is_a_storage_error(db_path: Path) -> None:
    with pytest.raises(StorageError):
        await SQLiteStorage(db_path).get("Todo", {"id": "1"})


# -- concurrency and durability -----------------------------------------------------


async def test_concurrent_reads_and_writes_see_committed_data(
    db_path: Path, opened: list[SQLiteStorage]
) -> None:
    storage = await open_at(db_path, conformance_schema(), opened)

    async def write_then_read(n: int) -> bool:
        await storage.insert("Todo", {"id": f"{n:03d}", "createdAt": "c", "priority": n})
        got = await storage.get("Todo", {"id": f"{n:03d}"})
        return got is not None and got["priority"] == n

    assert all(await asyncio.gather(*(write_then_read(n) for n in range(60))))
    page = await storage.query(Query("Todo", limit=100))
    assert len(page.items) == 60


async def test_point_reads_see_each_acknowledged_write_at_once(
    db_path: Path, opened: list[SQLiteStorage]
) -> None:
    storage = await open_at(db_path, conformance_schema(), opened)
    for n in range(20):
        key = {"id": f"{n:03d}"}
        await storage.insert("Todo", {**key, "createdAt": "c", "priority": n})
        got = await storage.get("Todo", key)
        assert got is not None and got["priority"] == n
        await storage.update("Todo", key, {"priority": n + 100})
        [many] = await storage.get_many("Todo", [key])
        assert many is not None and many["priority"] == n + 100
        await storage.delete("Todo", key)
        assert await storage.get("Todo", key) is None
        assert await storage.get_many("Todo", [key, {"id": "none"}]) == [None, None]


async def test_point_reads_fall_back_to_a_reader_thread_when_the_inline_read_is_busy(
    db_path: Path, opened: list[SQLiteStorage], monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = await open_at(db_path, conformance_schema(), opened)
    await storage.insert("Todo", {"id": "1", "createdAt": "c"})
    inline = storage._inline
    assert inline is not None

    def busy(sql: str, params: object = ()) -> sqlite3.Cursor:
        exc = sqlite3.OperationalError("database is locked")
        exc.sqlite_errorname = "SQLITE_BUSY"
        raise exc

    monkeypatch.setattr(inline, "execute", busy)
    got = await storage.get("Todo", {"id": "1"})
    assert got is not None and got["id"] == "1"
    [many] = await storage.get_many("Todo", [{"id": "1"}])
    assert many == got
    page = await storage.query(Query("Todo", limit=10))
    assert [r["id"] for r in page.items] == ["1"]


async def test_small_unfiltered_pages_are_read_inline_and_filtered_ones_on_a_reader_thread(
    db_path: Path, opened: list[SQLiteStorage], monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = await open_at(db_path, conformance_schema(), opened)
    for n in range(5):
        await storage.insert("Todo", {"id": f"{n}", "createdAt": "c", "priority": n})
    inline = storage._inline
    assert inline is not None
    inline_statements: list[str] = []
    real_execute = inline.execute

    def spy(sql: str, params: object = ()) -> sqlite3.Cursor:
        inline_statements.append(sql)
        return real_execute(sql, params)  # type: ignore[arg-type]

    monkeypatch.setattr(inline, "execute", spy)
    page = await storage.query(Query("Todo", limit=3))
    assert [r["id"] for r in page.items] == ["0", "1", "2"] and page.last_key is not None
    assert len(inline_statements) == 1
    filtered = await storage.query(Query("Todo", filter=Compare("priority", "ge", 3), limit=3))
    assert [r["id"] for r in filtered.items] == ["3", "4"]
    big = await storage.query(Query("Todo", limit=101))
    assert len(big.items) == 5
    assert len(inline_statements) == 1  # the filtered and the large page went to a reader thread


CRASH_CHILD = textwrap.dedent(
    """
    import asyncio, sys
    sys.path.insert(0, {repo!r})
    from ampbase.storage.sqlite import SQLiteStorage
    from tests.storage.schemas import conformance_schema

    async def main():
        storage = SQLiteStorage({path!r})
        await storage.open(conformance_schema())
        n = 0
        while True:
            await storage.insert("Todo", {{"id": f"{{n:06d}}", "createdAt": "c", "title": "x" * 200}})
            print(n, flush=True)  # acknowledged
            n += 1

    asyncio.run(main())
    """
)


def test_acknowledged_writes_survive_a_killed_process(tmp_path: Path) -> None:
    path = tmp_path / "crash.sqlite"
    code = CRASH_CHILD.format(repo=str(REPO), path=str(path))
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    acknowledged: list[int] = []
    try:
        assert child.stdout is not None
        for line in child.stdout:
            acknowledged.append(int(line))
            if len(acknowledged) >= 300:
                break
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert len(acknowledged) >= 300, child.stderr.read() if child.stderr else ""

    async def reopen() -> set[str]:
        storage = SQLiteStorage(path)
        await storage.open(conformance_schema())
        try:
            ids: set[str] = set()
            after = None
            while True:
                page = await storage.query(Query("Todo", limit=1000, after=after))
                ids.update(r["id"] for r in page.items)
                if page.last_key is None:
                    return ids
                after = page.last_key
        finally:
            await storage.close()

    stored = asyncio.run(reopen())
    assert {f"{n:06d}" for n in acknowledged} <= stored


async def test_reads_are_memory_mapped_unless_turned_off(
    db_path: Path, opened: list[SQLiteStorage], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ampbase.storage.sqlite import default_mmap_size

    storage = await open_at(db_path, conformance_schema(), opened)
    inline = storage._inline
    assert inline is not None
    assert inline.execute("PRAGMA mmap_size").fetchone()[0] == 1024 * 1024 * 1024
    monkeypatch.setenv("AMPBASE_SQLITE_MMAP_MB", "0")
    assert default_mmap_size() == 0
    monkeypatch.setenv("AMPBASE_SQLITE_MMAP_MB", "64")
    assert default_mmap_size() == 64 * 1024 * 1024
    monkeypatch.setenv("AMPBASE_SQLITE_MMAP_MB", "lots")
    with pytest.raises(ConfigError, match="AMPBASE_SQLITE_MMAP_MB"):
        default_mmap_size()
    unmapped = SQLiteStorage(db_path.with_name("unmapped.sqlite"), mmap_size=0)
    await unmapped.open(conformance_schema())
    opened.append(unmapped)
    assert unmapped._inline is not None
    assert unmapped._inline.execute("PRAGMA mmap_size").fetchone()[0] == 0
