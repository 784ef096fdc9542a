"""Filters compiled to SQL select exactly the records ``predicate.evaluate`` accepts.

A fixed, deliberately awkward data set (nulls, empty strings and lists, mixed
case, unicode, LIKE metacharacters, numbers that compare differently as text)
is stored once per backend; hypothesis then generates predicate trees over
every operator, with values of matching *and* mismatching types, and each
query's result must equal evaluating the predicate on every stored record.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ampbase.schema.ir import SchemaDef
from ampbase.storage.base import Query, Record, StorageAdapter
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
from tests.storage.conftest import BACKENDS, create_storage
from tests.storage.schemas import custom, field, json_list, model

THING = model(
    "Thing",
    (
        field("id", "ID", required=True),
        field("s"),
        field("t"),
        field("i", "Int"),
        field("f", "Float"),
        field("b", "Boolean"),
        json_list("tags"),
        json_list("nums", "Int"),
        custom("meta", "Meta"),
        field("j", "AWSJSON"),
    ),
)
FIELDS = ["s", "t", "i", "f", "b", "tags", "nums", "meta", "j", "id", "missing"]

STRINGS = [
    "",
    "a",
    "A",
    "ab",
    "abc",
    "b",
    "ba",
    "a%",
    "a_",
    "%",
    "_",
    "ä",
    "zÿ",
    "日本",
    "😀x",
    "10",
    "9",
    "1",
]
INTS = [-3, 0, 1, 2, 9, 10, 1000]
FLOATS = [-1.5, 0.0, 0.5, 1.0, 2.5, 1e10]
LISTS: list[list[Any]] = [[], ["a"], ["a", "b"], ["ab"], ["10"], ["a", "a"], ["", "b"]]
NUM_LISTS: list[list[Any]] = [[], [1], [1, 2], [0], [10, 9], [2, 2, 3]]
MAPS: list[dict[str, Any]] = [{}, {"k": "v"}, {"a": 1, "b": [1]}, {"b": True}]
JSONS = ['{"a": 1}', "[]", '"x"', "1", "null"]


def _dataset() -> list[Record]:
    rnd = random.Random(20261122)

    def maybe(pool: list[Any]) -> Any:
        return None if rnd.random() < 0.25 else rnd.choice(pool)

    records = []
    for n in range(90):
        records.append(
            {
                "id": f"{n:03d}",
                "s": maybe(STRINGS),
                "t": maybe(STRINGS),
                "i": maybe(INTS),
                "f": maybe(FLOATS),
                "b": maybe([True, False]),
                "tags": maybe(LISTS),
                "nums": maybe(NUM_LISTS),
                "meta": maybe(MAPS),
                "j": maybe(JSONS),
            }
        )
    return records


# Values of every type, so mismatched comparisons are exercised too.
values = st.one_of(
    st.sampled_from(STRINGS),
    st.text(alphabet="ab%_A0ä😀", max_size=3),
    st.sampled_from(INTS),
    st.sampled_from(FLOATS),
    st.integers(min_value=-20, max_value=20),
    st.booleans(),
    st.none(),
    st.sampled_from(LISTS + NUM_LISTS),
    st.sampled_from(MAPS),
)
fields = st.sampled_from(FIELDS)
sizes = st.one_of(st.integers(min_value=-1, max_value=4), st.sampled_from([0.5, "1", None, True]))

leaves: st.SearchStrategy[Predicate] = st.one_of(
    st.builds(Const, st.booleans()),
    st.builds(Compare, fields, st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge"]), values),
    st.builds(Between, fields, values, values),
    st.builds(
        BeginsWith, fields, st.one_of(st.sampled_from(STRINGS), st.text(alphabet="ab%_ä😀", max_size=2))
    ),
    st.builds(Contains, fields, values, st.booleans()),
    st.builds(In, fields, st.lists(values, max_size=4).map(tuple), st.booleans()),
    st.builds(AttributeExists, fields, st.booleans()),
    st.builds(
        AttributeType,
        fields,
        st.sampled_from(["string", "number", "bool", "list", "map", "_null", "binary", "stringSet"]),
    ),
    st.builds(Size, fields, st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge"]), sizes),
    st.builds(
        Size,
        fields,
        st.just("between"),
        st.tuples(st.integers(min_value=-1, max_value=4), st.integers(min_value=-1, max_value=4)),
    ),
)
predicates: st.SearchStrategy[Predicate] = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.builds(And, st.lists(children, max_size=3).map(tuple)),
        st.builds(Or, st.lists(children, max_size=3).map(tuple)),
        st.builds(Not, children),
    ),
    max_leaves=6,
)


class Loaded:
    """An adapter holding the data set, driven from synchronous hypothesis tests."""

    def __init__(self, runner: asyncio.Runner, storage: StorageAdapter, records: list[Record]) -> None:
        self.runner = runner
        self.storage = storage
        self.records = records

    def matching_ids(self, predicate: Predicate) -> list[str]:
        page = self.runner.run(self.storage.query(Query("Thing", filter=predicate, limit=1000)))
        assert page.last_key is None
        return [r["id"] for r in page.items]


@pytest.fixture(scope="module", params=BACKENDS)
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    directory: Path = tmp_path_factory.mktemp("predicates")
    with asyncio.Runner() as runner:
        storage = create_storage(str(request.param), directory, "things")
        runner.run(storage.open(SchemaDef(models=(THING,))))
        try:
            for record in _dataset():
                runner.run(storage.insert("Thing", record))
            stored = runner.run(storage.query(Query("Thing", limit=1000))).items
            yield Loaded(runner, storage, stored)
        finally:
            runner.run(storage.close())


def test_stored_records_read_back_as_written(loaded: Loaded) -> None:
    assert loaded.records == _dataset()


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(predicate=predicates)
def test_sql_filter_selects_what_evaluate_accepts(loaded: Loaded, predicate: Predicate) -> None:
    expected = [r["id"] for r in loaded.records if evaluate(predicate, r)]
    assert loaded.matching_ids(predicate) == expected


@pytest.mark.parametrize(
    "predicate",
    [
        Contains("s", ""),
        Contains("s", "", negate=True),
        Contains("tags", ""),
        Contains("nums", True),
        Contains("nums", 1.0),
        Contains("meta", "k"),
        BeginsWith("s", ""),
        BeginsWith("s", "a%"),
        BeginsWith("s", "A"),
        Compare("s", "lt", "a"),
        Compare("s", "gt", 5),
        Compare("i", "lt", "5"),
        Compare("i", "eq", True),
        Compare("b", "lt", 2),
        Compare("s", "ne", None),
        Compare("s", "ne", "a"),
        Compare("tags", "eq", ["a", "b"]),
        Compare("tags", "ne", ["a", "b"]),
        Compare("tags", "lt", ["z"]),
        Compare("meta", "eq", {"b": [1], "a": 1}),
        Compare("f", "ne", float("nan")),
        Compare("f", "lt", float("nan")),
        Between("f", float("-inf"), float("inf")),
        In("f", (float("nan"), 0.5), negate=True),
        Contains("nums", float("nan")),
        In("s", ("a", 1, None)),
        In("s", ("a", 1, None), negate=True),
        In("i", (1, "1", True)),
        In("tags", (["a"], "a")),
        In("missing", (), negate=True),
        AttributeType("b", "bool"),
        AttributeType("b", "number"),
        AttributeType("meta", "map"),
        AttributeType("tags", "list"),
        AttributeType("j", "string"),
        Size("meta", "ge", 1),
        Size("tags", "between", (1, 2)),
        Size("s", "eq", 2),
        Size("j", "gt", 3),
        Size("i", "eq", 1),
        Size("s", "ne", "2"),
        Not(Compare("s", "eq", "a")),
        Not(AttributeExists("missing")),
        Or(()),
        And(()),
    ],
    ids=repr,
)
def test_operator_edge_cases_agree_with_evaluate(loaded: Loaded, predicate: Predicate) -> None:
    expected = [r["id"] for r in loaded.records if evaluate(predicate, r)]
    assert loaded.matching_ids(predicate) == expected


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(predicate=predicates, limit=st.integers(min_value=1, max_value=7), descending=st.booleans())
def test_paging_with_a_filter_returns_every_match_once_in_order(
    loaded: Loaded, predicate: Predicate, limit: int, descending: bool
) -> None:
    expected = [r["id"] for r in loaded.records if evaluate(predicate, r)]
    if descending:
        expected.reverse()
    seen: list[str] = []
    after = None
    while True:
        query = Query("Thing", filter=predicate, limit=limit, descending=descending, after=after)
        page = loaded.runner.run(loaded.storage.query(query))
        seen.extend(r["id"] for r in page.items)
        if page.last_key is None:
            break
        assert len(page.items) == limit
        after = page.last_key
    assert seen == expected
