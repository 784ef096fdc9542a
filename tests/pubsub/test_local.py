from __future__ import annotations

import asyncio

import pytest

from ampbase.pubsub.base import ChangeEvent
from ampbase.pubsub.local import LocalPubSub, SubscriberOverflow


def event(n: int) -> ChangeEvent:
    return ChangeEvent(mutation="createTodo", model="Todo", record={"id": str(n)}, seq=n)


async def take(stream: object, count: int) -> list[int]:
    assert hasattr(stream, "__anext__")
    return [(await stream.__anext__()).seq for _ in range(count)]


def test_every_subscriber_gets_every_event_in_order() -> None:
    async def main() -> None:
        pubsub = LocalPubSub()
        await pubsub.start()
        a, b = pubsub.events(), pubsub.events()
        for n in range(5):
            await pubsub.publish(event(n))
        assert await take(a, 5) == [0, 1, 2, 3, 4]
        assert await take(b, 5) == [0, 1, 2, 3, 4]
        await pubsub.close()

    asyncio.run(main())


def test_a_subscriber_only_sees_events_published_after_it_started() -> None:
    async def main() -> None:
        pubsub = LocalPubSub()
        await pubsub.publish(event(1))
        stream = pubsub.events()
        await pubsub.publish(event(2))
        assert await take(stream, 1) == [2]

    asyncio.run(main())


def test_a_waiting_reader_is_woken_by_publish() -> None:
    async def main() -> None:
        pubsub = LocalPubSub()
        stream = pubsub.events()
        reader = asyncio.ensure_future(stream.__anext__())
        await asyncio.sleep(0)
        assert not reader.done()
        await pubsub.publish(event(7))
        assert (await reader).seq == 7

    asyncio.run(main())


def test_close_ends_streams_after_queued_events() -> None:
    async def main() -> None:
        pubsub = LocalPubSub()
        stream = pubsub.events()
        await pubsub.publish(event(1))
        await pubsub.close()
        assert [e.seq async for e in stream] == [1]
        assert [e async for e in pubsub.events()] == []  # a stream opened after close is empty
        await pubsub.publish(event(2))  # publishing after close is a no-op

    asyncio.run(main())


def test_unsubscribing_stops_delivery_and_memory_use() -> None:
    async def main() -> None:
        pubsub = LocalPubSub()
        stream = pubsub.events()
        assert pubsub.subscriber_count == 1
        await stream.aclose()
        assert pubsub.subscriber_count == 0
        await pubsub.publish(event(1))
        assert stream.pending == 0
        assert [e async for e in stream] == []

    asyncio.run(main())


def test_a_slow_subscriber_is_cut_off_without_affecting_others() -> None:
    async def main() -> None:
        pubsub = LocalPubSub(max_queue=3)
        slow, fast = pubsub.events(), pubsub.events()
        for n in range(3):
            await pubsub.publish(event(n))
            assert (await fast.__anext__()).seq == n
        await pubsub.publish(event(3))  # slow's queue is full: it is cut off
        assert slow.overflowed
        assert pubsub.subscriber_count == 1
        await pubsub.publish(event(4))
        assert await take(fast, 2) == [3, 4]
        # the slow one gets a gap-free prefix, then the error
        assert await take(slow, 3) == [0, 1, 2]
        with pytest.raises(SubscriberOverflow):
            await slow.__anext__()
        assert slow.pending == 0

    asyncio.run(main())


def test_max_queue_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        LocalPubSub(max_queue=0)


def test_change_event_round_trips_through_json() -> None:
    original = ChangeEvent(mutation="updateTodo", model="Todo", record={"id": "1"}, seq=9)
    assert ChangeEvent.from_json(original.to_json()) == original
