"""PostgreSQL specifics beyond the shared conformance suite: schema evolution, concurrent
migrations, indexes and collation, error translation, outages and reconnects."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from ampbase.errors import ConditionalCheckFailedError, ConfigError, StorageError, ValidationError
from ampbase.schema.ir import IndexDef, SchemaDef
from ampbase.storage.base import KeyCondition, Query, SortKeyCondition
from ampbase.storage.postgres import PostgresStorage, index_name
from tests.services import TcpProxy, postgres_dsn, unique_name
from tests.storage.schemas import TODO, field, model

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

NOTE = model("Note", (field("id", "ID", required=True), field("body"), field("rank", "Int")))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def schema_name() -> AsyncIterator[tuple[str, str]]:
    dsn = postgres_dsn()
    name = unique_name("test")
    yield dsn, name
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


async def opened(dsn: str, schema: str, defs: SchemaDef, **kw: float) -> PostgresStorage:
    storage = PostgresStorage(dsn, min_size=1, max_size=3, schema=schema, **kw)  # type: ignore[arg-type]
    await storage.open(defs)
    return storage


async def catalog(dsn: str, sql: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
        return rows
    finally:
        await conn.close()


async def test_tables_use_native_types_byte_order_text_and_real_indexes(schema_name: tuple[str, str]) -> None:
    dsn, schema = schema_name
    storage = await opened(dsn, schema, SchemaDef(models=(TODO,)))
    await storage.close()
    columns = {
        r["column_name"]: (r["data_type"], r["collation_name"])
        for r in await catalog(
            dsn,
            "SELECT column_name, data_type, collation_name FROM information_schema.columns "
            "WHERE table_schema = $1 AND table_name = 'Todo'",
            schema,
        )
    }
    assert columns["title"] == ("text", "C")
    assert columns["priority"] == ("bigint", None)
    assert columns["score"] == ("double precision", None)
    assert columns["done"] == ("boolean", None)
    assert columns["tags"] == ("jsonb", None)
    assert columns["meta"] == ("jsonb", None)
    indexes = {
        r["indexname"]: r["indexdef"]
        for r in await catalog(
            dsn, "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1", schema
        )
    }
    assert '("ownerId", "createdAt", id)' in indexes["Todo/byOwner"]
    assert "(status, priority, id)" in indexes["Todo/byStatus"]


async def test_text_sorts_and_pages_by_code_point_like_python(schema_name: tuple[str, str]) -> None:
    dsn, schema = schema_name
    storage = await opened(dsn, schema, SchemaDef(models=(NOTE,)))
    try:
        ids = ["b", "B", "a", "ä", "Z", "_", "a b", "ab", "😀", "10", "9"]
        for i in ids:
            await storage.insert("Note", {"id": i})
        seen: list[str] = []
        after = None
        while True:
            page = await storage.query(Query("Note", limit=3, after=after))
            seen.extend(r["id"] for r in page.items)
            if page.last_key is None:
                break
            after = page.last_key
        assert seen == sorted(ids)
    finally:
        await storage.close()


async def test_schema_evolves_additively_and_keeps_data(schema_name: tuple[str, str]) -> None:
    dsn, schema = schema_name
    storage = await opened(dsn, schema, SchemaDef(models=(NOTE,)))
    await storage.insert("Note", {"id": "1", "body": "kept", "rank": 7})
    await storage.close()
    grown = model(
        "Note",
        (*NOTE.fields, field("color"), field("weight", "Float")),
        indexes=(IndexDef("byColor", "color", ("rank",)),),
    )
    storage = await opened(dsn, schema, SchemaDef(models=(grown,)))
    try:
        assert await storage.get("Note", {"id": "1"}) == {
            "id": "1",
            "body": "kept",
            "rank": 7,
            "color": None,
            "weight": None,
        }
        await storage.insert("Note", {"id": "2", "color": "red", "rank": 1})
        page = await storage.query(Query("Note", index="byColor", key=KeyCondition((("color", "red"),))))
        assert [r["id"] for r in page.items] == ["2"]
    finally:
        await storage.close()
    # a field dropped from the schema keeps its column and data
    storage = await opened(dsn, schema, SchemaDef(models=(NOTE,)))
    await storage.close()
    storage = await opened(dsn, schema, SchemaDef(models=(grown,)))
    try:
        assert (await storage.get("Note", {"id": "2"}) or {})["color"] == "red"
    finally:
        await storage.close()


async def test_a_changed_field_type_converts_stored_values_or_is_refused(
    schema_name: tuple[str, str],
) -> None:
    dsn, schema = schema_name
    storage = await opened(dsn, schema, SchemaDef(models=(NOTE,)))
    await storage.insert("Note", {"id": "1", "body": "12", "rank": 7})
    await storage.close()
    as_text = model("Note", (field("id", "ID", required=True), field("body", "Int"), field("rank")))
    storage = await opened(dsn, schema, SchemaDef(models=(as_text,)))
    try:
        assert await storage.get("Note", {"id": "1"}) == {"id": "1", "body": 12, "rank": "7"}
        await storage.update("Note", {"id": "1"}, {"rank": "not a number"})
    finally:
        await storage.close()
    with pytest.raises(ConfigError, match="do not convert"):
        await opened(dsn, schema, SchemaDef(models=(NOTE,)))


async def test_a_changed_primary_key_is_refused_when_rows_exist(schema_name: tuple[str, str]) -> None:
    dsn, schema = schema_name
    storage = await opened(dsn, schema, SchemaDef(models=(NOTE,)))
    await storage.insert("Note", {"id": "1", "body": "x"})
    await storage.close()
    rekeyed = model("Note", NOTE.fields, primary_key=("id", "body"))
    with pytest.raises(ConfigError, match="primary key of model 'Note' changed"):
        await opened(dsn, schema, SchemaDef(models=(rekeyed,)))
    # the refused migration changed nothing
    storage = await opened(dsn, schema, SchemaDef(models=(NOTE,)))
    try:
        assert (await storage.get("Note", {"id": "1"}) or {})["body"] == "x"
    finally:
        await storage.close()


async def test_replicas_starting_together_migrate_once(schema_name: tuple[str, str]) -> None:
    dsn, schema = schema_name
    defs = SchemaDef(models=(TODO, NOTE))
    replicas = [PostgresStorage(dsn, min_size=1, max_size=2, schema=schema) for _ in range(4)]
    await asyncio.gather(*(r.open(defs) for r in replicas))
    try:
        await replicas[0].insert("Note", {"id": "1"})
        assert await replicas[3].get("Note", {"id": "1"}) == {"id": "1", "body": None, "rank": None}
        rows = await catalog(
            dsn, "SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND indexname LIKE 'Todo/%'", schema
        )
        assert rows[0][0] == 3
    finally:
        for r in replicas:
            await r.close()


async def test_concurrent_conditional_updates_apply_one_at_a_time(schema_name: tuple[str, str]) -> None:
    from ampbase.storage.predicate import Compare

    dsn, schema = schema_name
    storage = await opened(dsn, schema, SchemaDef(models=(NOTE,)))
    try:
        await storage.insert("Note", {"id": "1", "rank": 0})

        async def bump(expected: int) -> bool:
            try:
                await storage.update(
                    "Note", {"id": "1"}, {"rank": expected + 1}, Compare("rank", "eq", expected)
                )
            except ConditionalCheckFailedError:
                return False
            return True

        results = await asyncio.gather(*(bump(0) for _ in range(6)))
        assert results.count(True) == 1
        assert (await storage.get("Note", {"id": "1"}) or {})["rank"] == 1
    finally:
        await storage.close()


async def test_unstorable_values_are_validation_errors(schema_name: tuple[str, str]) -> None:
    dsn, schema = schema_name
    storage = await opened(dsn, schema, SchemaDef(models=(NOTE,)))
    try:
        with pytest.raises(ValidationError):
            await storage.insert("Note", {"id": "1", "body": "nul\x00byte"})
        with pytest.raises(ValidationError):
            await storage.insert("Note", {"id": "2", "rank": 2**70})
        with pytest.raises(ValidationError):
            await storage.insert("Note", {"id": "3", "rank": "seven"})
        page = await storage.query(
            Query("Note", key=KeyCondition((("id", "1"),), None), filter=None, limit=5)
        )
        assert page.items == []
    finally:
        await storage.close()


async def test_long_index_names_are_shortened_uniquely() -> None:
    a = index_name("M" * 40, "byAVeryLongIndexNameNumberOne")
    b = index_name("M" * 40, "byAVeryLongIndexNameNumberTwo")
    assert len(a.encode()) <= 63 and len(b.encode()) <= 63 and a != b
    assert index_name("Todo", "byOwner") == "Todo/byOwner"


async def test_shared_secret_is_decided_once_for_every_replica(schema_name: tuple[str, str]) -> None:
    dsn, schema = schema_name
    first = await opened(dsn, schema, SchemaDef(models=(NOTE,)))
    second = await opened(dsn, schema, SchemaDef(models=(NOTE,)))
    try:
        a = await first.shared_secret("engine", lambda: "one")
        b = await second.shared_secret("engine", lambda: "two")
        assert a == b == "one"
    finally:
        await first.close()
        await second.close()


async def test_an_unreachable_server_is_a_storage_error() -> None:
    storage = PostgresStorage("postgresql://postgres@127.0.0.1:1/test", connect_timeout=1, timeout=2)
    with pytest.raises(StorageError, match="could not connect"):
        await storage.open(SchemaDef(models=(NOTE,)))


async def test_requests_fail_fast_during_an_outage_and_the_pool_recovers(
    schema_name: tuple[str, str],
) -> None:
    dsn, schema = schema_name
    proxy = TcpProxy(5432)
    await proxy.start()
    proxied = dsn.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    assert proxied != dsn
    storage = await opened(proxied, schema, SchemaDef(models=(NOTE,)), timeout=3, connect_timeout=1)
    try:
        await storage.insert("Note", {"id": "1"})
        await proxy.stop()
        with pytest.raises(StorageError):
            await storage.get("Note", {"id": "1"})
        with pytest.raises(StorageError):
            await storage.insert("Note", {"id": "2"})
        await proxy.start()  # the same port: the database is back
        assert await storage.get("Note", {"id": "1"}) == {"id": "1", "body": None, "rank": None}
        await storage.insert("Note", {"id": "2"})
        page = await storage.query(Query("Note", key=None, limit=10))
        assert [r["id"] for r in page.items] == ["1", "2"]
    finally:
        await storage.close()
        if proxy.server is not None and proxy.server.is_serving():
            await proxy.stop()


async def test_a_killed_connection_is_replaced_transparently_for_reads(schema_name: tuple[str, str]) -> None:
    dsn, schema = schema_name
    storage = PostgresStorage(dsn, min_size=1, max_size=1, schema=schema)
    await storage.open(SchemaDef(models=(NOTE,)))
    try:
        await storage.insert("Note", {"id": "1"})
        pid = await storage._call("pid", lambda conn: conn.fetchval("SELECT pg_backend_pid()"))
        await catalog(dsn, "SELECT pg_terminate_backend($1)", pid)
        assert await storage.get("Note", {"id": "1"}) == {"id": "1", "body": None, "rank": None}
        assert await storage._call("pid", lambda conn: conn.fetchval("SELECT pg_backend_pid()")) != pid
    finally:
        await storage.close()


async def test_sort_key_conditions_use_typed_parameters(schema_name: tuple[str, str]) -> None:
    dsn, schema = schema_name
    ranked = model(
        "Note",
        NOTE.fields,
        indexes=(IndexDef("byBody", "body", ("rank",)),),
    )
    storage = await opened(dsn, schema, SchemaDef(models=(ranked,)))
    try:
        for n in range(5):
            await storage.insert("Note", {"id": str(n), "body": "b", "rank": n})
        page = await storage.query(
            Query(
                "Note",
                index="byBody",
                key=KeyCondition((("body", "b"),), SortKeyCondition(("rank",), "gt", (1.5,))),
            )
        )
        assert [r["rank"] for r in page.items] == [2, 3, 4]
    finally:
        await storage.close()


async def test_key_conditions_ordering_and_pages_run_on_the_indexes(schema_name: tuple[str, str]) -> None:
    from ampbase.storage.predicate import Compare

    dsn, schema = schema_name
    storage = await opened(dsn, schema, SchemaDef(models=(TODO,)))
    try:
        await catalog(
            dsn,
            f'INSERT INTO "{schema}"."Todo" (id, "ownerId", "createdAt", title) '
            "SELECT 't' || g, 'o' || (g % 50), '2024-01-01T00:00:' || lpad((g % 60)::text, 2, '0') || 'Z', "
            "'x' || g FROM generate_series(1, 5000) AS g",
        )
        await catalog(dsn, f'ANALYZE "{schema}"."Todo"')
        key = KeyCondition((("ownerId", "o7"),), SortKeyCondition(("createdAt",), "beginsWith", ("2024-01",)))
        queries = [
            Query("Todo", index="byOwner", key=key, filter=Compare("title", "ne", "x"), limit=10),
            Query(
                "Todo", index="byOwner", key=key, descending=True, limit=10, after=("o7", "2024-01-01", "t9")
            ),
            Query("Todo", key=KeyCondition((("id", "t42"),))),
        ]
        for query in queries:
            plan = "\n".join(await storage.explain(query))
            assert "Index" in plan and "Seq Scan" not in plan, plan
            assert "Sort" not in plan, plan  # the index order is the query order
        page = await storage.query(queries[0])
        assert len(page.items) == 10 and all(r["ownerId"] == "o7" for r in page.items)
    finally:
        await storage.close()


async def test_a_hung_server_is_a_storage_error_after_the_timeout_not_a_hang(
    schema_name: tuple[str, str],
) -> None:
    dsn, schema = schema_name
    proxy = TcpProxy(5432)
    await proxy.start()
    proxied = dsn.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    storage = await opened(proxied, schema, SchemaDef(models=(NOTE,)), timeout=1, connect_timeout=1)
    try:
        await storage.insert("Note", {"id": "1"})
        proxy.freeze()
        with pytest.raises(StorageError, match="did not answer within 1s"):
            await storage.get("Note", {"id": "1"})
        with pytest.raises(StorageError, match="did not answer within 1s"):
            await storage.update("Note", {"id": "1"}, {"body": "x"})
        proxy.thaw()
        assert await storage.get("Note", {"id": "1"}) is not None
    finally:
        proxy.thaw()
        await storage.close()
        await proxy.stop()


async def test_json_documents_with_large_numbers_read_back_equal(schema_name: tuple[str, str]) -> None:
    from tests.storage.schemas import custom

    dsn, schema = schema_name
    doc = model("Doc", (field("id", "ID", required=True), custom("meta", "Meta")))
    storage = await opened(dsn, schema, SchemaDef(models=(doc,)))
    try:
        meta = {"big": 1e20, "huge": 1e300, "small": 1e-7, "int": 2**62, "nested": [1.5, {"x": -0.25}]}
        assert await storage.insert("Doc", {"id": "1", "meta": meta}) == {"id": "1", "meta": meta}
        assert await storage.get("Doc", {"id": "1"}) == {"id": "1", "meta": meta}
    finally:
        await storage.close()
