"""Point-in-time recovery: the journal, snapshots, pruning, and ``ampbase restore`` end to end."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ampbase.cli.main import main
from ampbase.engine.engine import Engine
from ampbase.engine.identity import Identity
from ampbase.errors import ConfigError
from ampbase.pubsub.local import LocalPubSub
from ampbase.schema.ir import ResourceConfig, TableConfig
from ampbase.schema.loader import load_schema
from ampbase.schema.resolve import resolve_schema
from ampbase.schema.sdl import load_sdl
from ampbase.server.settings import Settings
from ampbase.server.wiring import Runtime
from ampbase.storage.recovery import Journal, format_moment, parse_moment
from ampbase.storage.sqlite import SQLiteStorage

pytestmark = pytest.mark.anyio

RESOURCE = """
from ampbase import a, define_data
PUBLIC = lambda allow: [allow.public_api_key()]
schema = a.schema({"Todo": a.model({"content": a.string()}).authorization(PUBLIC),
                   "Log": a.model({"line": a.string()}).authorization(PUBLIC)})
data = define_data(schema=schema, authorization_modes={"default_authorization_mode": "apiKey"})
"""
BACKEND = """
from ampbase import define_backend
from data.resource import data
backend = define_backend(data=data)
backend.data.resources.tables["Todo"].point_in_time_recovery_enabled = True
"""
TRUSTED = Identity(mode=None)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def make_db(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("create table t (x)")
        db.execute("insert into t values (1)")


def test_moments_parse_and_format() -> None:
    assert parse_moment("2026-11-20T10:00:00Z") == datetime(2026, 11, 20, 10, tzinfo=UTC).timestamp()
    assert parse_moment("2026-11-20T11:00:00+01:00") == parse_moment("2026-11-20T10:00:00")
    assert format_moment(parse_moment("2026-11-20T10:00:00.5Z")) == "20261120T100000.500000Z"
    with pytest.raises(ConfigError, match="not an ISO 8601 time"):
        parse_moment("yesterday")


def test_snapshots_start_segments_and_entries_are_read_back_in_a_window(tmp_path: Path) -> None:
    clock = Clock()
    make_db(tmp_path / "app.db")
    journal = Journal(tmp_path / "app.db", clock=clock)
    journal.append("put", "Todo", {"id": "a"}, {"id": "a", "v": 1})
    clock.now += 10
    snapshot = journal.snapshot()
    with sqlite3.connect(snapshot) as copy:
        assert copy.execute("select x from t").fetchall() == [(1,)]
    clock.now += 10
    journal.append("delete", "Todo", {"id": "a"}, None)
    journal.close()
    # the segment before the first snapshot can never be replayed: it went with the snapshot
    assert len(journal.segments()) == 1 and len(journal.snapshots()) == 1
    assert [e["op"] for e in journal.entries(0, clock.now)] == ["delete"]
    assert list(journal.entries(0, clock.now - 5)) == []
    clock.now += 10
    journal.append("put", "Todo", {"id": "b"}, {"id": "b"})
    journal.snapshot()
    journal.append("put", "Todo", {"id": "c"}, {"id": "c"})
    journal.close()
    assert len(journal.snapshots()) == 2
    assert [e["key"]["id"] for e in journal.entries(0, clock.now + 1)] == ["a", "b", "c"]
    assert [e["key"]["id"] for e in journal.entries(journal.snapshots()[1][0], clock.now + 1)] == ["c"]


def test_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "app.db", clock=Clock())
    journal.append("put", "Todo", {"id": "a"}, {"id": "a"})
    journal.close()
    ((_, segment),) = journal.segments()
    with segment.open("a") as f:
        f.write('{"t": 1800000000.5, "op": "put"')  # crash mid-write
    assert [e["key"] for e in journal.entries(0, 2e9)] == [{"id": "a"}]


def test_pruning_keeps_the_window_and_the_newest_snapshot(tmp_path: Path) -> None:
    clock = Clock()
    make_db(tmp_path / "app.db")
    journal = Journal(tmp_path / "app.db", clock=clock, retention_days=1)
    journal.append("put", "Todo", {"id": "old"}, {"id": "old"})
    journal.snapshot()
    clock.now += 2 * 86400
    journal.snapshot()
    clock.now += 10
    journal.snapshot()
    journal.close()
    snapshots = journal.snapshots()
    assert len(snapshots) == 2  # the one two days old is gone
    assert all(moment >= snapshots[0][0] for moment, _ in journal.segments())


async def wait_for(predicate: Callable[[], bool], what: str) -> None:
    for _ in range(400):  # bounded wait for background work, not a timing assertion
        if predicate():
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"timed out waiting for {what}")


def export(
    project: Path, db: Path, model: str, capsys: pytest.CaptureFixture[str]
) -> list[dict[str, object]]:
    capsys.readouterr()
    assert main(["export", model, "--schema", str(project / "data" / "resource.py"), "--db", str(db)]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


async def drive_server(project: Path, db: Path, state: Path) -> tuple[float, float]:
    """Serve with recovery on, write, and return two moments between the writes."""
    schema = load_schema(project / "data" / "resource.py")
    runtime = Runtime(schema, Settings(database_url=f"sqlite:///{db}", state_dir=state))
    await runtime.start()
    try:
        maintenance = runtime._maintenance
        assert maintenance is not None
        await wait_for(lambda: maintenance.snapshots >= 1, "the first snapshot")

        async def run(query: str) -> None:
            body = await runtime.engine.execute(query, {}, TRUSTED)
            assert "errors" not in body, body

        await run('mutation { createTodo(input: {id: "a", content: "first"}) { id } }')
        await run('mutation { createLog(input: {id: "l1", line: "not journaled"}) { id } }')
        await asyncio.sleep(0.01)  # so the moment falls strictly between two writes
        first = time.time()
        await asyncio.sleep(0.01)
        await run('mutation { updateTodo(input: {id: "a", content: "changed"}) { id } }')
        await run('mutation { createTodo(input: {id: "b", content: "second"}) { id } }')
        await run('mutation { deleteTodo(input: {id: "a"}) { id } }')
        second = time.time()
    finally:
        await runtime.stop()
    return first, second


def test_restore_rebuilds_the_journaled_tables_as_of_a_moment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "amplify"
    (project / "data").mkdir(parents=True)
    (project / "data" / "resource.py").write_text(RESOURCE)
    (project / "backend.py").write_text(BACKEND)
    db = tmp_path / "app.db"
    first, second = asyncio.run(drive_server(project, db, tmp_path / "state"))

    def iso(moment: float) -> str:
        return datetime.fromtimestamp(moment, UTC).isoformat()

    args = ["--schema", str(project / "data" / "resource.py"), "--db", str(db)]
    out1, out2 = tmp_path / "at-first.db", tmp_path / "at-second.db"
    assert main(["restore", "--to", iso(first), "--output", str(out1), *args]) == 0
    assert main(["restore", "--to", iso(second), "--output", str(out2), *args]) == 0
    assert [(t["id"], t["content"]) for t in export(project, out1, "Todo", capsys)] == [("a", "first")]
    assert [(t["id"], t["content"]) for t in export(project, out2, "Todo", capsys)] == [("b", "second")]
    # tables without recovery are as of the snapshot (taken before any write here)
    assert export(project, out1, "Log", capsys) == []
    # the live database is untouched
    assert [t["id"] for t in export(project, db, "Todo", capsys)] == ["b"]
    assert main(["restore", "--to", iso(second), "--output", str(out2), *args]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["restore", "--to", "2000-01-01T00:00:00Z", *args]) == 2
    assert "earliest restorable time" in capsys.readouterr().err


async def test_memory_databases_keep_no_journal(caplog: pytest.LogCaptureFixture) -> None:
    schema = dataclasses.replace(
        load_sdl("type Todo @model @auth(rules: [{allow: public}]) { content: String }"),
        resources=ResourceConfig(tables=(TableConfig("Todo", point_in_time_recovery=True),)),
    )
    schema = resolve_schema(schema)
    storage = SQLiteStorage(":memory:")
    await storage.open(schema)
    try:
        engine = Engine(schema, storage, LocalPubSub(), secret=b"s")
        assert engine.storage is storage
        assert "keeps no journal" in caplog.text
    finally:
        await storage.close()


def test_segments_of_several_processes_are_merged_by_time(tmp_path: Path) -> None:
    clock = Clock()
    one = Journal(tmp_path / "app.db", clock=clock)
    two = Journal(tmp_path / "app.db", clock=clock)
    one.append("put", "Todo", {"id": "1"}, {"id": "1"})
    clock.now += 1
    two.append("put", "Todo", {"id": "2"}, {"id": "2"})
    clock.now += 1
    one.append("put", "Todo", {"id": "3"}, {"id": "3"})
    one.close()
    two.close()
    assert len(one.segments()) == 2
    assert [e["key"]["id"] for e in one.entries(0, clock.now)] == ["1", "2", "3"]
