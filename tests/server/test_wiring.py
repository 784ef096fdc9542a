"""Runtime: storage + pub/sub + engine from settings; secret persistence; live schema reload."""

from __future__ import annotations

from pathlib import Path

import pytest

from ampbase.engine.identity import Identity
from ampbase.errors import ConfigError
from ampbase.schema.ir import SchemaDef
from ampbase.schema.loader import load_schema
from ampbase.server.settings import Settings
from ampbase.server.wiring import Runtime, load_or_create_secret

pytest.importorskip("ampbase.storage.sqlite")

pytestmark = pytest.mark.anyio

TRUSTED = Identity(mode=None)
TODO = """
type Todo @model @auth(rules: [{allow: public}]) {
  content: String
}
"""
NOTE = """
type Note @model @auth(rules: [{allow: public}]) {
  body: String
}
"""


def schema(tmp_path: Path, sdl: str) -> SchemaDef:
    path = tmp_path / "schema.graphql"
    path.write_text(sdl)
    return load_schema(path)


def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'app.db'}", state_dir=tmp_path / "state")


def test_secret_is_created_once_and_kept(tmp_path: Path) -> None:
    first = load_or_create_secret(settings(tmp_path))
    assert len(first) == 32
    assert load_or_create_secret(settings(tmp_path)) == first
    assert (tmp_path / "state" / "secret").stat().st_mode & 0o777 == 0o600


def test_secret_from_settings_wins(tmp_path: Path) -> None:
    assert load_or_create_secret(Settings(secret="shared", state_dir=tmp_path)) == b"shared"
    assert not (tmp_path / "secret").exists()


def test_corrupt_secret_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("not hex")
    with pytest.raises(ConfigError, match="corrupt"):
        load_or_create_secret(Settings(state_dir=tmp_path))


async def test_start_serves_requests_and_stop_closes(tmp_path: Path) -> None:
    runtime = Runtime(schema(tmp_path, TODO), settings(tmp_path))
    await runtime.start()
    await runtime.start()  # idempotent
    try:
        result = await runtime.engine.execute(
            'mutation { createTodo(input: {content: "a"}) { content } }', None, TRUSTED
        )
        assert result == {"data": {"createTodo": {"content": "a"}}}
        assert await runtime.health() == {"status": "ok", "database": "ok", "pubsub": "ok"}
    finally:
        await runtime.stop()
    assert (await runtime.health())["status"] == "error"
    with pytest.raises(RuntimeError):
        _ = runtime.engine


async def test_next_tokens_survive_a_restart(tmp_path: Path) -> None:
    query = "query ($t: String) { listTodos(limit: 1, nextToken: $t) { items { content } nextToken } }"
    runtime = Runtime(schema(tmp_path, TODO), settings(tmp_path))
    await runtime.start()
    for content in ("a", "b"):
        await runtime.engine.execute(
            "mutation ($c: String) { createTodo(input: {content: $c}) { id } }", {"c": content}, TRUSTED
        )
    first = await runtime.engine.execute(query, {}, TRUSTED)
    token = first["data"]["listTodos"]["nextToken"]
    await runtime.stop()

    restarted = Runtime(schema(tmp_path, TODO), settings(tmp_path))
    await restarted.start()
    try:
        second = await restarted.engine.execute(query, {"t": token}, TRUSTED)
    finally:
        await restarted.stop()
    assert "errors" not in second
    contents = {
        first["data"]["listTodos"]["items"][0]["content"],
        second["data"]["listTodos"]["items"][0]["content"],
    }
    assert contents == {"a", "b"}


async def test_reload_serves_the_new_schema_and_keeps_data(tmp_path: Path) -> None:
    runtime = Runtime(schema(tmp_path, TODO), settings(tmp_path))
    await runtime.start()
    try:
        await runtime.engine.execute(
            'mutation { createTodo(input: {content: "kept"}) { id } }', None, TRUSTED
        )
        old_engine = runtime.engine
        await runtime.reload(schema(tmp_path, TODO + NOTE))
        assert runtime.engine is not old_engine
        assert runtime.authenticator.storage is runtime.storage
        note = await runtime.engine.execute(
            'mutation { createNote(input: {body: "n"}) { body } }', None, TRUSTED
        )
        assert note == {"data": {"createNote": {"body": "n"}}}
        todos = await runtime.engine.execute("{ listTodos { items { content } } }", None, TRUSTED)
        assert todos["data"]["listTodos"]["items"] == [{"content": "kept"}]
    finally:
        await runtime.stop()


async def test_failed_reload_keeps_the_previous_schema_in_service(tmp_path: Path) -> None:
    runtime = Runtime(schema(tmp_path, TODO), settings(tmp_path))
    await runtime.start()
    try:
        await runtime.engine.execute('mutation { createTodo(input: {content: "x"}) { id } }', None, TRUSTED)
        engine = runtime.engine
        rekeyed = TODO.replace("content: String", "content: String! @primaryKey")
        with pytest.raises(ConfigError, match="primary key"):
            await runtime.reload(schema(tmp_path, rekeyed))
        assert runtime.engine is engine
        listed = await runtime.engine.execute("{ listTodos { items { content } } }", None, TRUSTED)
        assert listed["data"]["listTodos"]["items"] == [{"content": "x"}]
    finally:
        await runtime.stop()
