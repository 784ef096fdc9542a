"""Small stand-ins for the engine and storage, so HTTP behaviour is tested on its own."""

from __future__ import annotations

import time
from typing import Any

from ampbase.engine.identity import Identity
from ampbase.schema.ir import AuthConfig
from ampbase.server.authn import Authenticator
from ampbase.server.settings import Settings
from ampbase.storage.base import ApiKeyRecord

VALID_KEY = "da2-validvalidvalidvalidvalid1"
EXPIRED_KEY = "da2-expiredexpiredexpiredexp1"


class KeyStore:
    """Just the API-key part of a storage adapter."""

    def __init__(self, keys: list[ApiKeyRecord] | None = None) -> None:
        now = int(time.time())
        self.keys = (
            keys
            if keys is not None
            else [
                ApiKeyRecord(id=VALID_KEY, expires_at=now + 3600),
                ApiKeyRecord(id=EXPIRED_KEY, expires_at=now - 10),
            ]
        )
        self.list_calls = 0
        self.fail = False

    async def list_api_keys(self) -> list[ApiKeyRecord]:
        self.list_calls += 1
        if self.fail:
            raise OSError("database is gone")
        return list(self.keys)


class RecordingEngine:
    """Answers every request with what it received."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, Identity, str | None]] = []
        self.explode = False

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None,
        identity: Identity,
        operation_name: str | None = None,
    ) -> dict[str, Any]:
        self.calls.append((query, variables, identity, operation_name))
        if self.explode:
            raise RuntimeError("bug in the engine")
        return {"data": {"echo": {"query": query, "variables": variables, "mode": identity.mode}}}


class FakeRuntime:
    def __init__(self, *, settings: Settings | None = None, auth: AuthConfig | None = None) -> None:
        self.settings = settings or Settings()
        self.store = KeyStore()
        self.engine = RecordingEngine()
        self.authenticator = Authenticator(self.store, auth or AuthConfig())  # type: ignore[arg-type]
        self.started = 0
        self.stopped = 0
        self.healthy = True

    async def start(self) -> None:
        self.started += 1

    async def stop(self) -> None:
        self.stopped += 1

    async def health(self) -> dict[str, str]:
        database = "ok"
        try:
            await self.store.list_api_keys()
        except OSError:
            database = "error"
        status = "ok" if database == "ok" else "error"
        return {"status": status, "database": database, "pubsub": "ok"}
