"""asyncio helpers shared by the engine and the server.

:func:`within` is ``asyncio.timeout`` for the common case of work that usually completes without
waiting: a point read served inline from SQLite, a request body that arrived with its headers.
Arming and disarming a timer costs more than such work itself, so :func:`within` first runs the
coroutine up to its first suspension and only arms the timeout when it actually has to wait;
from there on the coroutine is driven exactly as if it had been awaited directly (its futures go
to the running task, cancellation is forwarded), so its behaviour — results, exceptions,
``TimeoutError`` after ``seconds`` — is that of ``async with asyncio.timeout(seconds): await coro``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import Any, TypeVar

__all__ = ["resume", "within"]

T = TypeVar("T")


async def within(coro: Coroutine[Any, Any, T], seconds: float | None) -> T:
    """Await ``coro``, raising ``TimeoutError`` if it takes longer than ``seconds`` (0/None: never)."""
    try:
        step = coro.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
    async with asyncio.timeout(seconds or None):
        return await resume(coro, step)


async def resume(coro: Coroutine[Any, Any, T], step: Any) -> T:
    """Finish ``coro``, which was stepped once outside a task and yielded ``step``.

    The awaiting task drives it from there exactly as if it had run it from the start: the
    future it waits on goes to the task, cancellation is thrown into it, its result comes back.
    """
    resumed: T = await _Resumed(coro, step)
    return resumed


class _Resumed:
    __slots__ = ("coro", "step")

    def __init__(self, coro: Coroutine[Any, Any, Any], step: Any) -> None:
        self.coro = coro
        self.step = step

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, step = self.coro, self.step
        while True:
            try:
                value = yield step
            except GeneratorExit:  # the awaiting coroutine is being closed: close this one too
                coro.close()
                raise
            except BaseException as exc:  # noqa: BLE001 - the task threw into us (cancellation): forward it
                try:
                    step = coro.throw(exc)
                except StopIteration as done:
                    return done.value
                continue
            try:
                step = coro.send(value)
            except StopIteration as done:
                return done.value
