"""The admin console: a small web UI served at ``/console`` (no build step, vanilla JS).

``create_console_app(runtime, token=...)`` returns a Starlette app to mount at ``/console``:

* ``GET /`` — the single page (``static/index.html``); it holds no data;
* ``GET /static/...`` — its CSS and JS;
* ``GET /api/meta`` — the models (model introspection), the schema's auth modes, a usable API key
  (for live updates over the realtime endpoint) and the API's paths;
* ``GET /api/schema`` — the compiled SDL and the GraphQL introspection of the served schema
  (the explorer's documentation);
* ``POST /api/graphql`` — runs a query or mutation as a *trusted* caller (authorization rules do
  not apply: the console is an admin tool).

Every ``/api`` route requires ``Authorization: Bearer <console token>``; the token is the admin
credential (``ampbase sandbox`` prints it; ``ampbase serve`` only mounts the console with
``--console``). The page reads the token from its URL fragment (``/console/#token=...``, never
sent to the server in a URL) or asks for it, and keeps it in ``sessionStorage``.

The console reads ``runtime.schema`` and ``runtime.engine`` on every request, so it follows
sandbox reloads.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import orjson
from graphql import GraphQLSchema, introspection_from_schema
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ampbase.compiler.graphql_schema import compile_sdl
from ampbase.compiler.introspection import build_introspection
from ampbase.engine.identity import Identity
from ampbase.schema.ir import SchemaDef
from ampbase.server.apikeys import usable_keys
from ampbase.server.settings import GRAPHQL_PATH
from ampbase.storage.base import StorageAdapter

__all__ = [
    "CONSOLE_PATH",
    "ENV_TOKEN",
    "ConsoleRuntime",
    "console_token",
    "console_url",
    "create_console_app",
    "generate_console_token",
]

CONSOLE_PATH = "/console"
ENV_TOKEN = "AMPBASE_CONSOLE_TOKEN"
TOKEN_FILE = "console-token"
STATIC_DIR = Path(__file__).parent / "static"
_TRUSTED = Identity(mode=None)
_MAX_BODY_BYTES = 1024 * 1024


class _Engine(Protocol):
    @property
    def graphql_schema(self) -> GraphQLSchema: ...

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None,
        identity: Identity,
        operation_name: str | None = None,
    ) -> dict[str, Any]: ...


class ConsoleRuntime(Protocol):
    """What the console reads from the running server (:class:`ampbase.server.wiring.Runtime`)."""

    @property
    def schema(self) -> SchemaDef: ...

    @property
    def engine(self) -> _Engine: ...

    @property
    def storage(self) -> StorageAdapter: ...


def generate_console_token() -> str:
    """A fresh random console token (URL-safe)."""
    return "abc-" + secrets.token_urlsafe(24)


def console_token(state_dir: Path, environ: Mapping[str, str] | None = None) -> tuple[str, Path | None]:
    """The console token: ``AMPBASE_CONSOLE_TOKEN`` if set, else the one kept in
    ``<state_dir>/console-token`` (created once, mode 0600, so links survive restarts).

    Returns the token and the file it came from (``None`` for the environment variable).
    """
    env = os.environ if environ is None else environ
    given = env.get(ENV_TOKEN, "").strip()
    if given:
        return given, None
    path = state_dir / TOKEN_FILE
    try:
        stored = path.read_text().strip()
    except FileNotFoundError:
        stored = ""
    if stored:
        return stored, path
    state_dir.mkdir(parents=True, exist_ok=True)
    token = generate_console_token()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token, path


def console_url(graphql_url: str) -> str:
    """The console's address next to a GraphQL URL (``https://host:port/graphql``)."""
    base = graphql_url[: -len(GRAPHQL_PATH)] if graphql_url.endswith(GRAPHQL_PATH) else graphql_url
    return base.rstrip("/") + CONSOLE_PATH + "/"


def _json(payload: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(payload),
        status_code=status,
        media_type="application/json",
        headers={"cache-control": "no-store"},
    )


def _unauthorized(message: str) -> Response:
    response = _json({"errors": [{"errorType": "UnauthorizedException", "message": message}]}, 401)
    response.headers["www-authenticate"] = 'Bearer realm="ampbase console"'
    return response


def create_console_app(runtime: ConsoleRuntime, *, token: str) -> Starlette:
    """The console as an ASGI app, to mount at :data:`CONSOLE_PATH`."""
    if not token:
        raise ValueError("the console needs a non-empty token")
    expected = token.encode()

    def authorized(request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), expected)

    async def index(request: Request) -> Response:
        host = request.headers.get("host", "")
        csp = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            f"connect-src 'self' wss://{host}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        )
        return FileResponse(
            STATIC_DIR / "index.html",
            headers={
                "content-security-policy": csp,
                "cache-control": "no-store",
                "referrer-policy": "no-referrer",
                "x-content-type-options": "nosniff",
            },
        )

    async def meta(request: Request) -> Response:
        if not authorized(request):
            return _unauthorized("A valid console token is required.")
        schema = runtime.schema
        api_key: str | None = None
        if "apiKey" in schema.auth.modes:
            keys = usable_keys(await runtime.storage.list_api_keys())
            api_key = keys[0].id if keys else None
        return _json(
            {
                "graphqlPath": GRAPHQL_PATH,
                "realtimePath": GRAPHQL_PATH + "/realtime",
                "authModes": list(schema.auth.modes),
                "defaultAuthMode": schema.auth.default_mode,
                "apiKey": api_key,
                "modelIntrospection": build_introspection(schema),
            }
        )

    async def schema_docs(request: Request) -> Response:
        if not authorized(request):
            return _unauthorized("A valid console token is required.")
        return _json(
            {
                "sdl": compile_sdl(runtime.schema),
                "introspection": introspection_from_schema(runtime.engine.graphql_schema),
            }
        )

    async def graphql(request: Request) -> Response:
        if not authorized(request):
            return _unauthorized("A valid console token is required.")
        body = await request.body()
        if len(body) > _MAX_BODY_BYTES:
            return _json({"errors": [{"errorType": "PayloadTooLargeException", "message": "too large"}]}, 413)
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            payload = None
        query = payload.get("query") if isinstance(payload, dict) else None
        variables = payload.get("variables") if isinstance(payload, dict) else None
        if not isinstance(query, str) or not (variables is None or isinstance(variables, dict)):
            return _json(
                {
                    "errors": [
                        {
                            "errorType": "BadRequestException",
                            "message": 'Send {"query": "...", "variables": {...}}.',
                        }
                    ]
                },
                400,
            )
        return _json(await runtime.engine.execute(query, variables, _TRUSTED))

    return Starlette(
        routes=[
            Route("/", index, methods=["GET"]),
            Route("/api/meta", meta, methods=["GET"]),
            Route("/api/schema", schema_docs, methods=["GET"]),
            Route("/api/graphql", graphql, methods=["POST"]),
            Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
        ]
    )
