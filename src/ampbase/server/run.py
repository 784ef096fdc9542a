"""Run the ASGI app under uvicorn, inside the caller's event loop, with clean shutdown.

:func:`serve_app` returns when SIGINT/SIGTERM arrive (a second signal forces the exit) or when
``stop`` is set; unlike ``uvicorn.run`` it does not re-raise the signal afterwards, so the CLI
exits with status 0 after Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import ssl
import sys
from collections.abc import Awaitable, Callable, Iterator
from types import FrameType
from typing import Any, cast

import uvicorn

from ampbase.errors import ConfigError
from ampbase.server.settings import Settings
from ampbase.server.sniff import SniffingListener
from ampbase.server.tls import server_ssl_context

__all__ = ["serve_app", "uvicorn_config"]

logger = logging.getLogger("ampbase.server")

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def uvicorn_config(app: Any, settings: Settings) -> uvicorn.Config:
    tls: dict[str, Any] = {}
    if settings.tls_cert is not None and not settings.allow_plain_http:
        tls = {"ssl_certfile": str(settings.tls_cert), "ssl_keyfile": str(settings.tls_key)}
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        lifespan="on",
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,
        ws_max_size=max(1024 * 1024, 2 * settings.max_ws_message_bytes),
        timeout_graceful_shutdown=5,
        **tls,
    )


def _check_tls_files(settings: Settings) -> None:
    for path in (settings.tls_cert, settings.tls_key):
        if path is not None and not os.path.isfile(path):
            raise ConfigError(f"TLS file {path} does not exist")


class _Server(uvicorn.Server):
    """uvicorn's server with quiet signal handling and, optionally, TLS sniffing on its port."""

    def __init__(self, config: uvicorn.Config, sniff: ssl.SSLContext | None = None) -> None:
        super().__init__(config)
        self._sniff = sniff

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        if self._sniff is None or sockets is not None:
            await super().startup(sockets=sockets)
            return
        await self.lifespan.startup()
        if self.lifespan.should_exit:
            sys.exit(3)
        config = self.config

        def create_protocol(_loop: asyncio.AbstractEventLoop | None = None) -> asyncio.Protocol:
            protocol_class: Any = config.http_protocol_class
            protocol: asyncio.Protocol = protocol_class(
                config=config, server_state=self.server_state, app_state=self.lifespan.state, _loop=_loop
            )
            return protocol

        listener = SniffingListener(
            create_protocol, self._sniff, host=config.host, port=config.port, backlog=config.backlog
        )
        try:
            await listener.start()
        except OSError as exc:
            logger.error("%s", exc)
            await self.lifespan.shutdown()
            sys.exit(1)
        self.servers = cast(Any, [listener])
        self.started = True

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        def handle(sig: int, frame: FrameType | None) -> None:
            if self.should_exit:
                self.force_exit = True
            self.should_exit = True

        previous = {sig: signal.signal(sig, handle) for sig in _SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


async def serve_app(
    app: Any,
    settings: Settings,
    *,
    on_started: Callable[[], Awaitable[None] | None] | None = None,
    stop: asyncio.Event | None = None,
    sockets: list[socket.socket] | None = None,
) -> None:
    """Serve until a signal (or ``stop``); raise :class:`ConfigError` if the server cannot start.

    ``sockets``: already bound listening sockets to serve on instead of binding ``host:port``
    (``ampbase serve --workers N`` hands every worker process the same one).
    """
    _check_tls_files(settings)
    sniff = None
    if settings.tls_cert is not None and settings.tls_key is not None and settings.allow_plain_http:
        sniff = server_ssl_context(settings.tls_cert, settings.tls_key)
    server = _Server(uvicorn_config(app, settings), sniff)

    async def run() -> bool:
        # uvicorn calls sys.exit() when it cannot start; inside a task that would escape the loop.
        try:
            await server.serve(sockets=sockets)
        except SystemExit:
            return False
        return True

    task = asyncio.create_task(run())
    stopper: asyncio.Task[None] | None = None
    if stop is not None:

        async def wait_for_stop() -> None:
            await stop.wait()
            server.should_exit = True

        stopper = asyncio.create_task(wait_for_stop())
    try:
        while not server.started:
            if task.done():
                break
            await asyncio.sleep(0.02)
        if server.started and on_started is not None:
            result = on_started()
            if result is not None:
                await result
        if not await task:
            raise ConfigError(
                f"could not start the server on {settings.host}:{settings.port} "
                "(is the port in use? see the message above)"
            )
    finally:
        if stopper is not None:
            stopper.cancel()
        if not task.done():
            server.should_exit = True
            await task
