"""Filter/condition/subscription-filter inputs → predicates, checked by evaluating them."""

from __future__ import annotations

from typing import Any

import pytest

from ampbase.engine.filters import combine, filter_to_predicate
from ampbase.errors import ValidationError
from ampbase.storage.predicate import (
    FALSE,
    TRUE,
    And,
    AttributeExists,
    Between,
    Compare,
    Contains,
    In,
    Not,
    Or,
    Size,
    evaluate,
)

ROWS: list[dict[str, Any]] = [
    {
        "id": "1",
        "name": "apple pie",
        "qty": 3,
        "price": 2.5,
        "done": True,
        "tags": ["a", "b"],
        "status": "OPEN",
    },
    {"id": "2", "name": "banana", "qty": 10, "price": 0.5, "done": False, "tags": ["b"], "status": "CLOSED"},
    {"id": "3", "name": "cherry", "qty": 7, "done": False, "tags": [], "status": "OPEN", "note": "x"},
    {"id": "4", "name": "apricot", "qty": 1, "price": 9.0, "tags": None},
]


def ids(filter_value: dict[str, Any] | None) -> list[str]:
    predicate = filter_to_predicate(filter_value)
    return [r["id"] for r in ROWS if predicate is None or evaluate(predicate, r)]


@pytest.mark.parametrize(
    ("filter_value", "expected"),
    [
        ({"name": {"eq": "banana"}}, ["2"]),
        ({"name": {"ne": "banana"}}, ["1", "3", "4"]),
        ({"qty": {"lt": 3}}, ["4"]),
        ({"qty": {"le": 3}}, ["1", "4"]),
        ({"qty": {"gt": 7}}, ["2"]),
        ({"qty": {"ge": 7}}, ["2", "3"]),
        ({"qty": {"between": [2, 7]}}, ["1", "3"]),
        ({"name": {"beginsWith": "ap"}}, ["1", "4"]),
        ({"name": {"contains": "an"}}, ["2"]),
        ({"name": {"notContains": "an"}}, ["1", "3", "4"]),
        ({"tags": {"contains": "b"}}, ["1", "2"]),
        ({"tags": {"notContains": "b"}}, ["3"]),
        ({"status": {"in": ["OPEN"]}}, ["1", "3"]),
        ({"status": {"notIn": ["OPEN"]}}, ["2", "4"]),
        ({"price": {"attributeExists": True}}, ["1", "2", "4"]),
        ({"price": {"attributeExists": False}}, ["3"]),
        ({"note": {"attributeType": "string"}}, ["3"]),
        ({"qty": {"attributeType": "number"}}, ["1", "2", "3", "4"]),
        ({"name": {"size": {"gt": 6}}}, ["1", "4"]),
        ({"name": {"size": {"between": [6, 6]}}}, ["2", "3"]),
        ({"tags": {"size": {"eq": 0}}}, ["3"]),
        ({"done": {"eq": False}}, ["2", "3"]),
        ({"done": {"ne": True}}, ["2", "3", "4"]),
        ({"status": {"eq": None}}, ["4"]),
        ({"status": {"ne": None}}, ["1", "2", "3"]),
        ({"qty": {"gt": 1, "lt": 10}}, ["1", "3"]),
        ({"qty": {"gt": 1}, "done": {"eq": False}}, ["2", "3"]),
        ({"and": [{"qty": {"gt": 1}}, {"name": {"contains": "e"}}]}, ["1", "3"]),
        ({"or": [{"qty": {"eq": 1}}, {"name": {"eq": "banana"}}]}, ["2", "4"]),
        ({"not": {"name": {"beginsWith": "a"}}}, ["2", "3"]),
        (
            {"or": [{"and": [{"qty": {"ge": 3}}, {"not": {"done": {"eq": True}}}]}, {"id": {"eq": "4"}}]},
            ["2", "3", "4"],
        ),
        ({"and": []}, ["1", "2", "3", "4"]),
        ({"or": []}, []),
        ({"and": [None, {"id": {"eq": "1"}}]}, ["1"]),
        ({"name": None}, ["1", "2", "3", "4"]),
        ({"qty": {"eq": None, "gt": 5}}, []),
        ({}, ["1", "2", "3", "4"]),
        (None, ["1", "2", "3", "4"]),
    ],
)
def test_operator_semantics(filter_value: dict[str, Any] | None, expected: list[str]) -> None:
    assert ids(filter_value) == expected


def test_enum_list_input_compares_whole_lists_and_elements() -> None:
    rows = [{"id": "1", "labels": ["A", "B"]}, {"id": "2", "labels": ["B"]}]
    for value, expected in (
        ({"labels": {"eq": ["A", "B"]}}, ["1"]),
        ({"labels": {"ne": ["B"]}}, ["1"]),
        ({"labels": {"contains": "A"}}, ["1"]),
        ({"labels": {"notContains": "A"}}, ["2"]),
    ):
        predicate = filter_to_predicate(value)
        assert predicate is not None
        assert [r["id"] for r in rows if evaluate(predicate, r)] == expected


def test_shapes_of_the_predicates() -> None:
    assert filter_to_predicate({"a": {"eq": 1}}) == Compare("a", "eq", 1)
    assert filter_to_predicate({"a": {"between": [1, 2]}}) == Between("a", 1, 2)
    assert filter_to_predicate({"a": {"in": [1, 2]}}) == In("a", (1, 2))
    assert filter_to_predicate({"a": {"notContains": "x"}}) == Contains("a", "x", negate=True)
    assert filter_to_predicate({"a": {"size": {"between": [1, 2]}}}) == Size("a", "between", (1, 2))
    assert filter_to_predicate({"a": {"eq": None}}) == AttributeExists("a", exists=False)
    assert filter_to_predicate({"or": [{"a": {"eq": 1}}], "not": {"b": {"eq": 2}}}) == And(
        (Or((Compare("a", "eq", 1),)), Not(Compare("b", "eq", 2)))
    )
    assert filter_to_predicate({"or": []}) == FALSE
    assert filter_to_predicate({"and": []}) == TRUE


@pytest.mark.parametrize(
    "bad",
    [
        {"qty": {"between": [1]}},
        {"qty": {"between": [1, 2, 3]}},
        {"qty": {"between": [1, None]}},
        {"name": {"size": {"between": [1]}}},
        {"name": {"regex": ".*"}},
    ],
)
def test_malformed_operators_are_validation_errors(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        filter_to_predicate(bad)


def test_combine_drops_missing_parts() -> None:
    a = Compare("a", "eq", 1)
    assert combine(None, None) is None
    assert combine(a, None) == a
    assert combine(a, a) == And((a, a))


def test_conditions_on_attributes_records_cannot_have_are_decided_as_missing() -> None:
    fields = frozenset({"email"})
    assert filter_to_predicate({"id": {"eq": "x"}}, fields=fields) == FALSE
    assert filter_to_predicate({"id": {"attributeExists": False}}, fields=fields) == TRUE
    assert filter_to_predicate({"id": {"ne": "x"}, "email": {"eq": "a"}}, fields=fields) == And(
        (TRUE, Compare("email", "eq", "a"))
    )
    assert filter_to_predicate({"not": {"id": {"eq": "x"}}}, fields=fields) == Not(FALSE)
