"""The storage conformance suite: every ``StorageAdapter`` method, on every backend."""

from __future__ import annotations

from typing import Any

import pytest

from ampbase.errors import ConditionalCheckFailedError, ValidationError
from ampbase.storage.base import (
    ApiKeyRecord,
    KeyCondition,
    Page,
    Query,
    Record,
    SortKeyCondition,
    StorageAdapter,
)
from ampbase.storage.predicate import (
    And,
    AttributeExists,
    BeginsWith,
    Compare,
    Contains,
    In,
)

pytestmark = pytest.mark.anyio

ODD = 'Odd "Name"'


def todo(n: int, **fields: Any) -> Record:
    return {"id": f"t{n:03d}", "createdAt": f"2024-01-{n % 28 + 1:02d}T00:00:{n % 60:02d}Z", **fields}


async def insert_todos(storage: StorageAdapter, count: int, **fields: Any) -> list[Record]:
    return [await storage.insert("Todo", todo(n, priority=n, **fields)) for n in range(count)]


async def collect(storage: StorageAdapter, query: Query) -> tuple[list[Record], list[int]]:
    """Every page of ``query``: the items and each page's size."""
    items: list[Record] = []
    sizes: list[int] = []
    after = None
    while True:
        page = await storage.query(
            Query(
                query.model,
                index=query.index,
                key=query.key,
                filter=query.filter,
                descending=query.descending,
                limit=query.limit,
                after=after,
            )
        )
        items.extend(page.items)
        sizes.append(len(page.items))
        if page.last_key is None:
            return items, sizes
        assert len(sizes) < 1000
        after = page.last_key


# -- single items -------------------------------------------------------------------


async def test_insert_then_get_returns_every_stored_field_with_its_type(storage: StorageAdapter) -> None:
    record = todo(
        1,
        title="Buy milk",
        done=False,
        priority=3,
        score=2.5,
        status="OPEN",
        tags=["home", "shop"],
        numbers=[3, 1],
        meta={"b": [1, {"c": None}], "a": "x"},
        payload='{"z": 1, "a": [true]}',
        ownerId="alice",
    )
    stored = await storage.insert("Todo", record)
    assert stored == record
    assert await storage.get("Todo", {"id": "t001"}) == record
    assert isinstance(stored["done"], bool)


async def test_fields_not_given_read_back_as_null(storage: StorageAdapter) -> None:
    stored = await storage.insert("Todo", todo(1, title="x"))
    assert stored["done"] is None
    assert stored["tags"] is None
    assert (await storage.get("Todo", {"id": "t001"})) == stored


async def test_float_fields_accept_integers(storage: StorageAdapter) -> None:
    stored = await storage.insert("Todo", todo(1, score=2))
    assert stored["score"] == 2


async def test_get_of_missing_item_is_none(storage: StorageAdapter) -> None:
    assert await storage.get("Todo", {"id": "nope"}) is None


async def test_values_are_stored_literally_never_as_sql(storage: StorageAdapter) -> None:
    nasty = 'x\'); DROP TABLE "Todo"; --'
    await storage.insert("Todo", todo(1, title=nasty, ownerId='"'))
    assert (await storage.get("Todo", {"id": "t001"}) or {})["title"] == nasty
    page = await storage.query(Query("Todo", filter=Compare("title", "eq", nasty)))
    assert [r["id"] for r in page.items] == ["t001"]


async def test_model_and_field_names_needing_quotes_work(storage: StorageAdapter) -> None:
    await storage.insert(ODD, {"id": "1", 'we"ird': "w", "select": "s"})
    page = await storage.query(Query(ODD, index='by "weird"', key=KeyCondition((('we"ird', "w"),))))
    assert page.items == [{"id": "1", 'we"ird': "w", "select": "s"}]


async def test_insert_of_duplicate_key_is_conditional_check_failure(storage: StorageAdapter) -> None:
    await storage.insert("Todo", todo(1, title="first"))
    with pytest.raises(ConditionalCheckFailedError):
        await storage.insert("Todo", todo(1, title="second"))
    assert (await storage.get("Todo", {"id": "t001"}) or {})["title"] == "first"


async def test_insert_condition_is_evaluated_against_an_empty_record(storage: StorageAdapter) -> None:
    with pytest.raises(ConditionalCheckFailedError):
        await storage.insert("Todo", todo(1), condition=AttributeExists("id"))
    assert await storage.get("Todo", {"id": "t001"}) is None
    await storage.insert("Todo", todo(1), condition=AttributeExists("id", exists=False))
    assert await storage.get("Todo", {"id": "t001"}) is not None


async def test_insert_of_unknown_or_relation_field_is_validation_error(storage: StorageAdapter) -> None:
    with pytest.raises(ValidationError):
        await storage.insert("Todo", todo(1, nope=1))
    with pytest.raises(ValidationError):
        await storage.insert("Post", {"id": "p", "comments": []})


async def test_relation_fields_are_not_stored(storage: StorageAdapter) -> None:
    await storage.insert("Post", {"id": "p", "title": "t"})
    assert await storage.get("Post", {"id": "p"}) == {"id": "p", "title": "t"}


async def test_insert_without_key_is_validation_error(storage: StorageAdapter) -> None:
    with pytest.raises(ValidationError):
        await storage.insert("Todo", {"title": "no id", "createdAt": "x"})
    with pytest.raises(ValidationError):
        await storage.insert("Todo", {"id": None, "createdAt": "x"})


async def test_unknown_model_is_validation_error(storage: StorageAdapter) -> None:
    with pytest.raises(ValidationError):
        await storage.get("Nope", {"id": "1"})


async def test_update_changes_and_clears_fields(storage: StorageAdapter) -> None:
    await storage.insert("Todo", todo(1, title="a", priority=1, tags=["x"]))
    updated = await storage.update("Todo", {"id": "t001"}, {"title": "b", "tags": None, "done": True})
    assert updated["title"] == "b"
    assert updated["tags"] is None
    assert updated["done"] is True
    assert updated["priority"] == 1
    assert await storage.get("Todo", {"id": "t001"}) == updated


async def test_update_of_missing_item_is_conditional_check_failure(storage: StorageAdapter) -> None:
    with pytest.raises(ConditionalCheckFailedError):
        await storage.update("Todo", {"id": "nope"}, {"title": "b"})
    with pytest.raises(ConditionalCheckFailedError):
        await storage.update("Todo", {"id": "nope"}, {"title": "b"}, condition=AttributeExists("id", False))
    with pytest.raises(ConditionalCheckFailedError):
        await storage.update("Todo", {"id": "nope"}, {})
    assert await storage.get("Todo", {"id": "nope"}) is None


async def test_update_with_false_condition_changes_nothing(storage: StorageAdapter) -> None:
    await storage.insert("Todo", todo(1, title="a", priority=1))
    with pytest.raises(ConditionalCheckFailedError):
        await storage.update("Todo", {"id": "t001"}, {"title": "b"}, condition=Compare("priority", "gt", 5))
    assert (await storage.get("Todo", {"id": "t001"}) or {})["title"] == "a"


async def test_update_with_true_condition_applies(storage: StorageAdapter) -> None:
    await storage.insert("Todo", todo(1, title="a", priority=1, tags=["x"]))
    condition = And((Compare("priority", "le", 1), Contains("tags", "x")))
    updated = await storage.update("Todo", {"id": "t001"}, {"priority": 2}, condition=condition)
    assert updated["priority"] == 2


async def test_update_without_changes_returns_the_current_record(storage: StorageAdapter) -> None:
    stored = await storage.insert("Todo", todo(1, title="a"))
    assert await storage.update("Todo", {"id": "t001"}, {}) == stored


async def test_update_cannot_change_the_key(storage: StorageAdapter) -> None:
    await storage.insert("Todo", todo(1))
    with pytest.raises(ValidationError):
        await storage.update("Todo", {"id": "t001"}, {"id": "t002"})
    # Repeating the key's own value is allowed.
    assert (await storage.update("Todo", {"id": "t001"}, {"id": "t001", "title": "x"}))["title"] == "x"


async def test_delete_returns_the_deleted_record(storage: StorageAdapter) -> None:
    stored = await storage.insert("Todo", todo(1, title="a"))
    assert await storage.delete("Todo", {"id": "t001"}) == stored
    assert await storage.get("Todo", {"id": "t001"}) is None


async def test_delete_of_missing_item_is_conditional_check_failure(storage: StorageAdapter) -> None:
    with pytest.raises(ConditionalCheckFailedError):
        await storage.delete("Todo", {"id": "nope"})
    with pytest.raises(ConditionalCheckFailedError):
        await storage.delete("Todo", {"id": "nope"}, condition=AttributeExists("id", False))


async def test_delete_with_condition(storage: StorageAdapter) -> None:
    await storage.insert("Todo", todo(1, title="a"))
    with pytest.raises(ConditionalCheckFailedError):
        await storage.delete("Todo", {"id": "t001"}, condition=Compare("title", "eq", "b"))
    assert await storage.get("Todo", {"id": "t001"}) is not None
    deleted = await storage.delete("Todo", {"id": "t001"}, condition=Compare("title", "eq", "a"))
    assert deleted["title"] == "a"
    assert await storage.get("Todo", {"id": "t001"}) is None


async def test_composite_primary_key_crud(storage: StorageAdapter) -> None:
    key = {"tenant": "acme", "day": "2024-01-01", "seq": 1}
    await storage.insert("Event", {**key, "kind": "a"})
    await storage.insert("Event", {**key, "seq": 2, "kind": "b"})
    assert (await storage.get("Event", key) or {})["kind"] == "a"
    assert (await storage.update("Event", key, {"note": "n"}))["note"] == "n"
    with pytest.raises(ConditionalCheckFailedError):
        await storage.insert("Event", {**key, "kind": "dup"})
    with pytest.raises(ValidationError):
        await storage.get("Event", {"tenant": "acme", "day": "2024-01-01"})
    await storage.delete("Event", key)
    assert await storage.get("Event", key) is None
    assert await storage.get("Event", {**key, "seq": 2}) is not None


async def test_get_many_aligns_results_with_keys_in_one_statement(storage: StorageAdapter) -> None:
    await insert_todos(storage, 5)
    keys = [{"id": "t003"}, {"id": "missing"}, {"id": "t000"}, {"id": "t003"}]
    before = storage.stats.statements
    found = await storage.get_many("Todo", keys)
    assert storage.stats.statements - before == 1
    assert [None if r is None else r["id"] for r in found] == ["t003", None, "t000", "t003"]
    assert await storage.get_many("Todo", []) == []


async def test_get_many_with_composite_keys(storage: StorageAdapter) -> None:
    for seq in range(3):
        await storage.insert("Event", {"tenant": "a", "day": "d", "seq": seq})
    keys = [{"tenant": "a", "day": "d", "seq": 2}, {"tenant": "b", "day": "d", "seq": 2}]
    found = await storage.get_many("Event", keys)
    assert [None if r is None else r["seq"] for r in found] == [2, None]


# -- queries ------------------------------------------------------------------------


async def test_scan_is_ordered_by_primary_key_both_ways(storage: StorageAdapter) -> None:
    await insert_todos(storage, 12)
    ids = [f"t{n:03d}" for n in range(12)]
    assert [r["id"] for r in (await storage.query(Query("Todo"))).items] == ids
    page = await storage.query(Query("Todo", descending=True))
    assert [r["id"] for r in page.items] == ids[::-1]


async def test_filter_applies_before_limit_and_pages_stay_full(storage: StorageAdapter) -> None:
    await insert_todos(storage, 120)
    # Every 7th row matches: 18 of 120.
    matching = In("priority", tuple(range(0, 120, 7)))
    expected = [f"t{n:03d}" for n in range(0, 120, 7)]
    items, sizes = await collect(storage, Query("Todo", filter=matching, limit=4))
    assert [r["id"] for r in items] == expected
    assert sizes == [4, 4, 4, 4, 2]
    items, sizes = await collect(storage, Query("Todo", filter=matching, limit=4, descending=True))
    assert [r["id"] for r in items] == expected[::-1]
    assert sizes == [4, 4, 4, 4, 2]


async def test_last_page_has_no_position_when_exactly_limit_items_remain(storage: StorageAdapter) -> None:
    await insert_todos(storage, 6)
    first = await storage.query(Query("Todo", limit=3))
    assert first.last_key == ("t002",)
    second = await storage.query(Query("Todo", limit=3, after=first.last_key))
    assert [r["id"] for r in second.items] == ["t003", "t004", "t005"]
    assert second.last_key is None


async def test_empty_result_is_an_empty_page(storage: StorageAdapter) -> None:
    assert await storage.query(Query("Todo")) == Page([])


async def test_primary_key_query_with_partition_only(storage: StorageAdapter) -> None:
    await insert_todos(storage, 3)
    page = await storage.query(Query("Todo", key=KeyCondition((("id", "t001"),))))
    assert [r["id"] for r in page.items] == ["t001"]


async def _events(storage: StorageAdapter) -> None:
    for tenant in ("acme", "zeta"):
        for day in ("2024-01-01", "2024-01-02", "2024-02-01"):
            for seq in range(3):
                kind = "click" if seq % 2 == 0 else "view"
                await storage.insert("Event", {"tenant": tenant, "day": day, "seq": seq, "kind": kind})


def _ids(page: Page) -> list[tuple[Any, ...]]:
    return [(r["tenant"], r["day"], r["seq"]) for r in page.items]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (None, [(d, s) for d in ("2024-01-01", "2024-01-02", "2024-02-01") for s in range(3)]),
        (SortKeyCondition(("day",), "eq", ("2024-01-02",)), [("2024-01-02", s) for s in range(3)]),
        (SortKeyCondition(("day", "seq"), "eq", ("2024-01-02", 1)), [("2024-01-02", 1)]),
        (
            SortKeyCondition(("day", "seq"), "gt", ("2024-01-02", 1)),
            [("2024-01-02", 2), ("2024-02-01", 0), ("2024-02-01", 1), ("2024-02-01", 2)],
        ),
        (SortKeyCondition(("day", "seq"), "le", ("2024-01-01", 1)), [("2024-01-01", 0), ("2024-01-01", 1)]),
        (SortKeyCondition(("day",), "lt", ("2024-01-02",)), [("2024-01-01", s) for s in range(3)]),
        (
            SortKeyCondition(("day",), "ge", ("2024-01-02",)),
            [(d, s) for d in ("2024-01-02", "2024-02-01") for s in range(3)],
        ),
        (
            SortKeyCondition(("day", "seq"), "between", ("2024-01-01", 2), ("2024-01-02", 1)),
            [("2024-01-01", 2), ("2024-01-02", 0), ("2024-01-02", 1)],
        ),
        (
            SortKeyCondition(("day",), "beginsWith", ("2024-01",)),
            [(d, s) for d in ("2024-01-01", "2024-01-02") for s in range(3)],
        ),
        (SortKeyCondition(("day",), "beginsWith", ("2024-0_",)), []),
        (SortKeyCondition(("day",), "beginsWith", ("2024-01-0%",)), []),
    ],
    ids=repr,
)
async def test_composite_sort_key_conditions(
    storage: StorageAdapter, sort: SortKeyCondition | None, expected: list[tuple[Any, ...]]
) -> None:
    await _events(storage)
    page = await storage.query(Query("Event", key=KeyCondition((("tenant", "acme"),), sort)))
    assert _ids(page) == [("acme", d, s) for d, s in expected]
    page = await storage.query(Query("Event", key=KeyCondition((("tenant", "acme"),), sort), descending=True))
    assert _ids(page) == [("acme", d, s) for d, s in expected][::-1]


async def test_index_query_with_composite_sort_key_orders_by_it_then_primary_key(
    storage: StorageAdapter,
) -> None:
    await _events(storage)
    key = KeyCondition((("kind", "click"),), SortKeyCondition(("day", "seq"), "ge", ("2024-01-02", 0)))
    page = await storage.query(Query("Event", index="byKind", key=key))
    assert _ids(page) == [
        ("acme", "2024-01-02", 0),
        ("zeta", "2024-01-02", 0),
        ("acme", "2024-01-02", 2),
        ("zeta", "2024-01-02", 2),
        ("acme", "2024-02-01", 0),
        ("zeta", "2024-02-01", 0),
        ("acme", "2024-02-01", 2),
        ("zeta", "2024-02-01", 2),
    ]
    items, _ = await collect(storage, Query("Event", index="byKind", key=key, limit=3, descending=True))
    assert [(r["tenant"], r["day"], r["seq"]) for r in items] == _ids(page)[::-1]


async def test_index_begins_with_on_the_last_of_several_sort_fields(storage: StorageAdapter) -> None:
    await _events(storage)
    await storage.insert("Event", {"tenant": "acme", "day": "2024-01-011", "seq": 0, "kind": "click"})
    key = KeyCondition((("kind", "click"),), SortKeyCondition(("day",), "beginsWith", ("2024-01-01",)))
    page = await storage.query(Query("Event", index="byKind", key=key))
    assert _ids(page) == [
        ("acme", "2024-01-01", 0),
        ("zeta", "2024-01-01", 0),
        ("acme", "2024-01-01", 2),
        ("zeta", "2024-01-01", 2),
        ("acme", "2024-01-011", 0),
    ]


async def test_index_query_is_sparse_like_a_gsi(storage: StorageAdapter) -> None:
    await storage.insert("Todo", todo(1, status="OPEN", priority=1))
    await storage.insert("Todo", todo(2, status="OPEN"))  # no sort key value
    await storage.insert("Todo", todo(3, priority=1))  # no partition key value
    page = await storage.query(Query("Todo", index="byStatus", key=KeyCondition((("status", "OPEN"),))))
    assert [r["id"] for r in page.items] == ["t001"]
    # Without a key condition an index query reads the whole index, in index order.
    await storage.insert("Todo", todo(4, status="DONE", priority=9))
    page = await storage.query(Query("Todo", index="byStatus"))
    assert [r["id"] for r in page.items] == ["t004", "t001"]


async def test_index_query_pages_through_many_rows_with_a_selective_filter(storage: StorageAdapter) -> None:
    for n in range(150):
        owner = "alice" if n % 3 else "bob"
        await storage.insert("Todo", todo(n, ownerId=owner, priority=n % 10, tags=["even"] if n % 2 else []))
    key = KeyCondition(
        (("ownerId", "alice"),), SortKeyCondition(("createdAt",), "beginsWith", ("2024-01-1",))
    )
    wanted = And((Contains("tags", "even"), Compare("priority", "ge", 5)))
    everything = (await storage.query(Query("Todo", index="byOwner", key=key, limit=1000))).items
    expected = [r for r in everything if r["tags"] == ["even"] and r["priority"] >= 5]
    assert 3 < len(expected) < len(everything) / 3
    assert [r["createdAt"] for r in everything] == sorted(r["createdAt"] for r in everything)
    for descending in (False, True):
        items, sizes = await collect(
            storage, Query("Todo", index="byOwner", key=key, filter=wanted, limit=2, descending=descending)
        )
        assert items == (expected[::-1] if descending else expected)
        assert all(size == 2 for size in sizes[:-1])


async def test_index_position_includes_primary_key_as_tie_breaker(storage: StorageAdapter) -> None:
    for n in range(5):
        await storage.insert("Todo", {"id": f"t{n}", "createdAt": "same", "ownerId": "o"})
    q = Query("Todo", index="byOwner", key=KeyCondition((("ownerId", "o"),)), limit=2)
    first = await storage.query(q)
    assert first.last_key == ("o", "same", "t1")
    items, sizes = await collect(storage, q)
    assert [r["id"] for r in items] == [f"t{n}" for n in range(5)]
    assert sizes == [2, 2, 1]


async def test_bad_queries_are_validation_errors(storage: StorageAdapter) -> None:
    with pytest.raises(ValidationError):
        await storage.query(Query("Todo", index="nope"))
    with pytest.raises(ValidationError):
        await storage.query(Query("Todo", key=KeyCondition((("title", "x"),))))
    with pytest.raises(ValidationError):
        await storage.query(Query("Todo", limit=0))
    with pytest.raises(ValidationError):
        await storage.query(Query("Todo", after=("a", "b")))
    with pytest.raises(ValidationError):
        await storage.query(Query("Todo", filter=BeginsWith("title", 3)))  # type: ignore[arg-type]


# -- related ------------------------------------------------------------------------


async def _comments(storage: StorageAdapter) -> None:
    for p in range(4):
        await storage.insert("Post", {"id": f"p{p}", "title": f"post {p}"})
        for c in range(p * 2):
            await storage.insert(
                "Comment",
                {"id": f"c{p}{c}", "postId": f"p{p}", "createdAt": f"2024-01-0{c + 1}", "votes": c},
            )


async def test_query_related_loads_pages_for_many_parents_in_one_statement(storage: StorageAdapter) -> None:
    await _comments(storage)
    parents = [("p3",), ("p0",), ("p2",), ("nope",), ("p3",)]
    before = storage.stats.statements
    pages = await storage.query_related(Query("Comment", index="byPost", limit=3), ("postId",), parents)
    assert storage.stats.statements - before == 1
    assert set(pages) == {("p3",), ("p0",), ("p2",), ("nope",)}
    assert [r["id"] for r in pages[("p3",)].items] == ["c30", "c31", "c32"]
    assert pages[("p3",)].last_key == ("p3", "2024-01-03", "c32")
    assert [r["id"] for r in pages[("p2",)].items] == ["c20", "c21", "c22"]
    assert pages[("p2",)].last_key is not None
    assert pages[("p0",)] == Page([])
    assert pages[("nope",)] == Page([])
    # The next page of one parent continues from its position.
    rest = await storage.query_related(
        Query("Comment", index="byPost", limit=3, after=pages[("p3",)].last_key), ("postId",), [("p3",)]
    )
    assert [r["id"] for r in rest[("p3",)].items] == ["c33", "c34", "c35"]
    assert rest[("p3",)].last_key is None


async def test_query_related_with_sort_condition_filter_and_direction(storage: StorageAdapter) -> None:
    await _comments(storage)
    query = Query(
        "Comment",
        index="byPost",
        key=KeyCondition((), SortKeyCondition(("createdAt",), "ge", ("2024-01-02",))),
        filter=Compare("votes", "ne", 3),
        descending=True,
        limit=10,
    )
    pages = await storage.query_related(query, ("postId",), [("p1",), ("p2",), ("p3",)])
    assert [r["id"] for r in pages[("p1",)].items] == ["c11"]
    assert [r["id"] for r in pages[("p2",)].items] == ["c22", "c21"]
    assert [r["id"] for r in pages[("p3",)].items] == ["c35", "c34", "c32", "c31"]


async def test_query_related_by_primary_key(storage: StorageAdapter) -> None:
    await _comments(storage)
    pages = await storage.query_related(Query("Post", limit=1), ("id",), [("p1",), ("p9",)])
    assert [r["title"] for r in pages[("p1",)].items] == ["post 1"]
    assert pages[("p9",)].items == []


async def test_query_related_on_several_fields(storage: StorageAdapter) -> None:
    await _events(storage)
    parents = [("acme", "2024-01-02"), ("zeta", "2024-02-01"), ("acme", "1999-01-01")]
    before = storage.stats.statements
    query = Query("Event", key=KeyCondition((), SortKeyCondition(("seq",), "ge", (1,))), limit=1)
    pages = await storage.query_related(query, ("tenant", "day"), parents)
    assert storage.stats.statements - before == 1
    assert _ids(pages[("acme", "2024-01-02")]) == [("acme", "2024-01-02", 1)]
    assert pages[("acme", "2024-01-02")].last_key == ("acme", "2024-01-02", 1)
    assert _ids(pages[("zeta", "2024-02-01")]) == [("zeta", "2024-02-01", 1)]
    assert pages[("acme", "1999-01-01")] == Page([])


async def test_query_related_with_no_parents_runs_nothing(storage: StorageAdapter) -> None:
    before = storage.stats.statements
    assert await storage.query_related(Query("Comment", index="byPost"), ("postId",), []) == {}
    assert storage.stats.statements == before


# -- API keys -----------------------------------------------------------------------


async def test_api_keys_put_list_replace_delete(storage: StorageAdapter) -> None:
    assert await storage.list_api_keys() == []
    first = ApiKeyRecord("da2-one", expires_at=2000, description="first", created_at=10)
    second = ApiKeyRecord("da2-two", expires_at=3000, created_at=20)
    await storage.put_api_key(second)
    await storage.put_api_key(first)
    assert await storage.list_api_keys() == [first, second]
    renewed = ApiKeyRecord("da2-one", expires_at=9000, description="renewed", created_at=10)
    await storage.put_api_key(renewed)
    assert await storage.list_api_keys() == [renewed, second]
    assert await storage.delete_api_key("da2-one") is True
    assert await storage.delete_api_key("da2-one") is False
    assert await storage.list_api_keys() == [second]


# -- statistics ---------------------------------------------------------------------


async def test_statement_counter_counts_each_read(storage: StorageAdapter) -> None:
    await insert_todos(storage, 3)
    before = storage.stats.statements
    await storage.get("Todo", {"id": "t001"})
    await storage.query(Query("Todo"))
    assert storage.stats.statements - before == 2
