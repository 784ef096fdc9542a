"""Key-condition arguments → KeyCondition, with AppSync's InvalidArgumentsError messages."""

from __future__ import annotations

from typing import Any

import pytest

from ampbase.engine.keys import KeySpec, key_condition
from ampbase.errors import ValidationError
from ampbase.storage.base import KeyCondition, SortKeyCondition

SINGLE = KeySpec("productId", ("version",), "version")
COMPOSITE = KeySpec("tenantId", ("country", "city"), "countryCity")


def error_of(spec: KeySpec, partition: Any, sort: Any, *, direction: bool = False) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        key_condition(spec, partition, sort, sort_direction_given=direction)
    assert info.value.error_type == "InvalidArgumentsError"
    return info.value


def test_no_partition_means_scan() -> None:
    assert key_condition(SINGLE, None, None) is None


def test_partition_only() -> None:
    assert key_condition(SINGLE, "p", None) == KeyCondition((("productId", "p"),))


@pytest.mark.parametrize("op", ["eq", "lt", "le", "gt", "ge", "beginsWith"])
def test_single_sort_operators(op: str) -> None:
    cond = key_condition(SINGLE, "p", {op: 3})
    assert cond == KeyCondition((("productId", "p"),), SortKeyCondition(("version",), op, (3,)))  # type: ignore[arg-type]


def test_single_between() -> None:
    cond = key_condition(SINGLE, "p", {"between": [1, 4]})
    assert cond is not None and cond.sort == SortKeyCondition(("version",), "between", (1,), (4,))


def test_sort_direction_needs_partition() -> None:
    error = error_of(SINGLE, None, None, direction=True)
    assert (
        error.message == "When providing argument 'sortDirection' you must also provide argument 'productId'."
    )


def test_sort_condition_needs_partition() -> None:
    error = error_of(COMPOSITE, None, {"eq": {"country": "NL"}})
    assert error.message == "When providing argument 'countryCity' you must also provide 'tenantId'."


def test_more_than_one_operator() -> None:
    error = error_of(COMPOSITE, "t", {"eq": {"country": "NL"}, "gt": {"country": "A"}})
    assert error.message == "Argument countryCity must specify at most one key condition operation."


@pytest.mark.parametrize("items", [[1], [1, 2, 3], []])
def test_between_needs_two_items(items: list[int]) -> None:
    error = error_of(SINGLE, "p", {"between": items})
    assert error.message == "Argument 'version.between' expects exactly two elements."


def test_composite_prefix_and_full() -> None:
    cond = key_condition(COMPOSITE, "t", {"beginsWith": {"country": "NL", "city": "De"}})
    assert cond is not None
    assert cond.sort == SortKeyCondition(("country", "city"), "beginsWith", ("NL", "De"))
    cond = key_condition(COMPOSITE, "t", {"eq": {"country": "NL"}})
    assert cond is not None and cond.sort == SortKeyCondition(("country",), "eq", ("NL",))
    cond = key_condition(COMPOSITE, "t", {"between": [{"country": "A"}, {"country": "M"}]})
    assert cond is not None and cond.sort == SortKeyCondition(("country",), "between", ("A",), ("M",))


def test_composite_part_without_earlier_parts() -> None:
    error = error_of(COMPOSITE, "t", {"eq": {"city": "Delft"}})
    assert (
        error.message
        == "When providing argument 'countryCity.eq.city' you must also provide 'countryCity.eq.country'."
    )
    error = error_of(COMPOSITE, "t", {"between": [{"country": "A"}, {"city": "B"}]})
    assert error.message == (
        "When providing argument 'countryCity.between[1].city' you must also provide "
        "'countryCity.between[1].country'."
    )


def test_composite_between_needs_the_same_parts() -> None:
    error = error_of(COMPOSITE, "t", {"between": [{"country": "A"}, {"country": "B", "city": "C"}]})
    assert "same key fields" in error.message


def test_empty_operator_objects_add_no_condition() -> None:
    assert key_condition(COMPOSITE, "t", {"eq": {}}) == KeyCondition((("tenantId", "t"),))
    assert key_condition(COMPOSITE, "t", {}) == KeyCondition((("tenantId", "t"),))
