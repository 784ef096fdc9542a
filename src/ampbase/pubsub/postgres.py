"""PostgreSQL ``LISTEN``/``NOTIFY`` pub/sub: ``PostgresPubSub("postgresql://...")``.

No extra service when the data already lives in PostgreSQL. Every process
``LISTEN``s on one channel (``ampbase_events``) on a dedicated connection and
``NOTIFY``s over another, one transaction per batch (PostgreSQL delivers a
transaction's notifications in order, at commit).

``NOTIFY`` payloads are limited to 8000 bytes. A larger event is stored in the
table ``_ampbase_events`` (created on start; rows older than ten minutes are
removed as new ones arrive) and only ``@<id>`` is notified; readers fetch the
row in order with the other events. Lost connections: see
:mod:`ampbase.pubsub.remote` (reconnect with backoff, subscribers ended with
:class:`~ampbase.pubsub.remote.EventsMissed`).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg

from ampbase.pubsub.local import DEFAULT_MAX_QUEUE
from ampbase.pubsub.remote import BrokerPubSub
from ampbase.storage.sql import quote_ident

__all__ = ["MAX_NOTIFY_BYTES", "PostgresPubSub"]

MAX_NOTIFY_BYTES = 7999  # PostgreSQL refuses payloads of 8000 bytes or more
EVENTS_TABLE = "_ampbase_events"
_CHECK_EVERY = 5.0  # seconds without notifications before the listener connection is checked
_PRUNE_EVERY = 100  # stored (large) events between clean-ups


class PostgresPubSub(BrokerPubSub):
    """:class:`~ampbase.pubsub.base.PubSub` over PostgreSQL ``LISTEN``/``NOTIFY``."""

    def __init__(
        self,
        dsn: str,
        channel: str = "ampbase_events",
        *,
        schema: str | None = None,
        max_queue: int = DEFAULT_MAX_QUEUE,
        publish_timeout: float = 5.0,
        connect_timeout: float = 5.0,
        reconnect_delay: float = 0.1,
        max_reconnect_delay: float = 5.0,
    ) -> None:
        super().__init__(
            max_queue=max_queue,
            publish_timeout=publish_timeout,
            reconnect_delay=reconnect_delay,
            max_reconnect_delay=max_reconnect_delay,
        )
        self.dsn = dsn
        self.channel = channel
        self.schema = schema
        self.connect_timeout = connect_timeout
        self._listener: Any = None
        self._sender: Any = None
        self._inbox: asyncio.Queue[str | None] = asyncio.Queue()
        self._table = quote_ident(EVENTS_TABLE)
        self._stored = 0

    async def _open(self) -> Any:
        settings = {"application_name": "ampbase-pubsub"}
        if self.schema is not None:
            settings["search_path"] = quote_ident(self.schema)
        return await asyncpg.connect(self.dsn, timeout=self.connect_timeout, server_settings=settings)

    async def _connect(self) -> None:
        sender = await self._open()
        self._sender = sender
        # Replicas starting together would race on CREATE ... IF NOT EXISTS: one at a time.
        async with sender.transaction():
            await sender.execute("SELECT pg_advisory_xact_lock(hashtextextended('ampbase.schema', 0))")
            if self.schema is not None:
                await sender.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(self.schema)}")
            await sender.execute(
                f"CREATE TABLE IF NOT EXISTS {self._table} (id bigserial PRIMARY KEY, "
                "payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
            )
        listener = await self._open()
        self._listener = listener
        inbox: asyncio.Queue[str | None] = asyncio.Queue()
        self._inbox = inbox

        def on_notify(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
            inbox.put_nowait(payload)

        def on_terminate(_conn: Any) -> None:
            inbox.put_nowait(None)

        listener.add_termination_listener(on_terminate)
        await listener.add_listener(self.channel, on_notify)

    async def _disconnect(self) -> None:
        for name in ("_listener", "_sender"):
            conn = getattr(self, name)
            setattr(self, name, None)
            if conn is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), timeout=2)
                if not conn.is_closed():
                    conn.terminate()

    async def _listen(self) -> None:
        listener = self._listener
        inbox = self._inbox
        if listener is None:
            raise ConnectionError("not listening")
        while True:
            try:
                async with asyncio.timeout(_CHECK_EVERY):
                    payload = await inbox.get()
            except TimeoutError:
                if listener.is_closed():
                    raise ConnectionError("the listener connection closed") from None
                async with asyncio.timeout(self.connect_timeout):
                    await listener.fetchval("SELECT 1")  # a dead connection raises here
                continue
            if payload is None:
                raise ConnectionError("the listener connection was terminated")
            if payload.startswith("@"):
                async with asyncio.timeout(self.connect_timeout):
                    stored = await listener.fetchval(
                        f"SELECT payload FROM {self._table} WHERE id = $1", int(payload[1:])
                    )
                if stored is None:
                    continue  # pruned before we read it (we were minutes behind)
                payload = stored
            self._received(payload)

    async def _send(self, payloads: list[bytes]) -> None:
        sender = self._sender
        if sender is None or sender.is_closed():
            raise ConnectionError("not connected")
        async with sender.transaction():
            small: list[str] = []
            for raw in payloads:
                text = raw.decode()
                if len(raw) > MAX_NOTIFY_BYTES:
                    if small:
                        await self._notify(sender, small)
                        small = []
                    row_id = await sender.fetchval(
                        f"INSERT INTO {self._table} (payload) VALUES ($1) RETURNING id", text
                    )
                    small.append(f"@{row_id}")
                    self._stored += 1
                    if self._stored % _PRUNE_EVERY == 0:
                        await sender.execute(
                            f"DELETE FROM {self._table} WHERE created_at < now() - interval '10 minutes'"
                        )
                else:
                    small.append(text)
            if small:
                await self._notify(sender, small)

    async def _notify(self, sender: Any, payloads: list[str]) -> None:
        await sender.execute(
            "SELECT pg_notify($1, p) FROM unnest($2::text[]) WITH ORDINALITY AS t(p, n) ORDER BY n",
            self.channel,
            payloads,
        )
