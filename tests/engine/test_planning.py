"""Index selection for lists whose filter pins a key (what the JS client's lazy loaders send)."""

from __future__ import annotations

from ampbase.engine.planning import pinned_key, pinned_values
from ampbase.schema.ir import ModelDef
from ampbase.storage.base import KeyCondition, SortKeyCondition
from tests.engine.harness import oracle_schema, schema_from_sdl

SDL = """
type Event @model @auth(rules: [{ allow: public }]) {
  tenant: String! @primaryKey(sortKeyFields: ["seq"])
  seq: Int!
  room: String @index(name: "byRoom", sortKeyFields: ["day"])
  day: String
  kind: String! @index(name: "byKind", sortKeyFields: ["room"])
  tag: String @index(name: "byTag", sortKeyFields: ["seq"])
}
"""


def event_model() -> ModelDef:
    model = schema_from_sdl(SDL).get_model("Event")
    assert model is not None
    return model


def test_pins_are_top_level_and_top_level_and_equalities_only() -> None:
    assert pinned_values({"and": [{"teamId": {"eq": "t"}}]}) == {"teamId": "t"}
    nested = {"a": {"eq": 1, "gt": 0}, "and": [{"and": [{"b": {"eq": 2}}]}, {"a": {"eq": 9}}]}
    assert pinned_values(nested) == {"a": 1, "b": 2}
    assert pinned_values({"or": [{"a": {"eq": 1}}], "not": {"b": {"eq": 2}}}) == {}
    assert pinned_values({"a": {"eq": None}, "b": {"ne": 1}, "c": None}) == {}
    assert pinned_values(None) == {}


def test_the_relationship_index_of_a_lazy_loader_filter_is_chosen() -> None:
    member = oracle_schema("gen2-member-team").get_model("Member")
    assert member is not None
    pinned = pinned_key(member, {"and": [{"teamId": {"eq": "t1"}}]})
    assert pinned is not None
    assert pinned.index_name == "gsi-Team.members"
    assert pinned.key == KeyCondition(partition=(("teamId", "t1"),))
    assert pinned_key(member, {"name": {"eq": "x"}}) is None  # no index on name: a scan


def test_composite_references_pin_partition_and_sort_fields() -> None:
    invoice = oracle_schema("relations-references-composite").get_model("Invoice")
    assert invoice is not None
    pinned = pinned_key(invoice, {"and": [{"accountTenant": {"eq": "t"}}, {"accountNo": {"eq": 7}}]})
    assert pinned is not None
    assert pinned.key == KeyCondition(
        partition=(("accountTenant", "t"),), sort=SortKeyCondition(("accountNo",), "eq", (7,))
    )


def test_an_index_that_could_miss_matching_items_is_not_used() -> None:
    model = event_model()
    # byRoom's sort key `day` is optional: an item with room set and no day is not in the index
    assert pinned_key(model, {"room": {"eq": "r"}}) is None
    pinned = pinned_key(model, {"room": {"eq": "r"}, "day": {"eq": "mon"}})
    assert pinned is not None and pinned.index_name == "byRoom"
    # byKind's sort key `room` is optional too; byTag's `seq` is part of the primary key
    assert pinned_key(model, {"kind": {"eq": "k"}}) is None
    pinned = pinned_key(model, {"tag": {"eq": "x"}})
    assert pinned is not None and pinned.index_name == "byTag"


def test_the_key_pinning_most_fields_wins_then_the_primary_key() -> None:
    model = event_model()
    pinned = pinned_key(model, {"tenant": {"eq": "a"}, "tag": {"eq": "x"}})
    assert pinned is not None and pinned.index is None  # tie: the primary key
    pinned = pinned_key(model, {"tenant": {"eq": "a"}, "tag": {"eq": "x"}, "seq": {"eq": 3}})
    assert pinned is not None and pinned.index is None
    assert pinned.key.sort == SortKeyCondition(("seq",), "eq", (3,))
    pinned = pinned_key(model, {"tenant": {"eq": "a"}, "kind": {"eq": "k"}, "room": {"eq": "r"}})
    assert pinned is not None and pinned.index_name == "byKind"


def test_gen1_implicit_relationship_fields_use_their_default_indexes() -> None:
    comment = oracle_schema("has-many-implicit").get_model("Comment")
    book = oracle_schema("has-many-implicit-composite-parent").get_model("Book")
    assert comment is not None and book is not None
    pinned = pinned_key(comment, {"and": [{"postCommentsId": {"eq": "p"}}]})
    assert pinned is not None and pinned.index_name == "gsi-Post.comments"
    filter_value = {"and": [{"shelfBooksStore": {"eq": "s"}}, {"shelfBooksCode": {"eq": 1}}]}
    pinned = pinned_key(book, filter_value)
    assert pinned is not None and pinned.index_name == "gsi-Shelf.books"
    assert pinned.key.sort == SortKeyCondition(("shelfBooksCode",), "eq", (1,))
    # the store alone would miss books without a code (the index's optional sort key): a scan
    assert pinned_key(book, {"shelfBooksStore": {"eq": "s"}}) is None
