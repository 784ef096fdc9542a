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
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ampbase.auth.config import AuthSetup, build_auth
from ampbase.auth.policy import PolicySettings
from ampbase.engine.engine import Engine
from ampbase.errors import ConfigError
from ampbase.pubsub.base import PubSub
from ampbase.schema.ir import SchemaDef
from ampbase.server.authn import Authenticator, TokenVerifier
from ampbase.server.maintenance import Maintenance
from ampbase.server.settings import Settings, database_kind, pubsub_kind, sqlite_path
from ampbase.storage.base import StorageAdapter

__all__ = [
    "Runtime",
    "load_or_create_secret",
    "open_pubsub",
    "open_storage",
    "pop_url_params",
    "shared_or_local_secret",
    "split_postgres_url",
]

logger = logging.getLogger("ampbase.server")

StorageFactory = Callable[[], StorageAdapter]


def pop_url_params(url: str, *names: str) -> tuple[str, dict[str, str]]:
    """``url`` without the query parameters ``names``, and their values (others stay for the driver)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    found = {k: v for k, v in query if k in names and v}
    rest = urlencode([(k, v) for k, v in query if k not in names])
    return urlunsplit(parts._replace(query=rest)), found


def split_postgres_url(url: str) -> tuple[str, str | None]:
    """``(dsn, schema)``: a ``postgresql://...?schema=name`` URL without its ``schema`` parameter
    (every other query parameter is passed to the driver)."""
    dsn, found = pop_url_params(url, "schema")
    return dsn, found.get("schema")


def open_storage(database_url: str, *, pool_size: int = 10) -> StorageAdapter:
    """A (not yet opened) storage adapter for ``database_url`` (``sqlite:///`` or ``postgresql://``)."""
    if database_kind(database_url) == "postgres":
        from ampbase.storage.postgres import PostgresStorage

        dsn, schema = split_postgres_url(database_url)
        return PostgresStorage(dsn, min_size=1, max_size=pool_size, schema=schema)

    from ampbase.storage.sqlite import SQLiteStorage

    path = sqlite_path(database_url)
    path.parent.mkdir(parents=True, exist_ok=True)
    return SQLiteStorage(path)


def open_pubsub(pubsub_url: str | None) -> PubSub:
    """The pub/sub for ``pubsub_url``: in-process (``None``), ``redis://`` or ``postgresql://``.

    ``?channel=name`` picks the Redis channel / PostgreSQL notification channel (replicas of one
    deployment share it; separate deployments on one broker need different ones); a PostgreSQL
    URL's ``?schema=name`` holds the table for events too large for ``NOTIFY``.
    """
    kind = pubsub_kind(pubsub_url)
    if kind == "redis":
        from ampbase.pubsub.redis import RedisPubSub

        assert pubsub_url is not None
        url, found = pop_url_params(pubsub_url, "channel")
        return RedisPubSub(url, channel=found.get("channel", "ampbase:events"))
    if kind == "postgres":
        from ampbase.pubsub.postgres import PostgresPubSub

        assert pubsub_url is not None
        dsn, found = pop_url_params(pubsub_url, "channel", "schema")
        return PostgresPubSub(dsn, channel=found.get("channel", "ampbase_events"), schema=found.get("schema"))
    from ampbase.pubsub.local import LocalPubSub

    return LocalPubSub()


async def shared_or_local_secret(settings: Settings, storage: StorageAdapter) -> bytes:
    """The engine secret: ``AMPBASE_SECRET``; else, on a database every replica shares
    (PostgreSQL), one stored in it on first start; else the state directory's file."""
    if settings.secret:
        return settings.secret.encode()
    shared = getattr(storage, "shared_secret", None)
    if shared is not None:
        value = await shared("engine_secret", lambda: secrets.token_bytes(32).hex())
        try:
            return bytes.fromhex(str(value))
        except ValueError:
            raise ConfigError("the engine secret stored in the database is corrupt") from None
    return load_or_create_secret(settings)


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
            lambda: open_storage(settings.database_url, pool_size=settings.db_pool_size)
        )
        self.pubsub: PubSub = pubsub if pubsub is not None else open_pubsub(settings.pubsub_url)
        self._storage: StorageAdapter | None = None
        self._engine: Engine | None = None
        self._authenticator: Authenticator | None = None
        # JWT issuers, SigV4 keys, Lambda authorizer, IAM settings, the local token issuer
        self.auth_setup: AuthSetup | None = None
        self._secret: bytes | None = None
        self._pubsub_started = False
        self._lock = asyncio.Lock()
        self._maintenance: Maintenance | None = None

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
            storage = self._storage_factory()
            await storage.open(self.schema)
            try:
                self._secret = await shared_or_local_secret(self.settings, storage)
                setup = self._auth_setup(self.schema)
                engine = self._build_engine(self.schema, storage, setup)
                await self.pubsub.start()
            except BaseException:
                await storage.close()
                raise
            self._pubsub_started = True
            self._engine = engine
            self._storage = storage
            self.auth_setup = setup
            self._authenticator = Authenticator(
                storage,
                self.schema.auth,
                cache_ttl=self.settings.api_key_cache_ttl,
                verifiers=self.verifiers,
                credentials=setup.verifiers,
            )
            self._maintenance = Maintenance(self)  # time-to-live sweeper, journal snapshots
            self._maintenance.start()

    async def stop(self) -> None:
        maintenance, self._maintenance = self._maintenance, None
        if maintenance is not None:
            await maintenance.stop()
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
                setup = self._auth_setup(schema)
                engine = self._build_engine(schema, storage, setup)
            except BaseException:
                await storage.close()
                raise
            old = self._storage
            self.schema, self._storage, self._engine = schema, storage, engine
            self.auth_setup = setup
            if self._authenticator is not None:
                self._authenticator.storage = storage
                self._authenticator.auth = schema.auth
                self._authenticator.credentials = setup.verifiers
        if old is not None:
            await old.close()

    def _auth_setup(self, schema: SchemaDef) -> AuthSetup:
        """Verifiers for the schema's modes (the local token issuer's key is in the state dir)."""
        return build_auth(schema, state_dir=self.settings.resolved_state_dir)

    def _build_engine(self, schema: SchemaDef, storage: StorageAdapter, setup: AuthSetup) -> Engine:
        assert self._secret is not None
        settings = self.settings
        return Engine(
            schema,
            storage,
            self.pubsub,
            secret=self._secret,
            debug=settings.debug,
            max_limit=settings.max_page_size,
            limits=settings.execution_limits,
            policy_settings=PolicySettings.for_schema(schema, iam=setup.iam),
        )

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
        pubsub = "ok" if self._pubsub_started and getattr(self.pubsub, "ready", True) else "unavailable"
        status = "ok" if database == "ok" and pubsub == "ok" else "error"
        return {"status": status, "database": database, "pubsub": pubsub}
