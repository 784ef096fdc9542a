"""The SQLite storage adapter (the default), on the standard library's ``sqlite3``.

Storage layout (see :mod:`ampbase.storage.sql` for the column mapping):

* table ``"<Model>"`` per model: a column per stored field, declared ``TEXT``,
  ``INTEGER`` (``Int``, ``AWSTimestamp``, and ``Boolean`` as 0/1), ``REAL``
  (``Float``) or ``TEXT`` holding JSON (lists, custom types); ``PRIMARY KEY``
  over the model's primary key, ``WITHOUT ROWID`` (rows are stored in key order);
* index ``"<Model>/<index name>"`` per secondary index over (partition key,
  sort keys..., remaining primary key fields);
* ``"_ampbase_meta"``: per model its primary key and column kinds as JSON
  (what :meth:`SQLiteStorage.open` compares a new schema against);
* ``"_ampbase_api_keys"``: the API keys.

``open`` evolves an existing database additively in one transaction: new
models get tables, new fields get columns (``ALTER TABLE ADD COLUMN``; existing
rows read them as null), new or changed indexes are (re)built, and removed
fields' columns are kept with their data. A changed primary key cannot be
migrated in place: an empty table is recreated, a table with rows is refused
with a :class:`~ampbase.errors.ConfigError` that says what to do.

Concurrency and durability: the database runs in WAL mode with
``synchronous=FULL``, so a write is durable once its call returns. One writer
connection serialises all writes on its own thread; reads go to a small pool of
read-only connections, each on its own thread (WAL readers never block the
writer). Single-statement writes use ``RETURNING``; writes with a condition run
``BEGIN IMMEDIATE`` → read → :func:`~ampbase.storage.predicate.evaluate` →
write → ``COMMIT`` on the writer thread, so nothing can change in between.

Group commit: the writer thread drains a queue. A write that finds the queue
empty runs alone, exactly as above (no waiting for company). When several
writes are queued, up to :data:`_GROUP` of them run in one ``BEGIN IMMEDIATE``
… ``COMMIT`` (one WAL fsync), in arrival order, each inside its own
``SAVEPOINT``: a write that fails (a false condition, a duplicate key, a bad
value) is rolled back to its savepoint alone and the others go on. Every
caller is answered only after the ``COMMIT`` returned, so an acknowledged
write is as durable as before. If the group's transaction itself fails (its
``BEGIN``, a savepoint, its ``COMMIT``, or a write whose error ends the whole
transaction), it is rolled back and its writes run again one by one, each
getting the outcome it would have had alone. Results go back to the event
loop once per group.

``stats.statements`` counts the SQL statements run for callers after ``open``
(transaction control ``BEGIN``/``SAVEPOINT``/``COMMIT`` excluded): a ``get`` is 1, a
``query``/``get_many``/``query_related`` is 1 per 500 keys or parents, an
unconditional write is 1, a conditional update/delete is 2 (read, write).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

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
    ColumnKind,
    Dialect,
    TableLayout,
    canonical_json,
    plan_select,
    quote_ident,
    table_layout,
)

__all__ = ["SQLiteStorage"]

logger = logging.getLogger("ampbase.storage.sqlite")

T = TypeVar("T")

META_TABLE = "_ampbase_meta"
API_KEYS_TABLE = "_ampbase_api_keys"
_RESERVED_TABLES = frozenset({META_TABLE, API_KEYS_TABLE})
_ROW_NUMBER = '"_ampbase_rn"'
_KEYS = '"_ampbase_keys"'
# Keys / parent tuples per statement (SQLite allows 32766 parameters).
_BATCH = 500
# Primary-key reads of at most this many keys run inline on the event-loop thread:
# handing a microsecond lookup to a thread costs more than the lookup itself.
_INLINE_KEYS = 32
# Bytes of the database file each connection maps into memory (``AMPBASE_SQLITE_MMAP_MB``).
DEFAULT_MMAP_MB = 1024


def default_mmap_size() -> int:
    """``AMPBASE_SQLITE_MMAP_MB`` (MiB; 0 turns memory-mapped reads off), else 1 GiB."""
    raw = os.environ.get("AMPBASE_SQLITE_MMAP_MB", "").strip()
    try:
        megabytes = int(raw) if raw else DEFAULT_MMAP_MB
    except ValueError:
        raise ConfigError(f"AMPBASE_SQLITE_MMAP_MB must be a whole number of MiB, not {raw!r}") from None
    return max(0, megabytes) * 1024 * 1024


# ... and so do pages of at most this many items of a query without a filter: walking an index
# for at most that many rows (key conditions and ordering always follow an index).
_INLINE_PAGE = 100
_UPDATE_CACHE_SIZE = 256
# Writes committed together at most (one transaction, one fsync).
_GROUP = 64
_SAVEPOINT = '"_ampbase_write"'

_DECLARED_TYPES = {
    ColumnKind.TEXT: "TEXT",
    ColumnKind.INTEGER: "INTEGER",
    ColumnKind.REAL: "REAL",
    ColumnKind.BOOLEAN: "INTEGER",
    ColumnKind.JSON_LIST: "TEXT",
    ColumnKind.JSON_OBJECT: "TEXT",
}
_SCALAR_TYPES = (str, int, float)
_PLAIN_TYPES = frozenset(_SCALAR_TYPES)  # exactly these types (not bool, not subclasses)

_DIALECT = Dialect()


def _decode_bool(value: Any) -> Any:
    return value != 0 if type(value) is int else value


def _decode_json(value: Any) -> Any:
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        # Not written by ampbase as JSON (e.g. the field's type changed): keep as is.
        return value


@dataclass(slots=True)
class _Table:
    """A model's table with its pre-built statements and codecs."""

    layout: TableLayout
    names: tuple[str, ...]
    decoders: tuple[tuple[int, str, Callable[[Any], Any]], ...]
    json_columns: frozenset[str]
    pk_where: str
    select_pk: str
    insert: str
    delete: str
    updates: dict[tuple[str, ...], str] = field(default_factory=dict)

    @classmethod
    def build(cls, layout: TableLayout) -> _Table:
        cols = layout.select_list
        t = layout.sql
        pk_where = " AND ".join(f"{layout.by_name[k].sql} = ?" for k in layout.primary_key)
        # Only the columns that need converting, with their position in a row.
        decoders: list[tuple[int, str, Callable[[Any], Any]]] = []
        for i, c in enumerate(layout.columns):
            if c.kind is ColumnKind.BOOLEAN:
                decoders.append((i, c.name, _decode_bool))
            elif c.kind.is_json:
                decoders.append((i, c.name, _decode_json))
        placeholders = ", ".join("?" for _ in layout.columns)
        return cls(
            layout=layout,
            names=tuple(c.name for c in layout.columns),
            decoders=tuple(decoders),
            json_columns=frozenset(c.name for c in layout.columns if c.kind.is_json),
            pk_where=pk_where,
            select_pk=f"SELECT {cols} FROM {t} WHERE {pk_where}",
            insert=f"INSERT INTO {t} ({cols}) VALUES ({placeholders}) RETURNING {cols}",
            delete=f"DELETE FROM {t} WHERE {pk_where} RETURNING {cols}",
        )

    def decode(self, row: Sequence[Any]) -> Record:
        # Rows come from SELECTs of exactly ``names``; zip's strict check costs a third.
        record = dict(zip(self.names, row, strict=False))
        for i, name, decode in self.decoders:
            value = row[i]
            if value is not None:
                record[name] = decode(value)
        return record

    def encode_row(self, record: Record) -> tuple[Any, ...]:
        """``encode`` of every column (missing = null), with a fast path for plain values."""
        json_columns = self.json_columns
        out: list[Any] = []
        for name in self.names:
            value = record.get(name)
            if value is None or (type(value) in _PLAIN_TYPES and name not in json_columns):
                out.append(value)
            else:
                out.append(self.encode(name, value))
        return tuple(out)

    def encode(self, name: str, value: Any) -> Any:
        if value is None:
            return None
        if name in self.json_columns:
            try:
                return canonical_json(value)
            except TypeError:
                raise ValidationError(f"field {name!r} of {self.layout.model!r} is not JSON") from None
        if not isinstance(value, _SCALAR_TYPES):
            raise ValidationError(
                f"field {name!r} of {self.layout.model!r} cannot hold a {type(value).__name__}"
            )
        return value

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
            sets = ", ".join(f"{self.layout.by_name[n].sql} = ?" for n in names)
            cols = self.layout.select_list
            sql = f"UPDATE {self.layout.sql} SET {sets} WHERE {self.pk_where} RETURNING {cols}"
            self.updates[names] = sql
        return sql


class _InlineBusy(Exception):
    """The inline read connection would have to wait for a lock."""


class _Connection:
    """One sqlite3 connection, used only from its own thread.

    A reader runs jobs on its ``executor``; the writer has none: its thread is
    a :class:`_Writer`'s.
    """

    def __init__(self, name: str, *, executor: bool = True) -> None:
        self.name = name
        self.executor = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"ampbase-{name}") if executor else None
        )
        self._db: sqlite3.Connection | None = None
        self.statements = 0

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise StorageError("the SQLite connection is closed")
        return self._db

    def connect(
        self, path: str, busy_timeout: float, *, writer: bool, any_thread: bool = False, mmap_size: int = 0
    ) -> None:
        db = sqlite3.connect(
            path,
            timeout=busy_timeout,
            isolation_level=None,  # autocommit; transactions are explicit
            cached_statements=512,
            uri=path.startswith("file:"),
            check_same_thread=not any_thread,
        )
        self._db = db
        if writer:
            mode = self.execute("PRAGMA journal_mode=WAL").fetchone()
            if mode is not None and str(mode[0]).lower() not in ("wal", "memory"):
                logger.warning("SQLite could not switch %s to WAL mode (%s)", path, mode[0])
        else:
            self.execute("PRAGMA query_only=ON")
        self.execute("PRAGMA synchronous=FULL")
        self.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        self.execute("PRAGMA foreign_keys=OFF")
        if mmap_size > 0:
            self.execute(f"PRAGMA mmap_size={int(mmap_size)}")

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        self.statements += 1
        try:
            return self.db.execute(sql, params)
        except sqlite3.Error as exc:
            logger.warning("SQLite statement failed: %s: %s", exc, sql)
            raise

    def begin(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.db.execute("COMMIT")

    def rollback(self) -> None:
        if self._db is not None and self._db.in_transaction:
            self._db.execute("ROLLBACK")


class _Job:
    """One call on the writer thread: ``fn(conn, *args)``, then its outcome."""

    __slots__ = ("args", "error", "fn", "group", "loop", "result", "statements", "waiter")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        *,
        group: bool,
    ) -> None:
        self.loop = loop
        self.waiter: asyncio.Future[None] = loop.create_future()
        self.fn = fn
        self.args = args
        self.group = group  # may share a transaction with other writes
        self.result: Any = None
        self.error: BaseException | None = None
        self.statements = 0

    def run(self, conn: _Connection) -> None:
        before = conn.statements
        try:
            self.result = self.fn(conn, *self.args)
            self.error = None
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, who re-raises it
            self.result = None
            self.error = exc
        finally:
            self.statements = conn.statements - before


def _wake(jobs: list[_Job]) -> None:
    for job in jobs:
        if not job.waiter.done():  # not cancelled meanwhile
            job.waiter.set_result(None)


class _GroupFailed(Exception):
    """The group's transaction cannot go on: run its writes one by one."""


class _Writer:
    """The writer connection's thread: drains a queue of jobs, committing queued writes together."""

    def __init__(self, conn: _Connection) -> None:
        self.conn = conn
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name=f"ampbase-{conn.name}", daemon=True)
        self._thread.start()

    async def call(self, fn: Callable[..., Any], args: tuple[Any, ...], *, group: bool) -> _Job:
        """Run ``fn(conn, *args)`` on the writer thread; the job, once committed (or failed)."""
        job = _Job(asyncio.get_running_loop(), fn, args, group=group)
        self._queue.put(job)
        await job.waiter
        return job

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join()

    # -- on the writer thread ------------------------------------------------------

    def _serve(self) -> None:
        jobs = self._queue
        carried: _Job | None = None
        while True:
            first = carried if carried is not None else jobs.get()
            carried = None
            if first is None:
                return
            batch = [first]
            stopping = False
            if first.group:
                # Take what is queued now; never wait for more.
                while len(batch) < _GROUP:
                    try:
                        job = jobs.get_nowait()
                    except queue.Empty:
                        break
                    if job is None:
                        stopping = True
                        break
                    if not job.group:
                        carried = job
                        break
                    batch.append(job)
            try:
                if len(batch) == 1:
                    first.run(self.conn)
                elif not self._run_group(batch):
                    for job in batch:
                        job.run(self.conn)
            except BaseException as exc:  # a bug here must not strand the callers
                logger.exception("the SQLite writer failed")
                for job in batch:
                    if job.error is None:
                        job.result, job.error = None, StorageError("the database writer failed")
                        job.error.__cause__ = exc
            self._deliver(batch)
            if stopping:
                return

    def _run_group(self, batch: list[_Job]) -> bool:
        """All of ``batch`` in one transaction, each write in a savepoint; False: nothing committed."""
        try:
            db = self.conn.db
            db.execute("BEGIN IMMEDIATE")
        except (sqlite3.Error, StorageError):
            return False  # busy or closed: run alone, each write gets the error it would have had
        try:
            for job in batch:
                db.execute(f"SAVEPOINT {_SAVEPOINT}")
                job.run(self.conn)
                if job.error is not None:
                    if not db.in_transaction:  # the error ended the whole transaction
                        raise _GroupFailed
                    db.execute(f"ROLLBACK TO {_SAVEPOINT}")
                db.execute(f"RELEASE {_SAVEPOINT}")
            db.execute("COMMIT")
        except (sqlite3.Error, _GroupFailed):
            logger.warning("a group commit of %d writes failed; running them one by one", len(batch))
            try:
                self.conn.rollback()
            except sqlite3.Error:
                logger.warning("rolling back a failed group commit failed", exc_info=True)
            return False
        return True

    @staticmethod
    def _deliver(batch: list[_Job]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
        for job in batch:
            by_loop.setdefault(job.loop, []).append(job)
        for loop, jobs in by_loop.items():
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(_wake, jobs)


def _translate(exc: BaseException, what: str) -> AmpbaseError:
    if isinstance(exc, sqlite3.IntegrityError) and exc.sqlite_errorname in (
        "SQLITE_CONSTRAINT_PRIMARYKEY",
        "SQLITE_CONSTRAINT_UNIQUE",
    ):
        return ConditionalCheckFailedError()
    if isinstance(exc, OverflowError | UnicodeEncodeError):
        return ValidationError(f"a value cannot be stored ({type(exc).__name__}) in {what}")
    if isinstance(exc, sqlite3.OperationalError) and exc.sqlite_errorname in (
        "SQLITE_BUSY",
        "SQLITE_LOCKED",
    ):
        return StorageError(f"the database is busy ({what})")
    return StorageError(f"the database failed during {what}")


class SQLiteStorage:
    """:class:`~ampbase.storage.base.StorageAdapter` over one SQLite database file.

    ``path`` may be ``":memory:"`` (one connection, nothing persists).
    ``read_connections`` read-only connections serve reads concurrently with
    the single writer.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        read_connections: int = 2,
        busy_timeout: float = 5.0,
        mmap_size: int | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.stats = StorageStats()
        self._read_count = max(1, read_connections)
        self._busy_timeout = busy_timeout
        # Reads through a memory map instead of a read() per page: at a million rows this is the
        # difference between index queries as fast as on a small table and ~40 % slower.
        self._mmap_size = default_mmap_size() if mmap_size is None else mmap_size
        self._writer: _Writer | None = None
        self._readers: list[_Connection] = []
        # Serves small primary-key reads inline, only ever from the event-loop thread;
        # never waits for a lock (SQLITE_BUSY falls back to a reader thread).
        self._inline: _Connection | None = None
        self._idle: asyncio.Queue[_Connection] | None = None
        self._tables: dict[str, _Table] = {}

    # -- plumbing --------------------------------------------------------------

    @property
    def _in_memory(self) -> bool:
        return self.path == ":memory:" or "mode=memory" in self.path

    async def _call(self, conn: _Connection, what: str, fn: Callable[..., T], *args: Any) -> T:
        if conn.executor is None:  # the writer (also the reader of an in-memory database)
            return await self._on_writer(what, fn, args, group=False)
        before = conn.statements
        try:
            return await asyncio.get_running_loop().run_in_executor(conn.executor, fn, conn, *args)
        except AmpbaseError:
            raise
        except (sqlite3.Error, OverflowError, UnicodeEncodeError) as exc:
            raise _translate(exc, what) from exc
        finally:
            self.stats.statements += conn.statements - before

    async def _write(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        """A write that may be committed together with other queued writes (group commit)."""
        return await self._on_writer(what, fn, args, group=True)

    async def _on_writer(self, what: str, fn: Callable[..., T], args: tuple[Any, ...], *, group: bool) -> T:
        writer = self._writer
        if writer is None:
            raise StorageError("the storage is not open")
        job = await writer.call(fn, args, group=group)
        self.stats.statements += job.statements
        exc = job.error
        if exc is None:
            result: T = job.result
            return result
        job.error = None  # no cycle through the traceback
        if isinstance(exc, AmpbaseError):
            raise exc
        if isinstance(exc, sqlite3.Error | OverflowError | UnicodeEncodeError):
            raise _translate(exc, what) from exc
        raise exc

    async def _read(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        idle = self._idle
        if idle is None:
            raise StorageError("the storage is not open")
        conn = await idle.get()
        try:
            return await self._call(conn, what, fn, *args)
        finally:
            idle.put_nowait(conn)

    def _read_inline(self, conn: _Connection, what: str, fn: Callable[..., T], *args: Any) -> T:
        """``fn`` on the inline connection, on this (the event-loop) thread.

        Autocommit: each statement reads the latest commit, and the writer commits
        before it acknowledges a write, so a read after a write sees it. Raises
        :class:`_InlineBusy` rather than wait for a lock (then use :meth:`_read`).
        """
        before = conn.statements
        try:
            return fn(conn, *args)
        except AmpbaseError:
            raise
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorname.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
                raise _InlineBusy from exc
            raise _translate(exc, what) from exc
        except (sqlite3.Error, OverflowError, UnicodeEncodeError) as exc:
            raise _translate(exc, what) from exc
        finally:
            self.stats.statements += conn.statements - before

    def _table(self, model: str) -> _Table:
        table = self._tables.get(model)
        if table is None:
            if self._writer is None:
                raise StorageError("the storage is not open")
            raise ValidationError(f"unknown model {model!r}")
        return table

    # -- lifecycle -------------------------------------------------------------

    async def open(self, schema: SchemaDef) -> None:
        if self._writer is not None:
            raise StorageError("the storage is already open")
        tables: dict[str, _Table] = {}
        for model in schema.models:
            if model.name in _RESERVED_TABLES:
                raise ConfigError(f"a model cannot be named {model.name!r}: ampbase uses that table")
            tables[model.name] = _Table.build(table_layout(model))
        writer = _Connection("sqlite-writer", executor=False)
        self._writer = _Writer(writer)
        try:
            what = f"open of {self.path}"
            await self._call(
                writer,
                what,
                lambda c: c.connect(self.path, self._busy_timeout, writer=True, mmap_size=self._mmap_size),
            )
            await self._call(writer, what, self._migrate, [t.layout for t in tables.values()])
            readers: list[_Connection] = []
            if self._in_memory:
                readers.append(writer)
            else:
                for n in range(self._read_count):
                    reader = _Connection(f"sqlite-reader-{n}")
                    readers.append(reader)
                    self._readers.append(reader)
                    await self._call(
                        reader,
                        what,
                        lambda c: c.connect(
                            self.path, self._busy_timeout, writer=False, mmap_size=self._mmap_size
                        ),
                    )
                inline = _Connection("sqlite-inline-reader")
                self._inline = inline
                await self._call(
                    inline,
                    what,
                    lambda c: c.connect(
                        self.path,
                        self._busy_timeout,
                        writer=False,
                        any_thread=True,
                        mmap_size=self._mmap_size,
                    ),
                )
                await self._call(inline, what, lambda c: c.execute("PRAGMA busy_timeout=0"))
        except BaseException:
            await self.close()
            raise
        idle: asyncio.Queue[_Connection] = asyncio.Queue()
        for r in readers:
            idle.put_nowait(r)
        self._idle = idle
        self._tables = tables
        self.stats.statements = 0  # count from here: what serving requests costs

    async def close(self) -> None:
        conns = [*self._readers]
        if self._inline is not None:
            conns.append(self._inline)
        writer = self._writer
        self._readers = []
        self._inline = None
        self._idle = None
        self._tables = {}
        loop = asyncio.get_running_loop()
        for conn in conns:
            if conn.executor is None:
                continue
            try:
                await loop.run_in_executor(conn.executor, _Connection.close, conn)
            except sqlite3.Error:
                logger.warning("closing the SQLite connection %s failed", conn.name, exc_info=True)
            conn.executor.shutdown(wait=True)
        if writer is not None:
            # Writes already queued finish first (the queue is in order), then the connection closes.
            job = await writer.call(_Connection.close, (), group=False)
            self._writer = None
            writer.stop()
            if isinstance(job.error, sqlite3.Error):
                name = writer.conn.name
                logger.warning("closing the SQLite connection %s failed", name, exc_info=job.error)

    # -- schema evolution (writer thread) --------------------------------------

    def _migrate(self, conn: _Connection, layouts: list[TableLayout]) -> None:
        conn.begin()
        try:
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {quote_ident(META_TABLE)} ("
                "model TEXT PRIMARY KEY, primary_key TEXT NOT NULL, columns TEXT NOT NULL"
                ") WITHOUT ROWID"
            )
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {quote_ident(API_KEYS_TABLE)} ("
                "id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, "
                "description TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL DEFAULT 0"
                ") WITHOUT ROWID"
            )
            for layout in layouts:
                self._migrate_table(conn, layout)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise

    def _migrate_table(self, conn: _Connection, layout: TableLayout) -> None:
        existing = conn.execute(
            "SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid", (layout.model,)
        ).fetchall()
        if existing:
            old_pk = tuple(name for name, _, pk in sorted(existing, key=lambda r: r[2]) if pk > 0)
            if old_pk != layout.primary_key:
                has_rows = conn.execute(f"SELECT EXISTS (SELECT 1 FROM {layout.sql})").fetchone()
                if has_rows is not None and has_rows[0]:
                    raise ConfigError(self._primary_key_changed(layout, old_pk))
                logger.info("recreating empty table %r for its new primary key", layout.model)
                conn.execute(f"DROP TABLE {layout.sql}")
                existing = []
        old_kinds = self._stored_kinds(conn, layout.model)
        if not existing:
            columns = [
                f"{c.sql} {_DECLARED_TYPES[c.kind]}" + (" NOT NULL" if c.name in layout.primary_key else "")
                for c in layout.columns
            ]
            pk = ", ".join(layout.by_name[k].sql for k in layout.primary_key)
            conn.execute(
                f"CREATE TABLE {layout.sql} ({', '.join(columns)}, PRIMARY KEY ({pk})) WITHOUT ROWID"
            )
        else:
            present = {row[0] for row in existing}
            for c in layout.columns:
                if c.name not in present:
                    conn.execute(f"ALTER TABLE {layout.sql} ADD COLUMN {c.sql} {_DECLARED_TYPES[c.kind]}")
                elif c.name in old_kinds and old_kinds[c.name] != c.kind.value:
                    logger.warning(
                        "field %r of model %r changed from %s to %s; stored values are kept unchanged",
                        c.name,
                        layout.model,
                        old_kinds[c.name],
                        c.kind.value,
                    )
        self._migrate_indexes(conn, layout)
        conn.execute(
            f"INSERT INTO {quote_ident(META_TABLE)} (model, primary_key, columns) VALUES (?, ?, ?) "
            "ON CONFLICT (model) DO UPDATE SET "
            "primary_key = excluded.primary_key, columns = excluded.columns",
            (
                layout.model,
                canonical_json(list(layout.primary_key)),
                canonical_json({c.name: c.kind.value for c in layout.columns}),
            ),
        )

    def _stored_kinds(self, conn: _Connection, model: str) -> dict[str, str]:
        row = conn.execute(
            f"SELECT columns FROM {quote_ident(META_TABLE)} WHERE model = ?", (model,)
        ).fetchone()
        if row is None:
            return {}
        kinds = orjson.loads(row[0])
        return {str(k): str(v) for k, v in kinds.items()} if isinstance(kinds, dict) else {}

    def _migrate_indexes(self, conn: _Connection, layout: TableLayout) -> None:
        prefix = f"{layout.model}/"
        existing: dict[str, tuple[str, ...]] = {}
        for (name,) in conn.execute(
            "SELECT name FROM pragma_index_list(?) WHERE origin = 'c'", (layout.model,)
        ).fetchall():
            if name.startswith(prefix):
                info = conn.execute(
                    "SELECT name FROM pragma_index_info(?) ORDER BY seqno", (name,)
                ).fetchall()
                existing[name] = tuple(c[0] for c in info)
        wanted = {prefix + ix.name: layout.index_columns(ix) for ix in layout.indexes}
        for name, cols in existing.items():
            if wanted.get(name) != cols:
                conn.execute(f"DROP INDEX {quote_ident(name)}")
        for name, cols in wanted.items():
            if existing.get(name) != cols:
                col_sql = ", ".join(layout.by_name[c].sql for c in cols)
                conn.execute(f"CREATE INDEX {quote_ident(name)} ON {layout.sql} ({col_sql})")

    def _primary_key_changed(self, layout: TableLayout, old_pk: tuple[str, ...]) -> str:
        old = ", ".join(old_pk)
        new = ", ".join(layout.primary_key)
        return (
            f"The primary key of model {layout.model!r} changed from ({old}) to ({new}), but its table "
            f"in {self.path} already holds rows keyed by ({old}). ampbase cannot re-key stored data in "
            f"place. Either restore the previous primary key, or export the {layout.model} data, then "
            f'drop or rename the table (sqlite3 {self.path} \'ALTER TABLE "{layout.model}" RENAME TO '
            f'"{layout.model}_old"\'), or point ampbase at a new database file, and import the data again.'
        )

    # -- single items ------------------------------------------------------------

    async def get(self, model: str, key: dict[str, Any]) -> Record | None:
        table = self._table(model)
        params = table.key_params(key)
        what = f"get {model}"
        inline = self._inline
        if inline is not None:
            with contextlib.suppress(_InlineBusy):
                return self._read_inline(inline, what, _get, table, params)
        return await self._read(what, _get, table, params)

    async def get_many(self, model: str, keys: list[dict[str, Any]]) -> list[Record | None]:
        table = self._table(model)
        wanted = [table.key_params(k) for k in keys]
        if not wanted:
            return []
        what = f"get_many {model}"
        found: list[Record] | None = None
        inline = self._inline
        if inline is not None and len(wanted) <= _INLINE_KEYS:
            with contextlib.suppress(_InlineBusy):
                found = self._read_inline(inline, what, _get_many, table, wanted)
        if found is None:
            found = await self._read(what, _get_many, table, wanted)
        pk = table.layout.primary_key
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
        params = table.encode_row(record)
        return await self._write(f"insert {model}", _insert, table, params)

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
        return await self._write(f"update {model}", _update, table, key_params, names, values, condition)

    async def delete(self, model: str, key: dict[str, Any], condition: Predicate | None = None) -> Record:
        table = self._table(model)
        key_params = table.key_params(key)
        return await self._write(f"delete {model}", _delete, table, key_params, condition)

    # -- queries -----------------------------------------------------------------

    def _query_sql(self, query: Query) -> tuple[_Table, str, list[Any], tuple[str, ...]]:
        table = self._table(query.model)
        if query.limit < 1:
            raise ValidationError("limit must be at least 1")
        plan = plan_select(table.layout, query, _DIALECT)
        where = " AND ".join(plan.where) or "1"
        sql = (
            f"SELECT {table.layout.select_list} FROM {table.layout.sql} WHERE {where} "
            f"ORDER BY {plan.order_sql} LIMIT {plan.params.add(query.limit + 1)}"
        )
        return table, sql, plan.params.values, plan.order

    async def query(self, query: Query) -> Page:
        table, sql, params, order = self._query_sql(query)
        what = f"query {query.model}"
        records: list[Record] | None = None
        inline = self._inline
        if inline is not None and query.filter is None and query.limit <= _INLINE_PAGE:
            # no filter: SQLite walks the key's index and stops after limit + 1 rows
            with contextlib.suppress(_InlineBusy):
                records = self._read_inline(inline, what, _select, table, sql, params)
        if records is None:
            records = await self._read(what, _select, table, sql, params)
        return _page(records, query.limit, order)

    async def explain(self, query: Query) -> list[str]:
        """SQLite's plan for ``query`` (``EXPLAIN QUERY PLAN`` details), for tests and tuning."""
        _, sql, params, _ = self._query_sql(query)
        rows = await self._read("explain", _fetch, f"EXPLAIN QUERY PLAN {sql}", params)
        return [str(r[-1]) for r in rows]

    async def query_related(
        self, query: Query, fields: tuple[str, ...], values: list[tuple[Any, ...]]
    ) -> dict[tuple[Any, ...], Page]:
        table = self._table(query.model)
        layout = table.layout
        if query.limit < 1:
            raise ValidationError("limit must be at least 1")
        if not fields:
            raise ValidationError("query_related needs at least one field")
        cols = []
        for f in fields:
            col = layout.column(f)
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
        statements: list[tuple[str, list[Any]]] = []
        for start in range(0, len(parents), _BATCH):
            chunk = parents[start : start + _BATCH]
            plan = plan_select(layout, query, _DIALECT, related_fields=fields)
            p = plan.params
            if len(cols) == 1:
                with_keys = ""
                source = layout.sql
                phs = ", ".join(p.add(table.encode(fields[0], v[0])) for v in chunk)
                where = " AND ".join([f"{cols[0].sql} IN ({phs})", *plan.where])
            else:
                rows = ", ".join(
                    "(" + ", ".join(p.add(table.encode(f, x)) for f, x in zip(fields, v, strict=True)) + ")"
                    for v in chunk
                )
                with_keys, source = _key_join(layout, [c.sql for c in cols], rows)
                where = " AND ".join(plan.where) or "1"
            partition = ", ".join(c.sql for c in cols)
            sql = (
                f"{with_keys}SELECT {layout.select_list} FROM ("
                f"SELECT {layout.select_list}, ROW_NUMBER() OVER "
                f"(PARTITION BY {partition} ORDER BY {plan.order_sql}) AS {_ROW_NUMBER} "
                f"FROM {source} WHERE {where}"
                f") WHERE {_ROW_NUMBER} <= {p.add(query.limit + 1)} ORDER BY {_ROW_NUMBER}"
            )
            statements.append((sql, p.values))
        order = layout.ordering(query.index)
        records = await self._read(f"query_related {query.model}", _select_many, table, statements)
        groups: dict[tuple[Any, ...], list[Record]] = {}
        for r in records:
            groups.setdefault(tuple(r[f] for f in fields), []).append(r)
        for v in result:
            rows_for = groups.get(v)
            if rows_for:
                result[v] = _page(rows_for, query.limit, order)
        return result

    # -- API keys ----------------------------------------------------------------

    async def put_api_key(self, key: ApiKeyRecord) -> None:
        sql = (
            f"INSERT INTO {quote_ident(API_KEYS_TABLE)} (id, expires_at, description, created_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at, "
            "description = excluded.description, created_at = excluded.created_at"
        )
        params = (key.id, key.expires_at, key.description, key.created_at)
        await self._write("put_api_key", _run, sql, params)

    async def list_api_keys(self) -> list[ApiKeyRecord]:
        sql = (
            f"SELECT id, expires_at, description, created_at FROM {quote_ident(API_KEYS_TABLE)} "
            "ORDER BY created_at, id"
        )
        rows = await self._read("list_api_keys", _fetch, sql, ())
        return [ApiKeyRecord(id=r[0], expires_at=r[1], description=r[2], created_at=r[3]) for r in rows]

    async def delete_api_key(self, key_id: str) -> bool:
        sql = f"DELETE FROM {quote_ident(API_KEYS_TABLE)} WHERE id = ?"
        return await self._write("delete_api_key", _run, sql, (key_id,)) > 0


# -- jobs (run on a connection's thread) --------------------------------------------


def _page(records: list[Record], limit: int, order: tuple[str, ...]) -> Page:
    if len(records) > limit:
        items = records[:limit]
        return Page(items, tuple(items[-1][f] for f in order))
    return Page(records)


def _run(conn: _Connection, sql: str, params: Sequence[Any]) -> int:
    return conn.execute(sql, params).rowcount


def _fetch(conn: _Connection, sql: str, params: Sequence[Any]) -> list[Any]:
    return conn.execute(sql, params).fetchall()


def _get(conn: _Connection, table: _Table, params: tuple[Any, ...]) -> Record | None:
    row = conn.execute(table.select_pk, params).fetchone()
    return None if row is None else table.decode(row)


def _key_join(layout: TableLayout, columns: Sequence[str], rows: str) -> tuple[str, str]:
    """A ``WITH`` of key tuples and a ``FROM`` joining them to ``columns`` of the table.

    SQLite does not use an index for a row-value ``IN (VALUES ...)``; it does
    for this join (one index search per tuple).
    """
    names = [quote_ident(f"_ampbase_k{i}") for i in range(len(columns))]
    with_keys = f"WITH {_KEYS} ({', '.join(names)}) AS (VALUES {rows}) "
    on = " AND ".join(f"{layout.sql}.{c} = {n}" for c, n in zip(columns, names, strict=True))
    return with_keys, f"{_KEYS} JOIN {layout.sql} ON {on}"


def _get_many(conn: _Connection, table: _Table, keys: list[tuple[Any, ...]]) -> list[Record]:
    layout = table.layout
    unique = list(dict.fromkeys(keys))
    out: list[Record] = []
    pk_cols = [layout.by_name[k].sql for k in layout.primary_key]
    for start in range(0, len(unique), _BATCH):
        chunk = unique[start : start + _BATCH]
        if len(pk_cols) == 1:
            where = f"{pk_cols[0]} IN ({', '.join('?' for _ in chunk)})"
            sql = f"SELECT {layout.select_list} FROM {layout.sql} WHERE {where}"
            params: list[Any] = [k[0] for k in chunk]
        else:
            row = "(" + ", ".join("?" for _ in pk_cols) + ")"
            with_keys, source = _key_join(layout, pk_cols, ", ".join(row for _ in chunk))
            sql = f"{with_keys}SELECT {layout.select_list} FROM {source}"
            params = [v for k in chunk for v in k]
        out.extend(table.decode(r) for r in conn.execute(sql, params).fetchall())
    return out


def _select(conn: _Connection, table: _Table, sql: str, params: Sequence[Any]) -> list[Record]:
    return [table.decode(r) for r in conn.execute(sql, params).fetchall()]


def _select_many(conn: _Connection, table: _Table, statements: list[tuple[str, list[Any]]]) -> list[Record]:
    out: list[Record] = []
    for sql, params in statements:
        out.extend(table.decode(r) for r in conn.execute(sql, params).fetchall())
    return out


def _insert(conn: _Connection, table: _Table, params: tuple[Any, ...]) -> Record:
    row = conn.execute(table.insert, params).fetchone()
    if row is None:  # pragma: no cover - INSERT ... RETURNING always returns the row
        raise StorageError("the insert returned no row")
    return table.decode(row)


def _in_transaction(conn: _Connection, work: Callable[[], Record]) -> Record:
    if conn.db.in_transaction:
        # Part of a group commit: already inside BEGIN IMMEDIATE, in this write's own
        # savepoint (rolled back alone if ``work`` raises).
        return work()
    conn.begin()
    try:
        result = work()
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return result


def _update(
    conn: _Connection,
    table: _Table,
    key: tuple[Any, ...],
    names: tuple[str, ...],
    values: tuple[Any, ...],
    condition: Predicate | None,
) -> Record:
    if condition is None and names:
        row = conn.execute(table.update_sql(names), (*values, *key)).fetchone()
        if row is None:
            raise ConditionalCheckFailedError()
        return table.decode(row)

    def work() -> Record:
        row = conn.execute(table.select_pk, key).fetchone()
        if row is None:
            raise ConditionalCheckFailedError()
        current = table.decode(row)
        if condition is not None and not evaluate(condition, current):
            raise ConditionalCheckFailedError()
        if not names:
            return current
        new = conn.execute(table.update_sql(names), (*values, *key)).fetchone()
        if new is None:  # pragma: no cover - the row was read in this transaction
            raise ConditionalCheckFailedError()
        return table.decode(new)

    return _in_transaction(conn, work)


def _delete(conn: _Connection, table: _Table, key: tuple[Any, ...], condition: Predicate | None) -> Record:
    if condition is None:
        row = conn.execute(table.delete, key).fetchone()
        if row is None:
            raise ConditionalCheckFailedError()
        return table.decode(row)

    def work() -> Record:
        row = conn.execute(table.select_pk, key).fetchone()
        if row is None or not evaluate(condition, table.decode(row)):
            raise ConditionalCheckFailedError()
        deleted = conn.execute(table.delete, key).fetchone()
        if deleted is None:  # pragma: no cover - the row was read in this transaction
            raise ConditionalCheckFailedError()
        return table.decode(deleted)

    return _in_transaction(conn, work)
