"""SQL building shared by the relational adapters (SQLite now, PostgreSQL later).

Storage layout (the same for every SQL database; spelling differs per dialect):

* one table per model, named exactly like the model, with one column per
  *stored* field (every field except relationship fields), named exactly like
  the field, in the model's field order;
* a column's :class:`ColumnKind` follows the field's type: ``Int`` and
  ``AWSTimestamp`` are integers, ``Float`` is a real, ``Boolean`` a boolean,
  every other scalar and every enum is text (``AWSJSON`` is kept as the JSON
  *string* the client sent), and lists and custom types are JSON documents
  (:func:`canonical_json`: compact, keys sorted);
* the primary key is the model's ``primary_key`` fields, in order;
* every ``IndexDef`` becomes a database index over ``(partition key, sort
  keys..., remaining primary key fields)``: exactly the order a query on that
  index returns rows in, so ordered, keyset-paginated index queries are index
  range scans. An index is *sparse* like a DynamoDB GSI: rows whose index key
  fields are ``NULL`` are not returned by queries on it.

Every identifier comes from the schema and is quoted (:func:`quote_ident`);
every value is a bound parameter. :class:`Dialect` holds what differs between
databases (placeholders, type tests, JSON functions); :class:`PredicateCompiler`
turns a :mod:`ampbase.storage.predicate` tree into a ``WHERE`` fragment whose
result is, row for row, what :func:`ampbase.storage.predicate.evaluate` returns
on the decoded record. Every fragment it emits is two-valued (never ``NULL``),
so ``NOT`` and ``OR`` combine exactly like Python's ``not``/``or``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson

from ampbase.errors import ValidationError
from ampbase.schema.ir import FieldDef, IndexDef, ModelDef, TypeKind
from ampbase.storage.base import KeyCondition, Query, SortKeyCondition
from ampbase.storage.predicate import (
    And,
    AttributeExists,
    AttributeType,
    BeginsWith,
    Between,
    Compare,
    Const,
    Contains,
    In,
    Not,
    Or,
    Predicate,
    Size,
    evaluate,
)

__all__ = [
    "Column",
    "ColumnKind",
    "Dialect",
    "PredicateCompiler",
    "SelectPlan",
    "SqlParams",
    "TableLayout",
    "canonical_json",
    "column_kind",
    "plan_select",
    "prefix_upper_bound",
    "quote_ident",
    "table_layout",
]

_INTEGER_SCALARS = frozenset({"Int", "AWSTimestamp"})
_COMPARE_OPS = {"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


class ColumnKind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    REAL = "real"
    BOOLEAN = "boolean"
    JSON_LIST = "jsonList"
    JSON_OBJECT = "jsonObject"

    @property
    def is_json(self) -> bool:
        return self in (ColumnKind.JSON_LIST, ColumnKind.JSON_OBJECT)


def column_kind(f: FieldDef) -> ColumnKind:
    """How a stored field is represented in a column."""
    t = f.type
    if t.is_list:
        return ColumnKind.JSON_LIST
    if t.kind in (TypeKind.CUSTOM, TypeKind.MODEL):
        return ColumnKind.JSON_OBJECT
    if t.kind is TypeKind.SCALAR:
        if t.name in _INTEGER_SCALARS:
            return ColumnKind.INTEGER
        if t.name == "Float":
            return ColumnKind.REAL
        if t.name == "Boolean":
            return ColumnKind.BOOLEAN
    return ColumnKind.TEXT


def quote_ident(name: str) -> str:
    """``name`` as a quoted SQL identifier (``"`` doubled)."""
    if "\x00" in name:
        raise ValidationError("identifiers cannot contain NUL characters")
    return '"' + name.replace('"', '""') + '"'


def canonical_json(value: Any) -> str:
    """The JSON text stored for lists and custom types (compact, sorted keys)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def prefix_upper_bound(prefix: str) -> str | None:
    """The least string greater than every string starting with ``prefix``.

    ``s.startswith(prefix)`` ⇔ ``prefix <= s < bound`` in code point (= UTF-8
    byte) order; ``None`` when there is no bound (empty or all-U+10FFFF prefix).
    """
    chars = list(prefix)
    while chars:
        last = ord(chars.pop())
        if last < 0x10FFFF:
            nxt = last + 1
            if 0xD800 <= nxt <= 0xDFFF:  # surrogates are not encodable; skip them
                nxt = 0xE000
            return "".join(chars) + chr(nxt)
    return None


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: ColumnKind
    sql: str  # quoted identifier


@dataclass(frozen=True, slots=True)
class TableLayout:
    """The table of one model: stored columns, primary key, indexes."""

    model: str
    sql: str  # quoted table name
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    indexes: tuple[IndexDef, ...]
    by_name: dict[str, Column] = field(default_factory=dict, compare=False)

    def column(self, name: str) -> Column | None:
        return self.by_name.get(name)

    def index(self, name: str) -> IndexDef:
        for ix in self.indexes:
            if ix.name == name:
                return ix
        raise ValidationError(f"model {self.model!r} has no index {name!r}")

    def index_columns(self, ix: IndexDef) -> tuple[str, ...]:
        """The columns of ``ix``'s database index = its query order."""
        return ix.key_fields + tuple(k for k in self.primary_key if k not in ix.key_fields)

    def ordering(self, index: str | None) -> tuple[str, ...]:
        """The fields a query on ``index`` (``None`` = primary key) is ordered by."""
        if index is None:
            return self.primary_key
        return self.index_columns(self.index(index))

    @property
    def select_list(self) -> str:
        return ", ".join(c.sql for c in self.columns)


def table_layout(model: ModelDef) -> TableLayout:
    columns = tuple(
        Column(f.name, column_kind(f), quote_ident(f.name)) for f in model.fields if not f.is_relation
    )
    by_name = {c.name: c for c in columns}
    for k in model.primary_key:
        if k not in by_name:
            raise ValidationError(f"primary key field {k!r} of model {model.name!r} is not a stored field")
    for ix in model.indexes:
        for k in ix.key_fields:
            if k not in by_name:
                raise ValidationError(
                    f"index {ix.name!r} of model {model.name!r} uses {k!r}, which is not a stored field"
                )
    return TableLayout(
        model=model.name,
        sql=quote_ident(model.name),
        columns=columns,
        primary_key=model.primary_key,
        indexes=model.indexes,
        by_name=by_name,
    )


class SqlParams:
    """Collects bound parameters; ``add`` returns the placeholder for a value."""

    __slots__ = ("_placeholder", "values")

    def __init__(self, placeholder: Callable[[int], str]) -> None:
        self._placeholder = placeholder
        self.values: list[Any] = []

    def add(self, value: Any) -> str:
        self.values.append(value)
        return self._placeholder(len(self.values))


class Dialect:
    """What differs between SQL databases. This base spells SQLite (3.38+).

    A dialect answers type questions about a column's *stored* value: SQLite
    columns are dynamically typed, so these are ``typeof`` tests; a strictly
    typed database answers most of them from the :class:`ColumnKind` alone.
    Text must compare by code point (SQLite's default ``BINARY`` collation;
    PostgreSQL declares text columns ``COLLATE "C"``), so that ordering,
    ``beginsWith`` ranges and keyset pagination agree with Python's ``str``.
    """

    true = "1"
    false = "0"

    def placeholder(self, n: int) -> str:
        # numbered (?NNN): query_related puts fragments in the SQL text in another order than built
        return f"?{n}"

    def is_text(self, col: Column) -> str:
        if col.kind.is_json:
            return self.false
        return f"typeof({col.sql}) = 'text'"

    def is_number(self, col: Column) -> str:
        """The decoded value is an ``int``/``float``/``bool`` (compares as a number)."""
        if col.kind.is_json:
            return self.false
        return f"typeof({col.sql}) IN ('integer', 'real')"

    def attribute_type(self, col: Column, type_name: str) -> str:
        """The decoded value's DynamoDB type is ``type_name`` (see ``predicate._dynamo_type``)."""
        c = col.sql
        if type_name == "_null":
            return f"{c} IS NULL"
        if col.kind.is_json:
            json_types = {
                "list": "'array'",
                "map": "'object'",
                "string": "'text'",
                "number": "'integer', 'real'",
                "bool": "'true', 'false'",
            }.get(type_name)
            if json_types is None:
                return self.false
            return f"({c} IS NOT NULL AND json_type({c}) IN ({json_types}))"
        if type_name == "string":
            return f"typeof({c}) = 'text'"
        if col.kind is ColumnKind.BOOLEAN:
            # Booleans are stored as 0/1 and decoded to bool; any other number stays a number.
            if type_name == "bool":
                return f"typeof({c}) = 'integer'"
            if type_name == "number":
                return f"typeof({c}) = 'real'"
            return self.false
        if type_name == "number":
            return f"typeof({c}) IN ('integer', 'real')"
        return self.false

    def size(self, col: Column) -> tuple[str, str] | None:
        """``(guard, expression)``: the guard says ``size`` applies, the expression is it."""
        c = col.sql
        if col.kind is ColumnKind.JSON_LIST:
            return f"({c} IS NOT NULL AND json_type({c}) = 'array')", f"json_array_length({c})"
        if col.kind is ColumnKind.JSON_OBJECT:
            return (
                f"({c} IS NOT NULL AND json_type({c}) = 'object')",
                f"(SELECT count(*) FROM json_each({c}))",
            )
        return f"typeof({c}) = 'text'", f"length({c})"

    def substring(self, col: Column, placeholder: str) -> str:
        """``placeholder`` (a string) occurs in the text column (not NULL-safe; guard it)."""
        return f"instr({col.sql}, {placeholder}) > 0"

    def json_list_has(self, col: Column, value: Any, params: SqlParams) -> str:
        """The JSON list in ``col`` has an element equal (Python ``==``) to ``value``."""
        c = col.sql
        if value is None:
            cond = "type = 'null'"
        elif isinstance(value, str):
            cond = f"type = 'text' AND value = {params.add(value)}"
        elif isinstance(value, bool | int | float):
            cond = f"type IN ('integer', 'real', 'true', 'false') AND value = {params.add(value)}"
        elif isinstance(value, list | tuple | dict):
            kinds = "'array'" if isinstance(value, list | tuple) else "'object'"
            cond = f"type = {kinds} AND json(value) = json({params.add(canonical_json(value))})"
        else:
            raise ValidationError(f"unsupported value type {type(value).__name__}")
        return f"EXISTS (SELECT 1 FROM json_each({c}) WHERE {cond})"

    def is_json_list(self, col: Column) -> str:
        """The JSON column holds a list (false for NULL)."""
        return f"({col.sql} IS NOT NULL AND json_type({col.sql}) = 'array')"

    def json_equals(self, col: Column, value: Any, params: SqlParams) -> str:
        return f"({col.sql} IS NOT NULL AND {col.sql} = {params.add(canonical_json(value))})"

    def json_in(self, col: Column, docs: Sequence[Any], params: SqlParams) -> str:
        """The JSON column equals one of ``docs`` (lists/maps; false for NULL)."""
        phs = ", ".join(params.add(canonical_json(v)) for v in docs)
        return f"({col.sql} IS NOT NULL AND {col.sql} IN ({phs}))"

    def row(self, items: Sequence[str]) -> str:
        return items[0] if len(items) == 1 else "(" + ", ".join(items) + ")"


def _is_number(value: Any) -> bool:
    return isinstance(value, bool | int | float)


class PredicateCompiler:
    """Compiles predicates on one table to SQL with ``evaluate``'s semantics."""

    __slots__ = ("dialect", "layout", "params")

    def __init__(self, dialect: Dialect, layout: TableLayout, params: SqlParams) -> None:
        self.dialect = dialect
        self.layout = layout
        self.params = params

    def compile(self, p: Predicate) -> str:
        d = self.dialect
        if isinstance(p, Const):
            return d.true if p.value else d.false
        if isinstance(p, And):
            if not p.items:
                return d.true
            return "(" + " AND ".join(self.compile(i) for i in p.items) + ")"
        if isinstance(p, Or):
            if not p.items:
                return d.false
            return "(" + " OR ".join(self.compile(i) for i in p.items) + ")"
        if isinstance(p, Not):
            return f"(NOT {self.compile(p.item)})"
        col = self.layout.column(p.field)
        if col is None:
            # Not a stored field: every record lacks it, so the outcome is fixed.
            return d.true if evaluate(p, {}) else d.false
        if isinstance(p, Compare):
            return self._compare(col, col.sql, p.op, p.value, numeric_expr=False)
        if isinstance(p, Between):
            low = self._compare(col, col.sql, "ge", p.low, numeric_expr=False)
            high = self._compare(col, col.sql, "le", p.high, numeric_expr=False)
            return f"({low} AND {high})"
        if isinstance(p, BeginsWith):
            return self._begins_with(col, p.prefix)
        if isinstance(p, Contains):
            return self._contains(col, p)
        if isinstance(p, In):
            return self._in(col, p)
        if isinstance(p, AttributeExists):
            return f"({col.sql} IS {'NOT ' if p.exists else ''}NULL)"
        if isinstance(p, AttributeType):
            return "(" + d.attribute_type(col, p.type_name) + ")"
        if isinstance(p, Size):
            return self._size(col, p)
        raise ValidationError(f"not a predicate: {type(p).__name__}")

    # -- atoms ---------------------------------------------------------------

    def _compare(self, col: Column, expr: str, op: str, value: Any, *, numeric_expr: bool) -> str:
        """``_cmp(op, <decoded value of expr>, value)``.

        ``numeric_expr``: ``expr`` is a non-NULL number (a size), not the column.
        """
        d = self.dialect
        sql_op = _COMPARE_OPS.get(op)
        if sql_op is None:
            raise ValidationError(f"unknown comparison operator {op!r}")
        not_null = d.true if numeric_expr else f"{expr} IS NOT NULL"
        if isinstance(value, float) and value != value:
            # NaN equals and orders against nothing (and would bind as NULL).
            return d.true if op == "ne" else d.false
        if value is None:
            return f"({not_null})" if op == "ne" else d.false
        if isinstance(value, list | tuple | dict):
            # Only a JSON column can equal a list/map; nothing orders against one.
            if op not in ("eq", "ne"):
                return d.false
            if numeric_expr or not col.kind.is_json:
                equal = d.false
            else:
                equal = d.json_equals(col, value, self.params)
        elif isinstance(value, str) or _is_number(value):
            if not numeric_expr and col.kind.is_json:
                # A decoded list/map never equals or orders against a scalar.
                equal = d.false
                if op != "eq" and op != "ne":
                    return d.false
            else:
                if numeric_expr:
                    guard = d.true if _is_number(value) else d.false
                else:
                    guard = d.is_text(col) if isinstance(value, str) else d.is_number(col)
                if guard == d.false:
                    equal = d.false
                    if op not in ("eq", "ne"):
                        return d.false
                else:
                    ph = self.params.add(value)
                    if op != "ne":
                        test = f"{expr} {sql_op} {ph}"
                        return f"({test})" if guard == d.true else f"({guard} AND {test})"
                    test = f"{expr} = {ph}"
                    equal = f"({test})" if guard == d.true else f"({guard} AND {test})"
        else:
            raise ValidationError(f"unsupported value type {type(value).__name__}")
        if op == "eq":
            return equal
        return f"(NOT {equal})"

    def _begins_with(self, col: Column, prefix: Any) -> str:
        d = self.dialect
        if not isinstance(prefix, str):
            raise ValidationError("beginsWith needs a string")
        guard = d.is_text(col)
        if guard == d.false:
            return d.false
        if prefix == "":
            return f"({guard})"
        parts = [guard, f"{col.sql} >= {self.params.add(prefix)}"]
        upper = prefix_upper_bound(prefix)
        if upper is not None:
            parts.append(f"{col.sql} < {self.params.add(upper)}")
        return "(" + " AND ".join(parts) + ")"

    def _contains(self, col: Column, p: Contains) -> str:
        d = self.dialect
        if col.kind is ColumnKind.JSON_LIST:
            guard = d.is_json_list(col)
            has = d.json_list_has(col, p.value, self.params)
            return f"({guard} AND {'NOT ' if p.negate else ''}{has})"
        if col.kind is ColumnKind.JSON_OBJECT or not isinstance(p.value, str):
            return d.false
        guard = d.is_text(col)
        if guard == d.false:
            return d.false
        has = d.substring(col, self.params.add(p.value))
        return f"({guard} AND {'NOT ' if p.negate else ''}({has}))"

    def _in(self, col: Column, p: In) -> str:
        d = self.dialect
        groups: list[str] = []
        if col.kind.is_json:
            docs = [v for v in p.values if isinstance(v, list | tuple | dict)]
            if docs:
                groups.append(d.json_in(col, docs, self.params))
        else:
            texts = [v for v in p.values if isinstance(v, str)]
            numbers = [v for v in p.values if _is_number(v) and v == v]  # NaN matches nothing
            for guard, vals in ((d.is_text(col), texts), (d.is_number(col), numbers)):
                if vals and guard != d.false:
                    phs = ", ".join(self.params.add(v) for v in vals)
                    groups.append(f"({guard} AND {col.sql} IN ({phs}))")
        found = "(" + " OR ".join(groups) + ")" if groups else d.false
        if p.negate:
            return f"(NOT {found})"
        return found

    def _size(self, col: Column, p: Size) -> str:
        d = self.dialect
        applies = d.size(col)
        if applies is None:
            return d.false
        guard, expr = applies
        if p.op == "between":
            try:
                low, high = p.value
            except (TypeError, ValueError):
                raise ValidationError("size between needs (low, high)") from None
            if not (_is_number(low) and _is_number(high)):
                raise ValidationError("size between needs numbers")
            test = f"{expr} BETWEEN {self.params.add(low)} AND {self.params.add(high)}"
        else:
            test = self._compare(col, expr, p.op, p.value, numeric_expr=True)
        return f"({guard} AND {test})"


# -- SELECT planning -----------------------------------------------------------


@dataclass(slots=True)
class SelectPlan:
    """The parts of a keyset-paginated SELECT over one table."""

    where: list[str]
    order: tuple[str, ...]  # ordering fields
    order_sql: str  # ``ORDER BY`` list
    params: SqlParams


def _key_condition(
    layout: TableLayout,
    dialect: Dialect,
    params: SqlParams,
    key: KeyCondition,
    key_fields: tuple[str, ...],
    where: list[str],
) -> set[str]:
    """Add ``key``'s conditions to ``where``; return the fields it fixes by equality."""
    fixed: set[str] = set()
    for name, value in key.partition:
        col = _key_column(layout, name, key_fields)
        where.append(f"{col.sql} = {params.add(value)}")
        fixed.add(name)
    sort = key.sort
    if sort is not None:
        fixed |= _sort_condition(layout, dialect, params, sort, key_fields, where)
    return fixed


def _key_column(layout: TableLayout, name: str, key_fields: tuple[str, ...]) -> Column:
    col = layout.column(name)
    if col is None or name not in key_fields:
        raise ValidationError(f"{name!r} is not a key field of this query on {layout.model!r}")
    return col


def _sort_condition(
    layout: TableLayout,
    dialect: Dialect,
    params: SqlParams,
    sort: SortKeyCondition,
    key_fields: tuple[str, ...],
    where: list[str],
) -> set[str]:
    if not sort.fields or len(sort.values) != len(sort.fields):
        raise ValidationError("a sort key condition needs one value per field")
    columns = [_key_column(layout, f, key_fields) for f in sort.fields]
    cols = [c.sql for c in columns]
    op = sort.op
    if op == "eq":
        for c, v in zip(cols, sort.values, strict=True):
            where.append(f"{c} = {params.add(v)}")
        return set(sort.fields)
    if op == "beginsWith":
        for c, v in zip(cols[:-1], sort.values[:-1], strict=True):
            where.append(f"{c} = {params.add(v)}")
        prefix = sort.values[-1]
        if not isinstance(prefix, str):
            raise ValidationError("beginsWith needs a string")
        last = cols[-1]
        where.append(dialect.is_text(columns[-1]))
        if prefix:
            where.append(f"{last} >= {params.add(prefix)}")
            upper = prefix_upper_bound(prefix)
            if upper is not None:
                where.append(f"{last} < {params.add(upper)}")
        return set(sort.fields[:-1])
    left = dialect.row(cols)
    if op == "between":
        if len(sort.high_values) != len(sort.fields):
            raise ValidationError("a between sort key condition needs high values for every field")
        low = dialect.row([params.add(v) for v in sort.values])
        high = dialect.row([params.add(v) for v in sort.high_values])
        where.append(f"{left} >= {low}")
        where.append(f"{left} <= {high}")
        return set()
    sql_op = {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}.get(op)
    if sql_op is None:
        raise ValidationError(f"unknown sort key operator {op!r}")
    right = dialect.row([params.add(v) for v in sort.values])
    where.append(f"{left} {sql_op} {right}")
    return set()


def plan_select(
    layout: TableLayout,
    query: Query,
    dialect: Dialect,
    *,
    related_fields: Iterable[str] = (),
) -> SelectPlan:
    """WHERE and ORDER BY for ``query`` (without the related-parents condition).

    ``related_fields`` are fixed by equality elsewhere (``query_related``).
    """
    params = SqlParams(dialect.placeholder)
    where: list[str] = []
    order = layout.ordering(query.index)
    if query.index is None:
        key_fields = layout.primary_key
    else:
        ix = layout.index(query.index)
        key_fields = ix.key_fields
        # Sparse, like a GSI: rows without the index's key fields are not in it.
        for name in key_fields:
            where.append(f"{layout.by_name[name].sql} IS NOT NULL")
    fixed = set(related_fields)
    if query.key is not None:
        fixed |= _key_condition(layout, dialect, params, query.key, key_fields, where)
    if query.filter is not None:
        where.append(PredicateCompiler(dialect, layout, params).compile(query.filter))
    if query.after is not None:
        after = tuple(query.after)
        if len(after) != len(order):
            raise ValidationError("the pagination position does not belong to this query")
        # Fields fixed by equality at the front of the order compare equal; skip them.
        start = 0
        while start < len(order) and order[start] in fixed:
            start += 1
        if start < len(order):
            cols = [layout.by_name[f].sql for f in order[start:]]
            vals = [params.add(v) for v in after[start:]]
            op = "<" if query.descending else ">"
            where.append(f"{dialect.row(cols)} {op} {dialect.row(vals)}")
        else:
            where.append(dialect.false)
    direction = " DESC" if query.descending else ""
    order_sql = ", ".join(layout.by_name[f].sql + direction for f in order)
    return SelectPlan(where=where, order=order, order_sql=order_sql, params=params)
