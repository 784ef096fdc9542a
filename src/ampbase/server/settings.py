"""Server settings: one frozen value, filled from CLI flags and ``AMPBASE_*`` environment variables.

Environment variables (flags win over them):

================================  ===========================================================
``AMPBASE_DATABASE_URL``          ``sqlite:///path/to.db`` (default ``sqlite:///.ampbase/ampbase.db``)
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
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ampbase.errors import ConfigError

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "GRAPHQL_PATH",
    "Settings",
    "sqlite_path",
    "state_dir_for",
]

GRAPHQL_PATH = "/graphql"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
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
        if self.public_url is not None and ("?" in self.public_url or not self.public_url.startswith("http")):
            raise ConfigError(
                f"public URL {self.public_url!r} must be an absolute http(s) URL without a query string"
            )
        sqlite_path(self.database_url)
        return self

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
        )


def sqlite_path(database_url: str) -> Path:
    """The file of a ``sqlite:///relative`` or ``sqlite:////absolute`` URL (a bare path works too)."""
    if database_url.startswith("sqlite:///"):
        rest = database_url[len("sqlite:///") :]
    elif "://" in database_url:
        scheme = database_url.split("://", 1)[0]
        raise ConfigError(
            f"unsupported database URL scheme {scheme!r}: this build serves SQLite (sqlite:///path/to.db)"
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
