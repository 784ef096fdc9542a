"""``within``: asyncio.timeout semantics, without a timer for work that never waits."""

from __future__ import annotations

import asyncio

import pytest

from ampbase.aio import within

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_work_that_never_waits_returns_its_value() -> None:
    async def immediate() -> int:
        return 7

    assert await within(immediate(), 0.001) == 7


async def test_work_that_waits_is_driven_to_its_result() -> None:
    async def slow() -> list[int]:
        await asyncio.sleep(0)
        await asyncio.sleep(0.01)
        value = await asyncio.get_running_loop().run_in_executor(None, lambda: 3)
        return [value]

    assert await within(slow(), 5) == [3]
    assert await within(slow(), None) == [3]
    assert await within(slow(), 0) == [3]


async def test_errors_propagate_before_and_after_waiting() -> None:
    async def fails_now() -> None:
        raise ValueError("now")

    async def fails_later() -> None:
        await asyncio.sleep(0.001)
        raise KeyError("later")

    with pytest.raises(ValueError, match="now"):
        await within(fails_now(), 1)
    with pytest.raises(KeyError, match="later"):
        await within(fails_later(), 1)


async def test_overdue_work_is_cancelled_and_reported_as_timeout() -> None:
    cleaned: list[str] = []

    async def stuck() -> None:
        try:
            await asyncio.sleep(10)
        finally:
            cleaned.append("finally ran")

    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(TimeoutError):
        await within(stuck(), 0.05)
    assert cleaned == ["finally ran"]
    assert loop.time() - started < 5


async def test_cancelling_the_caller_cancels_the_work() -> None:
    seen: list[str] = []

    async def waits() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    task = asyncio.create_task(within(waits(), None))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == ["cancelled"]


async def test_work_may_handle_a_cancellation_and_go_on() -> None:
    async def stubborn(event: asyncio.Event) -> str:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
            await event.wait()
            return "finished anyway"
        return "not cancelled"

    event = asyncio.Event()
    task = asyncio.create_task(within(stubborn(event), None))
    await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.sleep(0.01)
    event.set()
    assert await task == "finished anyway"


async def test_closing_the_caller_closes_the_work() -> None:
    cleaned: list[str] = []

    async def waits() -> None:
        try:
            await asyncio.sleep(10)
        finally:
            cleaned.append("closed")

    outer = within(waits(), None)
    outer.send(None)  # now waiting inside the work
    outer.close()
    assert cleaned == ["closed"]


async def test_resume_finishes_a_coroutine_stepped_outside_a_task() -> None:
    from ampbase.aio import resume

    async def two_steps() -> str:
        await asyncio.sleep(0.001)
        return "done"

    coro = two_steps()
    step = coro.send(None)
    assert await resume(coro, step) == "done"
