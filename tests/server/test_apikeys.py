"""API key generation and the sandbox's ensure-a-key rule."""

from __future__ import annotations

import re
import time

import pytest

from ampbase.schema.ir import AuthConfig, SchemaDef
from ampbase.server.apikeys import (
    create_api_key,
    ensure_api_key,
    expires_in_days,
    generate_api_key,
    usable_keys,
)
from ampbase.storage.base import ApiKeyRecord

pytestmark = pytest.mark.anyio


class Keys:
    def __init__(self, keys: list[ApiKeyRecord] | None = None) -> None:
        self.keys = list(keys or [])

    async def list_api_keys(self) -> list[ApiKeyRecord]:
        return list(self.keys)

    async def put_api_key(self, key: ApiKeyRecord) -> None:
        self.keys.append(key)


def test_generated_keys_look_like_appsync_keys() -> None:
    keys = {generate_api_key() for _ in range(50)}
    assert len(keys) == 50
    assert all(re.fullmatch(r"da2-[a-z0-9]{26}", k) for k in keys)


def test_expiry_days_come_from_the_schema_auth_settings() -> None:
    assert expires_in_days(SchemaDef()) == 30
    schema = SchemaDef(auth=AuthConfig(settings={"api_key_authorization_mode": {"expires_in_days": 7}}))
    assert expires_in_days(schema) == 7


async def test_create_stores_a_key_expiring_after_the_given_days() -> None:
    store = Keys()
    record = await create_api_key(store, days=2, description="ci", now=1000)  # type: ignore[arg-type]
    assert store.keys == [record]
    assert record.expires_at == 1000 + 2 * 86400
    assert record.description == "ci"


async def test_ensure_reuses_the_longest_lived_valid_key() -> None:
    now = int(time.time())
    store = Keys(
        [
            ApiKeyRecord(id="da2-short", expires_at=now + 2 * 86400),
            ApiKeyRecord(id="da2-long", expires_at=now + 20 * 86400),
            ApiKeyRecord(id="da2-old", expires_at=now - 1),
        ]
    )
    record, created = await ensure_api_key(store)  # type: ignore[arg-type]
    assert (record.id, created) == ("da2-long", False)
    assert [k.id for k in usable_keys(store.keys)] == ["da2-long", "da2-short"]


async def test_ensure_creates_a_key_when_none_lasts_another_day() -> None:
    now = int(time.time())
    store = Keys([ApiKeyRecord(id="da2-dying", expires_at=now + 60)])
    record, created = await ensure_api_key(store, days=3)  # type: ignore[arg-type]
    assert created
    assert record.id != "da2-dying"
    assert record.expires_at >= now + 3 * 86400 - 5
