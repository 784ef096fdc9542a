"""Per-request batching of relationship loads (the data-loader pattern).

Resolvers of one relationship field for N parents each call :meth:`BatchLoader.load`
during the same round of execution; the loader waits until the event loop has
gone quiet (no new keys for one tick), then makes one batched call for all of
them, so N parents cost one storage call instead of N.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

__all__ = ["BatchLoader"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_MAX_TICKS = 32


class BatchLoader(Generic[K, V]):
    """Collects keys and resolves them with one call to ``batch(keys) -> values`` (aligned)."""

    __slots__ = ("_batch", "_queue", "_scheduled", "_seen", "_tasks", "_ticks")

    def __init__(self, batch: Callable[[list[K]], Awaitable[Sequence[V]]]) -> None:
        self._batch = batch
        self._queue: list[tuple[K, asyncio.Future[V]]] = []
        self._scheduled = False
        self._seen = 0
        self._ticks = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def load(self, key: K) -> asyncio.Future[V]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[V] = loop.create_future()
        self._queue.append((key, future))
        if not self._scheduled:
            self._scheduled = True
            self._seen = 0
            self._ticks = 0
            loop.call_soon(self._tick)
        return future

    def _tick(self) -> None:
        self._ticks += 1
        if len(self._queue) != self._seen and self._ticks < _MAX_TICKS:
            self._seen = len(self._queue)
            asyncio.get_running_loop().call_soon(self._tick)
            return
        queue, self._queue = self._queue, []
        self._scheduled = False
        task = asyncio.ensure_future(self._run(queue))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, queue: list[tuple[K, asyncio.Future[V]]]) -> None:
        keys: list[K] = list(dict.fromkeys(key for key, _ in queue))
        try:
            values = await self._batch(keys)
            by_key = dict(zip(keys, values, strict=True))
        except BaseException as exc:
            for _, future in queue:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for key, future in queue:
            if not future.done():
                future.set_result(by_key[key])
