"""``ampbase keys create|list|delete``: API keys stored in the database."""

from __future__ import annotations

import datetime as dt
import time

from ampbase.cli.output import echo
from ampbase.errors import ConfigError
from ampbase.schema.ir import SchemaDef
from ampbase.server.apikeys import create_api_key
from ampbase.server.settings import database_kind, sqlite_path
from ampbase.server.wiring import open_storage

__all__ = ["run_keys"]


async def run_keys(
    action: str, database_url: str, *, days: int = 30, description: str = "", key: str | None = None
) -> int:
    if database_kind(database_url) == "sqlite":
        path = sqlite_path(database_url)
        if action != "create" and not path.exists():
            raise ConfigError(f"no database at {path} (start the server once, or pass --db/--database-url)")
    if days <= 0:
        raise ConfigError("--days must be a positive number of days")
    storage = open_storage(database_url)
    # An empty schema: opening only ensures ampbase's own tables; model tables are left alone.
    await storage.open(SchemaDef())
    try:
        if action == "create":
            record = await create_api_key(storage, days=days, description=description)
            echo(record.id)
            echo(f"expires {_when(record.expires_at)}", err=True)
        elif action == "list":
            now = time.time()
            keys = sorted(await storage.list_api_keys(), key=lambda k: k.expires_at)
            if not keys:
                echo("no API keys (create one with: ampbase keys create)", err=True)
            for record in keys:
                state = "expired" if record.expires_at <= now else "valid"
                note = f"  {record.description}" if record.description else ""
                echo(f"{record.id}  {state:7}  expires {_when(record.expires_at)}{note}")
        else:
            assert key is not None
            if not await storage.delete_api_key(key):
                echo(f"error: no API key {key}", err=True)
                return 1
            echo(f"deleted {key}", err=True)
    finally:
        await storage.close()
    return 0


def _when(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
