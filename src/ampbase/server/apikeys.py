"""API keys: AppSync-shaped (``da2-`` + 26 characters), stored through the storage adapter."""

from __future__ import annotations

import secrets
import string
import time
from collections.abc import Mapping

from ampbase.schema.ir import SchemaDef
from ampbase.storage.base import ApiKeyRecord, StorageAdapter

__all__ = [
    "DEFAULT_EXPIRES_IN_DAYS",
    "create_api_key",
    "ensure_api_key",
    "expires_in_days",
    "generate_api_key",
    "usable_keys",
]

DEFAULT_EXPIRES_IN_DAYS = 30
_ALPHABET = string.ascii_lowercase + string.digits
_DAY = 86400
# ``ensure_api_key`` replaces a key that would expire within this many seconds.
_MIN_REMAINING = _DAY


def generate_api_key() -> str:
    return "da2-" + "".join(secrets.choice(_ALPHABET) for _ in range(26))


def expires_in_days(schema: SchemaDef) -> int:
    """``api_key_authorization_mode.expires_in_days`` of the schema's auth config, else 30."""
    settings = schema.auth.settings
    if isinstance(settings, Mapping):
        mode = settings.get("api_key_authorization_mode")
        if isinstance(mode, Mapping):
            days = mode.get("expires_in_days")
            if isinstance(days, int) and not isinstance(days, bool) and days > 0:
                return days
    return DEFAULT_EXPIRES_IN_DAYS


async def create_api_key(
    storage: StorageAdapter,
    *,
    days: int = DEFAULT_EXPIRES_IN_DAYS,
    description: str = "",
    now: float | None = None,
) -> ApiKeyRecord:
    created = int(time.time() if now is None else now)
    record = ApiKeyRecord(
        id=generate_api_key(), expires_at=created + days * _DAY, description=description, created_at=created
    )
    await storage.put_api_key(record)
    return record


def usable_keys(keys: list[ApiKeyRecord], *, now: float | None = None) -> list[ApiKeyRecord]:
    """Keys that are still valid, the longest-lived first."""
    current = time.time() if now is None else now
    return sorted((k for k in keys if k.expires_at > current), key=lambda k: k.expires_at, reverse=True)


async def ensure_api_key(
    storage: StorageAdapter, *, days: int = DEFAULT_EXPIRES_IN_DAYS, description: str = "sandbox"
) -> tuple[ApiKeyRecord, bool]:
    """A key valid for at least another day: the longest-lived existing one, or a new one.

    Returns ``(key, created)``.
    """
    now = time.time()
    for key in usable_keys(await storage.list_api_keys(), now=now):
        if key.expires_at - now >= _MIN_REMAINING:
            return key, False
    return await create_api_key(storage, days=days, description=description, now=now), True
