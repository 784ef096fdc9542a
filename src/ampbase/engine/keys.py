"""Key-condition arguments of list, index and hasMany queries → :class:`KeyCondition`.

A key is a partition field plus zero or more sort fields. A single sort field
takes a ``Model<Scalar>KeyConditionInput`` argument named after it
(``version: {beginsWith: "1"}``); several take one composite argument named by
camel-joining them (``countryCity: {eq: {country: "NL", city: "Delft"}}``).
Violations raise ``InvalidArgumentsError`` with AppSync's own messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from ampbase.errors import ValidationError
from ampbase.storage.base import KeyCondition, SortKeyCondition

__all__ = ["INVALID_ARGUMENTS", "KeySpec", "invalid_arguments", "key_condition"]

INVALID_ARGUMENTS = "InvalidArgumentsError"

SortOp = Literal["eq", "lt", "le", "gt", "ge", "between", "beginsWith"]
_SORT_OPS: frozenset[str] = frozenset({"eq", "lt", "le", "gt", "ge", "between", "beginsWith"})


def invalid_arguments(message: str) -> ValidationError:
    return ValidationError(message, error_type=INVALID_ARGUMENTS)


@dataclass(frozen=True, slots=True)
class KeySpec:
    """The key a query reads: ``partition`` field, ``sort`` fields and the sort argument's name."""

    partition: str
    sort: tuple[str, ...] = ()
    sort_argument: str | None = None


def key_condition(
    spec: KeySpec,
    partition_value: Any,
    sort_value: Mapping[str, Any] | None,
    *,
    sort_direction_given: bool = False,
) -> KeyCondition | None:
    """Build the key condition; ``None`` when no partition value is given (a scan).

    ``sort_value`` is the sort argument's value (an operator object).
    """
    if partition_value is None:
        if sort_direction_given:
            raise invalid_arguments(
                f"When providing argument 'sortDirection' you must also provide argument '{spec.partition}'."
            )
        if sort_value is not None and spec.sort_argument is not None:
            raise invalid_arguments(
                f"When providing argument '{spec.sort_argument}' you must also provide '{spec.partition}'."
            )
        return None
    sort = None
    if sort_value is not None and spec.sort_argument is not None and spec.sort:
        sort = sort_condition(spec, sort_value)
    return KeyCondition(partition=((spec.partition, partition_value),), sort=sort)


def sort_condition(spec: KeySpec, value: Mapping[str, Any]) -> SortKeyCondition | None:
    """The sort-key operator object → a :class:`SortKeyCondition` (``None`` when empty)."""
    arg = spec.sort_argument or "|".join(spec.sort)
    ops = [op for op, operand in value.items() if operand is not None]
    if len(ops) > 1:
        raise invalid_arguments(f"Argument {arg} must specify at most one key condition operation.")
    if not ops:
        return None
    op = ops[0]
    if op not in _SORT_OPS:
        raise invalid_arguments(f"Argument '{arg}.{op}' is not a key condition operation.")
    operand = value[op]
    composite = len(spec.sort) > 1
    if op == "between":
        if not isinstance(operand, list | tuple) or len(operand) != 2:
            raise invalid_arguments(f"Argument '{arg}.between' expects exactly two elements.")
        if not composite:
            low, high = operand
            if low is None or high is None:
                raise invalid_arguments(f"Argument '{arg}.between' expects exactly two elements.")
            return SortKeyCondition(spec.sort[:1], "between", (low,), (high,))
        low_fields, low_values = _parts(spec, operand[0], f"{arg}.between[0]")
        high_fields, high_values = _parts(spec, operand[1], f"{arg}.between[1]")
        if low_fields != high_fields:
            raise invalid_arguments(
                f"Argument '{arg}.between' must give the same key fields in both elements "
                f"(got {', '.join(low_fields) or 'none'} and {', '.join(high_fields) or 'none'})."
            )
        if not low_fields:
            return None
        return SortKeyCondition(low_fields, "between", low_values, high_values)
    if not composite:
        return SortKeyCondition(spec.sort[:1], cast(SortOp, op), (operand,))
    fields, values = _parts(spec, operand, f"{arg}.{op}")
    if not fields:
        return None
    return SortKeyCondition(fields, cast(SortOp, op), values)


def _parts(spec: KeySpec, operand: Any, path: str) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    """The given prefix of a composite key input; a part without the ones before it is an error."""
    if not isinstance(operand, Mapping):
        raise invalid_arguments(f"Argument '{path}' must be an object with the key fields.")
    fields: list[str] = []
    values: list[Any] = []
    missing: str | None = None
    for name in spec.sort:
        part = operand.get(name)
        if part is None or part == "":
            if missing is None:
                missing = name
            continue
        if missing is not None:
            raise invalid_arguments(
                f"When providing argument '{path}.{name}' you must also provide '{path}.{missing}'."
            )
        fields.append(name)
        values.append(part)
    return tuple(fields), tuple(values)
