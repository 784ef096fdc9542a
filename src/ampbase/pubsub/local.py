"""In-process pub/sub: every published event fans out to every current subscriber.

Each subscriber stream has its own bounded queue (``max_queue`` events,
10,000 by default). ``publish`` never waits: it appends to every queue and
wakes the readers, so a slow subscriber cannot stall the publisher or the
other subscribers.

Overflow policy: a subscriber whose queue is full when an event arrives is
*cut off*. It is removed at once (it receives nothing further, and its queue
stops growing); after it has consumed the events already queued, its iterator
raises :class:`SubscriberOverflow`. Events are never dropped silently from the
middle of a stream: a consumer sees a gap-free prefix, then the error, and
must re-subscribe (the realtime server then closes the affected sockets so
clients reconnect and resubscribe; see ``docs/realtime.md``).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator

from ampbase.errors import PubSubError
from ampbase.pubsub.base import ChangeEvent

__all__ = ["DEFAULT_MAX_QUEUE", "LocalPubSub", "SubscriberOverflow", "Subscription"]

DEFAULT_MAX_QUEUE = 10_000


class SubscriberOverflow(PubSubError):
    """A subscriber fell ``max_queue`` events behind and was cut off."""


class Subscription(AsyncIterator[ChangeEvent]):
    """One subscriber's stream of events; registered as soon as it is created."""

    def __init__(self, owner: LocalPubSub, max_queue: int) -> None:
        self._owner = owner
        self._max_queue = max_queue
        self._queue: deque[ChangeEvent] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self._overflowed = False

    @property
    def pending(self) -> int:
        """Events queued and not yet consumed."""
        return len(self._queue)

    @property
    def overflowed(self) -> bool:
        return self._overflowed

    def _offer(self, event: ChangeEvent) -> bool:
        """Queue ``event``; False (and cut off) when the queue is full."""
        if len(self._queue) >= self._max_queue:
            self._overflowed = True
            self._wake()
            return False
        self._queue.append(event)
        self._wake()
        return True

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _end(self) -> None:
        self._closed = True
        self._wake()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> ChangeEvent:
        while True:
            if self._queue:
                return self._queue.popleft()
            if self._overflowed:
                raise SubscriberOverflow(
                    f"subscriber fell {self._max_queue} events behind and was disconnected"
                )
            if self._closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    async def aclose(self) -> None:
        """Unsubscribe; the iterator ends after the events already queued."""
        self._owner._remove(self)
        self._end()


class LocalPubSub:
    """The default :class:`~ampbase.pubsub.base.PubSub`: one process, no broker."""

    def __init__(self, *, max_queue: int = DEFAULT_MAX_QUEUE) -> None:
        if max_queue <= 0:
            raise ValueError("max_queue must be positive")
        self.max_queue = max_queue
        self._subscribers: set[Subscription] = set()
        self._closed = False

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    async def start(self) -> None:
        self._closed = False

    async def close(self) -> None:
        self._closed = True
        subscribers, self._subscribers = self._subscribers, set()
        for sub in subscribers:
            sub._end()

    async def publish(self, event: ChangeEvent) -> None:
        if self._closed:
            return
        cut_off = [sub for sub in self._subscribers if not sub._offer(event)]
        for sub in cut_off:
            self._subscribers.discard(sub)

    def events(self) -> Subscription:
        sub = Subscription(self, self.max_queue)
        if self._closed:
            sub._end()
        else:
            self._subscribers.add(sub)
        return sub

    def _remove(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)
