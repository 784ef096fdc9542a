"""Filter and condition inputs → the storage predicate language.

One function serves ``Model<T>FilterInput`` (list, index and hasMany
queries), ``Model<T>ConditionInput`` (the ``condition`` of mutations) and
``ModelSubscription<T>FilterInput`` (subscriptions): they share field-keyed
operator objects plus ``and`` / ``or`` / ``not``. graphql-core has already
checked names and types, so what arrives is a dict of coerced values.

Semantics (those of AppSync's ``toDynamoDBFilterExpression``, where sane):
several operators on one field, and several fields in one object, are AND-ed;
``and: []`` is true, ``or: []`` is false; a ``null`` operator or field entry is
ignored; ``eq: null`` matches a missing/null attribute and ``ne: null`` an
existing one; ``between`` takes exactly two values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ampbase.errors import ValidationError
from ampbase.storage.predicate import (
    FALSE,
    TRUE,
    And,
    AttributeExists,
    AttributeType,
    BeginsWith,
    Between,
    Compare,
    CompareOp,
    Const,
    Contains,
    In,
    Not,
    Or,
    Predicate,
    Size,
    evaluate,
)

__all__ = ["combine", "filter_to_predicate"]

_COMPARE: dict[str, CompareOp] = {"eq": "eq", "ne": "ne", "lt": "lt", "le": "le", "gt": "gt", "ge": "ge"}
_SIZE_OPS = frozenset({"eq", "ne", "lt", "le", "gt", "ge", "between"})


def combine(*predicates: Predicate | None) -> Predicate | None:
    """AND the given predicates, dropping ``None`` (``None`` when nothing is left)."""
    items = tuple(p for p in predicates if p is not None)
    if not items:
        return None
    if len(items) == 1:
        return items[0]
    return And(items)


def filter_to_predicate(
    value: Mapping[str, Any] | None,
    *,
    argument: str = "filter",
    fields: frozenset[str] | None = None,
) -> Predicate | None:
    """Convert a filter/condition input; ``None`` (or ``{}``) means no constraint.

    ``fields`` are the attributes records can have; a condition on any other
    name (the transformer's ``id`` filter on models without ``id``) is decided
    here as for a missing attribute, so storage never sees an unknown field.
    """
    if not value:
        return None
    return _object(value, argument, fields)


def _object(value: Mapping[str, Any], path: str, fields: frozenset[str] | None = None) -> Predicate:
    items: list[Predicate] = []
    for key, entry in value.items():
        if entry is None:
            continue
        if key == "and":
            items.append(_all(_list(entry, f"{path}.and"), f"{path}.and", fields))
        elif key == "or":
            entries = [e for e in _list(entry, f"{path}.or") if e is not None]
            parts = [_object(_mapping(e, f"{path}.or"), f"{path}.or", fields) for e in entries]
            items.append(Or(tuple(parts)) if parts else FALSE)
        elif key == "not":
            items.append(Not(_object(_mapping(entry, f"{path}.not"), f"{path}.not", fields)))
        else:
            conditions = _field(key, _mapping(entry, f"{path}.{key}"), f"{path}.{key}")
            if fields is not None and key not in fields:
                conditions = [Const(all(evaluate(c, {}) for c in conditions))]
            items.extend(conditions)
    if not items:
        return TRUE
    if len(items) == 1:
        return items[0]
    return And(tuple(items))


def _all(entries: list[Any], path: str, fields: frozenset[str] | None) -> Predicate:
    parts = [_object(_mapping(e, path), path, fields) for e in entries if e is not None]
    if not parts:
        return TRUE
    if len(parts) == 1:
        return parts[0]
    return And(tuple(parts))


def _field(name: str, ops: Mapping[str, Any], path: str) -> list[Predicate]:
    result: list[Predicate] = []
    for op, operand in ops.items():
        if operand is None and op not in ("eq", "ne"):
            continue
        if op in _COMPARE:
            if operand is None:
                result.append(AttributeExists(name, exists=(op == "ne")))
            else:
                result.append(Compare(name, _COMPARE[op], operand))
        elif op == "between":
            low, high = _pair(operand, f"{path}.between")
            result.append(Between(name, low, high))
        elif op == "beginsWith":
            result.append(BeginsWith(name, str(operand)))
        elif op in ("contains", "notContains"):
            result.append(Contains(name, operand, negate=(op == "notContains")))
        elif op in ("in", "notIn"):
            values = tuple(_list(operand, f"{path}.{op}"))
            result.append(In(name, values, negate=(op == "notIn")))
        elif op == "attributeExists":
            result.append(AttributeExists(name, exists=bool(operand)))
        elif op == "attributeType":
            result.append(AttributeType(name, str(operand)))
        elif op == "size":
            result.extend(_size(name, _mapping(operand, f"{path}.size"), f"{path}.size"))
        else:
            raise ValidationError(f"Unsupported operator '{op}' in '{path}'.")
    return result


def _size(name: str, ops: Mapping[str, Any], path: str) -> list[Predicate]:
    result: list[Predicate] = []
    for op, operand in ops.items():
        if operand is None:
            continue
        if op not in _SIZE_OPS:
            raise ValidationError(f"Unsupported operator '{op}' in '{path}'.")
        if op == "between":
            result.append(Size(name, "between", _pair(operand, f"{path}.between")))
        else:
            result.append(Size(name, op, operand))
    return result


def _pair(operand: Any, path: str) -> tuple[Any, Any]:
    values = _list(operand, path)
    if len(values) != 2 or values[0] is None or values[1] is None:
        raise ValidationError(f"Argument '{path}' expects exactly two elements.")
    return values[0], values[1]


def _list(value: Any, path: str) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    # GraphQL input coercion turns a single value into a one-element list already;
    # this only guards direct (in-process) callers.
    raise ValidationError(f"Argument '{path}' must be a list.")


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        return value
    raise ValidationError(f"Argument '{path}' must be an input object.")
