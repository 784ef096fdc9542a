"""The ASGI application: ``POST /graphql``, ``WS /graphql/realtime``, ``GET /health``.

``/graphql`` HTTP requests go straight to :class:`~ampbase.server.http.GraphQLEndpoint` (no
routing or middleware on the hot path); everything else — the lifespan, the realtime
WebSocket, ``/health`` and 404s — is a small Starlette app. The lifespan starts and stops the
:class:`~ampbase.server.wiring.Runtime` (storage, pub/sub, engine).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from ampbase.server.http import GraphQLEndpoint, GraphQLRuntime, cors_headers
from ampbase.server.settings import GRAPHQL_PATH, Settings

__all__ = ["AmpbaseApp", "ServerRuntime", "create_app"]

REALTIME_PATH = GRAPHQL_PATH + "/realtime"


class ServerRuntime(GraphQLRuntime, Protocol):
    """What the app needs; :class:`ampbase.server.wiring.Runtime` is the real one."""

    settings: Settings

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def health(self) -> dict[str, str]: ...


class AmpbaseApp:
    """The top-level ASGI callable; ``runtime`` is also on ``app.state.runtime`` of the inner app."""

    def __init__(self, runtime: ServerRuntime, graphql: GraphQLEndpoint, inner: Starlette) -> None:
        self.runtime = runtime
        self.graphql = graphql
        self.inner: ASGIApp = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == GRAPHQL_PATH:
            await self.graphql(scope, receive, send)
        else:
            await self.inner(scope, receive, send)


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

    routes: list[Route | WebSocketRoute] = [Route("/health", health, methods=["GET"])]
    realtime = _realtime_endpoint(runtime)
    if realtime is not None:
        routes.append(WebSocketRoute(REALTIME_PATH, realtime))
    inner = Starlette(routes=routes, lifespan=lifespan)
    inner.state.runtime = runtime
    graphql = GraphQLEndpoint(runtime, max_body_bytes=runtime.settings.max_body_bytes)
    return AmpbaseApp(runtime, graphql, inner)


def _raw_headers(request: Request) -> dict[bytes, bytes]:
    return dict(request.scope["headers"])


def _realtime_endpoint(runtime: ServerRuntime) -> ASGIApp | None:
    """The realtime WebSocket handler (``ampbase.server.realtime``), when it is installed."""
    try:
        from ampbase.server import realtime
    except ImportError:
        return None
    return realtime.create_realtime_endpoint(runtime)
