"""The pub/sub conformance suite: every ``PubSub`` (local, Redis, PostgreSQL LISTEN/NOTIFY).

``bus`` opens instances on one shared bus: for the broker-backed ones each call is a new
instance (another "replica"); the local one has a single process, so it is the same instance.
Redis and PostgreSQL cases skip without a reachable server (fail under CI); each test uses its
own channel (and, for PostgreSQL, its own schema).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import pytest

from ampbase.pubsub.base import ChangeEvent, PubSub
from ampbase.pubsub.local import LocalPubSub, SubscriberOverflow
from ampbase.pubsub.remote import BrokerPubSub, EventsMissed
from tests.services import TcpProxy, postgres_dsn, redis_url, unique_name

pytestmark = pytest.mark.anyio

BACKENDS = ["local", "redis", "postgres"]
Bus = Callable[..., Awaitable[PubSub]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def event(n: int, **record: Any) -> ChangeEvent:
    return ChangeEvent(mutation="createTodo", model="Todo", record={"id": str(n), **record}, seq=n)


async def take(stream: AsyncIterator[ChangeEvent], count: int) -> list[ChangeEvent]:
    async with asyncio.timeout(10):
        return [await anext(stream) for _ in range(count)]


def make(backend: str, address: str, channel: str, schema: str | None, **kw: Any) -> PubSub:
    if backend == "redis":
        from ampbase.pubsub.redis import RedisPubSub

        return RedisPubSub(address, channel=f"ampbase:{channel}", **kw)
    if backend == "postgres":
        from ampbase.pubsub.postgres import PostgresPubSub

        return PostgresPubSub(address, channel=channel, schema=schema, **kw)
    return LocalPubSub(**kw)


@pytest.fixture(params=BACKENDS)
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[Bus]:
    backend = str(request.param)
    address = ""
    schema = None
    if backend == "redis":
        address = redis_url()
    elif backend == "postgres":
        address = postgres_dsn()
        schema = unique_name("test")
    channel = unique_name("events")
    opened: list[PubSub] = []

    async def connect(**kw: Any) -> PubSub:
        if backend == "local" and opened and not kw:
            return opened[0]
        pubsub = make(backend, address, channel, schema, **kw)
        await pubsub.start()
        opened.append(pubsub)
        return pubsub

    yield connect
    for pubsub in opened:
        await pubsub.close()
    if schema is not None:
        conn = await asyncpg.connect(address)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()


async def test_every_subscriber_on_every_replica_gets_every_event_once_in_order(bus: Bus) -> None:
    a, b = await bus(), await bus()
    streams = [a.events(), a.events(), b.events()]
    for n in range(20):
        await a.publish(event(n))
    for stream in streams:
        assert [e.seq for e in await take(stream, 20)] == list(range(20))


async def test_events_round_trip_unchanged(bus: Bus) -> None:
    a, b = await bus(), await bus()
    stream = b.events()
    original = ChangeEvent(
        mutation="updateTodo",
        model="Todo",
        record={"id": "ä😀", "n": 1.5, "tags": ["x", None], "meta": {"deep": [True, {"k": 2**40}]}},
        seq=7,
    )
    custom = ChangeEvent(mutation="likePost", model=None, record="plain", seq=8)
    await a.publish(original)
    await a.publish(custom)
    assert await take(stream, 2) == [original, custom]


async def test_events_larger_than_a_notify_payload_arrive_in_order(bus: Bus) -> None:
    a, b = await bus(), await bus()
    stream = b.events()
    big = "x" * 20_000
    await a.publish(event(1))
    await a.publish(event(2, body=big))
    await a.publish(event(3))
    received = await take(stream, 3)
    assert [e.seq for e in received] == [1, 2, 3]
    assert received[1].record["body"] == big


async def test_concurrent_publishes_keep_call_order(bus: Bus) -> None:
    a, b = await bus(), await bus()
    stream = b.events()
    await asyncio.gather(*(a.publish(event(n)) for n in range(200)))
    assert [e.seq for e in await take(stream, 200)] == list(range(200))


async def test_two_publishers_each_keep_their_order_and_nothing_repeats(bus: Bus) -> None:
    a, b, c = await bus(), await bus(), await bus()
    stream = c.events()

    async def run(pubsub: PubSub, offset: int) -> None:
        for n in range(50):
            await pubsub.publish(event(offset + n))

    await asyncio.gather(run(a, 0), run(b, 1000))
    seqs = [e.seq for e in await take(stream, 100)]
    assert sorted(seqs) == [*range(50), *range(1000, 1050)]
    assert [s for s in seqs if s < 1000] == list(range(50))
    assert [s for s in seqs if s >= 1000] == list(range(1000, 1050))


async def test_a_subscriber_only_sees_events_published_after_it_subscribed(bus: Bus) -> None:
    a = await bus()
    early = a.events()
    await a.publish(event(1))
    assert [e.seq for e in await take(early, 1)] == [1]
    late = a.events()
    await a.publish(event(2))
    assert [e.seq for e in await take(late, 1)] == [2]


async def test_unsubscribing_stops_delivery(bus: Bus) -> None:
    a = await bus()
    stream, other = a.events(), a.events()
    await stream.aclose()  # type: ignore[attr-defined]
    await a.publish(event(1))
    assert [e.seq for e in await take(other, 1)] == [1]
    assert [e async for e in stream] == []


async def test_close_ends_streams_and_later_publishes_are_ignored(bus: Bus) -> None:
    a = await bus()
    stream = a.events()
    await a.publish(event(1))
    assert [e.seq for e in await take(stream, 1)] == [1]
    await a.close()
    async with asyncio.timeout(5):
        assert [e async for e in stream] == []
        assert [e async for e in a.events()] == []
    await a.publish(event(2))


async def test_a_slow_subscriber_is_cut_off_without_affecting_others(bus: Bus) -> None:
    a = await bus(max_queue=3)
    slow, fast = a.events(), a.events()
    for n in range(5):
        await a.publish(event(n))
    assert [e.seq for e in await take(fast, 3)] == [0, 1, 2]
    assert [e.seq for e in await take(slow, 3)] == [0, 1, 2]
    with pytest.raises(SubscriberOverflow):
        await take(slow, 1)


# -- broker connections: loss, signal, recovery ---------------------------------------------------


@pytest.fixture(params=["redis", "postgres"])
async def proxied(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[BrokerPubSub, BrokerPubSub, TcpProxy]]:
    """A replica connected through a proxy that the test can cut, and one connected directly."""
    backend = str(request.param)
    channel = unique_name("events")
    if backend == "redis":
        address, port, schema = redis_url(), 6379, None
    else:
        address, port, schema = postgres_dsn(), 5432, unique_name("test")
    proxy = TcpProxy(port)
    await proxy.start()
    via_proxy = address.replace(f"127.0.0.1:{port}", f"127.0.0.1:{proxy.port}")
    assert via_proxy != address
    cut = make(backend, via_proxy, channel, schema, reconnect_delay=0.05, max_reconnect_delay=0.2)
    direct = make(backend, address, channel, schema)
    assert isinstance(cut, BrokerPubSub) and isinstance(direct, BrokerPubSub)
    await direct.start()
    await cut.start()
    yield cut, direct, proxy
    await cut.close()
    await direct.close()
    if proxy.server is not None and proxy.server.is_serving():
        await proxy.stop()
    if schema is not None:
        conn = await asyncpg.connect(address)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()


async def test_a_lost_connection_ends_subscribers_with_events_missed_then_recovers(
    proxied: tuple[BrokerPubSub, BrokerPubSub, TcpProxy],
) -> None:
    cut, direct, proxy = proxied
    stream = cut.events()
    await direct.publish(event(1))
    assert [e.seq for e in await take(stream, 1)] == [1]
    assert cut.ready
    await proxy.stop()
    with pytest.raises(EventsMissed):
        await take(stream, 1)
    assert not cut.ready
    from ampbase.errors import PubSubError

    with pytest.raises(PubSubError):
        await cut.publish(event(2))
    await proxy.start()
    async with asyncio.timeout(20):
        while not cut.ready:  # noqa: ASYNC110 - polling a property, no event to wait on
            await asyncio.sleep(0.05)
    assert cut.reconnects == 1
    fresh = cut.events()
    await direct.publish(event(3))
    await cut.publish(event(4))
    assert [e.seq for e in await take(fresh, 2)] == [3, 4]


async def test_replicas_starting_together_all_connect(bus: Bus) -> None:
    replicas = await asyncio.gather(*(bus() for _ in range(4)))
    streams = [r.events() for r in replicas]
    await replicas[0].publish(event(1))
    for stream in streams:
        assert [e.seq for e in await take(stream, 1)] == [1]
