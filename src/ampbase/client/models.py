"""``client.models.<Model>``, ``client.queries/mutations/subscriptions`` and their results.

Everything is built from the model introspection, like the JS client: one :class:`ModelClient`
per model with ``create/get/update/delete/list``, one method per secondary index (named by its
``queryField``, plus a snake_case alias), ``on_create/on_update/on_delete`` and
``observe_query``; operations disabled in the schema are absent. Returned records carry lazy
loaders for their relation fields unless a custom ``selection_set`` was given.

The transport (HTTP or in-process) and the realtime connection are behind :class:`ClientCore`,
so the HTTP client and the server-side client share all of this.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from ampbase.client.auth import AuthSettings
from ampbase.client.documents import Operation, custom_operation, model_operation
from ampbase.client.introspection import (
    CustomOperationInfo,
    FieldInfo,
    IndexInfo,
    Introspection,
    ModelInfo,
    snake_case,
)
from ampbase.client.realtime import ActiveSubscription, SubscriptionError
from ampbase.client.requests import Request
from ampbase.client.results import ListResult, Record, Result, flatten_record, map_list, map_single
from ampbase.client.transport import Headers, Transport

__all__ = [
    "ClientCore",
    "CustomOperations",
    "Enums",
    "ModelClient",
    "Models",
    "ObserveQuery",
    "Realtime",
    "Snapshot",
    "Subscription",
]

T = TypeVar("T")

# Python method name → the operation name in the model introspection.
_PY_OPERATIONS: Mapping[str, str] = {
    "create": "create",
    "get": "get",
    "update": "update",
    "delete": "delete",
    "list": "list",
    "on_create": "onCreate",
    "on_update": "onUpdate",
    "on_delete": "onDelete",
    "observe_query": "observeQuery",
}


class Realtime(Protocol):
    """What subscriptions need: :class:`ampbase.client.realtime.RealtimeConnection` or an
    in-process equivalent."""

    def subscribe(
        self, query: str, variables: Mapping[str, Any], *, auth: AuthSettings, headers: Headers
    ) -> ActiveSubscription: ...

    async def unsubscribe(self, sub: ActiveSubscription) -> None: ...

    async def close(self) -> None: ...


class ClientCore:
    """The shared state of one client: introspection, transport, auth, headers, realtime."""

    def __init__(
        self,
        mis: Introspection,
        transport: Transport,
        *,
        auth: AuthSettings,
        headers: Headers = None,
        realtime_factory: Callable[[], Realtime] | None = None,
    ) -> None:
        self.mis = mis
        self.transport = transport
        self.auth = auth
        self.headers = headers
        self._realtime_factory = realtime_factory
        self._realtime: Realtime | None = None

    @property
    def realtime(self) -> Realtime:
        if self._realtime is None:
            if self._realtime_factory is None:
                raise NotImplementedError("this client has no realtime connection (subscriptions)")
            self._realtime = self._realtime_factory()
        return self._realtime

    @property
    def realtime_started(self) -> Realtime | None:
        return self._realtime

    def auth_for(self, auth_mode: str | None, auth_token: str | None) -> AuthSettings:
        return self.auth.with_overrides(auth_mode, auth_token)

    def headers_for(self, headers: Headers) -> Headers:
        """Per-call headers replace the client's (they are not merged, as in the JS client)."""
        return headers if headers is not None else self.headers

    async def execute(self, operation: Operation, auth: AuthSettings, headers: Headers) -> dict[str, Any]:
        return await self.transport.execute(
            operation.query, operation.variables, auth=auth, headers=self.headers_for(headers)
        )

    async def aclose(self) -> None:
        realtime, self._realtime = self._realtime, None
        if realtime is not None:
            await realtime.close()
        await self.transport.aclose()


# ---------------------------------------------------------------------------- subscriptions


class Subscription(Generic[T]):
    """A running subscription: ``async for record in sub``; ``await sub.unsubscribe()``.

    Started at once when created inside an event loop (otherwise on first use).
    ``await sub.ready()`` waits for the server's acknowledgement. A failure ends the iteration
    with :class:`~ampbase.client.realtime.SubscriptionError` (``.errors``).
    """

    def __init__(
        self,
        core: ClientCore,
        operation: Operation,
        auth: AuthSettings,
        headers: Headers,
        wrap: Callable[[Any], T],
    ) -> None:
        self._core = core
        self._operation = operation
        self._auth = auth
        self._headers = core.headers_for(headers)
        self._wrap = wrap
        self._active: ActiveSubscription | None = None
        self._finished = False
        self._consumer: asyncio.Task[None] | None = None
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        self._start()

    @property
    def id(self) -> str | None:
        """The subscription id on the wire (kept across reconnections)."""
        return self._active.id if self._active is not None else None

    @property
    def query(self) -> str:
        return self._operation.query

    def _start(self) -> ActiveSubscription:
        if self._active is None:
            self._active = self._core.realtime.subscribe(
                self._operation.query, self._operation.variables, auth=self._auth, headers=self._headers
            )
        return self._active

    async def ready(self) -> None:
        """Wait until the server acknowledged the subscription (raises if it failed)."""
        active = self._start()
        await active.acknowledged.wait()
        if active.failed is not None:
            raise SubscriptionError(active.failed)

    def __aiter__(self) -> Subscription[T]:
        return self

    async def __anext__(self) -> T:
        if self._finished:
            raise StopAsyncIteration
        active = self._start()
        kind, value = await active.queue.get()
        if kind == "data":
            return self._wrap(value)
        self._finished = True
        if kind == "error":
            raise SubscriptionError(value)
        raise StopAsyncIteration

    async def unsubscribe(self) -> None:
        """Stop receiving events (the iteration ends)."""
        if self._consumer is not None and self._consumer is not asyncio.current_task():
            self._consumer.cancel()
        if self._active is not None:
            await self._core.realtime.unsubscribe(self._active)
        self._finished = True

    aclose = unsubscribe

    async def __aenter__(self) -> Subscription[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.unsubscribe()

    def subscribe(
        self,
        next: Callable[[T], Any] | None = None,
        error: Callable[[SubscriptionError], Any] | None = None,
        complete: Callable[[], Any] | None = None,
    ) -> Subscription[T]:
        """Observer style, as in JS: callbacks run in a task of the current loop."""

        async def consume() -> None:
            try:
                async for item in self:
                    if next is not None:
                        next(item)
            except SubscriptionError as exc:
                if error is not None:
                    error(exc)
                return
            if complete is not None:
                complete()

        self._consumer = asyncio.get_running_loop().create_task(consume())
        return self


@dataclass(frozen=True, slots=True)
class Snapshot(Generic[T]):
    """An ``observe_query`` snapshot: every item so far, ``is_synced`` once all pages arrived."""

    items: list[T]
    is_synced: bool

    @property
    def isSynced(self) -> bool:
        return self.is_synced


class ObserveQuery(Generic[T]):
    """``async for snapshot in client.models.Todo.observe_query(): ...``.

    Starts ``on_create``/``on_update``/``on_delete`` with the same filter, waits for them to
    be acknowledged, pages through ``list`` (a snapshot per page, ``is_synced`` on the last),
    then applies every event (items matched by primary key) and yields a new snapshot.
    """

    def __init__(self, model: ModelClient, options: dict[str, Any]) -> None:
        self._model = model
        self._options = options
        self._gen: AsyncIterator[Snapshot[T]] | None = None

    def __aiter__(self) -> AsyncIterator[Snapshot[T]]:
        if self._gen is None:
            self._gen = self._run()
        return self._gen

    async def __anext__(self) -> Snapshot[T]:
        return await self.__aiter__().__anext__()

    async def aclose(self) -> None:
        gen = self._gen
        if gen is not None and hasattr(gen, "aclose"):
            await gen.aclose()

    unsubscribe = aclose

    async def _run(self) -> AsyncIterator[Snapshot[T]]:
        model, options = self._model, self._options
        sub_options = {k: v for k, v in options.items() if k != "limit"}
        subs: list[tuple[str, Subscription[Any]]] = [
            ("create", model.on_create(**sub_options)),
            ("update", model.on_update(**sub_options)),
            ("delete", model.on_delete(**sub_options)),
        ]
        events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        async def forward(kind: str, sub: Subscription[Any]) -> None:
            try:
                async for record in sub:
                    events.put_nowait((kind, record))
            except SubscriptionError as exc:
                events.put_nowait(("error", exc))

        tasks: list[asyncio.Task[None]] = []
        try:
            await asyncio.gather(*(sub.ready() for _, sub in subs))
            tasks = [asyncio.get_running_loop().create_task(forward(k, s)) for k, s in subs]
            keys = model.info.key_fields
            items: dict[tuple[Any, ...], Any] = {}
            token: str | None = None
            while True:
                page = await model.list(next_token=token, **options)
                if page.errors:
                    raise SubscriptionError(page.errors)
                for record in page.data:
                    if record is not None:
                        items[tuple(record.get(k) for k in keys)] = record
                token = page.next_token
                yield Snapshot(list(items.values()), token is None)
                if token is None:
                    break
            while True:
                kind, value = await events.get()
                if kind == "error":
                    raise value
                key = tuple(value.get(k) for k in keys)
                if kind == "delete":
                    items.pop(key, None)
                else:
                    items[key] = value
                yield Snapshot(list(items.values()), True)
        finally:
            for task in tasks:
                task.cancel()
            for _, sub in subs:
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()

    def subscribe(
        self,
        next: Callable[[Snapshot[T]], Any] | None = None,
        error: Callable[[Exception], Any] | None = None,
    ) -> asyncio.Task[None]:
        """Observer style: ``next(snapshot)`` per snapshot; cancel the returned task to stop."""

        async def consume() -> None:
            try:
                async for snapshot in self:
                    if next is not None:
                        next(snapshot)
            except SubscriptionError as exc:
                if error is not None:
                    error(exc)
            finally:
                await self.aclose()

        return asyncio.get_running_loop().create_task(consume())


# ---------------------------------------------------------------------------- models


def _split_args(positional: Mapping[str, Any] | None, keywords: Mapping[str, Any]) -> dict[str, Any]:
    args = dict(positional or {})
    args.update(keywords)
    return args


class ModelClient:
    """``client.models.<Model>``: CRUDL, index queries, subscriptions and ``observe_query``."""

    def __init__(self, core: ClientCore, info: ModelInfo, models: Models) -> None:
        self._core = core
        self.info = info
        self._models = models
        self._indexes: dict[str, IndexInfo] = {}
        for index in info.indexes:
            self._indexes[index.query_field] = index
            self._indexes.setdefault(snake_case(index.query_field), index)

    def __getattribute__(self, name: str) -> Any:
        op = _PY_OPERATIONS.get(name)
        if op is not None and op not in object.__getattribute__(self, "info").enabled_operations:
            model = object.__getattribute__(self, "info").name
            raise AttributeError(f"{name} is disabled for model {model} (disable_operations)")
        return object.__getattribute__(self, name)

    def __getattr__(self, name: str) -> Any:
        index = self.__dict__.get("_indexes", {}).get(name)
        if index is None:
            raise AttributeError(f"model {self.info.name} has no operation or index query {name!r}")
        return functools.partial(self._index_query, index)

    def __dir__(self) -> Iterable[str]:
        hidden = {py for py, op in _PY_OPERATIONS.items() if op not in self.info.enabled_operations}
        return sorted((set(super().__dir__()) - hidden) | set(self._indexes))

    @property
    def index_queries(self) -> tuple[str, ...]:
        """The index query names (each ``queryField``)."""
        return tuple(i.query_field for i in self.info.indexes)

    # -- wrapping results ---------------------------------------------------------------
    def _wrapper(
        self, selection_set: Iterable[str] | None, auth_mode: str | None, auth_token: str | None
    ) -> Callable[[Any], Any]:
        mis, info = self._core.mis, self.info
        if selection_set is not None:
            return lambda value: (
                Record(flatten_record(mis, info, value)) if isinstance(value, Mapping) else value
            )
        return lambda value: self.record(value, auth_mode=auth_mode, auth_token=auth_token)

    def record(self, value: Any, *, auth_mode: str | None = None, auth_token: str | None = None) -> Any:
        """Wrap a returned object in a :class:`Record` with lazy loaders for its relations."""
        if not isinstance(value, Mapping):
            return value
        loaders: dict[str, Callable[..., Any]] = {}
        for field in self.info.relation_fields():
            loader = self._loader(field, value, auth_mode, auth_token)
            if loader is not None:
                loaders[field.name] = loader
        return Record(flatten_record(self._core.mis, self.info, value), loaders)

    def _loader(
        self, field: FieldInfo, record: Mapping[str, Any], auth_mode: str | None, auth_token: str | None
    ) -> Callable[..., Any] | None:
        related = self._models.get(field.type_name)
        if related is None:
            return None
        # belongsTo, and a Gen 1 hasOne whose foreign key lives on this record (``targetNames``):
        # load the related record by its key.
        if field.connection_type == "BELONGS_TO" or (
            field.connection_type == "HAS_ONE" and field.target_names
        ):
            if "get" not in related.info.enabled_operations:
                return None
            keys = dict(
                zip(related.info.key_fields, (record.get(t) for t in field.target_names), strict=False)
            )

            def load_parent(
                *, auth_mode: str | None = auth_mode, auth_token: str | None = auth_token, **options: Any
            ) -> Request[Result[Record]]:
                if not field.target_names or not keys.get(related.info.primary_key):
                    return Request(_none_result())
                return related.get(keys, auth_mode=auth_mode, auth_token=auth_token, **options)

            return load_parent
        if field.connection_type in ("HAS_MANY", "HAS_ONE"):
            if "list" not in related.info.enabled_operations:
                return None
            fk_names = _child_key_names(field, related.info)
            parent_values = [record.get(k) for k in self.info.key_fields]
            conditions = [{fk: {"eq": v}} for fk, v in zip(fk_names, parent_values, strict=False)]
            has_one = field.connection_type == "HAS_ONE"

            def load_children(
                *,
                limit: int | None = None,
                next_token: str | None = None,
                auth_mode: str | None = auth_mode,
                auth_token: str | None = auth_token,
                **options: Any,
            ) -> Request[Any]:
                if not parent_values or parent_values[0] in (None, ""):
                    return Request(_empty(has_one))
                request = related.list(
                    filter={"and": conditions},
                    limit=limit,
                    next_token=next_token,
                    auth_mode=auth_mode,
                    auth_token=auth_token,
                    **options,
                )
                if not has_one:
                    return request

                async def first() -> Result[Record]:
                    page = await request
                    item = page.data[0] if page.data else None
                    return Result(item, page.errors, page.extensions)

                return Request(first())

            return load_children
        return None

    # -- queries and mutations ----------------------------------------------------------
    def _run_single(
        self,
        operation: str,
        args: Mapping[str, Any],
        selection_set: Iterable[str] | None,
        auth_mode: str | None,
        auth_token: str | None,
        headers: Headers,
    ) -> Request[Result[Record]]:
        op = model_operation(self._core.mis, self.info, operation, args, selection_set=selection_set)
        auth = self._core.auth_for(auth_mode, auth_token)
        wrap = self._wrapper(selection_set, auth_mode, auth_token)
        core = self._core

        async def run() -> Result[Record]:
            return map_single(await core.execute(op, auth, headers), wrap)

        return Request(run())

    def create(
        self,
        input: Mapping[str, Any] | None = None,
        /,
        *,
        selection_set: Iterable[str] | None = None,
        auth_mode: str | None = None,
        auth_token: str | None = None,
        headers: Headers = None,
        **fields: Any,
    ) -> Request[Result[Record]]:
        """``createM(input)``: ``create(content="x")`` or ``create({"content": "x"})``."""
        return self._run_single(
            "create", _split_args(input, fields), selection_set, auth_mode, auth_token, headers
        )

    def update(
        self,
        input: Mapping[str, Any] | None = None,
        /,
        *,
        selection_set: Iterable[str] | None = None,
        auth_mode: str | None = None,
        auth_token: str | None = None,
        headers: Headers = None,
        **fields: Any,
    ) -> Request[Result[Record]]:
        """``updateM(input)``: key fields plus the fields to change (read-only ones are dropped)."""
        return self._run_single(
            "update", _split_args(input, fields), selection_set, auth_mode, auth_token, headers
        )

    def delete(
        self,
        key: Mapping[str, Any] | None = None,
        /,
        *,
        selection_set: Iterable[str] | None = None,
        auth_mode: str | None = None,
        auth_token: str | None = None,
        headers: Headers = None,
        **key_fields: Any,
    ) -> Request[Result[Record]]:
        """``deleteM(input: {keys})``; ``data`` is the deleted record."""
        return self._run_single(
            "delete", _split_args(key, key_fields), selection_set, auth_mode, auth_token, headers
        )

    def get(
        self,
        key: Mapping[str, Any] | None = None,
        /,
        *,
        selection_set: Iterable[str] | None = None,
        auth_mode: str | None = None,
        auth_token: str | None = None,
        headers: Headers = None,
        **key_fields: Any,
    ) -> Request[Result[Record]]:
        """``getM(keys)``; ``data`` is ``None`` when there is no such record."""
        return self._run_single(
            "get", _split_args(key, key_fields), selection_set, auth_mode, auth_token, headers
        )

    def _run_list(
        self,
        operation: str,
        args: dict[str, Any],
        selection_set: Iterable[str] | None,
        auth_mode: str | None,
        auth_token: str | None,
        headers: Headers,
        index: IndexInfo | None = None,
    ) -> Request[ListResult[Record]]:
        op = model_operation(
            self._core.mis, self.info, operation, args, selection_set=selection_set, index=index
        )
        auth = self._core.auth_for(auth_mode, auth_token)
        wrap = self._wrapper(selection_set, auth_mode, auth_token)
        core = self._core

        async def run() -> ListResult[Record]:
            return map_list(await core.execute(op, auth, headers), wrap)

        return Request(run())

    def list(
        self,
        args: Mapping[str, Any] | None = None,
        /,
        *,
        filter: Mapping[str, Any] | None = None,
        limit: int | None = None,
        next_token: str | None = None,
        sort_direction: str | None = None,
        selection_set: Iterable[str] | None = None,
        auth_mode: str | None = None,
        auth_token: str | None = None,
        headers: Headers = None,
        **keys: Any,
    ) -> Request[ListResult[Record]]:
        """``listMs(filter, limit, nextToken)``; with a custom identifier also key conditions
        (``list(sku="A", region={"beginsWith": "e"}, sort_direction="DESC")``)."""
        merged = _split_args(args, keys)
        merged.update(
            {
                k: v
                for k, v in (
                    ("filter", filter),
                    ("limit", limit),
                    ("nextToken", next_token),
                    ("sortDirection", sort_direction),
                )
                if v is not None
            }
        )
        return self._run_list("list", merged, selection_set, auth_mode, auth_token, headers)

    def _index_query(
        self,
        index: IndexInfo,
        args: Mapping[str, Any] | None = None,
        /,
        *,
        filter: Mapping[str, Any] | None = None,
        limit: int | None = None,
        next_token: str | None = None,
        sort_direction: str | None = None,
        selection_set: Iterable[str] | None = None,
        auth_mode: str | None = None,
        auth_token: str | None = None,
        headers: Headers = None,
        **keys: Any,
    ) -> Request[ListResult[Record]]:
        merged = _split_args(args, keys)
        merged.update(
            {
                k: v
                for k, v in (
                    ("filter", filter),
                    ("limit", limit),
                    ("nextToken", next_token),
                    ("sortDirection", sort_direction),
                )
                if v is not None
            }
        )
        return self._run_list("index", merged, selection_set, auth_mode, auth_token, headers, index)

    def index_query(self, name: str, args: Mapping[str, Any] | None = None, /, **options: Any) -> Any:
        """Call the index query ``name`` (its ``queryField`` or snake_case alias)."""
        index = self._indexes.get(name)
        if index is None:
            raise AttributeError(f"model {self.info.name} has no index query {name!r}")
        return self._index_query(index, args, **options)

    # -- subscriptions ------------------------------------------------------------------
    def _subscription(
        self,
        operation: str,
        filter: Mapping[str, Any] | None,
        selection_set: Iterable[str] | None,
        auth_mode: str | None,
        auth_token: str | None,
        headers: Headers,
    ) -> Subscription[Record]:
        args = {"filter": filter} if filter else {}
        op = model_operation(self._core.mis, self.info, operation, args, selection_set=selection_set)
        auth = self._core.auth_for(auth_mode, auth_token)
        return Subscription(
            self._core, op, auth, headers, self._wrapper(selection_set, auth_mode, auth_token)
        )

    def on_create(
        self,
        *,
        filter: Mapping[str, Any] | None = None,
        selection_set: Iterable[str] | None = None,
        auth_mode: str | None = None,
        auth_token: str | None = None,
        headers: Headers = None,
    ) -> Subscription[Record]:
        return self._subscription("onCreate", filter, selection_set, auth_mode, auth_token, headers)

    def on_update(
        self,
        *,
        filter: Mapping[str, Any] | None = None,
        selection_set: Iterable[str] | None = None,
        auth_mode: str | None = None,
        auth_token: str | None = None,
        headers: Headers = None,
    ) -> Subscription[Record]:
        return self._subscription("onUpdate", filter, selection_set, auth_mode, auth_token, headers)

    def on_delete(
        self,
        *,
        filter: Mapping[str, Any] | None = None,
        selection_set: Iterable[str] | None = None,
        auth_mode: str | None = None,
        auth_token: str | None = None,
        headers: Headers = None,
    ) -> Subscription[Record]:
        return self._subscription("onDelete", filter, selection_set, auth_mode, auth_token, headers)

    def observe_query(
        self,
        *,
        filter: Mapping[str, Any] | None = None,
        selection_set: Iterable[str] | None = None,
        auth_mode: str | None = None,
        auth_token: str | None = None,
        headers: Headers = None,
    ) -> ObserveQuery[Record]:
        options: dict[str, Any] = {
            k: v
            for k, v in (
                ("filter", filter),
                ("selection_set", selection_set),
                ("auth_mode", auth_mode),
                ("auth_token", auth_token),
                ("headers", headers),
            )
            if v is not None
        }
        return ObserveQuery(self, options)


def _child_key_names(field: FieldInfo, child: ModelInfo) -> tuple[str, ...]:
    """The child's foreign-key fields of a hasMany/hasOne: ``associatedWith`` when it names
    scalars (Gen 2 ``references``), else the ``targetNames`` of the named child relation."""
    names = field.associated_with
    if names:
        first = child.fields.get(names[0])
        if first is not None and first.is_relation:
            return first.target_names
    return names


async def _none_result() -> Result[Record]:
    return Result(None)


async def _empty(has_one: bool) -> Any:
    return Result(None) if has_one else ListResult([])


class Models:
    """``client.models``: one :class:`ModelClient` per model (attribute or item access)."""

    def __init__(self, core: ClientCore) -> None:
        self._clients = {name: ModelClient(core, info, self) for name, info in core.mis.models.items()}

    def __getattr__(self, name: str) -> ModelClient:
        try:
            return self.__dict__["_clients"][name]  # type: ignore[no-any-return]
        except KeyError:
            raise AttributeError(f"no model named {name!r}") from None

    def __getitem__(self, name: str) -> ModelClient:
        return self._clients[name]

    def get(self, name: str) -> ModelClient | None:
        return self._clients.get(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._clients)

    def __contains__(self, name: object) -> bool:
        return name in self._clients

    def __len__(self) -> int:
        return len(self._clients)

    def __dir__(self) -> Iterable[str]:
        return sorted(set(super().__dir__()) | set(self._clients))


class CustomOperations:
    """``client.queries`` / ``client.mutations`` / ``client.subscriptions``.

    Each custom operation is callable by its declared name and a snake_case alias:
    ``client.queries.echo(content="hi")`` or ``client.queries.echo({"content": "hi"})``.
    """

    def __init__(
        self, core: ClientCore, operations: Mapping[str, CustomOperationInfo], models: Models
    ) -> None:
        self._core = core
        self._models = models
        self._operations: dict[str, CustomOperationInfo] = {}
        for name, op in operations.items():
            self._operations[name] = op
        for name, op in operations.items():
            self._operations.setdefault(snake_case(name), op)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        op = self.__dict__.get("_operations", {}).get(name)
        if op is None:
            raise AttributeError(f"no custom operation named {name!r}")
        return functools.partial(self._call, op)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(op.name for op in self._operations.values()))

    def __dir__(self) -> Iterable[str]:
        return sorted(set(super().__dir__()) | set(self._operations))

    def _wrap(
        self, op: CustomOperationInfo, auth_mode: str | None, auth_token: str | None
    ) -> Callable[[Any], Any]:
        model = self._models.get(op.type_name) if op.kind == "model" else None

        def wrap_one(value: Any) -> Any:
            if model is not None and isinstance(value, Mapping):
                return model.record(value, auth_mode=auth_mode, auth_token=auth_token)
            return value

        def wrap(value: Any) -> Any:
            if isinstance(value, list):
                return [wrap_one(v) for v in value if v is not None]
            return wrap_one(value)

        return wrap

    def _call(
        self,
        op: CustomOperationInfo,
        args: Mapping[str, Any] | None = None,
        /,
        *,
        auth_mode: str | None = None,
        auth_token: str | None = None,
        headers: Headers = None,
        **kwargs: Any,
    ) -> Any:
        operation = custom_operation(self._core.mis, op, _split_args(args, kwargs))
        auth = self._core.auth_for(auth_mode, auth_token)
        wrap = self._wrap(op, auth_mode, auth_token)
        if op.operation == "subscription":
            return Subscription(self._core, operation, auth, headers, wrap)
        core = self._core

        async def run() -> Result[Any]:
            return map_single(await core.execute(operation, auth, headers), wrap)

        return Request(run())


class EnumValues:
    def __init__(self, name: str, values: tuple[str, ...]) -> None:
        self.name = name
        self._values = values

    def values(self) -> list[str]:
        return list(self._values)

    def __repr__(self) -> str:
        return f"EnumValues({self.name!r}, {list(self._values)!r})"


class Enums:
    """``client.enums.Priority.values()`` → ``["LOW", "MEDIUM", "HIGH"]``."""

    def __init__(self, mis: Introspection) -> None:
        self._enums = {name: EnumValues(name, values) for name, values in mis.enums.items()}

    def __getattr__(self, name: str) -> EnumValues:
        try:
            return self.__dict__["_enums"][name]  # type: ignore[no-any-return]
        except KeyError:
            raise AttributeError(f"no enum named {name!r}") from None

    def __getitem__(self, name: str) -> EnumValues:
        return self._enums[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._enums)
