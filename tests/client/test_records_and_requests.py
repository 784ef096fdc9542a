"""Records behave like dicts of the wire fields; requests are awaitable and cancellable."""

from __future__ import annotations

import asyncio
import copy
import json
import pickle

import pytest

from ampbase.client import CancelError, Record, Request

pytestmark = pytest.mark.anyio


def test_record_is_a_dict_with_attribute_access_and_loaders() -> None:
    calls: list[dict[str, object]] = []
    record = Record({"id": "1", "items": 3}, {"team": lambda **kw: calls.append(kw) or "loaded"})
    assert record == {"id": "1", "items": 3}
    assert json.loads(json.dumps(record)) == {"id": "1", "items": 3}
    assert record.id == "1"
    assert record.team(limit=1) == "loaded" and calls == [{"limit": 1}]
    assert record.load("team") == "loaded"
    assert set(record.loaders) == {"team"}
    with pytest.raises(AttributeError):
        _ = record.missing
    with pytest.raises(AttributeError):
        record.load("missing")
    assert pickle.loads(pickle.dumps(record)) == record
    assert copy.deepcopy(record) == record
    assert repr(record) == "Record({'id': '1', 'items': 3})"


async def test_request_runs_at_once_and_can_be_awaited_later() -> None:
    started = asyncio.Event()

    async def work() -> int:
        started.set()
        return 42

    request = Request(work())
    await asyncio.wait_for(started.wait(), 5)
    assert request.done()
    assert await request == 42
    assert await request.result() == 42
    assert not request.cancel("too late")


async def test_cancelled_request_raises_cancel_error_with_the_message() -> None:
    gate = asyncio.Event()

    async def slow() -> None:
        await gate.wait()

    request = Request(slow())
    assert request.cancel("stop it")
    with pytest.raises(CancelError, match="stop it"):
        await request


def test_request_created_outside_a_loop_starts_when_awaited() -> None:
    async def work() -> str:
        return "ok"

    request = Request(work())
    assert not request.done()

    async def run() -> str:
        return await request

    assert asyncio.run(run()) == "ok"
    unstarted = Request(work())
    assert unstarted.cancel("never ran")

    async def run_cancelled() -> None:
        await unstarted

    with pytest.raises(CancelError, match="never ran"):
        asyncio.run(run_cancelled())


async def test_requests_work_with_gather_and_wait_for() -> None:
    async def value(n: int) -> int:
        return n

    assert await asyncio.gather(Request(value(1)), Request(value(2))) == [1, 2]
    assert await asyncio.wait_for(Request(value(3)), 5) == 3
