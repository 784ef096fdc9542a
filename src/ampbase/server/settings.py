"""Server settings: one frozen value, filled from CLI flags and ``AMPBASE_*`` environment variables.

Environment variables (flags win over them):

================================  ===========================================================
``AMPBASE_DATABASE_URL``          ``sqlite:///path/to.db`` (default ``sqlite:///.ampbase/ampbase.db``) or
                                  ``postgresql://user@host:5432/db[?schema=name]``
``AMPBASE_DB_POOL_SIZE``          PostgreSQL connections per process (10)
``AMPBASE_PUBSUB_URL``            ``redis://host:6379/0`` or ``postgresql://...`` (LISTEN/NOTIFY);
                                  unset: in-process (one process only)
``AMPBASE_WORKERS``               server processes sharing the port (1; >1 needs a pub/sub URL)
``AMPBASE_HOST`` / ``AMPBASE_PORT``  bind address (``127.0.0.1`` / ``4443``)
``AMPBASE_TLS_CERT`` / ``_KEY``   PEM files; both or neither
``AMPBASE_ALLOW_PLAIN_HTTP``      ``1``: with TLS, also accept plain HTTP on the same port
``AMPBASE_PUBLIC_URL``            the GraphQL URL clients use (``data.url`` of amplify_outputs.json)
``AMPBASE_OUTPUTS``               where to write amplify_outputs.json
``AMPBASE_STATE_DIR``             where the engine secret (and the sandbox CA) live
``AMPBASE_SECRET``                the engine secret itself (share it between replicas)
``AMPBASE_MAX_BODY_BYTES``        largest accepted request body (1 MiB)
``AMPBASE_DEBUG``                 ``1`` to include internal error details in responses
================================  ===========================================================

Limits (``0`` turns one off; ``docs/limits.md`` has the errors clients see):

=====================================  ======================================================
``AMPBASE_MAX_QUERY_DEPTH``            deepest field nesting of a document (75)
``AMPBASE_MAX_QUERY_TOKENS``           GraphQL tokens in a document (20000)
``AMPBASE_MAX_RESOLVERS``              resolver executions per request (10000)
``AMPBASE_MAX_PAGE_SIZE``              largest ``limit`` argument (1000)
``AMPBASE_REQUEST_TIMEOUT``            seconds per request before it is cancelled (30)
``AMPBASE_RATE_LIMIT``                 requests per second per API key (1000)
``AMPBASE_RATE_BURST``                 requests an API key may send at once (2000)
``AMPBASE_MAX_SUBSCRIPTIONS``          subscriptions per WebSocket connection (100)
``AMPBASE_MAX_WS_MESSAGE_BYTES``       largest WebSocket frame, either way (240 KiB)
``AMPBASE_MAX_WS_CONNECTIONS_PER_IP``  open WebSockets per client address (200)
=====================================  ======================================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ampbase.engine.limits import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_RESOLVERS,
    DEFAULT_MAX_TOKENS,
    DEFAULT_TIMEOUT,
    ExecutionLimits,
)
from ampbase.errors import ConfigError
from ampbase.protocol.appsync_ws import MAX_MESSAGE_BYTES, MAX_SUBSCRIPTIONS

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_WS_CONNECTIONS_PER_IP",
    "DEFAULT_RATE_BURST",
    "DEFAULT_RATE_LIMIT",
    "GRAPHQL_PATH",
    "Settings",
    "database_kind",
    "pubsub_kind",
    "redact_url",
    "sqlite_path",
    "state_dir_for",
]

GRAPHQL_PATH = "/graphql"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_RATE_LIMIT = 1000.0
DEFAULT_RATE_BURST = 2000
DEFAULT_MAX_WS_CONNECTIONS_PER_IP = 200


@dataclass(frozen=True, slots=True, repr=False)
class Settings:
    database_url: str = "sqlite:///.ampbase/ampbase.db"
    host: str = "127.0.0.1"
    port: int = 4443
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # With TLS: also accept plain HTTP on the same port (the first byte tells them apart).
    allow_plain_http: bool = False
    public_url: str | None = None
    outputs: Path | None = None
    state_dir: Path | None = None
    secret: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    api_key_cache_ttl: float = 5.0
    debug: bool = False
    # limits (0 = off)
    max_query_depth: int = DEFAULT_MAX_DEPTH
    max_query_tokens: int = DEFAULT_MAX_TOKENS
    max_resolvers: int = DEFAULT_MAX_RESOLVERS
    max_page_size: int = 1000
    request_timeout: float = DEFAULT_TIMEOUT
    rate_limit: float = DEFAULT_RATE_LIMIT
    rate_burst: int = DEFAULT_RATE_BURST
    max_subscriptions: int = MAX_SUBSCRIPTIONS
    max_ws_message_bytes: int = MAX_MESSAGE_BYTES
    max_ws_connections_per_ip: int = DEFAULT_MAX_WS_CONNECTIONS_PER_IP
    # scale out: a shared pub/sub, worker processes, the PostgreSQL pool
    pubsub_url: str | None = None
    workers: int = 1
    db_pool_size: int = 10
    # the admin console at /console (off when None; the sandbox and `serve --console` set it)
    console_token: str | None = None

    def __repr__(self) -> str:
        """Like the dataclass repr, with the secret and URL passwords masked (settings get logged)."""
        parts = []
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if name in ("secret", "console_token") and value is not None:
                value = "***"
            elif isinstance(value, str) and "://" in value:
                value = redact_url(value)
            parts.append(f"{name}={value!r}")
        return f"Settings({', '.join(parts)})"

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    @property
    def url(self) -> str:
        """The GraphQL URL clients should use."""
        if self.public_url:
            return self.public_url.rstrip("/")
        scheme = "https" if self.tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.host in ("0.0.0.0", "::"):
            host = "127.0.0.1"
        return f"{scheme}://{host}:{self.port}{GRAPHQL_PATH}"

    @property
    def resolved_state_dir(self) -> Path:
        return self.state_dir if self.state_dir is not None else state_dir_for(self.database_url)

    def validate(self) -> Settings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ConfigError("give both --tls-cert and --tls-key, or neither")
        if not 0 < self.port < 65536:
            raise ConfigError(f"port {self.port} is out of range")
        if self.max_body_bytes <= 0:
            raise ConfigError("max_body_bytes must be positive")
        if self.max_page_size < 1:
            raise ConfigError("max_page_size must be at least 1")
        if self.max_subscriptions < 1 or self.max_ws_message_bytes < 1:
            raise ConfigError("max_subscriptions and max_ws_message_bytes must be positive")
        for name in (
            "max_query_depth",
            "max_query_tokens",
            "max_resolvers",
            "request_timeout",
            "rate_limit",
            "rate_burst",
            "max_ws_connections_per_ip",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must not be negative (0 turns the limit off)")
        if self.public_url is not None and ("?" in self.public_url or not self.public_url.startswith("http")):
            raise ConfigError(
                f"public URL {self.public_url!r} must be an absolute http(s) URL without a query string"
            )
        database = database_kind(self.database_url)
        pubsub = pubsub_kind(self.pubsub_url)
        if self.db_pool_size < 1:
            raise ConfigError("db_pool_size must be at least 1")
        if self.workers < 1:
            raise ConfigError("workers must be at least 1")
        if self.workers > 1 and pubsub == "local":
            raise ConfigError(
                f"--workers {self.workers} needs a shared pub/sub: with the in-process one, a change made "
                "in one worker would not reach subscriptions held by the others. Add --pubsub-url "
                "redis://HOST:6379/0 (or postgresql://... for LISTEN/NOTIFY)"
                + (", and prefer a PostgreSQL database" if database == "sqlite" else "")
                + ", or run one worker."
            )
        return self

    @property
    def execution_limits(self) -> ExecutionLimits:
        return ExecutionLimits(
            max_depth=self.max_query_depth,
            max_tokens=self.max_query_tokens,
            max_resolvers=self.max_resolvers,
            timeout=self.request_timeout,
        )

    def merged(self, **overrides: Any) -> Settings:
        """A copy with every override that is not ``None`` applied."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(f"AMPBASE_{name}")
            return value if value else None

        def path(name: str) -> Path | None:
            value = get(name)
            return Path(value) if value is not None else None

        def integer(name: str) -> int | None:
            value = get(name)
            if value is None:
                return None
            try:
                return int(value)
            except ValueError:
                raise ConfigError(f"AMPBASE_{name} must be an integer, got {value!r}") from None

        def number(name: str) -> float | None:
            value = get(name)
            if value is None:
                return None
            try:
                return float(value)
            except ValueError:
                raise ConfigError(f"AMPBASE_{name} must be a number, got {value!r}") from None

        def flag(name: str) -> bool | None:
            value = get(name)
            return None if value is None else value.lower() in ("1", "true", "yes", "on")

        return cls().merged(
            database_url=get("DATABASE_URL"),
            host=get("HOST"),
            port=integer("PORT"),
            tls_cert=path("TLS_CERT"),
            tls_key=path("TLS_KEY"),
            public_url=get("PUBLIC_URL"),
            outputs=path("OUTPUTS"),
            state_dir=path("STATE_DIR"),
            secret=get("SECRET"),
            max_body_bytes=integer("MAX_BODY_BYTES"),
            allow_plain_http=flag("ALLOW_PLAIN_HTTP"),
            debug=flag("DEBUG"),
            max_query_depth=integer("MAX_QUERY_DEPTH"),
            max_query_tokens=integer("MAX_QUERY_TOKENS"),
            max_resolvers=integer("MAX_RESOLVERS"),
            max_page_size=integer("MAX_PAGE_SIZE"),
            request_timeout=number("REQUEST_TIMEOUT"),
            rate_limit=number("RATE_LIMIT"),
            rate_burst=integer("RATE_BURST"),
            max_subscriptions=integer("MAX_SUBSCRIPTIONS"),
            max_ws_message_bytes=integer("MAX_WS_MESSAGE_BYTES"),
            max_ws_connections_per_ip=integer("MAX_WS_CONNECTIONS_PER_IP"),
            pubsub_url=get("PUBSUB_URL"),
            workers=integer("WORKERS"),
            db_pool_size=integer("DB_POOL_SIZE"),
        )


_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def database_kind(database_url: str) -> str:
    """``"sqlite"`` or ``"postgres"``; a :class:`ConfigError` for anything else."""
    if database_url.startswith(_POSTGRES_SCHEMES):
        return "postgres"
    sqlite_path(database_url)
    return "sqlite"


def pubsub_kind(pubsub_url: str | None) -> str:
    """``"local"`` (no URL), ``"redis"`` or ``"postgres"``; a :class:`ConfigError` for anything else."""
    if not pubsub_url or pubsub_url == "local":
        return "local"
    if pubsub_url.startswith(("redis://", "rediss://", "unix://")):
        return "redis"
    if pubsub_url.startswith(_POSTGRES_SCHEMES):
        return "postgres"
    scheme = pubsub_url.split("://", 1)[0]
    raise ConfigError(
        f"unsupported pub/sub URL scheme {scheme!r}: use redis://host:6379/0 or postgresql://..."
    )


def redact_url(url: str) -> str:
    """``url`` with the password of its user info replaced by ``***`` (for messages and logs)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, path = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}{slash}{path}"


def sqlite_path(database_url: str) -> Path:
    """The file of a ``sqlite:///relative`` or ``sqlite:////absolute`` URL (a bare path works too)."""
    if database_url.startswith("sqlite:///"):
        rest = database_url[len("sqlite:///") :]
    elif "://" in database_url:
        scheme = database_url.split("://", 1)[0]
        raise ConfigError(
            f"unsupported database URL scheme {scheme!r}: use sqlite:///path/to.db or postgresql://..."
        )
    else:
        rest = database_url
    if not rest:
        raise ConfigError(f"database URL {database_url!r} names no file (use sqlite:///path/to.db)")
    return Path(rest)


def state_dir_for(database_url: str) -> Path:
    """``.ampbase/`` next to the database file (the database's own folder if it is called ``.ampbase``)."""
    try:
        folder = sqlite_path(database_url).parent
    except ConfigError:
        return Path.home() / ".ampbase"
    return folder if folder.name == ".ampbase" else folder / ".ampbase"
