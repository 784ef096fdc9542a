"""The server's background work: a backend.py with a time to live makes the sweeper delete."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from ampbase.engine.identity import Identity
from ampbase.schema.loader import load_schema
from ampbase.server.settings import Settings
from ampbase.server.wiring import Runtime

pytest.importorskip("ampbase.storage.sqlite")

pytestmark = pytest.mark.anyio

TRUSTED = Identity(mode=None)
RESOURCE = """
from ampbase import a, define_data

schema = a.schema({
    "Session": a.model({"user": a.string(), "ttl": a.timestamp()})
    .authorization(lambda allow: [allow.public_api_key()]),
})
data = define_data(schema=schema, authorization_modes={"default_authorization_mode": "apiKey"})
"""
BACKEND = """
from ampbase import define_backend
from data.resource import data

backend = define_backend(data=data)
backend.data.resources.tables["Session"].time_to_live_attribute = {"attribute_name": "ttl", "enabled": True}
"""


def project(tmp_path: Path) -> Path:
    (tmp_path / "amplify" / "data").mkdir(parents=True)
    resource = tmp_path / "amplify" / "data" / "resource.py"
    resource.write_text(RESOURCE)
    (tmp_path / "amplify" / "backend.py").write_text(BACKEND)
    return resource


async def test_sweeper_runs_in_the_runtime_and_deletes_expired_items(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMPBASE_TTL_SWEEP_INTERVAL", "0.05")
    schema = load_schema(project(tmp_path))
    assert schema.resources.table("Session") is not None
    runtime = Runtime(
        schema, Settings(database_url=f"sqlite:///{tmp_path / 'app.db'}", state_dir=tmp_path / "s")
    )
    await runtime.start()
    try:
        raw = runtime.storage
        past = int(time.time()) - 5
        await raw.insert("Session", {"id": "old", "ttl": past, "createdAt": "x", "updatedAt": "x"})
        await raw.insert("Session", {"id": "new", "ttl": past + 3600, "createdAt": "x", "updatedAt": "x"})
        for _ in range(400):  # bounded wait for the background sweeper (not a timing assertion)
            if await raw.get("Session", {"id": "old"}) is None:
                break
            await asyncio.sleep(0.025)
        assert await raw.get("Session", {"id": "old"}) is None
        assert await raw.get("Session", {"id": "new"}) is not None
    finally:
        await runtime.stop()
    assert runtime._maintenance is None
