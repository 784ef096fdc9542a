"""Threat: secrets end up in logs (API keys, the engine secret that signs nextTokens, database
passwords in URLs), where operators, log shippers and error trackers can read them.

Defence: nothing logs request headers, credentials or settings; errors name the failing
operation, never the caller's credentials; a failing database connection reports the host, not
the URL; ``Settings`` masks its secret and URL passwords in its ``repr``. Proved by capturing
every log record and all output during a run with good requests, failing requests and rejected
credentials, and searching it for each secret.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from pathlib import Path

import pytest

from ampbase.errors import AmpbaseError
from ampbase.schema.loader import load_schema
from ampbase.server.settings import Settings, redact_url
from ampbase.server.wiring import Runtime
from tests.security.served import SCHEMA, SECRET, served

pytestmark = pytest.mark.anyio

WRONG_KEY = "da2-wrongwrongwrongwrongwrong1"
PASSWORD = "hunter2-db-password"


async def test_no_secret_appears_in_logs_or_output_of_a_run_with_failures(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    async with served(tmp_path, rate_limit=1000, rate_burst=30) as app:
        await app.ok('mutation { createTodo(input: {id: "t1", name: "one"}) { id } }')
        await app.ok('mutation { createTodo(input: {id: "t2", name: "two"}) { id } }')
        token_body = await app.gql("{ listTodos(limit: 1) { nextToken } }")
        next_token = token_body["data"]["listTodos"]["nextToken"]
        # failures of every kind
        assert (await app.post({"query": "{ listTodos { items { id } } }"}, key=WRONG_KEY)).status_code == 401
        await app.post(
            {"query": "{ listTodos { items { id } } }"}, key=None, authorization=f"Bearer {app.api_key}"
        )
        await app.gql(
            "query ($t: String) { listTodos(nextToken: $t) { items { id } } }", {"t": next_token + "x"}
        )
        await app.gql("{ nonsense }")
        with contextlib.closing(sqlite3.connect(app.db_path)) as db:
            db.execute('DROP TABLE "Todo"')
        failing = await app.gql("{ listTodos { items { id } } }")
        assert failing["errors"][0]["errorType"] == "InternalFailure"
        for _ in range(40):  # into the rate limit
            await app.post({"query": "{ listTags { items { key } } }"})
        api_key = app.api_key
    # a database URL with a password that cannot be reached: the failure names no password
    settings = Settings(
        database_url=f"postgresql://admin:{PASSWORD}@127.0.0.1:1/app", secret=SECRET, state_dir=tmp_path
    ).validate()
    logging.getLogger("ampbase.test").info("starting with %r", settings)
    with pytest.raises(AmpbaseError) as unreachable:
        await Runtime(load_schema(SCHEMA), settings).start()
    logging.getLogger("ampbase.test").error("start failed: %s", unreachable.value)

    captured = capfd.readouterr()
    everything = "\n".join(
        [
            caplog.text,
            captured.out,
            captured.err,
            *(str(r.args) for r in caplog.records),
            str(unreachable.value),
        ]
    )
    assert "no such table" in everything  # the failure itself was logged for the operator
    assert "admin:***@127.0.0.1" in everything  # settings are logged with the password masked
    # SECRET is the engine secret, the HMAC key of nextTokens (also checked in hex)
    for secret in (api_key, WRONG_KEY, SECRET, SECRET.encode().hex(), PASSWORD, next_token):
        assert secret not in everything, secret


async def test_a_generated_engine_secret_is_stored_privately(tmp_path: Path) -> None:
    from ampbase.server.wiring import load_or_create_secret

    secret = load_or_create_secret(
        Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", state_dir=tmp_path)
    )
    path = tmp_path / "secret"
    assert path.read_text().strip() == secret.hex()
    assert path.stat().st_mode & 0o077 == 0  # readable by the owner only


def test_urls_are_redacted_for_messages() -> None:
    assert redact_url("postgresql://u:p%40ss@db:5432/x?schema=s") == "postgresql://u:***@db:5432/x?schema=s"
    assert redact_url("redis://:secret@cache:6379/0") == "redis://:***@cache:6379/0"
    assert redact_url("postgresql://u@db/x") == "postgresql://u@db/x"
    assert redact_url("sqlite:///tmp/a:b@c.db") == "sqlite:///tmp/a:b@c.db"
    text = repr(Settings(secret="s3cr3t", pubsub_url="redis://:pw@cache:6379/0"))
    assert "s3cr3t" not in text and ":pw@" not in text
