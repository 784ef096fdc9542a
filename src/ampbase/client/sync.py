"""A blocking client with the same surface, for scripts: ``generate_client(..., sync=True)``.

::

    client = generate_sync_client(outputs="amplify_outputs.json")
    todo = client.models.Todo.create(content="hi").data
    members = client.models.Team.get(id=team_id).data.members().data
    for todo in client.models.Todo.on_create():     # blocks per event
        ...
    client.close()

The async client runs on an event loop in a background thread; every call blocks until its
result is ready. Results, records (their loaders block too), subscriptions and
``observe_query`` (plain iterators) are converted on the way out.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

from ampbase.client.models import ObserveQuery, Subscription
from ampbase.client.requests import Request
from ampbase.client.results import ListResult, Record, Result

__all__ = ["SyncClient", "SyncIterator", "generate_sync_client"]

T = TypeVar("T")


class _LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name="ampbase-client", daemon=True)
        self._thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        if threading.current_thread() is self._thread:
            raise RuntimeError("a sync client call cannot run inside the client's own loop")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def call(self, fn: Callable[[], Any]) -> Any:
        async def invoke() -> Any:
            value = fn()
            if isinstance(value, Request):
                return await value
            return value

        return self.run(invoke())

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


class SyncIterator(Iterator[T]):
    """A subscription or ``observe_query`` as a blocking iterator; ``close()`` stops it."""

    def __init__(
        self, runner: _LoopThread, source: Subscription[Any] | ObserveQuery[Any], convert: Callable[[Any], T]
    ) -> None:
        self._runner = runner
        self._source = source
        self._convert = convert
        self._closed = False

    def __iter__(self) -> SyncIterator[T]:
        return self

    def __next__(self) -> T:
        if self._closed:
            raise StopIteration
        try:
            value = self._runner.run(self._source.__anext__())
        except StopAsyncIteration:
            self._closed = True
            raise StopIteration from None
        return self._convert(value)

    def ready(self) -> None:
        """Wait until the subscription is acknowledged (subscriptions only)."""
        if isinstance(self._source, Subscription):
            self._runner.run(self._source.ready())

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._runner.run(self._source.aclose())

    unsubscribe = close

    def __enter__(self) -> SyncIterator[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _SyncProxy:
    """Forwards attribute access to an async object; calls block and results are converted."""

    def __init__(self, runner: _LoopThread, target: Any) -> None:
        self._runner = runner
        self._target = target

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if callable(value):

            @functools.wraps(value)
            def call(*args: Any, **kwargs: Any) -> Any:
                return _convert(self._runner, self._runner.call(lambda: value(*args, **kwargs)))

            return call
        if isinstance(value, str | int | float | bool | tuple | type(None)) or dataclasses.is_dataclass(
            value
        ):
            return value
        return _SyncProxy(self._runner, value)

    def __getitem__(self, name: str) -> Any:
        return _SyncProxy(self._runner, self._target[name])

    def __iter__(self) -> Iterator[Any]:
        return iter(self._target)

    def __dir__(self) -> list[str]:
        return dir(self._target)


def _sync_record(runner: _LoopThread, record: Record) -> Record:
    def blocking(loader: Callable[..., Any]) -> Callable[..., Any]:
        def call(**options: Any) -> Any:
            return _convert(runner, runner.call(lambda: loader(**options)))

        return call

    return Record(
        {k: _convert(runner, v) for k, v in record.items()},
        {name: blocking(loader) for name, loader in record.loaders.items()},
    )


def _convert(runner: _LoopThread, value: Any) -> Any:
    if isinstance(value, Record):
        return _sync_record(runner, value)
    if isinstance(value, list):
        return [_convert(runner, v) for v in value]
    if isinstance(value, Result):
        return Result(_convert(runner, value.data), value.errors, value.extensions)
    if isinstance(value, ListResult):
        return ListResult(_convert(runner, value.data), value.next_token, value.errors, value.extensions)
    if isinstance(value, Subscription):
        return SyncIterator(runner, value, lambda v: _convert(runner, v))
    if isinstance(value, ObserveQuery):
        from ampbase.client.models import Snapshot

        return SyncIterator(runner, value, lambda s: Snapshot(_convert(runner, s.items), s.is_synced))
    return value


class SyncClient:
    """The blocking client: same ``models``/``queries``/``mutations``/``subscriptions``/``enums``."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._runner = _LoopThread()

        async def build() -> Any:
            return factory()

        try:
            self._client = self._runner.run(build())
        except BaseException:
            self._runner.stop()
            raise
        self.models: Any = _SyncProxy(self._runner, self._client.models)
        self.queries: Any = _SyncProxy(self._runner, self._client.queries)
        self.mutations: Any = _SyncProxy(self._runner, self._client.mutations)
        self.subscriptions: Any = _SyncProxy(self._runner, self._client.subscriptions)
        self.enums: Any = self._client.enums

    @property
    def client(self) -> Any:
        """The underlying async :class:`~ampbase.client.client.Client`."""
        return self._client

    def graphql(self, query: str, variables: dict[str, Any] | None = None, **options: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._runner.call(lambda: self._client.graphql(query, variables, **options))
        return result

    @property
    def connection_state(self) -> Any:
        return self._client.connection_state

    def on_connection_state_change(self, listener: Callable[[Any], None]) -> Callable[[], None]:
        """``listener(state)`` runs on the client's background thread."""
        remove: Callable[[], None] = self._runner.call(
            lambda: self._client.on_connection_state_change(listener)
        )
        return remove

    @staticmethod
    def is_cancel_error(error: BaseException) -> bool:
        from ampbase.client.requests import CancelError

        return isinstance(error, CancelError)

    def close(self) -> None:
        try:
            self._runner.run(self._client.close())
        finally:
            self._runner.stop()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def generate_sync_client(outputs: Any = None, **options: Any) -> SyncClient:
    """Same as ``generate_client(outputs, sync=True, **options)``."""
    from ampbase.client.client import generate_client

    return generate_client(outputs, sync=True, **options)
