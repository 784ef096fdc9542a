"""A small predicate language: what filters, conditions and key conditions become.

The engine turns GraphQL ``filter``/``condition`` inputs into these nodes;
storage adapters compile them to SQL (values always as parameters, field
names only from the compiled schema), and :func:`evaluate` runs them in
memory (subscription filters, mutation conditions).

Semantics follow AppSync's DynamoDB resolvers where they are sane:
comparisons against a missing (``None``) attribute are false, ``ne`` is true
for a missing attribute, ``contains`` works on strings (substring) and lists
(element), ``size`` is the length of a string or list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "FALSE",
    "TRUE",
    "And",
    "AttributeExists",
    "AttributeType",
    "BeginsWith",
    "Between",
    "Compare",
    "CompareOp",
    "Const",
    "Contains",
    "In",
    "Not",
    "Or",
    "Predicate",
    "Size",
    "evaluate",
]

CompareOp = Literal["eq", "ne", "lt", "le", "gt", "ge"]


@dataclass(frozen=True, slots=True)
class Const:
    """Always true or always false (e.g. an empty ``and``)."""

    value: bool


TRUE = Const(True)
FALSE = Const(False)


@dataclass(frozen=True, slots=True)
class Compare:
    field: str
    op: CompareOp
    value: Any


@dataclass(frozen=True, slots=True)
class Between:
    field: str
    low: Any
    high: Any


@dataclass(frozen=True, slots=True)
class BeginsWith:
    field: str
    prefix: str


@dataclass(frozen=True, slots=True)
class Contains:
    """Substring of a string field, or element of a list field. ``negate`` = notContains."""

    field: str
    value: Any
    negate: bool = False


@dataclass(frozen=True, slots=True)
class In:
    """Field value is one of ``values`` (``negate`` = notIn)."""

    field: str
    values: tuple[Any, ...]
    negate: bool = False


@dataclass(frozen=True, slots=True)
class AttributeExists:
    field: str
    exists: bool = True


@dataclass(frozen=True, slots=True)
class AttributeType:
    """DynamoDB attribute type test: ``string number bool list map _null`` ..."""

    field: str
    type_name: str


@dataclass(frozen=True, slots=True)
class Size:
    """``size(field) <op> value``; ``op == "between"`` takes ``value=(low, high)``."""

    field: str
    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Predicate, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Predicate, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Predicate


Predicate = (
    Const
    | Compare
    | Between
    | BeginsWith
    | Contains
    | In
    | AttributeExists
    | AttributeType
    | Size
    | And
    | Or
    | Not
)


def _cmp(op: str, left: Any, right: Any) -> bool:
    if left is None or right is None:
        return op == "ne" and left != right
    if op in ("lt", "le", "gt", "ge") and (
        isinstance(left, list | tuple | dict) or isinstance(right, list | tuple | dict)
    ):
        # Like DynamoDB (and SQL storage): only scalars have an order.
        return False
    try:
        if op == "eq":
            return bool(left == right)
        if op == "ne":
            return bool(left != right)
        if op == "lt":
            return bool(left < right)
        if op == "le":
            return bool(left <= right)
        if op == "gt":
            return bool(left > right)
        if op == "ge":
            return bool(left >= right)
    except TypeError:
        return op == "ne"
    raise ValueError(f"unknown comparison operator {op!r}")


def _dynamo_type(value: Any) -> str:
    if value is None:
        return "_null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, dict):
        return "map"
    return "binary"


def evaluate(predicate: Predicate, record: dict[str, Any]) -> bool:
    """Evaluate ``predicate`` against a record (a dict of field values)."""
    p = predicate
    if isinstance(p, Const):
        return p.value
    if isinstance(p, And):
        return all(evaluate(i, record) for i in p.items)
    if isinstance(p, Or):
        return any(evaluate(i, record) for i in p.items)
    if isinstance(p, Not):
        return not evaluate(p.item, record)
    value = record.get(p.field)
    if isinstance(p, Compare):
        return _cmp(p.op, value, p.value)
    if isinstance(p, Between):
        return _cmp("ge", value, p.low) and _cmp("le", value, p.high)
    if isinstance(p, BeginsWith):
        return isinstance(value, str) and value.startswith(p.prefix)
    if isinstance(p, Contains):
        if (isinstance(value, str) and isinstance(p.value, str)) or isinstance(value, list | tuple):
            found = p.value in value
        else:
            # A missing attribute neither contains nor "notContains" anything (DynamoDB).
            return False
        return found != p.negate
    if isinstance(p, In):
        if value is None:
            return p.negate
        return (value in p.values) != p.negate
    if isinstance(p, AttributeExists):
        return (p.field in record and record[p.field] is not None) == p.exists
    if isinstance(p, AttributeType):
        return _dynamo_type(value) == p.type_name
    if isinstance(p, Size):
        if not isinstance(value, str | list | tuple | dict):
            return False
        n = len(value)
        if p.op == "between":
            low, high = p.value
            return bool(low <= n <= high)
        return _cmp(p.op, n, p.value)
    raise TypeError(f"not a predicate: {p!r}")
