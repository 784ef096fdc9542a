"""Redis pub/sub for several ampbase processes: ``RedisPubSub("redis://host:6379/0")``.

Every process ``PUBLISH``es its events to one channel (``ampbase:events``) over
a single connection, in publish order, and ``SUBSCRIBE``s to it on another.
Redis pub/sub is fire-and-forget: an event published while a subscriber is
disconnected is lost for it. So after a lost connection (a Redis restart, a
network cut) this process reconnects with backoff and ends its subscribers with
:class:`~ampbase.pubsub.remote.EventsMissed` (see :mod:`ampbase.pubsub.remote`
for ordering, failure and the signal). ``rediss://`` URLs use TLS.
"""

from __future__ import annotations

import time

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub as RedisSubscriber
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from ampbase.pubsub.local import DEFAULT_MAX_QUEUE
from ampbase.pubsub.remote import BrokerPubSub

__all__ = ["RedisPubSub"]

_PING_EVERY = 5.0  # seconds without traffic before the subscriber connection is checked


class RedisPubSub(BrokerPubSub):
    """:class:`~ampbase.pubsub.base.PubSub` over Redis ``PUBLISH``/``SUBSCRIBE``."""

    def __init__(
        self,
        url: str,
        channel: str = "ampbase:events",
        *,
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
        self.url = url
        self.channel = channel
        self.connect_timeout = connect_timeout
        self._publisher: aioredis.Redis | None = None
        self._client: aioredis.Redis | None = None
        self._subscriber: RedisSubscriber | None = None

    def _new_client(self, *, single: bool) -> aioredis.Redis:
        # No transparent retries: a lost connection must surface so subscribers learn about it.
        return aioredis.Redis.from_url(
            self.url,
            retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=self.connect_timeout,
            socket_timeout=None if not single else self.publish_timeout,
            single_connection_client=single,
            client_name="ampbase",
        )

    async def _connect(self) -> None:
        publisher = self._new_client(single=True)
        self._publisher = publisher
        await publisher.ping()
        client = self._new_client(single=False)
        self._client = client
        subscriber = client.pubsub()
        self._subscriber = subscriber
        await subscriber.subscribe(self.channel)
        deadline = time.monotonic() + self.connect_timeout
        while time.monotonic() < deadline:  # wait until Redis confirms the subscription
            message = await subscriber.get_message(timeout=0.5)
            if message is not None and message.get("type") == "subscribe":
                return
        raise TimeoutError("Redis did not confirm the subscription")

    async def _disconnect(self) -> None:
        subscriber, self._subscriber = self._subscriber, None
        client, self._client = self._client, None
        publisher, self._publisher = self._publisher, None
        for closing in (subscriber, client, publisher):
            if closing is None:
                continue
            try:
                await closing.aclose()
            except Exception:  # noqa: BLE001 - the connection is being discarded anyway
                continue

    async def _listen(self) -> None:
        subscriber = self._subscriber
        if subscriber is None:
            raise ConnectionError("not subscribed")
        quiet_since = time.monotonic()
        ping_sent: float | None = None
        while True:
            message = await subscriber.get_message(ignore_subscribe_messages=True, timeout=1.0)
            now = time.monotonic()
            if message is None:
                if ping_sent is not None and now - ping_sent > _PING_EVERY:
                    raise ConnectionError("Redis did not answer PING")  # a half-open connection
                if ping_sent is None and now - quiet_since > _PING_EVERY:
                    await subscriber.ping()  # answered by a "pong" message
                    ping_sent = now
                continue
            quiet_since = now
            ping_sent = None  # anything arriving proves the connection alive
            if message.get("type") == "message":
                self._received(message["data"])

    async def _send(self, payloads: list[bytes]) -> None:
        publisher = self._publisher
        if publisher is None:
            raise ConnectionError("not connected")
        if len(payloads) == 1:
            await publisher.publish(self.channel, payloads[0])
            return
        async with publisher.pipeline(transaction=False) as pipe:
            for payload in payloads:
                pipe.publish(self.channel, payload)
            await pipe.execute()
