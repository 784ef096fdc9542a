"""The ASGI application: ``POST /graphql``, ``WS /graphql/realtime``, ``GET /health``.

``/graphql`` HTTP requests go straight to :class:`~ampbase.server.http.GraphQLEndpoint` (no
routing or middleware on the hot path); everything else — the lifespan, the realtime
WebSocket, ``/health`` and 404s — is a small Starlette app. The lifespan starts and stops the
:class:`~ampbase.server.wiring.Runtime` (storage, pub/sub, engine).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Protocol, cast

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from ampbase.auth.config import AuthSetup
from ampbase.server.http import GraphQLEndpoint, GraphQLRuntime, cors_headers
from ampbase.server.limits import ConnectionLimiter, RateLimiter
from ampbase.server.settings import GRAPHQL_PATH, Settings

__all__ = ["CLOSE_TOO_MANY_CONNECTIONS", "AmpbaseApp", "ServerRuntime", "create_app"]

REALTIME_PATH = GRAPHQL_PATH + "/realtime"


class ServerRuntime(GraphQLRuntime, Protocol):
    """What the app needs; :class:`ampbase.server.wiring.Runtime` is the real one."""

    settings: Settings

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def health(self) -> dict[str, str]: ...


class AmpbaseApp:
    """The top-level ASGI callable; ``runtime`` is also on ``app.state.runtime`` of the inner app."""

    def __init__(
        self,
        runtime: ServerRuntime,
        graphql: GraphQLEndpoint,
        inner: Starlette,
        connections: ConnectionLimiter | None = None,
    ) -> None:
        self.runtime = runtime
        self.graphql = graphql
        self.inner: ASGIApp = inner
        self.connections = connections if connections is not None else ConnectionLimiter(0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == GRAPHQL_PATH:
            await self.graphql(scope, receive, send)
        elif scope["type"] == "websocket" and scope["path"] == REALTIME_PATH:
            await self._realtime(scope, receive, send)
        else:
            await self.inner(scope, receive, send)

    async def _realtime(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The realtime socket, if its client address has a connection to spare."""
        client = scope.get("client")
        address = str(client[0]) if client else ""
        if not self.connections.try_open(address):
            await _refuse_websocket(scope, receive, send, self.connections.limit)
            return
        try:
            await self.inner(scope, receive, send)
        finally:
            self.connections.close(address)


CLOSE_TOO_MANY_CONNECTIONS = 4429


async def _refuse_websocket(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    """Accept (with the offered protocol, so clients read the close) and close with 4429."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    offered = [str(p).strip() for p in scope.get("subprotocols") or []]
    known = [p for p in ("graphql-ws", "graphql-transport-ws") if p in offered]
    await send({"type": "websocket.accept", "subprotocol": known[0] if known else None})
    reason = f"Too many connections from this address (limit {limit})"
    await send({"type": "websocket.close", "code": CLOSE_TOO_MANY_CONNECTIONS, "reason": reason})


def create_app(runtime: ServerRuntime) -> AmpbaseApp:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    async def health(request: Request) -> Response:
        report = await runtime.health()
        headers = {k.decode(): v.decode() for k, v in cors_headers(_raw_headers(request))}
        return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503, headers=headers)

    async def jwks(request: Request) -> Response:
        """The local token issuer's public keys (``ampbase token``; docs/authorization.md)."""
        setup: AuthSetup | None = getattr(runtime, "auth_setup", None)  # test runtimes may lack it
        headers = {k.decode(): v.decode() for k, v in cors_headers(_raw_headers(request))}
        if setup is None or setup.issuer is None:
            return JSONResponse({"keys": []}, status_code=404, headers=headers)
        return JSONResponse(setup.issuer.jwks(), headers=headers)

    routes: list[BaseRoute] = [
        Route("/health", health, methods=["GET"]),
        Route("/.well-known/jwks.json", jwks, methods=["GET"]),
    ]
    realtime = _realtime_endpoint(runtime, runtime.settings)
    if realtime is not None:
        routes.append(WebSocketRoute(REALTIME_PATH, realtime))
    if runtime.settings.console_token:
        routes.append(_console_mount(runtime, runtime.settings.console_token))
    inner = Starlette(routes=routes, lifespan=lifespan)
    inner.state.runtime = runtime
    settings = runtime.settings
    graphql = GraphQLEndpoint(
        runtime,
        max_body_bytes=settings.max_body_bytes,
        rate_limiter=RateLimiter(settings.rate_limit, settings.rate_burst) if settings.rate_limit else None,
        body_timeout=settings.request_timeout,
    )
    return AmpbaseApp(runtime, graphql, inner, ConnectionLimiter(settings.max_ws_connections_per_ip))


def _raw_headers(request: Request) -> dict[bytes, bytes]:
    return dict(request.scope["headers"])


def _console_mount(runtime: ServerRuntime, token: str) -> Mount:
    """The admin console (``ampbase.server.console``) at ``/console``."""
    from ampbase.server.console import CONSOLE_PATH, ConsoleRuntime, create_console_app

    return Mount(CONSOLE_PATH, app=create_console_app(cast(ConsoleRuntime, runtime), token=token))


def _realtime_endpoint(runtime: ServerRuntime, settings: Settings) -> ASGIApp | None:
    """The realtime WebSocket handler (``ampbase.server.realtime``), when it is installed."""
    try:
        from ampbase.server import realtime
    except ImportError:
        return None
    return realtime.create_realtime_endpoint(
        runtime,
        max_subscriptions=settings.max_subscriptions,
        max_message_bytes=settings.max_ws_message_bytes,
    )
