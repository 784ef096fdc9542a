"""One port for both plain HTTP and TLS, told apart by the first byte of each connection.

The Amplify client opens ``wss://`` for subscriptions even when ``data.url`` is ``http://``
(wire contract §6.1), so a server published under an ``http://`` URL must also speak TLS on the
same port. A TLS connection starts with a handshake record (``0x16``); anything else is plain
HTTP. The first byte is *peeked* (``MSG_PEEK``) before any transport owns the socket, then the
socket is handed to the event loop with or without TLS.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Callable

__all__ = ["TLS_HANDSHAKE", "SniffingListener"]

TLS_HANDSHAKE = 0x16
FIRST_BYTE_TIMEOUT = 30.0


class SniffingListener:
    """Accepts connections and serves each with ``protocol_factory``, over TLS or not.

    Has the ``close()``/``wait_closed()`` pair of :class:`asyncio.Server`, so uvicorn can shut
    it down like its own listeners.
    """

    def __init__(
        self,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        ssl_context: ssl.SSLContext,
        *,
        host: str,
        port: int,
        backlog: int = 2048,
    ) -> None:
        self.protocol_factory = protocol_factory
        self.ssl_context = ssl_context
        self.host = host
        self.port = port
        self.backlog = backlog
        self.sockets: list[socket.socket] = []
        self._accepting: list[asyncio.Task[None]] = []
        self._pending: set[asyncio.Task[None]] = set()
        self._closed = asyncio.Event()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        seen: set[tuple[int, object]] = set()
        try:
            for family, kind, proto, _name, address in infos:
                if (family, address) in seen:
                    continue
                seen.add((family, address))
                sock = socket.socket(family, kind, proto)
                self.sockets.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind(address)
                sock.listen(self.backlog)
                sock.setblocking(False)
        except OSError:
            self._close_sockets()
            raise
        self._accepting = [asyncio.create_task(self._accept_loop(sock)) for sock in self.sockets]

    def close(self) -> None:
        for task in self._accepting:
            task.cancel()
        for task in self._pending:
            task.cancel()
        self._close_sockets()
        self._closed.set()

    async def wait_closed(self) -> None:
        await self._closed.wait()
        for task in self._accepting:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _close_sockets(self) -> None:
        for sock in self.sockets:
            sock.close()

    async def _accept_loop(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, _address = await loop.sock_accept(listener)
            except OSError:
                if listener.fileno() == -1:
                    return
                await asyncio.sleep(0.05)  # e.g. too many open files: back off, keep serving
                continue
            conn.setblocking(False)
            task = asyncio.create_task(self._serve(conn))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _serve(self, conn: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        try:
            first = await asyncio.wait_for(_peek(loop, conn), FIRST_BYTE_TIMEOUT)
        except (TimeoutError, OSError):
            conn.close()
            return
        if not first:
            conn.close()
            return
        tls = self.ssl_context if first[0] == TLS_HANDSHAKE else None
        try:
            await loop.connect_accepted_socket(self.protocol_factory, conn, ssl=tls)
        except (OSError, ssl.SSLError, TimeoutError, ConnectionError):
            conn.close()


async def _peek(loop: asyncio.AbstractEventLoop, conn: socket.socket) -> bytes:
    """The first byte of ``conn`` without consuming it (empty when the peer closed)."""
    readable: asyncio.Future[None] = loop.create_future()
    fd = conn.fileno()

    def ready() -> None:
        if not readable.done():
            readable.set_result(None)

    loop.add_reader(fd, ready)
    try:
        await readable
    finally:
        loop.remove_reader(fd)
    return conn.recv(1, socket.MSG_PEEK)
