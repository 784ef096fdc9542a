"""``ampbase seed``, ``ampbase export`` and ``ampbase import``: data in and out of a database.

::

    ampbase seed amplify/seed/seed.py [--schema S] [--db PATH | --database-url URL]
    ampbase export Todo [--schema S] [--db PATH | --database-url URL] > todo.jsonl
    ampbase import Todo todo.jsonl [--schema S] [--db ... ] [--upsert]

``seed`` imports the script and awaits its ``seed(client)`` with a trusted server-side data
client (:class:`ampbase.client.server.ServerClient`) on an engine over the database: the
schema's rules are bypassed, ids and timestamps are generated as for API calls.
``export`` writes one JSON object per stored item (JSON Lines), every attribute as stored;
``import`` writes them back unchanged (ids, timestamps and owners included), refusing
duplicates unless ``--upsert``. Neither publishes subscription events: run them while no
clients are subscribed, or expect them not to be told.
"""

from __future__ import annotations

import inspect
import os
import secrets
import sys
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any, TextIO

import orjson

from ampbase.cli.output import echo
from ampbase.errors import ConditionalCheckFailedError, ConfigError, SchemaDefinitionError
from ampbase.schema.ir import ModelDef, SchemaDef, SourceLocation
from ampbase.storage.base import Query, Record, StorageAdapter

__all__ = [
    "database_url_for",
    "export_records",
    "import_records",
    "run_export",
    "run_import",
    "run_restore",
    "run_seed",
]

PAGE = 500


def database_url_for(database_url: str | None, db: Path | None, default: Path) -> str:
    """``--database-url``, else ``--db``, else ``AMPBASE_DATABASE_URL``, else ``default``."""
    if database_url:
        return database_url
    if db is not None:
        return f"sqlite:///{db}"
    return os.environ.get("AMPBASE_DATABASE_URL") or f"sqlite:///{default}"


async def _open(
    schema_path: Path, database_url: str, *, must_exist: bool = False
) -> tuple[SchemaDef, StorageAdapter]:
    from ampbase.schema.loader import load_schema
    from ampbase.server.settings import database_kind, sqlite_path
    from ampbase.server.wiring import open_storage

    if must_exist and database_kind(database_url) == "sqlite" and not sqlite_path(database_url).exists():
        raise ConfigError(f"no database at {sqlite_path(database_url)} (start the server once, or pass --db)")
    schema = load_schema(schema_path, warn=lambda message: None)
    storage = open_storage(database_url)
    await storage.open(schema)
    return schema, storage


def _model(schema: SchemaDef, name: str) -> ModelDef:
    model = schema.get_model(name)
    if model is None:
        raise ConfigError(
            f"the schema has no model {name!r} (models: {', '.join(m.name for m in schema.models)})"
        )
    return model


# ------------------------------------------------------------------------------- seed


async def run_seed(script: Path, *, schema_path: Path, database_url: str) -> int:
    from ampbase.client.server import ServerClient
    from ampbase.engine.engine import Engine
    from ampbase.pubsub.local import LocalPubSub
    from ampbase.schema.dsl.loader import load_resource_module

    _require_file(script)
    schema, storage = await _open(schema_path, database_url)
    try:
        module = load_resource_module(script)
        seed = getattr(module, "seed", None)
        if not callable(seed):
            raise SchemaDefinitionError(
                f"{script.name} defines no seed(client) function",
                source=SourceLocation(str(script)),
                hint="async def seed(client):\n      await client.models.Todo.create(content='first')",
            )
        pubsub = LocalPubSub()
        await pubsub.start()
        try:
            engine = Engine(schema, storage, pubsub, secret=secrets.token_bytes(32))
            client = ServerClient(engine)
            result = seed(client)
            if inspect.isawaitable(result):
                await result
        finally:
            await pubsub.close()
    finally:
        await storage.close()
    echo(f"seeded {database_url} with {script}", err=True)
    return 0


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise ConfigError(f"no seed script at {path}")


# ------------------------------------------------------------------------------- export


async def export_records(storage: StorageAdapter, model: ModelDef) -> AsyncIterator[Record]:
    """Every stored item of ``model``, in primary key order."""
    after: tuple[Any, ...] | None = None
    while True:
        page = await storage.query(Query(model=model.name, limit=PAGE, after=after))
        for item in page.items:
            yield item
        if page.last_key is None:
            return
        after = page.last_key


async def run_export(
    model_name: str, *, schema_path: Path, database_url: str, out: TextIO | None = None
) -> int:
    stream = out if out is not None else sys.stdout
    schema, storage = await _open(schema_path, database_url, must_exist=True)
    count = 0
    try:
        model = _model(schema, model_name)
        async for record in export_records(storage, model):
            stream.write(orjson.dumps(record).decode() + "\n")
            count += 1
    finally:
        await storage.close()
    stream.flush()
    echo(f"exported {count} {model_name} item(s)", err=True)
    return 0


# ------------------------------------------------------------------------------- import


def _parse_lines(lines: Iterable[str], where: str) -> Iterable[tuple[int, Record]]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ConfigError(f"{where}:{number}: not JSON ({exc})") from None
        if not isinstance(value, dict):
            raise ConfigError(f"{where}:{number}: expected a JSON object, got {type(value).__name__}")
        yield number, value


async def import_records(
    storage: StorageAdapter, model: ModelDef, lines: Iterable[str], *, where: str, upsert: bool = False
) -> tuple[int, int]:
    """Write every JSON line as an item of ``model``: (inserted, replaced)."""
    stored = {f.name for f in model.fields if f.relation is None}
    inserted = replaced = 0
    for number, record in _parse_lines(lines, where):
        unknown = sorted(set(record) - stored)
        if unknown:
            raise ConfigError(f"{where}:{number}: {model.name} has no field(s) {', '.join(unknown)}")
        missing = [k for k in model.primary_key if record.get(k) is None]
        if missing:
            raise ConfigError(f"{where}:{number}: the key field(s) {', '.join(missing)} are missing")
        try:
            await storage.insert(model.name, record)
            inserted += 1
        except ConditionalCheckFailedError:
            if not upsert:
                key = {k: record[k] for k in model.primary_key}
                raise ConfigError(
                    f"{where}:{number}: {model.name} {key} already exists (use --upsert to replace it)"
                ) from None
            key = {k: record[k] for k in model.primary_key}
            changes = {k: v for k, v in record.items() if k not in key}
            current = await storage.get(model.name, key) or {}
            changes.update({k: None for k in current if k not in record and k not in key})
            await storage.update(model.name, key, changes)
            replaced += 1
    return inserted, replaced


async def run_import(
    model_name: str, source: Path, *, schema_path: Path, database_url: str, upsert: bool = False
) -> int:
    schema, storage = await _open(schema_path, database_url)
    try:
        model = _model(schema, model_name)
        if str(source) == "-":
            inserted, replaced = await import_records(
                storage, model, sys.stdin, where="<stdin>", upsert=upsert
            )
        else:
            with source.open(encoding="utf-8") as lines:
                inserted, replaced = await import_records(
                    storage, model, lines, where=str(source), upsert=upsert
                )
    finally:
        await storage.close()
    echo(
        f"imported {inserted} {model_name} item(s)" + (f", replaced {replaced}" if replaced else ""), err=True
    )
    return 0


# ------------------------------------------------------------------------------- restore


async def run_restore(to: str, *, schema_path: Path, database_url: str, output: Path | None = None) -> int:
    from ampbase.schema.loader import load_schema
    from ampbase.server.settings import database_kind, sqlite_path
    from ampbase.server.wiring import open_storage
    from ampbase.storage.recovery import Journal, format_moment, parse_moment, restore

    if database_kind(database_url) != "sqlite":
        raise ConfigError(
            "ampbase restore works on SQLite databases; for PostgreSQL restore a base backup and "
            "replay archived WAL up to the moment (recovery_target_time; docs/customize-resources.md)"
        )
    moment = parse_moment(to)
    database = sqlite_path(database_url)
    schema = load_schema(schema_path, warn=lambda message: None)
    target = output or database.with_name(
        f"{database.stem}.restored-{format_moment(moment)}{database.suffix}"
    )

    async def open_restored(path: Path) -> StorageAdapter:
        storage = open_storage(f"sqlite:///{path}")
        await storage.open(schema)
        return storage

    keys = {m.name: m.primary_key for m in schema.models}
    report = await restore(Journal(database), moment, target, open_restored, keys)
    echo(
        f"restored {target} as of {format_moment(moment)}: snapshot {report.snapshot.name} "
        f"+ {report.applied} journaled write(s)",
        err=True,
    )
    echo(str(target))
    return 0


# ------------------------------------------------------------------------------- command line

DATA_COMMANDS = frozenset({"seed", "export", "import", "restore"})
DEFAULT_SCHEMA = Path("amplify/data/resource.py")
DEFAULT_DB = Path(".ampbase/sandbox.db")


def _database_options(parser: Any) -> None:
    parser.add_argument(
        "--schema", type=Path, default=DEFAULT_SCHEMA, help=f"schema file (default {DEFAULT_SCHEMA})"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--db", type=Path, help=f"SQLite database file (default {DEFAULT_DB})")
    where.add_argument(
        "--database-url", help="sqlite:///path/to.db or postgresql://... (default AMPBASE_DATABASE_URL)"
    )


def add_data_commands(commands: Any) -> None:
    """The ``seed``, ``export`` and ``import`` sub-commands of ``ampbase``."""
    seed = commands.add_parser(
        "seed",
        help="run a seed script with a server-side data client against the database",
        description="Import SCRIPT and await its seed(client) with a trusted in-process data client.",
    )
    seed.add_argument("script", type=Path, help="Python file defining seed(client)")
    _database_options(seed)
    export = commands.add_parser(
        "export",
        help="write a model's items as JSON Lines to stdout",
        description="ampbase export Todo > todo.jsonl",
    )
    export.add_argument("model", help="model name, e.g. Todo")
    _database_options(export)
    imp = commands.add_parser(
        "import",
        help="write JSON Lines items into a model's table",
        description="ampbase import Todo todo.jsonl (use - for stdin)",
    )
    imp.add_argument("model", help="model name, e.g. Todo")
    imp.add_argument("file", type=Path, help="JSON Lines file (- for stdin)")
    imp.add_argument("--upsert", action="store_true", help="replace items whose key already exists")
    _database_options(imp)
    restore = commands.add_parser(
        "restore",
        help="rebuild a SQLite database as of a past moment (point-in-time recovery)",
        description="Copy the newest snapshot before --to and replay the journal up to it into a new file.",
    )
    restore.add_argument("--to", required=True, help="ISO 8601 time, e.g. 2026-11-20T10:00:00Z")
    restore.add_argument("--output", type=Path, help="the new database file (default: next to the database)")
    _database_options(restore)


async def dispatch_data(args: Any) -> int:
    url = database_url_for(args.database_url, args.db, DEFAULT_DB)
    if args.command == "seed":
        return await run_seed(args.script, schema_path=args.schema, database_url=url)
    if args.command == "export":
        return await run_export(args.model, schema_path=args.schema, database_url=url)
    if args.command == "restore":
        return await run_restore(args.to, schema_path=args.schema, database_url=url, output=args.output)
    return await run_import(
        args.model, args.file, schema_path=args.schema, database_url=url, upsert=args.upsert
    )
