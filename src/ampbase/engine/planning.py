"""Index selection for list queries whose filter pins a key.

The JS client's lazy loaders (``team.members()``, ``account.profile()``) do not
query the relationship's index: they send a plain ``list<Model>s`` with
``filter: {and: [{teamId: {eq: id}}]}``. A filter is a predicate over items, so
read literally that is a table scan. :func:`pinned_key` recognises the equality
conditions that must hold for every matching item (``eq`` on a field at the top
level of the filter, or inside top-level ``and`` lists, however nested) and, when
they fix the partition key of the model's primary key or of one of its secondary
indexes, returns that index and the key condition so the list can be served by
an index query. The filter is still applied in full, so the items are the same
as a scan's; only the order can differ (the index's key order: its sort key
fields, then the primary key).

An index is only chosen when no matching item can be missing from it: every key
field it does not pin must be non-null for every item (a required field or a
managed timestamp), because an item with a null key field is not in the index.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ampbase.schema.ir import FieldOrigin, IndexDef, ModelDef
from ampbase.storage.base import KeyCondition, SortKeyCondition

__all__ = ["PinnedKey", "pinned_key", "pinned_values"]


@dataclass(frozen=True, slots=True)
class PinnedKey:
    """The index (``None`` = the primary key) and the key condition a filter pins."""

    index: IndexDef | None
    key: KeyCondition

    @property
    def index_name(self) -> str | None:
        return self.index.name if self.index is not None else None


def pinned_values(value: Mapping[str, Any] | None) -> dict[str, Any]:
    """Field → value for every ``eq`` that every item matching the filter ``value`` satisfies.

    Only the top level and top-level ``and`` lists count (``or`` and ``not`` pin
    nothing); ``eq: null`` pins nothing; the first value seen for a field wins
    (a second, different one makes the filter unsatisfiable, which the filter
    itself still decides).
    """
    pins: dict[str, Any] = {}
    if not isinstance(value, Mapping):
        return pins
    for name, entry in value.items():
        if name == "and":
            for part in entry or ():
                for field, pinned in pinned_values(part).items():
                    pins.setdefault(field, pinned)
        elif name in ("or", "not"):
            continue
        elif isinstance(entry, Mapping) and entry.get("eq") is not None:
            pins.setdefault(name, entry["eq"])
    return pins


def _never_null(model: ModelDef, name: str) -> bool:
    f = model.get_field(name)
    if f is None:
        return False
    return f.type.required or f.origin is FieldOrigin.TIMESTAMP or name in model.primary_key


def _candidate(
    model: ModelDef, index: IndexDef | None, partition: str, sort: tuple[str, ...], pins: Mapping[str, Any]
) -> tuple[int, PinnedKey] | None:
    if partition not in pins:
        return None
    pinned_sort: list[str] = []
    for name in sort:
        if name not in pins:
            break
        pinned_sort.append(name)
    if index is not None and not all(_never_null(model, n) for n in sort[len(pinned_sort) :]):
        return None
    condition = None
    if pinned_sort:
        fields = tuple(pinned_sort)
        condition = SortKeyCondition(fields, "eq", tuple(pins[n] for n in fields))
    key = KeyCondition(partition=((partition, pins[partition]),), sort=condition)
    return 1 + len(pinned_sort), PinnedKey(index, key)


def pinned_key(model: ModelDef, filter_value: Mapping[str, Any] | None) -> PinnedKey | None:
    """The key that the equalities of ``filter_value`` pin, or ``None`` (then: a scan).

    Among candidates the one pinning the most key fields wins; ties go to the
    primary key, then to the indexes in declaration order.
    """
    pins = pinned_values(filter_value)
    if not pins:
        return None
    best: tuple[int, PinnedKey] | None = None
    candidates: list[tuple[IndexDef | None, str, tuple[str, ...]]] = [
        (None, model.partition_key, model.sort_keys)
    ]
    candidates += [(i, i.partition_key, i.sort_keys) for i in model.indexes]
    for index, partition, sort in candidates:
        found = _candidate(model, index, partition, sort, pins)
        if found is not None and (best is None or found[0] > best[0]):
            best = found
    return best[1] if best is not None else None
