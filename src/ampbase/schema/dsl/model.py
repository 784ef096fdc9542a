"""``a.model({...})`` with ``.identifier()``, ``.secondary_indexes()``, ``.authorization()``
and ``.disable_operations()``."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ampbase.schema.dsl.auth import AuthCallback, ResourceAccess, RuleBuilder, collect_rules
from ampbase.schema.dsl.indexes import IndexBuilder, IndexCallback, collect_indexes
from ampbase.schema.dsl.source import caller_location, definition_error, is_list
from ampbase.schema.dsl.types import field_items
from ampbase.schema.ir import SourceLocation

__all__ = ["DISABLE_OPERATIONS", "ModelBuilder", "make_model", "model_attribute"]

# .disable_operations() values → (group, operation or None for the whole group)
DISABLE_OPERATIONS: dict[str, tuple[str, str | None]] = {
    "queries": ("queries", None),
    "mutations": ("mutations", None),
    "subscriptions": ("subscriptions", None),
    "get": ("queries", "get"),
    "list": ("queries", "list"),
    "create": ("mutations", "create"),
    "update": ("mutations", "update"),
    "delete": ("mutations", "delete"),
    "onCreate": ("subscriptions", "onCreate"),
    "onUpdate": ("subscriptions", "onUpdate"),
    "onDelete": ("subscriptions", "onDelete"),
}
_SNAKE_ALIASES = {"on_create": "onCreate", "on_update": "onUpdate", "on_delete": "onDelete"}


@dataclass(frozen=True, slots=True)
class ModelBuilder:
    fields: tuple[tuple[str, Any], ...]
    source: SourceLocation
    identifier_fields: tuple[str, ...] | None = None
    identifier_source: SourceLocation | None = None
    indexes: tuple[IndexBuilder, ...] = ()
    rules: tuple[RuleBuilder | ResourceAccess, ...] | None = None
    rules_source: SourceLocation | None = None
    disabled: tuple[str, ...] = ()

    def identifier(self, fields: Sequence[str]) -> ModelBuilder:
        """The primary key: partition key field, then sort key fields (default ``['id']``)."""
        source = caller_location()
        if not is_list(fields, of_text=True):
            raise definition_error(
                f".identifier() needs a non-empty list of field names, got {fields!r}",
                source=source,
                hint="e.g. .identifier(['geoId', 'name'])",
            )
        if len(set(fields)) != len(fields):
            raise definition_error(f".identifier({list(fields)!r}) lists a field twice", source=source)
        return dataclasses.replace(self, identifier_fields=tuple(fields), identifier_source=source)

    def secondary_indexes(self, callback: IndexCallback) -> ModelBuilder:
        """Secondary indexes: ``lambda index: [index('f').sort_keys(['g'])]``."""
        source = caller_location()
        indexes = collect_indexes(callback, where="a.model()", source=source)
        return dataclasses.replace(self, indexes=self.indexes + indexes)

    def authorization(self, callback: AuthCallback) -> ModelBuilder:
        """Model rules: ``lambda allow: [allow.owner(), allow.public_api_key().to(['read'])]``."""
        source = caller_location()
        if self.rules is not None:
            raise definition_error(
                "This a.model() already has .authorization()",
                source=source,
                hint="return all rules from one callback",
            )
        rules = collect_rules(callback, where="a.model()", source=source)
        return dataclasses.replace(self, rules=rules, rules_source=source)

    def disable_operations(self, operations: Sequence[str]) -> ModelBuilder:
        """Leave out generated operations: groups (``queries``...) or single ones (``list``...)."""
        source = caller_location()
        if not is_list(operations):
            raise definition_error(
                f".disable_operations() needs a non-empty list, got {operations!r}",
                source=source,
                hint="e.g. .disable_operations(['mutations', 'subscriptions'])",
            )
        names: list[str] = list(self.disabled)
        for op in operations:
            name = _SNAKE_ALIASES.get(op, op)
            if name not in DISABLE_OPERATIONS:
                raise definition_error(
                    f"Unknown operation {op!r} in .disable_operations()",
                    source=source,
                    hint="use " + ", ".join(DISABLE_OPERATIONS),
                )
            if name not in names:
                names.append(name)
        return dataclasses.replace(self, disabled=tuple(names))


def make_model(fields: Mapping[str, Any]) -> ModelBuilder:
    source = caller_location()
    return ModelBuilder(field_items(fields, "a.model()", source), source)


def model_attribute(disabled: Sequence[str]) -> dict[str, Any] | None:
    """The ``@model(...)`` arguments data-schema writes for ``.disable_operations()``.

    ``['mutations', 'subscriptions']`` → ``{"mutations": None, "subscriptions": None}``;
    ``['list', 'delete', 'onUpdate']`` → ``{"queries": {"list": None}, "mutations":
    {"delete": None}, "subscriptions": {"onUpdate": None}}``.
    """
    if not disabled:
        return None
    result: dict[str, Any] = {}
    whole = {DISABLE_OPERATIONS[d][0] for d in disabled if DISABLE_OPERATIONS[d][1] is None}
    for group in ("queries", "mutations", "subscriptions"):
        if group in whole:
            result[group] = None
            continue
        ops = [op for d in disabled for g, op in [DISABLE_OPERATIONS[d]] if g == group and op is not None]
        if ops:
            result[group] = dict.fromkeys(ops)
    return result
