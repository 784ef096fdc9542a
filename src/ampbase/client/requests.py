"""In-flight requests that can be cancelled, like the JS client's cancellable promises.

Every query/mutation method returns a :class:`Request`: awaitable, already running when it was
created inside an event loop (as a JS promise is), and cancellable with
``client.cancel(request, "message")``; awaiting a cancelled request raises
:class:`CancelError` (``client.is_cancel_error(err)`` is true, ``err.message`` is the given
message). Plain asyncio cancellation of the awaiting task cancels the request as well and
raises :class:`asyncio.CancelledError` as usual.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import Any, Generic, TypeVar

__all__ = ["CancelError", "Request"]

T = TypeVar("T")


class CancelError(Exception):
    """The request was cancelled with ``client.cancel(request, message)``."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message or "Request cancelled"
        super().__init__(self.message)


class Request(Generic[T]):
    """An awaitable, cancellable request (the result of every query/mutation method)."""

    __slots__ = ("_cancel_message", "_coro", "_task")

    def __init__(self, coro: Coroutine[Any, Any, T]) -> None:
        self._coro: Coroutine[Any, Any, T] | None = coro
        self._task: asyncio.Task[T] | None = None
        self._cancel_message: str | None = None
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        self._ensure_task()

    def _ensure_task(self) -> asyncio.Task[T]:
        if self._task is None:
            coro, self._coro = self._coro, None
            assert coro is not None
            self._task = asyncio.get_running_loop().create_task(coro)
        return self._task

    def __await__(self) -> Generator[Any, None, T]:
        return self.result().__await__()

    async def result(self) -> T:
        """Wait for the result (same as ``await request``)."""
        if self._task is None and self._coro is None:
            raise CancelError(self._cancel_message)
        task = self._ensure_task()
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self._cancel_message is not None and (current is None or current.cancelling() == 0):
                raise CancelError(self._cancel_message) from None
            raise

    def cancel(self, message: str | None = None) -> bool:
        """Cancel the request; ``False`` when it had already finished."""
        if self._task is None:
            if self._coro is None:
                return False
            self._cancel_message = message or "Request cancelled"
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                self._coro.close()
                self._coro = None
                self._task = None
                return True
            self._ensure_task()
        assert self._task is not None
        if self._task.done():
            return False
        self._cancel_message = message or "Request cancelled"
        return self._task.cancel(message)

    def done(self) -> bool:
        return self._task is not None and self._task.done()

    def __del__(self) -> None:
        coro = getattr(self, "_coro", None)
        if coro is not None:
            coro.close()
