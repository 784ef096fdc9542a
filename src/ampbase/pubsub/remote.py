"""What the broker-backed pub/subs (Redis, PostgreSQL LISTEN/NOTIFY) share.

Each process publishes to the broker and receives every event from it (its own
included), then fans them out to its local subscribers with the same
semantics as :class:`~ampbase.pubsub.local.LocalPubSub`: a bounded queue per
subscriber, overflow cuts the subscriber off with
:class:`~ampbase.pubsub.local.SubscriberOverflow`.

Ordering: one sender task per process sends events to the broker in
``publish`` call order over a single connection, batching what accumulates
while a send is in flight; the brokers deliver a connection's messages in
order, so every subscriber sees one publisher's events in publish order, each
once.

Broker failures: ``publish`` raises :class:`~ampbase.errors.PubSubError` at
once while the broker is unreachable (and after ``publish_timeout`` seconds if
it does not answer); the engine logs it (the write itself is committed). The
receiving side reconnects with exponential backoff (``reconnect_delay`` to
``max_reconnect_delay`` seconds, with jitter). **Signal**: since events
published while the connection was down are lost for this process, every
subscriber present when the loss is noticed, and every one that subscribed
during the outage, is ended with :class:`EventsMissed` (after the events
already queued for it). A subscriber that receives it must treat its view as
stale and subscribe again; the realtime server does this by closing its
WebSockets (code 1011), and the Amplify client reconnects and re-subscribes.
``ready`` tells ``/health`` whether the broker connection is up.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import os
import random
import secrets
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import orjson

from ampbase.errors import PubSubError
from ampbase.pubsub.base import ChangeEvent
from ampbase.pubsub.local import DEFAULT_MAX_QUEUE, SubscriberOverflow

__all__ = ["BrokerPubSub", "EventsMissed", "FanOut", "RemoteSubscription", "decode", "encode"]

logger = logging.getLogger("ampbase.pubsub")


class EventsMissed(PubSubError):
    """The broker connection was lost: events published meanwhile may not have arrived."""


def encode(publisher: str, n: int, event: ChangeEvent) -> bytes:
    """One broker message: the publisher's id and counter (unique), and the event."""
    return orjson.dumps({"p": publisher, "n": n, "e": event.to_json()})


def decode(raw: bytes | str) -> tuple[str, int, ChangeEvent]:
    data = orjson.loads(raw)
    return str(data["p"]), int(data["n"]), ChangeEvent.from_json(data["e"])


class RemoteSubscription(AsyncIterator[ChangeEvent]):
    """One subscriber's stream: queued events, then the end or the error that cut it off."""

    def __init__(self, owner: FanOut, max_queue: int) -> None:
        self._owner = owner
        self._max_queue = max_queue
        self._queue: deque[ChangeEvent] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self._error: PubSubError | None = None

    @property
    def pending(self) -> int:
        return len(self._queue)

    def _offer(self, event: ChangeEvent) -> bool:
        if len(self._queue) >= self._max_queue:
            self._fail(
                SubscriberOverflow(f"subscriber fell {self._max_queue} events behind and was disconnected")
            )
            return False
        self._queue.append(event)
        self._wake()
        return True

    def _fail(self, error: PubSubError) -> None:
        if self._error is None and not self._closed:
            self._error = error
        self._wake()

    def _end(self) -> None:
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def __aiter__(self) -> RemoteSubscription:
        return self

    async def __anext__(self) -> ChangeEvent:
        while True:
            if self._queue:
                return self._queue.popleft()
            if self._error is not None:
                raise self._error
            if self._closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    async def aclose(self) -> None:
        self._owner.remove(self)
        self._end()


class FanOut:
    """This process's subscribers of a broker-backed pub/sub."""

    def __init__(self, max_queue: int = DEFAULT_MAX_QUEUE) -> None:
        if max_queue <= 0:
            raise ValueError("max_queue must be positive")
        self.max_queue = max_queue
        self._subscribers: set[RemoteSubscription] = set()
        self.closed = False

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def subscribe(self) -> RemoteSubscription:
        sub = RemoteSubscription(self, self.max_queue)
        if self.closed:
            sub._end()
        else:
            self._subscribers.add(sub)
        return sub

    def remove(self, sub: RemoteSubscription) -> None:
        self._subscribers.discard(sub)

    def deliver(self, event: ChangeEvent) -> None:
        cut_off = [sub for sub in self._subscribers if not sub._offer(event)]
        for sub in cut_off:
            self._subscribers.discard(sub)

    def interrupt(self, error: PubSubError) -> None:
        """End every current subscriber with ``error`` (after its queued events)."""
        subscribers, self._subscribers = self._subscribers, set()
        for sub in subscribers:
            sub._fail(error)

    def close(self) -> None:
        self.closed = True
        subscribers, self._subscribers = self._subscribers, set()
        for sub in subscribers:
            sub._end()


class BrokerPubSub(abc.ABC):
    """The shared machinery; subclasses connect, send batches and listen."""

    def __init__(
        self,
        *,
        max_queue: int = DEFAULT_MAX_QUEUE,
        publish_timeout: float = 5.0,
        reconnect_delay: float = 0.1,
        max_reconnect_delay: float = 5.0,
    ) -> None:
        self.publish_timeout = publish_timeout
        self.reconnect_delay = reconnect_delay
        self.max_reconnect_delay = max_reconnect_delay
        self._fanout = FanOut(max_queue)
        self._publisher_id = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._counter = 0
        self._outbox: asyncio.Queue[tuple[bytes, asyncio.Future[None]]] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._connected = False
        self._closed = True
        self.reconnects = 0  # how often the connection was re-established (tests, metrics)

    # -- what a broker implements -------------------------------------------------------------

    @abc.abstractmethod
    async def _connect(self) -> None:
        """Connect and subscribe; raise on failure."""

    @abc.abstractmethod
    async def _disconnect(self) -> None:
        """Drop the connections (never raises)."""

    @abc.abstractmethod
    async def _listen(self) -> None:
        """Receive until the connection is lost (raise or return); call :meth:`_received`."""

    @abc.abstractmethod
    async def _send(self, payloads: list[bytes]) -> None:
        """Send ``payloads`` in order; raise on failure."""

    # -- the PubSub protocol ------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def ready(self) -> bool:
        return self._connected and not self._closed

    @property
    def subscriber_count(self) -> int:
        return self._fanout.subscriber_count

    async def start(self) -> None:
        if not self._closed:
            return
        try:
            await self._connect()
        except Exception as exc:
            await self._disconnect()
            raise PubSubError(f"could not connect to the pub/sub broker: {exc}") from exc
        self._closed = False
        self._connected = True
        self._fanout = FanOut(self._fanout.max_queue)
        self._outbox = asyncio.Queue()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._receive_loop(), name="ampbase-pubsub-receive"),
            loop.create_task(self._send_loop(), name="ampbase-pubsub-send"),
        ]

    async def close(self) -> None:
        if self._closed:
            self._fanout.close()
            return
        self._closed = True
        self._connected = False
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        outbox, self._outbox = self._outbox, None
        while outbox is not None and not outbox.empty():
            _, fut = outbox.get_nowait()
            if not fut.done():
                fut.set_exception(PubSubError("the pub/sub closed"))
        await self._disconnect()
        self._fanout.close()

    async def publish(self, event: ChangeEvent) -> None:
        if self._closed:
            return
        outbox = self._outbox
        if not self._connected or outbox is None:
            raise PubSubError("the pub/sub broker is unreachable; the event was not published")
        self._counter += 1
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        outbox.put_nowait((encode(self._publisher_id, self._counter, event), fut))
        try:
            async with asyncio.timeout(self.publish_timeout):
                await asyncio.shield(fut)
        except TimeoutError:
            raise PubSubError(
                f"the pub/sub broker did not accept the event in {self.publish_timeout:g}s"
            ) from None

    def events(self) -> RemoteSubscription:
        return self._fanout.subscribe()

    # -- machinery ----------------------------------------------------------------------------

    def _received(self, raw: bytes | str) -> None:
        try:
            _, _, event = decode(raw)
        except (ValueError, KeyError, TypeError):
            logger.warning("ignoring a malformed pub/sub message")
            return
        self._fanout.deliver(event)

    async def _send_loop(self) -> None:
        outbox = self._outbox
        assert outbox is not None
        while True:
            batch = [await outbox.get()]
            while not outbox.empty() and len(batch) < 500:
                batch.append(outbox.get_nowait())
            live = [(p, f) for p, f in batch if not f.done()]
            try:
                await self._send([p for p, _ in live])
            except asyncio.CancelledError:
                for _, fut in live:
                    if not fut.done():
                        fut.set_exception(PubSubError("the pub/sub closed"))
                raise
            except Exception as exc:  # noqa: BLE001 - any send failure fails this batch only
                logger.warning("publishing %d event(s) failed: %s", len(live), exc)
                for _, fut in live:
                    if not fut.done():
                        fut.set_exception(PubSubError(f"publishing failed: {exc}"))
            else:
                for _, fut in live:
                    if not fut.done():
                        fut.set_result(None)

    async def _receive_loop(self) -> None:
        while not self._closed:
            try:
                await self._listen()
                problem: Any = "the connection ended"
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure means: reconnect
                problem = exc
            if self.closed:
                return
            logger.warning("lost the pub/sub broker connection (%s); reconnecting", problem)
            self._connected = False
            self._fanout.interrupt(EventsMissed("the pub/sub connection was lost; events may be missing"))
            await self._reconnect()
            self._fanout.interrupt(EventsMissed("the pub/sub connection was re-established"))

    async def _reconnect(self) -> None:
        delay = self.reconnect_delay
        while not self._closed:
            await asyncio.sleep(delay * (0.5 + random.random()))
            await self._disconnect()
            try:
                await self._connect()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep trying until closed
                logger.info("pub/sub reconnect failed (%s); retrying in ~%.1fs", exc, delay)
                delay = min(delay * 2, self.max_reconnect_delay)
                continue
            self._connected = True
            self.reconnects += 1
            logger.warning("pub/sub broker connection re-established")
            return
