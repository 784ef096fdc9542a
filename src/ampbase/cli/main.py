"""``ampbase``: the command line.

::

    ampbase sandbox [SCHEMA] [--port 4443] [--host 127.0.0.1] [--outputs amplify_outputs.json] [--db PATH]
    ampbase serve SCHEMA [--database-url sqlite:///path] [--host H] [--port N]
                  [--tls-cert F --tls-key F] [--public-url URL] [--outputs PATH]
    ampbase schema print SCHEMA
    ampbase schema introspection SCHEMA
    ampbase keys create|list|delete [--db PATH | --database-url URL]

Exit status: 0 success, 1 runtime failure, 2 bad schema, settings or usage.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from ampbase.cli.output import echo
from ampbase.errors import AmpbaseError, ConfigError, SchemaDefinitionError

__all__ = ["build_parser", "main"]

DEFAULT_SCHEMA = Path("amplify/data/resource.py")
SANDBOX_DB = Path(".ampbase/sandbox.db")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ampbase",
        description="Self-hostable Amplify Data: an AppSync-compatible GraphQL API from a schema.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    sandbox = commands.add_parser(
        "sandbox",
        help="serve a schema locally over TLS, write amplify_outputs.json, reload on change",
        description="Serve SCHEMA on SQLite with a local TLS certificate, write amplify_outputs.json "
        "and reload the API whenever the schema changes (data is kept).",
    )
    sandbox.add_argument(
        "schema", nargs="?", type=Path, default=DEFAULT_SCHEMA, help=f"schema file (default {DEFAULT_SCHEMA})"
    )
    sandbox.add_argument("--port", type=int, default=4443, help="port (default 4443)")
    sandbox.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    sandbox.add_argument(
        "--outputs",
        type=Path,
        default=Path("amplify_outputs.json"),
        help="where to write amplify_outputs.json (default ./amplify_outputs.json)",
    )
    sandbox.add_argument(
        "--db", type=Path, default=SANDBOX_DB, help=f"SQLite database file (default {SANDBOX_DB})"
    )
    sandbox.add_argument("--no-watch", action="store_true", help="do not reload when the schema changes")

    serve = commands.add_parser(
        "serve",
        help="serve a schema (production style: no watching)",
        description="Serve SCHEMA. Settings also come from AMPBASE_* environment variables "
        "(AMPBASE_DATABASE_URL, AMPBASE_HOST, AMPBASE_PORT, AMPBASE_TLS_CERT, AMPBASE_TLS_KEY, "
        "AMPBASE_ALLOW_PLAIN_HTTP, "
        "AMPBASE_PUBLIC_URL, AMPBASE_OUTPUTS, AMPBASE_STATE_DIR, AMPBASE_SECRET, AMPBASE_MAX_BODY_BYTES); "
        "flags win.",
    )
    serve.add_argument("schema", type=Path, help="schema file (resource.py or .graphql)")
    serve.add_argument("--database-url", help="sqlite:///path/to.db (default sqlite:///.ampbase/ampbase.db)")
    serve.add_argument("--host", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 4443)")
    serve.add_argument("--tls-cert", type=Path, help="PEM certificate chain (enables https/wss)")
    serve.add_argument("--tls-key", type=Path, help="PEM private key")
    serve.add_argument(
        "--allow-plain-http",
        action="store_true",
        default=None,
        help="with TLS, also accept plain HTTP on the same port (for an http:// public URL)",
    )
    serve.add_argument(
        "--public-url", help="the GraphQL URL clients use, e.g. https://api.example.com/graphql"
    )
    serve.add_argument("--outputs", type=Path, help="write amplify_outputs.json here")
    serve.add_argument(
        "--state-dir",
        type=Path,
        help="where the engine secret lives (default: .ampbase/ next to the database)",
    )

    schema = commands.add_parser("schema", help="inspect a schema")
    schema_commands = schema.add_subparsers(dest="schema_command", metavar="ACTION", required=True)
    schema_print = schema_commands.add_parser("print", help="print the generated GraphQL SDL")
    schema_print.add_argument("schema", type=Path)
    schema_intro = schema_commands.add_parser(
        "introspection", help="print the model introspection JSON (amplify_outputs data.model_introspection)"
    )
    schema_intro.add_argument("schema", type=Path)

    keys = commands.add_parser("keys", help="manage API keys")
    keys_commands = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    for name, text in (
        ("create", "create an API key"),
        ("list", "list API keys"),
        ("delete", "delete an API key"),
    ):
        sub = keys_commands.add_parser(name, help=text)
        where = sub.add_mutually_exclusive_group()
        where.add_argument("--db", type=Path, help=f"SQLite database file (default {SANDBOX_DB})")
        where.add_argument("--database-url", help="sqlite:///path/to.db")
        if name == "create":
            sub.add_argument("--days", type=int, default=30, help="days until the key expires (default 30)")
            sub.add_argument("--description", default="", help="a note stored with the key")
        elif name == "delete":
            sub.add_argument("key", help="the key (da2-...)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except SchemaDefinitionError as exc:
        echo(f"error: invalid schema: {exc}", err=True)
        return 2
    except ConfigError as exc:
        echo(f"error: {exc}", err=True)
        return 2
    except AmpbaseError as exc:
        echo(f"error: {exc}", err=True)
        return 1
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "sandbox":
        from ampbase.cli.sandbox import run_sandbox

        return asyncio.run(
            run_sandbox(
                args.schema,
                host=args.host,
                port=args.port,
                outputs=args.outputs,
                db=args.db,
                watch=not args.no_watch,
            )
        )
    if args.command == "serve":
        from ampbase.cli.serve import run_serve

        return asyncio.run(
            run_serve(
                args.schema,
                database_url=args.database_url,
                host=args.host,
                port=args.port,
                tls_cert=args.tls_cert,
                tls_key=args.tls_key,
                allow_plain_http=args.allow_plain_http,
                public_url=args.public_url,
                outputs=args.outputs,
                state_dir=args.state_dir,
            )
        )
    if args.command == "schema":
        from ampbase.cli.schema import run_schema

        return run_schema(args.schema_command, args.schema)
    if args.command == "keys":
        from ampbase.cli.keys import run_keys

        database_url = args.database_url or f"sqlite:///{args.db or SANDBOX_DB}"
        return asyncio.run(
            run_keys(
                args.keys_command,
                database_url,
                days=getattr(args, "days", 30),
                description=getattr(args, "description", ""),
                key=getattr(args, "key", None),
            )
        )
    raise AssertionError(args.command)  # argparse enforces the choices


if __name__ == "__main__":
    sys.exit(main())
