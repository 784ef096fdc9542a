"""The dialect-neutral SQL building: identifiers, column kinds, parameters."""

from __future__ import annotations

import pytest

from ampbase.errors import ValidationError
from ampbase.schema.ir import FieldDef, TypeKind, TypeRef
from ampbase.storage.base import KeyCondition, Query, SortKeyCondition
from ampbase.storage.predicate import And, BeginsWith, Compare, Contains, In, Or
from ampbase.storage.sql import (
    ColumnKind,
    Dialect,
    PredicateCompiler,
    SqlParams,
    column_kind,
    plan_select,
    prefix_upper_bound,
    quote_ident,
    table_layout,
)
from tests.storage.schemas import EVENT, ODD, TODO


def test_identifiers_are_quoted_with_inner_quotes_doubled() -> None:
    assert quote_ident("Todo") == '"Todo"'
    assert quote_ident('we"ird') == '"we""ird"'
    with pytest.raises(ValidationError):
        quote_ident("a\x00b")


@pytest.mark.parametrize(
    ("type_ref", "kind"),
    [
        (TypeRef("String", TypeKind.SCALAR), ColumnKind.TEXT),
        (TypeRef("ID", TypeKind.SCALAR, required=True), ColumnKind.TEXT),
        (TypeRef("AWSJSON", TypeKind.SCALAR), ColumnKind.TEXT),
        (TypeRef("AWSDateTime", TypeKind.SCALAR), ColumnKind.TEXT),
        (TypeRef("Status", TypeKind.ENUM), ColumnKind.TEXT),
        (TypeRef("Int", TypeKind.SCALAR), ColumnKind.INTEGER),
        (TypeRef("AWSTimestamp", TypeKind.SCALAR), ColumnKind.INTEGER),
        (TypeRef("Float", TypeKind.SCALAR), ColumnKind.REAL),
        (TypeRef("Boolean", TypeKind.SCALAR), ColumnKind.BOOLEAN),
        (TypeRef("String", TypeKind.SCALAR, is_list=True), ColumnKind.JSON_LIST),
        (TypeRef("Status", TypeKind.ENUM, is_list=True), ColumnKind.JSON_LIST),
        (TypeRef("Location", TypeKind.CUSTOM), ColumnKind.JSON_OBJECT),
    ],
)
def test_column_kind_follows_the_field_type(type_ref: TypeRef, kind: ColumnKind) -> None:
    assert column_kind(FieldDef("f", type_ref)) is kind


@pytest.mark.parametrize(
    ("prefix", "bound"),
    [("ab", "ac"), ("a\U0010ffff", "b"), ("\ud7ff", "\ue000"), ("", None), ("\U0010ffff", None)],
)
def test_prefix_upper_bound(prefix: str, bound: str | None) -> None:
    assert prefix_upper_bound(prefix) == bound


def test_layout_skips_relation_fields_and_orders_index_columns() -> None:
    layout = table_layout(EVENT)
    assert layout.ordering(None) == ("tenant", "day", "seq")
    assert layout.ordering("byKind") == ("kind", "day", "seq", "tenant")
    assert [c.name for c in table_layout(ODD).columns] == ["id", 'we"ird', "select"]


def test_predicate_values_are_parameters_never_sql_text() -> None:
    params = SqlParams(Dialect().placeholder)
    nasty = "'; DROP TABLE x; --"
    predicate = Or(
        (
            And((Compare("title", "eq", nasty), BeginsWith("title", nasty))),
            Contains("tags", nasty),
            In("status", (nasty, 1)),
        )
    )
    sql = PredicateCompiler(Dialect(), table_layout(TODO), params).compile(predicate)
    assert nasty not in sql
    assert nasty in params.values
    assert sql.count("?") == len(params.values)


def test_plan_orders_by_index_then_primary_key_and_pages_after_the_fixed_prefix() -> None:
    query = Query(
        "Event",
        index="byKind",
        key=KeyCondition((("kind", "k"),), SortKeyCondition(("day",), "eq", ("d",))),
        descending=True,
        after=("k", "d", 3, "t"),
    )
    plan = plan_select(table_layout(EVENT), query, Dialect())
    assert plan.order == ("kind", "day", "seq", "tenant")
    assert plan.order_sql == '"kind" DESC, "day" DESC, "seq" DESC, "tenant" DESC'
    assert any(w.startswith('("seq", "tenant") < (') for w in plan.where)
    assert plan.params.values[-2:] == [3, "t"]


def test_key_conditions_on_non_key_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        plan_select(table_layout(EVENT), Query("Event", key=KeyCondition((("kind", "k"),))), Dialect())
    with pytest.raises(ValidationError):
        plan_select(
            table_layout(EVENT),
            Query("Event", key=KeyCondition((("tenant", "t"),), SortKeyCondition(("day",), "lt", ()))),
            Dialect(),
        )
