"""``.secondary_indexes(lambda index: [index("field").sort_keys([...])...])``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ampbase.schema.dsl.source import caller_location, definition_error, is_list, is_text
from ampbase.schema.ir import SourceLocation

__all__ = ["IndexBuilder", "IndexCallback", "collect_indexes", "index"]


@dataclass(frozen=True, slots=True)
class IndexBuilder:
    """One secondary index: partition key, sort keys, query field and name."""

    partition_key: str
    source: SourceLocation
    sort_key_fields: tuple[str, ...] = ()
    query_field_name: str | None = None
    index_name: str | None = None

    def sort_keys(self, fields: Sequence[str]) -> IndexBuilder:
        """Sort key fields, in order (``gt``, ``between``, ``beginsWith``... on the query)."""
        source = caller_location()
        if not is_list(fields, of_text=True):
            raise definition_error(
                f"index({self.partition_key!r}).sort_keys() needs a list of field names, got {fields!r}",
                source=source,
                hint="e.g. .sort_keys(['name'])",
            )
        return dataclasses.replace(self, sort_key_fields=tuple(fields))

    def query_field(self, name: str) -> IndexBuilder:
        """The name of the generated query (default ``list<Model>By<Pk>And<Sk>``)."""
        source = caller_location()
        if not is_text(name):
            raise definition_error(
                f"index({self.partition_key!r}).query_field() needs a name, got {name!r}", source=source
            )
        return dataclasses.replace(self, query_field_name=name)

    def name(self, name: str) -> IndexBuilder:
        """The index's own name (default ``<plural>By<Pk>And<Sk>``)."""
        source = caller_location()
        if not is_text(name):
            raise definition_error(
                f"index({self.partition_key!r}).name() needs a name, got {name!r}", source=source
            )
        return dataclasses.replace(self, index_name=name)


def index(partition_key: str) -> IndexBuilder:
    """The ``index`` argument of the ``secondary_indexes`` callback."""
    source = caller_location()
    if not is_text(partition_key):
        raise definition_error(
            f"index() needs the partition key field name, got {partition_key!r}",
            source=source,
            hint="index('accountRepresentativeId')",
        )
    return IndexBuilder(partition_key, source)


# ``lambda index: [index("field")...]``
IndexCallback = Callable[[Callable[[str], IndexBuilder]], IndexBuilder | Sequence[IndexBuilder]]


def collect_indexes(callback: object, *, where: str, source: SourceLocation) -> tuple[IndexBuilder, ...]:
    if not callable(callback):
        raise definition_error(
            f".secondary_indexes() of {where} needs a function, got {callback!r}",
            source=source,
            hint=".secondary_indexes(lambda index: [index('field')])",
        )
    result: Any = callback(index)
    items = [result] if isinstance(result, IndexBuilder) else result
    if not isinstance(items, list | tuple):
        raise definition_error(
            f"The secondary_indexes callback of {where} returned {result!r}",
            source=source,
            hint="return a list of index(...) builders",
        )
    for item in items:
        if not isinstance(item, IndexBuilder):
            raise definition_error(
                f"The secondary_indexes callback of {where} returned {item!r}, not an index(...)",
                source=source,
            )
    return tuple(items)
