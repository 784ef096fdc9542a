"""The running server's parts: storage, pub/sub, engine and authenticator, built from settings.

:class:`Runtime` is what the HTTP endpoint, the realtime handler and ``/health`` read. It is
started by the app's lifespan (or earlier by the CLI; starting twice is a no-op) and can swap
in a new schema while serving (:meth:`Runtime.reload`): requests read ``runtime.engine`` once
and keep the engine they started with.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from collections.abc import Callable, Mapping

from ampbase.engine.engine import Engine
from ampbase.errors import ConfigError
from ampbase.pubsub.base import PubSub
from ampbase.schema.ir import SchemaDef
from ampbase.server.authn import Authenticator, TokenVerifier
from ampbase.server.settings import Settings, sqlite_path
from ampbase.storage.base import StorageAdapter

__all__ = ["Runtime", "load_or_create_secret", "open_storage"]

logger = logging.getLogger("ampbase.server")

StorageFactory = Callable[[], StorageAdapter]


def open_storage(database_url: str) -> StorageAdapter:
    """A (not yet opened) storage adapter for ``database_url``."""
    from ampbase.storage.sqlite import SQLiteStorage

    path = sqlite_path(database_url)
    path.parent.mkdir(parents=True, exist_ok=True)
    return SQLiteStorage(path)


def _default_pubsub() -> PubSub:
    from ampbase.pubsub.local import LocalPubSub

    return LocalPubSub()


def load_or_create_secret(settings: Settings) -> bytes:
    """The engine secret (signs ``nextToken`` values): ``AMPBASE_SECRET``, else the state
    directory's ``secret`` file, created on first use, so tokens survive restarts."""
    if settings.secret:
        return settings.secret.encode()
    state_dir = settings.resolved_state_dir
    path = state_dir / "secret"
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    except ValueError:
        raise ConfigError(f"{path} is corrupt: delete it (outstanding nextTokens become invalid)") from None
    state_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race
        return bytes.fromhex(path.read_text().strip())
    with os.fdopen(fd, "w") as f:
        f.write(value.hex() + "\n")
    return value


class Runtime:
    def __init__(
        self,
        schema: SchemaDef,
        settings: Settings,
        *,
        storage_factory: StorageFactory | None = None,
        pubsub: PubSub | None = None,
        verifiers: Mapping[str, TokenVerifier] | None = None,
    ) -> None:
        self.settings = settings
        self.verifiers: dict[str, TokenVerifier] = dict(verifiers or {})
        self.schema = schema
        self._storage_factory: StorageFactory = storage_factory or (
            lambda: open_storage(settings.database_url)
        )
        self.pubsub: PubSub = pubsub if pubsub is not None else _default_pubsub()
        self._storage: StorageAdapter | None = None
        self._engine: Engine | None = None
        self._authenticator: Authenticator | None = None
        self._secret: bytes | None = None
        self._pubsub_started = False
        self._lock = asyncio.Lock()

    # -- parts -------------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._engine is not None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("the ampbase runtime is not started")
        return self._engine

    @property
    def storage(self) -> StorageAdapter:
        if self._storage is None:
            raise RuntimeError("the ampbase runtime is not started")
        return self._storage

    @property
    def authenticator(self) -> Authenticator:
        if self._authenticator is None:
            raise RuntimeError("the ampbase runtime is not started")
        return self._authenticator

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Open storage for the schema, start pub/sub, build the engine. Idempotent."""
        async with self._lock:
            if self._engine is not None:
                return
            self._secret = load_or_create_secret(self.settings)
            storage = self._storage_factory()
            await storage.open(self.schema)
            try:
                engine = self._build_engine(self.schema, storage)
                await self.pubsub.start()
            except BaseException:
                await storage.close()
                raise
            self._pubsub_started = True
            self._engine = engine
            self._storage = storage
            self._authenticator = Authenticator(
                storage,
                self.schema.auth,
                cache_ttl=self.settings.api_key_cache_ttl,
                verifiers=self.verifiers,
            )

    async def stop(self) -> None:
        async with self._lock:
            storage, self._storage, self._engine = self._storage, None, None
            try:
                if self._pubsub_started:
                    self._pubsub_started = False
                    await self.pubsub.close()
            finally:
                if storage is not None:
                    await storage.close()

    async def reload(self, schema: SchemaDef) -> None:
        """Serve ``schema`` from now on, keeping the data (tables evolve additively).

        On any error the previous schema stays in service and the error propagates.
        """
        async with self._lock:
            if self._engine is None:
                self.schema = schema
                return
            storage = self._storage_factory()
            await storage.open(schema)
            try:
                engine = self._build_engine(schema, storage)
            except BaseException:
                await storage.close()
                raise
            old = self._storage
            self.schema, self._storage, self._engine = schema, storage, engine
            if self._authenticator is not None:
                self._authenticator.storage = storage
                self._authenticator.auth = schema.auth
        if old is not None:
            await old.close()

    def _build_engine(self, schema: SchemaDef, storage: StorageAdapter) -> Engine:
        assert self._secret is not None
        return Engine(schema, storage, self.pubsub, secret=self._secret, debug=self.settings.debug)

    # -- health ------------------------------------------------------------------------------

    async def health(self) -> dict[str, str]:
        """``{"status", "database", "pubsub"}``, each ``ok`` or ``error``/``unavailable``."""
        database = "unavailable"
        storage = self._storage
        if storage is not None:
            try:
                await storage.list_api_keys()
                database = "ok"
            except Exception:
                logger.exception("health check: the database did not answer")
                database = "error"
        pubsub = "ok" if self._pubsub_started else "unavailable"
        status = "ok" if database == "ok" and pubsub == "ok" else "error"
        return {"status": status, "database": database, "pubsub": pubsub}
