"""``ampbase serve SCHEMA``: serve a schema, production style (no watching)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ampbase.cli.output import echo
from ampbase.schema.ir import SchemaDef
from ampbase.server.apikeys import ensure_api_key, expires_in_days, usable_keys
from ampbase.server.app import create_app
from ampbase.server.outputs import write_outputs
from ampbase.server.run import serve_app
from ampbase.server.settings import Settings
from ampbase.server.wiring import Runtime

__all__ = ["DEFAULT_REGION", "api_key_for_outputs", "outputs_region", "run_serve"]

DEFAULT_REGION = "us-east-1"


async def run_serve(
    schema_path: Path,
    *,
    database_url: str | None = None,
    host: str | None = None,
    port: int | None = None,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
    allow_plain_http: bool | None = None,
    public_url: str | None = None,
    outputs: Path | None = None,
    state_dir: Path | None = None,
    pubsub_url: str | None = None,
    workers: int | None = None,
    db_pool_size: int | None = None,
    limits: Mapping[str, float | int | None] | None = None,
    console: bool = False,
) -> int:
    from ampbase.schema.loader import load_schema

    settings = (
        Settings.from_env()
        .merged(
            database_url=database_url,
            host=host,
            port=port,
            tls_cert=tls_cert,
            tls_key=tls_key,
            allow_plain_http=allow_plain_http,
            public_url=public_url,
            outputs=outputs,
            state_dir=state_dir,
            pubsub_url=pubsub_url,
            workers=workers,
            db_pool_size=db_pool_size,
            **dict(limits or {}),
        )
        .validate()
    )
    if console:
        from ampbase.server.console import console_token, console_url

        token, token_file = console_token(settings.resolved_state_dir)
        settings = settings.merged(console_token=token)
        # the token is an admin credential: never print it, only where it lives
        where = f"in {token_file}" if token_file is not None else "from AMPBASE_CONSOLE_TOKEN"
        echo(f"admin console at {console_url(settings.url)} (token {where})")
    if settings.workers > 1:
        from ampbase.cli.workers import run_workers

        return await run_workers(schema_path, settings)
    schema = load_schema(schema_path)
    runtime = Runtime(schema, settings)
    await runtime.start()
    try:
        api_key = await api_key_for_outputs(runtime, schema, create=settings.outputs is not None)
        if settings.outputs is not None:
            write_outputs(
                settings.outputs, schema, url=settings.url, api_key=api_key, region=outputs_region(runtime)
            )

        def started() -> None:
            echo(f"ampbase serving {schema_path} at {settings.url}")
            if settings.outputs is not None:
                echo(f"  wrote {settings.outputs}")

        await serve_app(create_app(runtime), settings, on_started=started)
    finally:
        await runtime.stop()
    return 0


def outputs_region(runtime: Runtime) -> str:
    """The region to publish as ``data.aws_region``: the one the server's auth is configured for."""
    setup = runtime.auth_setup
    return setup.region if setup is not None else DEFAULT_REGION


async def api_key_for_outputs(runtime: Runtime, schema: SchemaDef, *, create: bool) -> str | None:
    """The API key to publish (created if ``create`` and none is valid), when apiKey mode is on."""
    if "apiKey" not in schema.auth.modes:
        return None
    if create:
        record, created = await ensure_api_key(runtime.storage, days=expires_in_days(schema))
        if created:
            # the key itself goes to amplify_outputs.json only, never to the server's log
            echo(f"created API key {record.id[:8]}… (written to the outputs file)")
        return record.id
    keys = usable_keys(await runtime.storage.list_api_keys())
    if not keys:
        echo(
            "warning: the schema allows API keys but the database has no valid one; "
            "create one with: ampbase keys create --database-url ...",
            err=True,
        )
        return None
    return keys[0].id
