"""The PostgreSQL storage adapter, on ``asyncpg`` with a connection pool.

Storage layout (see :mod:`ampbase.storage.sql` for the column mapping), inside
the connection's schema (``schema=`` names one, created if missing; otherwise
the ``search_path``'s first):

* table ``"<Model>"`` per model: a column per stored field, ``text COLLATE
  "C"`` (strings, enums, AWS scalars: byte order, like SQLite and Python's
  ``str``), ``bigint`` (``Int``, ``AWSTimestamp``), ``double precision``
  (``Float``), ``boolean`` or ``jsonb`` (lists, custom types); ``PRIMARY KEY``
  over the model's primary key;
* index ``"<Model>/<index name>"`` (shortened with a hash past PostgreSQL's
  63-byte names; marked with the comment ``ampbase``) per secondary index over
  (partition key, sort keys..., remaining primary key fields);
* ``"_ampbase_meta"``: per model its primary key and column kinds;
* ``"_ampbase_api_keys"``: the API keys; ``"_ampbase_settings"``: values every
  replica shares (the engine secret, :meth:`PostgresStorage.shared_secret`).

``open`` evolves the schema additively in one transaction under an advisory
lock, so several replicas starting together migrate once and the others see
the result: new tables, new columns (``ADD COLUMN``), new or changed indexes;
removed fields keep their columns and data. A changed field type converts the
column (``ALTER COLUMN ... TYPE``) or, when stored values do not convert,
refuses with a :class:`~ampbase.errors.ConfigError`; so does a changed primary
key on a table with rows.

Every filter, key condition, ordering and page boundary is SQL (the shared
:mod:`ampbase.storage.sql` builder with this module's dialect); conditional
writes run ``SELECT ... FOR UPDATE`` → :func:`~ampbase.storage.predicate.evaluate`
→ write in one transaction. Driver exceptions never escape: duplicates and
failed conditions are :class:`~ampbase.errors.ConditionalCheckFailedError`,
unstorable values :class:`~ampbase.errors.ValidationError`, everything else
(the server down or restarting, a timeout) :class:`~ampbase.errors.StorageError`
within ``timeout`` seconds. The pool replaces broken connections, so the
adapter recovers by itself once PostgreSQL is back; a read that meets a
connection broken by a restart is retried once on a fresh one.

``stats.statements`` counts statements as the SQLite adapter does.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeAlias, TypeVar

import asyncpg
import orjson

from ampbase.errors import (
    AmpbaseError,
    ConditionalCheckFailedError,
    ConfigError,
    StorageError,
    ValidationError,
)
from ampbase.schema.ir import SchemaDef
from ampbase.storage.base import ApiKeyRecord, Page, Query, Record, StorageStats
from ampbase.storage.predicate import Predicate, evaluate
from ampbase.storage.sql import (
    Column,
    ColumnKind,
    Dialect,
    SqlParams,
    TableLayout,
    canonical_json,
    plan_select,
    quote_ident,
    table_layout,
)

__all__ = ["PostgresDialect", "PostgresStorage"]

logger = logging.getLogger("ampbase.storage.postgres")

T = TypeVar("T")

META_TABLE = "_ampbase_meta"
API_KEYS_TABLE = "_ampbase_api_keys"
SETTINGS_TABLE = "_ampbase_settings"
_RESERVED_TABLES = frozenset({META_TABLE, API_KEYS_TABLE, SETTINGS_TABLE})
_INDEX_COMMENT = "ampbase"
_MAX_IDENTIFIER = 63
_ROW_NUMBER = '"_ampbase_rn"'
_UPDATE_CACHE_SIZE = 256
_INT64 = (-(2**63), 2**63 - 1)

PG_TYPES = {
    ColumnKind.TEXT: 'text COLLATE "C"',
    ColumnKind.INTEGER: "bigint",
    ColumnKind.REAL: "double precision",
    ColumnKind.BOOLEAN: "boolean",
    ColumnKind.JSON_LIST: "jsonb",
    ColumnKind.JSON_OBJECT: "jsonb",
}
_ARRAY_TYPES = {
    ColumnKind.TEXT: "text[]",
    ColumnKind.INTEGER: "bigint[]",
    ColumnKind.REAL: "float8[]",
    ColumnKind.BOOLEAN: "boolean[]",
    ColumnKind.JSON_LIST: "jsonb[]",
    ColumnKind.JSON_OBJECT: "jsonb[]",
}
# How an existing column of one kind becomes another (``ALTER COLUMN ... TYPE ... USING``).
_CONVERSIONS: dict[tuple[ColumnKind, ColumnKind], str] = {
    (ColumnKind.BOOLEAN, ColumnKind.INTEGER): "{c}::int",
    (ColumnKind.BOOLEAN, ColumnKind.REAL): "{c}::int::float8",
    (ColumnKind.INTEGER, ColumnKind.BOOLEAN): "{c} <> 0",
    (ColumnKind.REAL, ColumnKind.BOOLEAN): "{c} <> 0",
}
_CONNECTION_LOST = (
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.ConnectionFailureError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.InternalClientError,  # a connection left mid-protocol by a lost server
    ConnectionError,
)
# Placeholders are emitted as NUL-delimited tokens (NUL cannot occur in a quoted
# identifier) and typed from their values once a statement is complete.
_TOKEN = re.compile("\x00([0-9]+)\x00")


# -- dialect ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Typed:
    """A parameter whose SQL type is given, not derived from the value (arrays)."""

    value: Any
    sql_type: str


class PostgresDialect(Dialect):
    """PostgreSQL spelling of the shared SQL builder.

    Columns are strictly typed, so most type tests follow from the column kind;
    every test stays two-valued (``NULL`` is checked explicitly). Booleans are
    compared as numbers (``True == 1``, as in Python), through the ``::int``
    column expression of :func:`query_layout`.
    """

    true = "TRUE"
    false = "FALSE"

    def placeholder(self, n: int) -> str:
        return f"\x00{n}\x00"

    def is_text(self, col: Column) -> str:
        return f"({col.sql} IS NOT NULL)" if col.kind is ColumnKind.TEXT else self.false

    def is_number(self, col: Column) -> str:
        if col.kind in (ColumnKind.INTEGER, ColumnKind.REAL, ColumnKind.BOOLEAN):
            return f"({col.sql} IS NOT NULL)"
        return self.false

    def attribute_type(self, col: Column, type_name: str) -> str:
        c = col.sql
        if type_name == "_null":
            return f"{c} IS NULL"
        if col.kind.is_json:
            json_type = {
                "list": "array",
                "map": "object",
                "string": "string",
                "number": "number",
                "bool": "boolean",
            }.get(type_name)
            if json_type is None:
                return self.false
            return f"({c} IS NOT NULL AND jsonb_typeof({c}) = '{json_type}')"
        wanted = {
            ColumnKind.TEXT: "string",
            ColumnKind.INTEGER: "number",
            ColumnKind.REAL: "number",
            ColumnKind.BOOLEAN: "bool",
        }[col.kind]
        return f"{c} IS NOT NULL" if type_name == wanted else self.false

    def size(self, col: Column) -> tuple[str, str] | None:
        c = col.sql
        if col.kind is ColumnKind.JSON_LIST:
            return f"({c} IS NOT NULL AND jsonb_typeof({c}) = 'array')", f"jsonb_array_length({c})"
        if col.kind is ColumnKind.JSON_OBJECT:
            return (
                f"({c} IS NOT NULL AND jsonb_typeof({c}) = 'object')",
                f"(SELECT count(*) FROM jsonb_object_keys({c}))",
            )
        if col.kind is ColumnKind.TEXT:
            return f"({c} IS NOT NULL)", f"char_length({c})"
        return None

    def substring(self, col: Column, placeholder: str) -> str:
        return f"strpos({col.sql}, {placeholder}) > 0"

    def json_list_has(self, col: Column, value: Any, params: SqlParams) -> str:
        c = col.sql
        elements = f"jsonb_array_elements({c}) AS _e(v)"
        if value is None:
            cond = "jsonb_typeof(_e.v) = 'null'"
        elif isinstance(value, str):
            return f"({c} @> jsonb_build_array({params.add(value)}))"
        elif isinstance(value, bool | int | float):
            if isinstance(value, float) and value != value:
                return self.false  # NaN equals nothing
            ph = params.add(value)
            cond = (
                f"(jsonb_typeof(_e.v) = 'number' AND (_e.v)::numeric = {ph}) OR "
                f"(jsonb_typeof(_e.v) = 'boolean' AND (_e.v)::boolean::int = {ph})"
            )
        elif isinstance(value, list | tuple | dict):
            cond = f"_e.v = {params.add(canonical_json(value))}::jsonb"
        else:
            raise ValidationError(f"unsupported value type {type(value).__name__}")
        return f"EXISTS (SELECT 1 FROM {elements} WHERE {cond})"

    def is_json_list(self, col: Column) -> str:
        return f"({col.sql} IS NOT NULL AND jsonb_typeof({col.sql}) = 'array')"

    def json_equals(self, col: Column, value: Any, params: SqlParams) -> str:
        return f"({col.sql} IS NOT NULL AND {col.sql} = {params.add(canonical_json(value))}::jsonb)"

    def json_in(self, col: Column, docs: Sequence[Any], params: SqlParams) -> str:
        phs = ", ".join(f"{params.add(canonical_json(v))}::jsonb" for v in docs)
        return f"({col.sql} IS NOT NULL AND {col.sql} IN ({phs}))"


_DIALECT = PostgresDialect()


def _bind(values: Sequence[Any]) -> tuple[list[str], list[Any]]:
    """The typed placeholder for each value, and the value as asyncpg encodes it."""
    spelled: list[str] = []
    out: list[Any] = []
    for n, value in enumerate(values, start=1):
        if isinstance(value, _Typed):
            spelled.append(f"${n}::{value.sql_type}")
            out.append(value.value)
        elif isinstance(value, bool):
            spelled.append(f"${n}::bigint")  # booleans compare as numbers
            out.append(int(value))
        elif isinstance(value, int):
            if _INT64[0] <= value <= _INT64[1]:
                spelled.append(f"${n}::bigint")
                out.append(value)
            else:
                spelled.append(f"${n}::numeric")
                out.append(Decimal(value))
        elif isinstance(value, float):
            spelled.append(f"${n}::float8")
            out.append(value)
        elif value is None or isinstance(value, str):
            spelled.append(f"${n}::text")
            out.append(value)
        else:
            raise ValidationError(f"unsupported value type {type(value).__name__}")
    return spelled, out


def finish(sql: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """``sql`` with its placeholder tokens replaced by typed ``$n`` parameters."""
    spelled, out = _bind(values)
    return _TOKEN.sub(lambda m: spelled[int(m.group(1)) - 1], sql), out


def query_layout(layout: TableLayout) -> TableLayout:
    """``layout`` for filters: boolean columns read as ``0``/``1``, so they compare as numbers."""
    if not any(c.kind is ColumnKind.BOOLEAN for c in layout.columns):
        return layout
    columns = tuple(
        Column(c.name, c.kind, f"({c.sql}::int)") if c.kind is ColumnKind.BOOLEAN else c
        for c in layout.columns
    )
    return TableLayout(
        model=layout.model,
        sql=layout.sql,
        columns=columns,
        primary_key=layout.primary_key,
        indexes=layout.indexes,
        by_name={c.name: c for c in columns},
    )


def index_name(model: str, index: str) -> str:
    """The database name of a secondary index (unique per schema, at most 63 bytes)."""
    name = f"{model}/{index}"
    if len(name.encode()) <= _MAX_IDENTIFIER:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:12]
    head = name.encode()[: _MAX_IDENTIFIER - len(digest) - 1].decode(errors="ignore")
    return f"{head}~{digest}"


# -- tables -----------------------------------------------------------------------------------


def _decode_json(value: Any) -> Any:
    if not isinstance(value, str | bytes):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        # jsonb prints large floats (1e20) as integers, beyond orjson's 64-bit range
        return json.loads(value)


@dataclass(slots=True)
class _Table:
    """A model's table with its pre-built statements and codecs."""

    layout: TableLayout
    filters: TableLayout
    names: tuple[str, ...]
    kinds: dict[str, ColumnKind]
    json_columns: tuple[str, ...]
    pk_where: str
    select_pk: str
    select_pk_for_update: str
    insert: str
    delete: str
    updates: dict[tuple[str, ...], str] = field(default_factory=dict)

    @classmethod
    def build(cls, layout: TableLayout) -> _Table:
        cols = layout.select_list
        t = layout.sql
        pk = layout.primary_key
        pk_where = " AND ".join(
            f"{layout.by_name[k].sql} = ${n}{_cast(layout.by_name[k].kind)}" for n, k in enumerate(pk, 1)
        )
        values = ", ".join(f"${n}{_cast(c.kind)}" for n, c in enumerate(layout.columns, 1))
        select_pk = f"SELECT {cols} FROM {t} WHERE {pk_where}"
        return cls(
            layout=layout,
            filters=query_layout(layout),
            names=tuple(c.name for c in layout.columns),
            kinds={c.name: c.kind for c in layout.columns},
            json_columns=tuple(c.name for c in layout.columns if c.kind.is_json),
            pk_where=pk_where,
            select_pk=select_pk,
            select_pk_for_update=select_pk + " FOR UPDATE",
            insert=f"INSERT INTO {t} ({cols}) VALUES ({values}) ON CONFLICT DO NOTHING RETURNING {cols}",
            delete=f"DELETE FROM {t} WHERE {pk_where} RETURNING {cols}",
        )

    def decode(self, row: asyncpg.Record) -> Record:
        record: Record = dict(zip(self.names, row, strict=True))
        for name in self.json_columns:
            value = record[name]
            if value is not None:
                record[name] = _decode_json(value)
        return record

    def encode(self, name: str, value: Any) -> Any:
        if value is None:
            return None
        kind = self.kinds[name]
        model = self.layout.model
        if kind.is_json:
            try:
                return canonical_json(value)
            except TypeError:
                raise ValidationError(f"field {name!r} of {model!r} is not JSON") from None
        if kind is ColumnKind.TEXT and isinstance(value, str):
            return value
        if kind is ColumnKind.INTEGER and isinstance(value, int) and not isinstance(value, bool):
            return value
        if kind is ColumnKind.REAL and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if kind is ColumnKind.BOOLEAN and isinstance(value, bool):
            return value
        raise ValidationError(f"field {name!r} of {model!r} cannot hold a {type(value).__name__}")

    def key_params(self, key: dict[str, Any]) -> tuple[Any, ...]:
        try:
            return tuple(self.encode(k, key[k]) for k in self.layout.primary_key)
        except KeyError as exc:
            raise ValidationError(f"the key of {self.layout.model!r} needs field {exc.args[0]!r}") from None

    def check_fields(self, record: Record) -> None:
        for name in record:
            if name not in self.layout.by_name:
                raise ValidationError(f"{self.layout.model!r} has no stored field {name!r}")

    def update_sql(self, names: tuple[str, ...]) -> str:
        sql = self.updates.get(names)
        if sql is None:
            if len(self.updates) >= _UPDATE_CACHE_SIZE:
                self.updates.clear()
            layout = self.layout
            first = len(layout.primary_key) + 1
            sets = ", ".join(
                f"{layout.by_name[n].sql} = ${i}{_cast(layout.by_name[n].kind)}"
                for i, n in enumerate(names, first)
            )
            sql = f"UPDATE {layout.sql} SET {sets} WHERE {self.pk_where} RETURNING {layout.select_list}"
            self.updates[names] = sql
        return sql


def _cast(kind: ColumnKind) -> str:
    return "::jsonb" if kind.is_json else ""


# -- errors -----------------------------------------------------------------------------------


def _is_connection_loss(exc: BaseException) -> bool:
    return isinstance(exc, _CONNECTION_LOST) or (
        isinstance(exc, OSError) and not isinstance(exc, TimeoutError)
    )


def _translate(exc: BaseException, what: str) -> AmpbaseError:
    if isinstance(exc, asyncpg.exceptions.UniqueViolationError):
        return ConditionalCheckFailedError()
    if isinstance(
        exc,
        asyncpg.exceptions.DataError
        | asyncpg.exceptions.CharacterNotInRepertoireError
        | asyncpg.exceptions.UntranslatableCharacterError
        | asyncpg.exceptions.NumericValueOutOfRangeError
        | asyncpg.exceptions.InvalidTextRepresentationError
        | OverflowError
        | UnicodeEncodeError,
    ):
        return ValidationError(f"a value cannot be stored or compared in {what}")
    if isinstance(exc, asyncpg.exceptions.QueryCanceledError):
        return StorageError(f"the database cancelled {what} (statement timeout)")
    if isinstance(exc, asyncpg.exceptions.SerializationError | asyncpg.exceptions.DeadlockDetectedError):
        return StorageError(f"the database is busy ({what}); retry")
    if _is_connection_loss(exc):
        return StorageError(f"the database is unavailable ({what})")
    return StorageError(f"the database failed during {what}")


# -- adapter ----------------------------------------------------------------------------------


Conn: TypeAlias = asyncpg.Connection


class PostgresStorage:
    """:class:`~ampbase.storage.base.StorageAdapter` over PostgreSQL (``asyncpg`` pool).

    ``dsn`` is a ``postgresql://`` URL; ``min_size``/``max_size`` bound the
    pool (one connection serves one statement or transaction at a time);
    ``schema`` puts every table in that PostgreSQL schema; ``timeout`` caps
    each call, waiting for a connection included.
    """

    def __init__(
        self,
        dsn: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        schema: str | None = None,
        timeout: float = 10.0,
        connect_timeout: float = 5.0,
    ) -> None:
        if min_size < 0 or max_size < 1 or min_size > max_size:
            raise ConfigError("the pool needs 0 <= min_size <= max_size and max_size >= 1")
        self.dsn = dsn
        self.schema = schema
        self.min_size = min_size
        self.max_size = max_size
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.stats = StorageStats()
        self._pool: asyncpg.Pool | None = None
        self._tables: dict[str, _Table] = {}

    # -- plumbing ----------------------------------------------------------------------------

    def _table(self, model: str) -> _Table:
        table = self._tables.get(model)
        if table is None:
            if self._pool is None:
                raise StorageError("the storage is not open")
            raise ValidationError(f"unknown model {model!r}")
        return table

    async def _call(self, what: str, work: Callable[[Conn], Awaitable[T]], *, read: bool = False) -> T:
        """Run ``work`` on a pooled connection within ``timeout`` (waiting for a connection and a
        retry included), translating failures.

        A read that meets a connection broken by a server restart runs once more, on a new one.
        """
        pool = self._pool
        if pool is None:
            raise StorageError("the storage is not open")
        try:
            async with asyncio.timeout(self.timeout):
                try:
                    return await self._attempt(pool, work)
                except Exception as exc:
                    if not (read and _is_connection_loss(exc)):
                        raise
                    logger.info("retrying %s after a lost connection: %s", what, exc)
                return await self._attempt(pool, work)
        except AmpbaseError:
            raise
        except TimeoutError as exc:
            raise StorageError(f"the database did not answer within {self.timeout:g}s ({what})") from exc
        except Exception as exc:
            if not isinstance(exc, asyncpg.exceptions.UniqueViolationError):
                logger.warning("PostgreSQL %s failed: %s: %s", what, type(exc).__name__, exc)
            raise _translate(exc, what) from exc

    @staticmethod
    async def _attempt(pool: asyncpg.Pool, work: Callable[[Conn], Awaitable[T]]) -> T:
        async with pool.acquire() as conn:
            try:
                return await work(conn)
            except asyncio.CancelledError:
                # Timed out (or cancelled) mid-statement: never wait for or reuse this connection.
                conn.terminate()
                raise
            except Exception as exc:
                if _is_connection_loss(exc):
                    conn.terminate()  # the pool opens a fresh one in its place
                raise

    async def _fetch(self, conn: Conn, sql: str, *args: Any) -> list[asyncpg.Record]:
        self.stats.statements += 1
        rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
        return rows

    async def _fetchrow(self, conn: Conn, sql: str, *args: Any) -> asyncpg.Record | None:
        self.stats.statements += 1
        row: asyncpg.Record | None = await conn.fetchrow(sql, *args)
        return row

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self, schema: SchemaDef) -> None:
        if self._pool is not None:
            raise StorageError("the storage is already open")
        tables: dict[str, _Table] = {}
        for model in schema.models:
            if model.name in _RESERVED_TABLES:
                raise ConfigError(f"a model cannot be named {model.name!r}: ampbase uses that table")
            tables[model.name] = _Table.build(table_layout(model))
        settings = {"application_name": "ampbase"}
        if self.schema is not None:
            settings["search_path"] = quote_ident(self.schema)
        try:
            async with asyncio.timeout(self.connect_timeout + self.timeout):
                if self.schema is not None:
                    await self._create_schema(self.schema)
                pool = await asyncpg.create_pool(
                    self.dsn,
                    min_size=self.min_size,
                    max_size=self.max_size,
                    timeout=self.connect_timeout,
                    server_settings=settings,
                )
        except AmpbaseError:
            raise
        except TimeoutError as exc:
            raise StorageError("could not connect to PostgreSQL: timed out") from exc
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StorageError(f"could not connect to PostgreSQL: {type(exc).__name__}: {exc}") from exc
        except ValueError as exc:  # a malformed DSN
            raise ConfigError(f"invalid PostgreSQL URL: {exc}") from exc
        self._pool = pool
        try:
            layouts = [t.layout for t in tables.values()]
            await self._call("migration", lambda conn: self._migrate(conn, layouts))
        except BaseException:
            await self.close()
            raise
        self._tables = tables
        self.stats.statements = 0

    async def _create_schema(self, name: str) -> None:
        conn = await asyncpg.connect(self.dsn, timeout=self.connect_timeout)
        try:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('ampbase.schema', 0))")
                await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(name)}")
        finally:
            await conn.close()

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        self._tables = {}
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), timeout=self.timeout)
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                logger.warning("closing the PostgreSQL pool failed; terminating it", exc_info=True)
                pool.terminate()

    async def ping(self) -> None:
        """Raise :class:`StorageError` unless the database answers."""
        await self._call("ping", lambda conn: conn.fetchval("SELECT 1"), read=True)

    # -- schema evolution --------------------------------------------------------------------

    async def _migrate(self, conn: Conn, layouts: list[TableLayout]) -> None:
        async with conn.transaction():
            # One migrator at a time per schema; the others wait, then find nothing to do.
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended('ampbase.migrate.' || current_schema(), 0))"
            )
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {quote_ident(META_TABLE)} ("
                'model text COLLATE "C" PRIMARY KEY, primary_key jsonb NOT NULL, columns jsonb NOT NULL)'
            )
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {quote_ident(API_KEYS_TABLE)} ("
                "id text PRIMARY KEY, expires_at bigint NOT NULL, "
                "description text NOT NULL DEFAULT '', created_at bigint NOT NULL DEFAULT 0)"
            )
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {quote_ident(SETTINGS_TABLE)} ("
                "name text PRIMARY KEY, value text NOT NULL)"
            )
            for layout in layouts:
                await self._migrate_table(conn, layout)

    async def _migrate_table(self, conn: Conn, layout: TableLayout) -> None:
        oid = await conn.fetchval("SELECT to_regclass($1)::oid", layout.sql)
        columns: dict[str, str] = {}
        if oid is not None:
            rows = await conn.fetch(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                oid,
            )
            columns = {r[0]: r[1] for r in rows}
            old_pk = tuple(
                r[0]
                for r in await conn.fetch(
                    "SELECT a.attname FROM pg_index i "
                    "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "
                    "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                    "WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.ord",
                    oid,
                )
            )
            if old_pk != layout.primary_key:
                if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {layout.sql})"):
                    raise ConfigError(self._primary_key_changed(layout, old_pk))
                logger.info("recreating empty table %r for its new primary key", layout.model)
                await conn.execute(f"DROP TABLE {layout.sql}")
                oid = None
                columns = {}
        old_kinds = await self._stored_kinds(conn, layout.model)
        if oid is None:
            defs = [
                f"{c.sql} {PG_TYPES[c.kind]}" + (" NOT NULL" if c.name in layout.primary_key else "")
                for c in layout.columns
            ]
            pk = ", ".join(layout.by_name[k].sql for k in layout.primary_key)
            await conn.execute(f"CREATE TABLE {layout.sql} ({', '.join(defs)}, PRIMARY KEY ({pk}))")
        else:
            for c in layout.columns:
                if c.name not in columns:
                    await conn.execute(f"ALTER TABLE {layout.sql} ADD COLUMN {c.sql} {PG_TYPES[c.kind]}")
                else:
                    old = old_kinds.get(c.name)
                    if old is not None and old is not c.kind:
                        await self._convert_column(conn, layout, c, old)
        await self._migrate_indexes(conn, layout)
        await conn.execute(
            f"INSERT INTO {quote_ident(META_TABLE)} (model, primary_key, columns) "
            "VALUES ($1, $2::jsonb, $3::jsonb) ON CONFLICT (model) DO UPDATE SET "
            "primary_key = excluded.primary_key, columns = excluded.columns",
            layout.model,
            canonical_json(list(layout.primary_key)),
            canonical_json({c.name: c.kind.value for c in layout.columns}),
        )

    async def _convert_column(self, conn: Conn, layout: TableLayout, col: Column, old: ColumnKind) -> None:
        c = col.sql
        base = PG_TYPES[col.kind].split()[0]
        template = _CONVERSIONS.get((old, col.kind))
        if template is not None:
            using = template.format(c=c)
        elif col.kind is ColumnKind.TEXT:
            using = f"{c} #>> '{{}}'" if old.is_json else f"{c}::text"
        elif col.kind.is_json:
            using = f"{c}::jsonb" if old is ColumnKind.TEXT else f"to_jsonb({c})"
        elif old.is_json:
            using = f"({c} #>> '{{}}')::{base}"
        else:
            using = f"{c}::{base}"
        logger.warning(
            "field %r of model %r changed from %s to %s; converting the stored values",
            col.name,
            layout.model,
            old.value,
            col.kind.value,
        )
        try:
            async with conn.transaction():  # a savepoint: the error below leaves the migration usable
                await conn.execute(
                    f"ALTER TABLE {layout.sql} ALTER COLUMN {c} TYPE {PG_TYPES[col.kind]} USING {using}"
                )
        except asyncpg.PostgresError as exc:
            raise ConfigError(
                f"field {col.name!r} of model {layout.model!r} changed from {old.value} to "
                f"{col.kind.value}, but its stored values do not convert ({exc}). Restore the previous "
                f"type, or clear or fix the {col.name!r} values of {layout.model!r} first."
            ) from exc

    async def _stored_kinds(self, conn: Conn, model: str) -> dict[str, ColumnKind]:
        raw = await conn.fetchval(f"SELECT columns FROM {quote_ident(META_TABLE)} WHERE model = $1", model)
        if raw is None:
            return {}
        kinds = orjson.loads(raw)
        out: dict[str, ColumnKind] = {}
        if isinstance(kinds, dict):
            for k, v in kinds.items():
                try:
                    out[str(k)] = ColumnKind(v)
                except ValueError:
                    continue
        return out

    async def _migrate_indexes(self, conn: Conn, layout: TableLayout) -> None:
        rows = await conn.fetch(
            "SELECT c.relname, array_agg(a.attname ORDER BY k.ord) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
            "WHERE i.indrelid = to_regclass($1) AND NOT i.indisprimary "
            "AND obj_description(c.oid, 'pg_class') = $2 GROUP BY c.relname",
            layout.sql,
            _INDEX_COMMENT,
        )
        existing = {r[0]: tuple(r[1]) for r in rows}
        wanted = {index_name(layout.model, ix.name): layout.index_columns(ix) for ix in layout.indexes}
        for name, cols in existing.items():
            if wanted.get(name) != cols:
                await conn.execute(f"DROP INDEX {quote_ident(name)}")
        for name, cols in wanted.items():
            if existing.get(name) != cols:
                col_sql = ", ".join(layout.by_name[c].sql for c in cols)
                await conn.execute(f"CREATE INDEX {quote_ident(name)} ON {layout.sql} ({col_sql})")
                await conn.execute(f"COMMENT ON INDEX {quote_ident(name)} IS '{_INDEX_COMMENT}'")

    def _primary_key_changed(self, layout: TableLayout, old_pk: tuple[str, ...]) -> str:
        old = ", ".join(old_pk)
        new = ", ".join(layout.primary_key)
        return (
            f"The primary key of model {layout.model!r} changed from ({old}) to ({new}), but its table "
            f"already holds rows keyed by ({old}). ampbase cannot re-key stored data in place. Either "
            f"restore the previous primary key, or export the {layout.model} data, then drop or rename "
            f'the table (ALTER TABLE "{layout.model}" RENAME TO "{layout.model}_old"), or point ampbase '
            "at a new database or schema, and import the data again."
        )

    # -- single items ------------------------------------------------------------------------

    async def get(self, model: str, key: dict[str, Any]) -> Record | None:
        table = self._table(model)
        params = table.key_params(key)

        async def work(conn: Conn) -> Record | None:
            row = await self._fetchrow(conn, table.select_pk, *params)
            return None if row is None else table.decode(row)

        return await self._call(f"get {model}", work, read=True)

    async def get_many(self, model: str, keys: list[dict[str, Any]]) -> list[Record | None]:
        table = self._table(model)
        wanted = [table.key_params(k) for k in keys]
        if not wanted:
            return []
        layout = table.layout
        unique = list(dict.fromkeys(wanted))
        pk_cols = [layout.by_name[k] for k in layout.primary_key]
        arrays = [[k[i] for k in unique] for i in range(len(pk_cols))]
        sql, args = _key_join_sql(layout, pk_cols, arrays)

        async def work(conn: Conn) -> list[Record]:
            return [table.decode(r) for r in await self._fetch(conn, sql, *args)]

        found = await self._call(f"get_many {model}", work, read=True)
        pk = layout.primary_key
        by_key = {tuple(r[k] for k in pk): r for r in found}
        out: list[Record | None] = []
        for key in keys:
            r = by_key.get(tuple(key[k] for k in pk))
            out.append(None if r is None else dict(r))
        return out

    async def insert(self, model: str, record: Record, condition: Predicate | None = None) -> Record:
        table = self._table(model)
        table.check_fields(record)
        table.key_params(record)
        if any(record.get(k) is None for k in table.layout.primary_key):
            raise ValidationError(f"the key of {model!r} cannot be null")
        if condition is not None and not evaluate(condition, {}):
            raise ConditionalCheckFailedError()
        params = tuple(table.encode(n, record.get(n)) for n in table.names)

        async def work(conn: Conn) -> Record:
            row = await self._fetchrow(conn, table.insert, *params)
            if row is None:
                raise ConditionalCheckFailedError()
            return table.decode(row)

        return await self._call(f"insert {model}", work)

    async def update(
        self,
        model: str,
        key: dict[str, Any],
        changes: Record,
        condition: Predicate | None = None,
    ) -> Record:
        table = self._table(model)
        key_params = table.key_params(key)
        table.check_fields(changes)
        pk = table.layout.primary_key
        for k in pk:
            if k in changes and changes[k] != key[k]:
                raise ValidationError(f"the key field {k!r} of {model!r} cannot be changed")
        names = tuple(n for n in table.names if n in changes and n not in pk)
        values = tuple(table.encode(n, changes[n]) for n in names)

        async def work(conn: Conn) -> Record:
            if condition is None and names:
                row = await self._fetchrow(conn, table.update_sql(names), *key_params, *values)
                if row is None:
                    raise ConditionalCheckFailedError()
                return table.decode(row)
            async with conn.transaction():
                row = await self._fetchrow(conn, table.select_pk_for_update, *key_params)
                if row is None:
                    raise ConditionalCheckFailedError()
                current = table.decode(row)
                if condition is not None and not evaluate(condition, current):
                    raise ConditionalCheckFailedError()
                if not names:
                    return current
                new = await self._fetchrow(conn, table.update_sql(names), *key_params, *values)
                if new is None:  # pragma: no cover - the row is locked by this transaction
                    raise ConditionalCheckFailedError()
                return table.decode(new)

        return await self._call(f"update {model}", work)

    async def delete(self, model: str, key: dict[str, Any], condition: Predicate | None = None) -> Record:
        table = self._table(model)
        key_params = table.key_params(key)

        async def work(conn: Conn) -> Record:
            if condition is None:
                row = await self._fetchrow(conn, table.delete, *key_params)
                if row is None:
                    raise ConditionalCheckFailedError()
                return table.decode(row)
            async with conn.transaction():
                row = await self._fetchrow(conn, table.select_pk_for_update, *key_params)
                if row is None or not evaluate(condition, table.decode(row)):
                    raise ConditionalCheckFailedError()
                deleted = await self._fetchrow(conn, table.delete, *key_params)
                if deleted is None:  # pragma: no cover - the row is locked by this transaction
                    raise ConditionalCheckFailedError()
                return table.decode(deleted)

        return await self._call(f"delete {model}", work)

    # -- queries -----------------------------------------------------------------------------

    def _query_sql(self, query: Query) -> tuple[_Table, str, list[Any], tuple[str, ...]]:
        table = self._table(query.model)
        if query.limit < 1:
            raise ValidationError("limit must be at least 1")
        plan = plan_select(table.filters, query, _DIALECT)
        where = " AND ".join(plan.where) or "TRUE"
        sql = (
            f"SELECT {table.layout.select_list} FROM {table.layout.sql} WHERE {where} "
            f"ORDER BY {plan.order_sql} LIMIT {plan.params.add(query.limit + 1)}"
        )
        sql, args = finish(sql, plan.params.values)
        return table, sql, args, plan.order

    async def query(self, query: Query) -> Page:
        table, sql, args, order = self._query_sql(query)

        async def work(conn: Conn) -> list[Record]:
            return [table.decode(r) for r in await self._fetch(conn, sql, *args)]

        records = await self._call(f"query {query.model}", work, read=True)
        return _page(records, query.limit, order)

    async def explain(self, query: Query) -> list[str]:
        """PostgreSQL's plan for ``query`` (``EXPLAIN`` lines), for tests and tuning."""
        _, sql, args, _ = self._query_sql(query)

        async def work(conn: Conn) -> list[str]:
            return [str(r[0]) for r in await conn.fetch(f"EXPLAIN {sql}", *args)]

        return await self._call("explain", work, read=True)

    async def query_related(
        self, query: Query, fields: tuple[str, ...], values: list[tuple[Any, ...]]
    ) -> dict[tuple[Any, ...], Page]:
        table = self._table(query.model)
        layout = table.filters
        if query.limit < 1:
            raise ValidationError("limit must be at least 1")
        if not fields:
            raise ValidationError("query_related needs at least one field")
        cols: list[Column] = []
        for f in fields:
            col = table.layout.column(f)
            if col is None:
                raise ValidationError(f"{query.model!r} has no stored field {f!r}")
            cols.append(col)
        result: dict[tuple[Any, ...], Page] = {}
        parents: list[tuple[Any, ...]] = []
        for v in values:
            v = tuple(v)
            if len(v) != len(fields):
                raise ValidationError("each parent value needs one value per field")
            if v not in result:
                result[v] = Page([])
                if all(x is not None for x in v):
                    parents.append(v)
        if not parents:
            return result
        plan = plan_select(layout, query, _DIALECT, related_fields=fields)
        p = plan.params
        arrays = [
            p.add(_Typed([table.encode(f, v[i]) for v in parents], _ARRAY_TYPES[c.kind]))
            for i, (f, c) in enumerate(zip(fields, cols, strict=True))
        ]
        keys = ", ".join(f"_ampbase_k{i}" for i in range(len(cols)))
        on = " AND ".join(f"{layout.sql}.{c.sql} = _ampbase_keys._ampbase_k{i}" for i, c in enumerate(cols))
        where = " AND ".join(plan.where) or "TRUE"
        partition = ", ".join(f"{layout.sql}.{c.sql}" for c in cols)
        select = table.layout.select_list
        sql = (
            f"SELECT {select} FROM ("
            f"SELECT {', '.join(f'{layout.sql}.{c.sql}' for c in table.layout.columns)}, "
            f"ROW_NUMBER() OVER (PARTITION BY {partition} ORDER BY {plan.order_sql}) AS {_ROW_NUMBER} "
            f"FROM unnest({', '.join(arrays)}) AS _ampbase_keys({keys}) "
            f"JOIN {layout.sql} ON {on} WHERE {where}"
            f") AS _ranked WHERE {_ROW_NUMBER} <= {p.add(query.limit + 1)} ORDER BY {_ROW_NUMBER}"
        )
        sql, args = finish(sql, p.values)

        async def work(conn: Conn) -> list[Record]:
            return [table.decode(r) for r in await self._fetch(conn, sql, *args)]

        records = await self._call(f"query_related {query.model}", work, read=True)
        order = table.layout.ordering(query.index)
        groups: dict[tuple[Any, ...], list[Record]] = {}
        for r in records:
            groups.setdefault(tuple(r[f] for f in fields), []).append(r)
        for v in result:
            rows_for = groups.get(v)
            if rows_for:
                result[v] = _page(rows_for, query.limit, order)
        return result

    # -- API keys and shared settings --------------------------------------------------------

    async def put_api_key(self, key: ApiKeyRecord) -> None:
        sql = (
            f"INSERT INTO {quote_ident(API_KEYS_TABLE)} (id, expires_at, description, created_at) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at, "
            "description = excluded.description, created_at = excluded.created_at"
        )

        async def work(conn: Conn) -> None:
            self.stats.statements += 1
            await conn.execute(sql, key.id, key.expires_at, key.description, key.created_at)

        await self._call("put_api_key", work)

    async def list_api_keys(self) -> list[ApiKeyRecord]:
        sql = (
            f"SELECT id, expires_at, description, created_at FROM {quote_ident(API_KEYS_TABLE)} "
            "ORDER BY created_at, id"
        )

        async def work(conn: Conn) -> list[ApiKeyRecord]:
            return [
                ApiKeyRecord(id=r[0], expires_at=r[1], description=r[2], created_at=r[3])
                for r in await self._fetch(conn, sql)
            ]

        return await self._call("list_api_keys", work, read=True)

    async def delete_api_key(self, key_id: str) -> bool:
        sql = f"DELETE FROM {quote_ident(API_KEYS_TABLE)} WHERE id = $1 RETURNING id"

        async def work(conn: Conn) -> bool:
            return await self._fetchrow(conn, sql, key_id) is not None

        return await self._call("delete_api_key", work)

    async def shared_secret(self, name: str, create: Callable[[], str]) -> str:
        """The value stored under ``name`` in ``_ampbase_settings``, stored from ``create()`` if
        absent: the first replica to ask decides, every other one reads the same value."""
        sql_insert = (
            f"INSERT INTO {quote_ident(SETTINGS_TABLE)} (name, value) VALUES ($1, $2) "
            "ON CONFLICT (name) DO NOTHING"
        )
        sql_select = f"SELECT value FROM {quote_ident(SETTINGS_TABLE)} WHERE name = $1"

        async def work(conn: Conn) -> str:
            value = await conn.fetchval(sql_select, name)
            if value is None:
                await conn.execute(sql_insert, name, create())
                value = await conn.fetchval(sql_select, name)
            if not isinstance(value, str):  # pragma: no cover - the row was just written
                raise StorageError(f"the shared setting {name!r} is missing")
            return value

        return await self._call(f"shared setting {name}", work)


def _key_join_sql(layout: TableLayout, cols: list[Column], arrays: list[list[Any]]) -> tuple[str, list[Any]]:
    """SELECT the rows whose ``cols`` equal one of the tuples given column-wise in ``arrays``."""
    if len(cols) == 1:
        sql = (
            f"SELECT {layout.select_list} FROM {layout.sql} "
            f"WHERE {cols[0].sql} = ANY($1::{_ARRAY_TYPES[cols[0].kind]})"
        )
        return sql, [arrays[0]]
    unnest = ", ".join(f"${i + 1}::{_ARRAY_TYPES[c.kind]}" for i, c in enumerate(cols))
    names = ", ".join(f"_ampbase_k{i}" for i in range(len(cols)))
    on = " AND ".join(f"{layout.sql}.{c.sql} = _ampbase_keys._ampbase_k{i}" for i, c in enumerate(cols))
    select = ", ".join(f"{layout.sql}.{c.sql}" for c in layout.columns)
    sql = f"SELECT {select} FROM unnest({unnest}) AS _ampbase_keys({names}) JOIN {layout.sql} ON {on}"
    return sql, list(arrays)


def _page(records: list[Record], limit: int, order: tuple[str, ...]) -> Page:
    if len(records) > limit:
        items = records[:limit]
        return Page(items, tuple(items[-1][f] for f in order))
    return Page(records)
