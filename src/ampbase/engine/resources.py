"""The schema's resource customisations (``backend.py``) applied by the engine.

:func:`layered` wraps the engine's storage in the layers its
:class:`~ampbase.schema.ir.ResourceConfig` asks for; :func:`sweep_expired` deletes items whose
time to live has passed, through the model's delete operation so ``onDelete`` subscribers are
told (the server runs it periodically, :mod:`ampbase.server.maintenance`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ampbase.errors import ConditionalCheckFailedError
from ampbase.schema.ir import SchemaDef
from ampbase.storage.base import StorageAdapter
from ampbase.storage.layers import ThroughputLayer, TtlLayer
from ampbase.storage.predicate import Compare

if TYPE_CHECKING:
    from ampbase.engine.engine import Engine

__all__ = ["find_layer", "layered", "sweep_expired"]

logger = logging.getLogger("ampbase.engine")


def layered(
    storage: StorageAdapter, schema: SchemaDef, now: Callable[[], int], tracer: Any = None
) -> StorageAdapter:
    """``storage`` wrapped in the layers ``schema.resources`` needs (itself when none).

    Innermost first: the recovery journal (it must see every committed write, time-to-live
    sweeps included), time to live, throughput, and with a ``tracer`` tracing (outermost, so
    throttled calls show too)."""
    resources = schema.resources
    system = _db_system(storage)
    journaled = frozenset(t.model for t in resources.tables if t.point_in_time_recovery)
    if journaled:
        storage = _journal(storage, schema, journaled)
    ttl = {t.model: t.ttl_attribute for t in resources.tables if t.ttl_attribute}
    if ttl:
        storage = TtlLayer(storage, ttl, now)
    throughput = {
        t.model: (t.read_capacity, t.write_capacity)
        for t in resources.tables
        if t.read_capacity or t.write_capacity
    }
    if throughput:  # outermost: a throttled call never reaches the database
        storage = ThroughputLayer(storage, throughput)
    if tracer is not None:
        from ampbase.engine.tracing import TracingLayer

        storage = TracingLayer(storage, tracer, system)
    return storage


def _journal(storage: StorageAdapter, schema: SchemaDef, models: frozenset[str]) -> StorageAdapter:
    path = getattr(storage, "path", None)
    if not isinstance(path, str) or path == ":memory:" or "mode=memory" in path:
        logger.warning(
            "point-in-time recovery for %s: this database keeps no journal; on PostgreSQL use base "
            "backups and WAL archiving (docs/customize-resources.md)",
            ", ".join(sorted(models)),
        )
        return storage
    from pathlib import Path

    from ampbase.storage.recovery import Journal, JournalLayer

    keys = {m.name: m.primary_key for m in schema.models if m.name in models}
    return JournalLayer(storage, Journal(Path(path)), models, keys)


def _db_system(storage: StorageAdapter) -> str:
    name = type(storage).__name__.lower()
    if "sqlite" in name:
        return "sqlite"
    if "postgres" in name:
        return "postgresql"
    return name.removesuffix("storage") or "other"


def find_layer(storage: Any, kind: type[Any]) -> Any:
    """The layer of type ``kind`` in ``storage``'s stack, or ``None``."""
    while storage is not None:
        if isinstance(storage, kind):
            return storage
        storage = storage.__dict__.get("inner") if hasattr(storage, "__dict__") else None
    return None


async def sweep_expired(engine: Engine, *, batch: int = 100) -> int:
    """Delete every item whose time to live has passed; how many were deleted.

    Each item is deleted with the condition that it is still expired (a concurrent update may
    have extended it) and published as the model's delete mutation (``onDelete`` subscribers
    are told; models without a delete mutation are swept silently).
    """
    layer: TtlLayer | None = find_layer(engine.storage, TtlLayer)
    if layer is None:
        return 0
    deleted = 0
    for model_name, attribute in layer.attributes.items():
        model = engine.schema.get_model(model_name)
        if model is None:
            continue
        field = model.operations.delete if model.operations is not None else None
        while True:
            items = await layer.expired(model_name, batch)
            if not items:
                break
            progress = 0
            for item in items:
                key = {k: item[k] for k in model.primary_key}
                try:  # below the throughput layer: like DynamoDB, TTL deletes cost no capacity
                    stored = await layer.inner.delete(
                        model_name, key, Compare(attribute, "le", item[attribute])
                    )
                except ConditionalCheckFailedError:
                    continue  # extended or deleted meanwhile
                if field:
                    await engine.operations.publish(field, model.name, stored)
                progress += 1
            deleted += progress
            if progress == 0 or len(items) < batch:
                break
    if deleted:
        logger.info("time to live: deleted %d expired item(s)", deleted)
    return deleted
