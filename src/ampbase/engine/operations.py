"""The model operations: get, list, index query, create, update, delete.

What AppSync's generated resolvers do (``specs/generated-schema.md`` §12), on a
:class:`~ampbase.storage.base.StorageAdapter`, with two deliberate
differences: ``limit`` applies *after* the filter (a page holds up to ``limit``
matching items), and ``nextToken`` is an HMAC-signed keyset position bound to
its query. Arguments arrive as graphql-core coerced them (plain dicts, lists
and scalars); nothing here knows about GraphQL.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ampbase.engine.filters import combine, filter_to_predicate
from ampbase.engine.keys import KeySpec, invalid_arguments, key_condition
from ampbase.engine.pagination import TokenCodec, query_binding
from ampbase.engine.planning import pinned_key
from ampbase.errors import ValidationError
from ampbase.pubsub.base import ChangeEvent, PubSub
from ampbase.schema.ir import FieldOrigin, IndexDef, ModelDef
from ampbase.storage.base import Page, Query, Record, StorageAdapter
from ampbase.storage.predicate import Predicate

__all__ = [
    "DEFAULT_LIMIT",
    "DataOperations",
    "ListRequest",
    "format_datetime",
]

logger = logging.getLogger("ampbase.engine")

DEFAULT_LIMIT = 100
_PAGING_ARGS = frozenset({"limit", "nextToken"})


def format_datetime(moment: datetime) -> str:
    """AWSDateTime in UTC with milliseconds: ``2026-11-22T05:34:15.846Z``."""
    if moment.tzinfo is not UTC:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
    if moment.year < 1000:  # strftime's %Y does not pad; isoformat does
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    # "2026-11-22T05:34:15.846+00:00" (milliseconds truncated, like the strftime form)
    return moment.isoformat(timespec="milliseconds")[:-6] + "Z"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _RandomIds:
    """Random (version 4) UUIDs from ``os.urandom``, read 4 KiB (256 ids) at a time.

    ``uuid.uuid4()`` reads 16 bytes per id; ``os.urandom`` lets go of the GIL for the
    system call, and with the SQLite writer thread runnable, taking it back can wait
    behind that thread, once per create. The bytes are the same kind (the OS's
    CSPRNG); a forked child starts with an empty pool, so no two processes share ids.
    """

    _CHUNK = 4096

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool = b""
        self._pos = 0

    def reset(self) -> None:
        self._lock = threading.Lock()
        self._pool = b""
        self._pos = 0

    def uuid4(self) -> str:
        """Formatted like ``str(uuid.uuid4())``: 8-4-4-4-12 lowercase hex digits."""
        with self._lock:
            pos = self._pos
            if pos + 16 > len(self._pool):
                self._pool = os.urandom(self._CHUNK)
                pos = 0
            self._pos = pos + 16
            raw = bytearray(self._pool[pos : pos + 16])
        raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
        raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
        h = raw.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_IDS = _RandomIds()
os.register_at_fork(after_in_child=_IDS.reset)


@dataclass(frozen=True, slots=True)
class ListRequest:
    """A list or index query: the model, the index (``None`` = primary key) and its key spec."""

    field: str
    model: ModelDef
    index: IndexDef | None
    spec: KeySpec | None  # None: no key arguments (a plain scan, default ``id`` key)


@dataclass(frozen=True, slots=True)
class _CreatePlan:
    """What a create of a model fills in and checks, worked out once per model."""

    model: ModelDef  # the plan's own model (compared by identity)
    defaults: tuple[tuple[str, Any], ...]  # (field, default) in field order
    generate_id: bool
    timestamps: tuple[str, ...]
    composite_indexes: tuple[IndexDef, ...]  # indexes with two or more sort keys
    required: tuple[str, ...]  # in field order

    @classmethod
    def of(cls, model: ModelDef) -> _CreatePlan:
        return cls(
            model=model,
            defaults=tuple(
                (f.name, f.default) for f in model.fields if f.has_default and f.default is not None
            ),
            generate_id=not model.custom_primary_key and model.get_field("id") is not None,
            timestamps=tuple(name for name in model.timestamps if name is not None),
            composite_indexes=tuple(ix for ix in model.indexes if len(ix.sort_keys) >= 2),
            required=tuple(
                f.name
                for f in model.fields
                if f.relation is None and f.type.required and f.origin is not FieldOrigin.OWNER
            ),
        )


class DataOperations:
    """Runs model operations against storage and publishes committed writes."""

    def __init__(
        self,
        storage: StorageAdapter,
        pubsub: PubSub,
        codec: TokenCodec,
        *,
        clock: Callable[[], datetime] | None = None,
        max_limit: int = 1000,
    ) -> None:
        self.storage = storage
        self.pubsub = pubsub
        self.codec = codec
        self.clock = clock or _utc_now
        self.max_limit = max_limit
        self._seq = itertools.count(1)
        self._stored: dict[str, frozenset[str]] = {}
        self._create_plans: dict[str, _CreatePlan] = {}

    def stored_fields(self, model: ModelDef) -> frozenset[str]:
        """The attributes a record of ``model`` can have (every non-relationship field)."""
        found = self._stored.get(model.name)
        if found is None:
            found = frozenset(f.name for f in model.fields if f.relation is None)
            self._stored[model.name] = found
        return found

    def predicate(self, model: ModelDef, value: Any, argument: str = "filter") -> Predicate | None:
        return filter_to_predicate(value, argument=argument, fields=self.stored_fields(model))

    # ------------------------------------------------------------------ helpers

    def now(self) -> str:
        return format_datetime(self.clock())

    def limit(self, value: Any) -> int:
        if value is None:
            return min(DEFAULT_LIMIT, self.max_limit)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError("Argument 'limit' must be an integer.")
        if value < 1 or value > self.max_limit:
            raise ValidationError(f"Argument 'limit' must be between 1 and {self.max_limit}; got {value}.")
        return value

    def page_result(self, page: Page, binding: str) -> dict[str, Any]:
        token = None if page.last_key is None else self.codec.encode(binding, page.last_key)
        return {"items": page.items, "nextToken": token}

    async def publish(self, mutation: str, model: str | None, record: Any) -> None:
        """Publish a committed write; failures are logged, never reported to the caller."""
        try:
            await self.pubsub.publish(ChangeEvent(mutation, model, record, next(self._seq)))
        except Exception:
            logger.exception("publishing %s on %s failed", mutation, model)

    # ------------------------------------------------------------------ reads

    async def get(self, model: ModelDef, args: Mapping[str, Any]) -> Record | None:
        key = {k: args[k] for k in model.primary_key}
        return await self.storage.get(model.name, key)

    async def list(
        self, request: ListRequest, args: Mapping[str, Any], *, auth: Predicate | None = None
    ) -> dict[str, Any]:
        """A page of ``request``; ``auth`` is the caller's read predicate (AND-ed with the filter)."""
        model = request.model
        limit = self.limit(args.get("limit"))
        direction = args.get("sortDirection")
        key = None
        if request.spec is not None:
            sort_value = args.get(request.spec.sort_argument) if request.spec.sort_argument else None
            key = key_condition(
                request.spec,
                args.get(request.spec.partition),
                sort_value,
                sort_direction_given=direction is not None,
            )
        predicate = combine(self.predicate(model, args.get("filter")), auth)
        index = request.index.name if key is not None and request.index is not None else None
        descending = direction == "DESC" and key is not None
        plan: tuple[Any, ...] = ()
        if key is None and (pinned := pinned_key(model, args.get("filter"))) is not None:
            index, key, plan = pinned.index_name, pinned.key, ("index", pinned.index_name)  # planning.py
        binding = query_binding(
            request.field, model.name, {k: v for k, v in args.items() if k not in _PAGING_ARGS}, *plan
        )
        token = args.get("nextToken")
        after = self.codec.decode(token, binding) if token else None
        page = await self.storage.query(
            Query(
                model=model.name,
                index=index,
                key=key,
                filter=predicate,
                descending=descending,
                limit=limit,
                after=after,
            )
        )
        return self.page_result(page, binding)

    # ------------------------------------------------------------------ writes

    async def create(self, field: str, model: ModelDef, args: Mapping[str, Any]) -> Record:
        plan = self._create_plans.get(model.name)
        if plan is None or plan.model is not model:
            plan = self._create_plans[model.name] = _CreatePlan.of(model)
        record = {k: v for k, v in dict(args.get("input") or {}).items() if v is not None}
        for name, default in plan.defaults:
            if record.get(name) is None:
                record[name] = default
        if plan.generate_id and record.get("id") is None:
            record["id"] = _IDS.uuid4()
        now = None
        for name in plan.timestamps:
            if record.get(name) is None:
                now = now or self.now()  # one timestamp for createdAt and updatedAt
                record[name] = now
        if plan.composite_indexes:
            _check_composite_index_parts(plan.composite_indexes, record)
        _check_required(model, plan.required, record)
        condition = self.predicate(model, args.get("condition"), "condition")
        stored = await self.storage.insert(model.name, record, condition)
        await self.publish(field, model.name, stored)
        return stored

    async def update(
        self, field: str, model: ModelDef, args: Mapping[str, Any], *, guard: Predicate | None = None
    ) -> Record:
        """Update; ``guard`` (the authorization check on the stored record) joins the condition."""
        values = dict(args.get("input") or {})
        key = _key_of(model, values)
        changes = {k: v for k, v in values.items() if k not in model.primary_key}
        for name, value in changes.items():
            f = model.get_field(name)
            if value is None and f is not None and f.type.required:
                raise ValidationError(
                    f"Field '{name}' of type '{model.name}' is required and cannot be set to null."
                )
        updated_at = model.timestamps[1]
        if updated_at is not None and changes.get(updated_at) is None:
            changes[updated_at] = self.now()
        condition = combine(self.predicate(model, args.get("condition"), "condition"), guard)
        stored = await self.storage.update(model.name, key, changes, condition)
        await self.publish(field, model.name, stored)
        return stored

    async def delete(
        self, field: str, model: ModelDef, args: Mapping[str, Any], *, guard: Predicate | None = None
    ) -> Record:
        key = _key_of(model, dict(args.get("input") or {}))
        condition = combine(self.predicate(model, args.get("condition"), "condition"), guard)
        stored = await self.storage.delete(model.name, key, condition)
        await self.publish(field, model.name, stored)
        return stored


def _key_of(model: ModelDef, values: Mapping[str, Any]) -> dict[str, Any]:
    key: dict[str, Any] = {}
    for name in model.primary_key:
        value = values.get(name)
        if value is None:
            raise ValidationError(f"Missing key field '{name}' of type '{model.name}' in input.")
        key[name] = value
    return key


def _check_composite_index_parts(indexes: tuple[IndexDef, ...], record: Mapping[str, Any]) -> None:
    for index in indexes:
        given = [k for k in index.sort_keys if record.get(k) is not None]
        if not given:
            continue
        for name in index.sort_keys:
            if record.get(name) is None:
                raise invalid_arguments(
                    f"When creating any part of the composite sort key for @index '{index.name}', "
                    f"you must provide all fields for the key. Missing key: '{name}'."
                )


def _check_required(model: ModelDef, required: tuple[str, ...], record: Mapping[str, Any]) -> None:
    for name in required:
        if record.get(name) is None:
            raise ValidationError(f"Missing required field '{name}' of type '{model.name}' in input.")
