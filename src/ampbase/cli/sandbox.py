"""``ampbase sandbox``: serve a schema locally, write amplify_outputs.json, reload on change.

The sandbox always serves TLS with a certificate from a local CA kept in the state directory
(``.ampbase/tls/`` next to the database), because the Amplify JS client opens ``wss://`` for
subscriptions whatever the URL says.
"""

from __future__ import annotations

import asyncio
import dataclasses
import traceback
from pathlib import Path

import watchfiles

from ampbase.cli.output import echo
from ampbase.cli.serve import api_key_for_outputs, outputs_region
from ampbase.errors import AmpbaseError
from ampbase.schema.gen2_ts import (
    CLOUD_OUTPUTS,
    OUTPUTS,
    gen2_root_of,
    is_gen2_source,
    prepare_outputs_file,
    restore_outputs_file,
    watch_paths,
)
from ampbase.schema.ir import SchemaDef
from ampbase.server.app import create_app
from ampbase.server.console import console_token, console_url
from ampbase.server.outputs import write_outputs
from ampbase.server.run import serve_app
from ampbase.server.settings import Settings
from ampbase.server.tls import ensure_dev_certificates, trust_hint
from ampbase.server.wiring import Runtime

__all__ = ["SCHEMA_SUFFIXES", "run_sandbox"]

SCHEMA_SUFFIXES = (".py", ".graphql", ".gql")


async def run_sandbox(
    schema_path: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 4443,
    outputs: Path = Path("amplify_outputs.json"),
    db: Path = Path(".ampbase/sandbox.db"),
    watch: bool = True,
) -> int:
    from ampbase.schema.loader import load_schema

    settings = Settings(database_url=f"sqlite:///{db}", host=host, port=port, outputs=outputs).validate()
    schema = load_schema(schema_path, warn=_warn)
    gen2_root = gen2_root_of(schema_path)  # an Amplify Gen 2 project: outputs go to its root
    certs = ensure_dev_certificates(settings.resolved_state_dir)
    token, _token_file = console_token(settings.resolved_state_dir)
    settings = dataclasses.replace(
        settings, tls_cert=certs.cert, tls_key=certs.key, allow_plain_http=True, console_token=token
    )

    runtime = Runtime(schema, settings)
    await runtime.start()
    try:
        if gen2_root is not None and outputs == Path("amplify_outputs.json"):
            outputs = prepare_outputs_file(gen2_root)
            settings = dataclasses.replace(settings, outputs=outputs)
        api_key = await api_key_for_outputs(runtime, schema, create=True)
        write_outputs(outputs, schema, url=settings.url, api_key=api_key, region=outputs_region(runtime))

        def started() -> None:
            echo(f"ampbase sandbox: serving {schema_path}")
            echo(f"  GraphQL:  {settings.url}")
            echo(f"  Realtime: {settings.url.replace('https://', 'wss://', 1)}/realtime")
            if api_key is not None:
                echo(f"  API key:  {api_key}")
            echo(f"  Database: {db}")
            echo(f"  Outputs:  {outputs}")
            echo(f"  Console:  {console_url(settings.url)}#token={token}")
            echo(trust_hint(certs.ca_cert.resolve()))
            if watch:
                echo(f"Watching {_watch_root(schema_path)} for changes. Press Ctrl-C to stop.")
            else:
                echo("Press Ctrl-C to stop.")

        stop = asyncio.Event()
        watcher = (
            asyncio.create_task(_watch(schema_path, runtime, settings, api_key, stop)) if watch else None
        )
        try:
            await serve_app(create_app(runtime), settings, on_started=started)
        finally:
            stop.set()
            if watcher is not None:
                await watcher
    finally:
        await runtime.stop()
        if gen2_root is not None and restore_outputs_file(gen2_root):
            echo(f"restored the cloud {OUTPUTS} from {CLOUD_OUTPUTS}")
    echo("ampbase sandbox stopped")
    return 0


def _watch_root(schema_path: Path) -> Path:
    gen2_root = gen2_root_of(schema_path)
    if gen2_root is not None:
        return watch_paths(gen2_root)[0]
    return schema_path.parent if schema_path.is_file() or schema_path.suffix else schema_path


def _is_schema_file(change: watchfiles.Change, path: str) -> bool:
    return path.endswith(SCHEMA_SUFFIXES) and "__pycache__" not in path


def _is_gen2_file(change: watchfiles.Change, path: str) -> bool:
    return is_gen2_source(path)


def _warn(message: str) -> None:
    echo(f"warning: {message}", err=True)


async def _watch(
    schema_path: Path, runtime: Runtime, settings: Settings, api_key: str | None, stop: asyncio.Event
) -> None:
    async for _changes in watchfiles.awatch(
        _watch_root(schema_path),
        watch_filter=_is_gen2_file if gen2_root_of(schema_path) is not None else _is_schema_file,
        stop_event=stop,
        debounce=300,
    ):
        schema = _reload_schema(schema_path)
        if schema is None:
            continue
        try:
            await runtime.reload(schema)
            key = api_key
            if key is None:
                key = await api_key_for_outputs(runtime, schema, create=True)
            if settings.outputs is not None:
                write_outputs(
                    settings.outputs, schema, url=settings.url, api_key=key, region=outputs_region(runtime)
                )
        except AmpbaseError as exc:
            echo(f"schema change not applied: {exc}", err=True)
            echo("still serving the previous schema", err=True)
            continue
        echo(f"reloaded {schema_path}; {settings.outputs} updated")


def _reload_schema(schema_path: Path) -> SchemaDef | None:
    from ampbase.schema.loader import load_schema

    try:
        return load_schema(schema_path, warn=_warn)
    except AmpbaseError as exc:
        echo(f"schema error: {exc}", err=True)
    except Exception as exc:  # noqa: BLE001 - user code in resource.py can raise anything
        echo("schema error: " + "".join(traceback.format_exception_only(exc)).strip(), err=True)
    echo("still serving the previous schema", err=True)
    return None
