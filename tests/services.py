"""The external services some tests need: PostgreSQL and Redis on 127.0.0.1.

``postgres_dsn()`` / ``redis_url()`` return the address when the service answers. When it
does not, the test is skipped with the reason, except under CI (``CI=true``), where the
services are started by ``.ci/run`` and a missing one is a failure, never a silent skip.
Override the addresses with ``AMPBASE_TEST_POSTGRES_DSN`` / ``AMPBASE_TEST_REDIS_URL``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import pytest

__all__ = ["TcpProxy", "postgres_dsn", "redis_url", "require", "temporary_schema", "unique_name"]

POSTGRES_DSN = os.environ.get("AMPBASE_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("AMPBASE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(available: bool, reason: str) -> None:
    """Skip the test (fail under CI) unless ``available``."""
    if available:
        return
    if _in_ci():
        pytest.fail(f"{reason} (CI=true: services must be running)")
    pytest.skip(reason)


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1):
            return True
    except OSError:
        return False


@cache
def _postgres_answers() -> bool:
    if not _reachable(POSTGRES_DSN, 5432):
        return False
    import asyncpg

    async def probe() -> None:
        conn = await asyncpg.connect(POSTGRES_DSN, timeout=3)
        await conn.close()

    return _run_in_thread(probe)


def _run_in_thread(fn: Callable[[], Coroutine[Any, Any, None]]) -> bool:
    """Run ``fn()`` to completion on a private event loop (callers may be inside a loop)."""
    ok: list[bool] = []

    def target() -> None:
        try:
            asyncio.run(fn())
            ok.append(True)
        except Exception:  # noqa: BLE001 - any failure means "not available"
            ok.append(False)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    return ok == [True]


def postgres_dsn() -> str:
    require(_postgres_answers(), f"PostgreSQL is not reachable at {POSTGRES_DSN}")
    return POSTGRES_DSN


def redis_url() -> str:
    require(_reachable(REDIS_URL, 6379), f"Redis is not reachable at {REDIS_URL}")
    return REDIS_URL


def unique_name(prefix: str = "test") -> str:
    return f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"


def drop_schema(dsn: str, schema: str) -> None:
    import asyncpg

    async def drop() -> None:
        conn = await asyncpg.connect(dsn, timeout=5)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()

    _run_in_thread(drop)


@contextmanager
def temporary_schema(prefix: str = "test") -> Iterator[tuple[str, str]]:
    """``(dsn, schema)``: a fresh PostgreSQL schema name, dropped (with its tables) afterwards."""
    dsn = postgres_dsn()
    schema = unique_name(prefix)
    try:
        yield dsn, schema
    finally:
        drop_schema(dsn, schema)


class TcpProxy:
    """A TCP proxy on 127.0.0.1 that a test can take down and bring back on the same port:
    a server restart as a client sees it, without touching the shared server. ``freeze()``
    stops forwarding without closing anything (a hung server or a silent network)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.server: asyncio.Server | None = None
        self.port = 0
        self.links: set[asyncio.StreamWriter] = set()
        self.flowing = asyncio.Event()
        self.flowing.set()

    def freeze(self) -> None:
        self.flowing.clear()

    def thaw(self) -> None:
        self.flowing.set()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self.links |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    await self.flowing.wait()
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for w in list(self.links):
            w.transport.abort()
        self.links.clear()
        await self.server.wait_closed()
