"""``ampbase``: the command line.

::

    ampbase sandbox [SCHEMA] [--port 4443] [--host 127.0.0.1] [--outputs amplify_outputs.json] [--db PATH]
    ampbase serve SCHEMA [--database-url sqlite:///path|postgresql://...] [--host H] [--port N]
                  [--pubsub-url redis://...|postgresql://...] [--workers N] [--db-pool-size N]
                  [--tls-cert F --tls-key F] [--public-url URL] [--outputs PATH]
                  [--max-query-depth N --rate-limit N ... (docs/limits.md)]
    ampbase schema print SCHEMA
    ampbase schema introspection SCHEMA
    ampbase codegen python SCHEMA [-o amplify_data.py]
    ampbase keys create|list|delete [--db PATH | --database-url URL]
    ampbase token --username NAME [--sub ID] [--groups A,B] [--ttl S] [--id-token] [--outputs PATH]
    ampbase seed SCRIPT.py | export MODEL | import MODEL FILE [--schema S] [--db PATH | --database-url URL]

Exit status: 0 success, 1 runtime failure, 2 bad schema, settings or usage.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from ampbase.cli.output import echo
from ampbase.errors import AmpbaseError, ConfigError, SchemaDefinitionError

__all__ = ["build_parser", "main"]

DEFAULT_SCHEMA = Path("amplify/data/resource.py")
# (flag, type, help); the flag's name is the Settings field (--max-page-size -> max_page_size).
LIMIT_FLAGS: tuple[tuple[str, type, str], ...] = (
    ("--max-body-bytes", int, "largest request body in bytes (default 1048576)"),
    ("--max-query-depth", int, "deepest field nesting of a GraphQL document (default 75)"),
    ("--max-query-tokens", int, "GraphQL tokens per document (default 20000)"),
    ("--max-resolvers", int, "resolver executions per request (default 10000)"),
    ("--max-page-size", int, "largest list 'limit' argument (default 1000)"),
    ("--request-timeout", float, "seconds before a request is cancelled (default 30)"),
    ("--rate-limit", float, "requests per second per API key (default 1000)"),
    ("--rate-burst", int, "requests an API key may send at once (default 2000)"),
    ("--max-subscriptions", int, "subscriptions per WebSocket connection (default 100)"),
    ("--max-ws-message-bytes", int, "largest WebSocket message in bytes (default 245760)"),
    ("--max-ws-connections-per-ip", int, "open WebSockets per client address (default 200)"),
)
SANDBOX_DB = Path(".ampbase/sandbox.db")
HANDLERS_HELP = (
    "Python file whose `handlers` dict maps function or operation names to Python functions, "
    "in addition to a handlers.py next to the schema (sets AMPBASE_HANDLERS; docs/custom-operations.md)"
)


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
    sandbox.add_argument("--handlers", type=Path, help=HANDLERS_HELP)
    sandbox.add_argument("--no-watch", action="store_true", help="do not reload when the schema changes")
    sandbox.add_argument(
        "--restore-outputs",
        action="store_true",
        help="Amplify Gen 2 project: put the cloud amplify_outputs.json back (from "
        "amplify_outputs.cloud.json) and exit; the sandbox also does this when it stops",
    )

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
    serve.add_argument("--handlers", type=Path, help=HANDLERS_HELP)
    serve.add_argument(
        "--database-url",
        help="sqlite:///path/to.db (default sqlite:///.ampbase/ampbase.db) or postgresql://user@host/db",
    )
    serve.add_argument(
        "--pubsub-url",
        help="shared pub/sub for several processes: redis://host:6379/0 or postgresql://... (LISTEN/NOTIFY)",
    )
    serve.add_argument(
        "--workers", type=int, help="server processes sharing the port (default 1; >1 needs --pubsub-url)"
    )
    serve.add_argument("--db-pool-size", type=int, help="PostgreSQL connections per process (default 10)")
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
        "--console",
        action="store_true",
        help="serve the admin console at /console (token: AMPBASE_CONSOLE_TOKEN, "
        "else kept in <state dir>/console-token)",
    )
    serve.add_argument(
        "--state-dir",
        type=Path,
        help="where the engine secret lives (default: .ampbase/ next to the database)",
    )
    limits = serve.add_argument_group(
        "limits", "0 turns a limit off; each also reads AMPBASE_<NAME> (see docs/limits.md)"
    )
    for flag, kind, text in LIMIT_FLAGS:
        limits.add_argument(flag, type=kind, metavar="N", help=text)

    schema = commands.add_parser("schema", help="inspect a schema")
    schema_commands = schema.add_subparsers(dest="schema_command", metavar="ACTION", required=True)
    schema_print = schema_commands.add_parser("print", help="print the generated GraphQL SDL")
    schema_print.add_argument("schema", type=Path)
    schema_intro = schema_commands.add_parser(
        "introspection", help="print the model introspection JSON (amplify_outputs data.model_introspection)"
    )
    schema_intro.add_argument("schema", type=Path)

    codegen = commands.add_parser(
        "codegen",
        help="generate typed client code for a schema (python)",
        description="Write typed models and a typed data client (TypedDicts, Literal enums, Protocols) "
        "for SCHEMA (resource.py, .graphql or amplify_outputs.json); see docs/python-client.md.",
    )
    codegen.add_argument("target", choices=["python"], help="the language to generate")
    codegen.add_argument(
        "schema", type=Path, help="resource.py, .graphql file/directory or amplify_outputs.json"
    )
    codegen.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("amplify_data.py"),
        help="module to write (default amplify_data.py)",
    )

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
    token = commands.add_parser(
        "token",
        help="print a user-pool token the local server accepts",
        description="Sign a Cognito-shaped access token with the key in the server's state directory "
        "(the sandbox serves the public key at /.well-known/jwks.json). See docs/authorization.md.",
    )
    token.add_argument("--username", required=True, help="the user's name (username claim)")
    token.add_argument("--sub", help="the user's id (default: derived from the username)")
    token.add_argument("--groups", default="", help="comma-separated groups (cognito:groups)")
    token.add_argument("--ttl", type=int, default=3600, help="seconds until the token expires (default 3600)")
    token.add_argument("--id-token", action="store_true", help="an ID token instead of an access token")
    token.add_argument(
        "--outputs", type=Path, help="amplify_outputs.json: warn if user pools are not enabled"
    )
    where = token.add_mutually_exclusive_group()
    where.add_argument("--state-dir", type=Path, help="the server's state directory")
    where.add_argument("--db", type=Path, help=f"the server's SQLite database (default {SANDBOX_DB})")
    where.add_argument("--database-url", help="the server's database URL")

    from ampbase.cli.data import add_data_commands

    add_data_commands(commands)  # seed, export, import, restore
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


_T = TypeVar("_T")


def run_server_loop(main: Coroutine[Any, Any, _T]) -> _T:
    """``asyncio.run`` on uvloop when it is installed (``uvicorn[standard]``), else the default loop."""
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None
    try:
        import uvloop
    except ImportError:
        loop_factory = None
    else:
        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(main)


def _dispatch(args: argparse.Namespace) -> int:
    handlers = getattr(args, "handlers", None)
    if handlers is not None:  # read by the schema loader, here and in worker processes
        os.environ["AMPBASE_HANDLERS"] = str(Path(handlers).resolve())
    if args.command == "sandbox":
        from ampbase.cli.sandbox import run_sandbox
        from ampbase.schema.gen2_ts import find_gen2_resource, gen2_root_of, restore_outputs_file

        schema_path = args.schema
        if schema_path == DEFAULT_SCHEMA and find_gen2_resource(Path.cwd()) is not None:
            schema_path = find_gen2_resource(Path("."))  # amplify/data/resource.ts
        if args.restore_outputs:
            root = gen2_root_of(schema_path) or Path.cwd()
            if restore_outputs_file(root):
                echo(f"restored {root / 'amplify_outputs.json'} from amplify_outputs.cloud.json")
            else:
                echo(f"nothing to restore: no amplify_outputs.cloud.json in {root}")
            return 0
        return run_server_loop(
            run_sandbox(
                schema_path,
                host=args.host,
                port=args.port,
                outputs=args.outputs,
                db=args.db,
                watch=not args.no_watch,
            )
        )
    if args.command == "serve":
        from ampbase.cli.serve import run_serve

        return run_server_loop(
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
                pubsub_url=args.pubsub_url,
                workers=args.workers,
                db_pool_size=args.db_pool_size,
                console=args.console,
                limits={
                    name: getattr(args, name)
                    for name in (flag[2:].replace("-", "_") for flag, _, _ in LIMIT_FLAGS)
                },
            )
        )
    if args.command == "schema":
        from ampbase.cli.schema import run_schema

        return run_schema(args.schema_command, args.schema)
    if args.command == "codegen":
        from ampbase.client.codegen import run_codegen

        return run_codegen(args.target, args.schema, args.output)
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
    if args.command == "token":
        from ampbase.cli.token import run_token
        from ampbase.server.settings import state_dir_for

        state_dir = args.state_dir
        if state_dir is None:
            state_dir = state_dir_for(args.database_url or f"sqlite:///{args.db or SANDBOX_DB}")
        return run_token(
            state_dir,
            args.username,
            sub=args.sub,
            groups=[g.strip() for g in args.groups.split(",") if g.strip()],
            ttl=args.ttl,
            id_token=args.id_token,
            outputs=args.outputs,
        )
    from ampbase.cli.data import DATA_COMMANDS, dispatch_data

    if args.command in DATA_COMMANDS:
        return asyncio.run(dispatch_data(args))
    raise AssertionError(args.command)  # argparse enforces the choices


if __name__ == "__main__":
    sys.exit(main())
