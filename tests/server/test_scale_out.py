"""Scale-out settings and wiring: database and pub/sub URLs, workers, the shared secret, /health."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ampbase.errors import ConfigError
from ampbase.pubsub.local import LocalPubSub
from ampbase.schema.loader import load_schema
from ampbase.server.settings import Settings, database_kind, pubsub_kind
from ampbase.server.wiring import Runtime, open_pubsub, open_storage, pop_url_params, split_postgres_url
from ampbase.storage.sqlite import SQLiteStorage
from tests.services import drop_schema, postgres_dsn, redis_url, unique_name

pytestmark = pytest.mark.anyio

TODO = """
type Todo @model @auth(rules: [{allow: public}]) {
  content: String
}
"""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_database_and_pubsub_kinds_follow_the_url_scheme() -> None:
    assert database_kind("sqlite:///x.db") == "sqlite"
    assert database_kind("postgresql://u@h/db") == database_kind("postgres://u@h/db") == "postgres"
    assert pubsub_kind(None) == pubsub_kind("local") == "local"
    assert pubsub_kind("redis://h:6379/0") == pubsub_kind("rediss://h") == "redis"
    assert pubsub_kind("postgresql://u@h/db") == "postgres"
    with pytest.raises(ConfigError, match="pub/sub URL scheme 'amqp'"):
        pubsub_kind("amqp://h")


def test_settings_come_from_the_environment() -> None:
    env = {
        "AMPBASE_DATABASE_URL": "postgresql://u@h/db",
        "AMPBASE_PUBSUB_URL": "redis://h:6379/0",
        "AMPBASE_WORKERS": "4",
        "AMPBASE_DB_POOL_SIZE": "20",
    }
    settings = Settings.from_env(env).validate()
    assert (settings.database_url, settings.pubsub_url) == ("postgresql://u@h/db", "redis://h:6379/0")
    assert (settings.workers, settings.db_pool_size) == (4, 20)


@pytest.mark.parametrize("database_url", ["sqlite:///x.db", "postgresql://u@h/db"])
def test_several_workers_without_a_shared_pubsub_are_refused(database_url: str) -> None:
    with pytest.raises(ConfigError, match="--workers 2 needs a shared pub/sub") as info:
        Settings(database_url=database_url, workers=2).validate()
    assert "--pubsub-url redis://" in str(info.value)
    Settings(database_url=database_url, workers=2, pubsub_url="redis://h:6379/0").validate()
    with pytest.raises(ConfigError):
        Settings(workers=0).validate()


def test_url_parameters_for_ampbase_are_taken_out_before_the_driver_sees_them() -> None:
    assert split_postgres_url("postgresql://u@h:5432/db?schema=app&sslmode=require") == (
        "postgresql://u@h:5432/db?sslmode=require",
        "app",
    )
    assert split_postgres_url("postgresql://u@h/db") == ("postgresql://u@h/db", None)
    assert pop_url_params("redis://h:6379/0?channel=x", "channel") == ("redis://h:6379/0", {"channel": "x"})


def test_adapters_follow_the_urls(tmp_path: Path) -> None:
    from ampbase.pubsub.postgres import PostgresPubSub
    from ampbase.pubsub.redis import RedisPubSub
    from ampbase.storage.postgres import PostgresStorage

    assert isinstance(open_storage(f"sqlite:///{tmp_path / 'a.db'}"), SQLiteStorage)
    storage = open_storage("postgresql://u@h/db?schema=app", pool_size=7)
    assert isinstance(storage, PostgresStorage)
    assert (storage.dsn, storage.schema, storage.max_size) == ("postgresql://u@h/db", "app", 7)
    assert isinstance(open_pubsub(None), LocalPubSub)
    redis = open_pubsub("redis://h:6379/1?channel=team:events")
    assert isinstance(redis, RedisPubSub)
    assert (redis.url, redis.channel) == ("redis://h:6379/1", "team:events")
    pg = open_pubsub("postgresql://u@h/db?schema=app&channel=app_events")
    assert isinstance(pg, PostgresPubSub)
    assert (pg.dsn, pg.schema, pg.channel) == ("postgresql://u@h/db", "app", "app_events")


@pytest.mark.postgres
@pytest.mark.redis
async def test_replicas_on_postgres_share_the_engine_secret_and_report_health(tmp_path: Path) -> None:
    dsn = postgres_dsn()
    schema_name = unique_name("test")
    path = tmp_path / "schema.graphql"
    path.write_text(TODO)
    defs = load_schema(path)
    settings = Settings(
        database_url=f"{dsn}?schema={schema_name}",
        pubsub_url=f"{redis_url()}?channel=ampbase:{schema_name}",
    )
    one = Runtime(defs, settings.merged(state_dir=tmp_path / "one"))
    two = Runtime(defs, settings.merged(state_dir=tmp_path / "two"))
    try:
        await one.start()
        await two.start()
        assert one._secret is not None and one._secret == two._secret
        assert not (tmp_path / "one" / "secret").exists()  # nothing on local disk
        assert await one.health() == {"status": "ok", "database": "ok", "pubsub": "ok"}
    finally:
        await one.stop()
        await two.stop()
        drop_schema(dsn, schema_name)


def _workers(parent: int) -> list[int]:
    out = subprocess.run(
        ["ps", "--ppid", str(parent), "-o", "pid=,args="], capture_output=True, text=True, check=False
    ).stdout
    return [int(line.split()[0]) for line in out.splitlines() if "ampbase.cli.workers" in line]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.postgres
@pytest.mark.redis
def test_serve_with_workers_runs_several_processes_on_one_port(tmp_path: Path) -> None:
    dsn = postgres_dsn()
    schema_name = unique_name("test")
    path = tmp_path / "schema.graphql"
    path.write_text(TODO)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMPBASE_")}
    env |= {
        "AMPBASE_DATABASE_URL": f"{dsn}?schema={schema_name}",
        "AMPBASE_PUBSUB_URL": f"{redis_url()}?channel=ampbase:{schema_name}",
        "AMPBASE_WORKERS": "2",
    }
    command = [sys.executable, "-m", "ampbase.cli.main", "serve", str(path), "--port", str(port)]
    command += ["--outputs", str(tmp_path / "outputs.json")]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline and health is None:
            assert process.poll() is None, log.read_text()
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json()
            except httpx.HTTPError:
                time.sleep(0.1)
        assert health == {"status": "ok", "database": "ok", "pubsub": "ok"}, log.read_text()
        workers = _workers(process.pid)
        assert len(workers) == 2
        assert "with 2 workers" in log.read_text()
        os.kill(workers[0], signal.SIGKILL)  # a crashed worker is replaced
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (
            len(_workers(process.pid)) < 2 or workers[0] in _workers(process.pid)
        ):
            time.sleep(0.1)
        replaced = _workers(process.pid)
        assert len(replaced) == 2 and workers[0] not in replaced, log.read_text()
    finally:
        os.kill(process.pid, signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        drop_schema(dsn, schema_name)
