"""Preparing subscriptions and rendering committed changes for them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ampbase.auth.policy import SchemaPolicy
from ampbase.engine.identity import Identity
from ampbase.engine.subscriptions import event_matches, prepare_subscription, render_event
from ampbase.errors import UnauthorizedError, ValidationError
from ampbase.schema.ir import AuthConfig
from tests.engine.conftest import HarnessFactory
from tests.engine.harness import API_KEY, Harness, schema_from_sdl

pytestmark = pytest.mark.anyio

SCHEMA = """
type Todo @model @auth(rules: [{ allow: public }]) {
  id: ID!
  content: String
  priority: Int
  done: Boolean
  notes: [Note] @hasMany
}

type Note @model @auth(rules: [{ allow: public }]) {
  id: ID!
  text: String
}

type Secret @model @auth(rules: [{ allow: groups, groups: ["Admin"] }]) {
  id: ID!
  value: String
}

type Subscription {
  onTodoNamed(content: String): Todo @aws_subscribe(mutations: ["createTodo", "updateTodo"])
}
"""

ON_CREATE = (
    "subscription ($filter: ModelSubscriptionTodoFilterInput) "
    "{ onCreateTodo(filter: $filter) { id content priority } }"
)
CREATE = "mutation ($input: CreateTodoInput!) { createTodo(input: $input) { id } }"
ADMIN = Identity(mode="userPool", claims={"sub": "u1", "cognito:groups": ["Admin"]})
USER = Identity(mode="userPool", claims={"sub": "u2", "cognito:groups": ["Staff"]})


async def harness(make_engine: HarnessFactory) -> Harness:
    return await make_engine(SCHEMA)


def todo(**fields: Any) -> dict[str, Any]:
    record = {
        "id": "t1",
        "content": "buy milk",
        "priority": 2,
        "done": False,
        "createdAt": "2026-11-22T05:34:15.846Z",
        "updatedAt": "2026-11-22T05:34:15.846Z",
        "__typename": "Todo",
    }
    record.update(fields)
    return record


async def test_model_subscription_listens_to_its_mutation_and_renders_its_own_selection(
    make_engine: HarnessFactory,
) -> None:
    h = await harness(make_engine)
    sub = prepare_subscription(h.engine, ON_CREATE, {}, API_KEY)
    assert sub.field_name == "onCreateTodo"
    assert sub.mutations == {"createTodo"}
    assert await render_event(sub, "updateTodo", todo()) is None
    payload = await render_event(sub, "createTodo", todo())
    assert payload == {"data": {"onCreateTodo": {"id": "t1", "content": "buy milk", "priority": 2}}}


async def test_update_and_delete_subscriptions_map_to_their_mutations(make_engine: HarnessFactory) -> None:
    h = await harness(make_engine)
    upd = prepare_subscription(h.engine, "subscription { onUpdateTodo { id } }", None, API_KEY)
    dele = prepare_subscription(h.engine, "subscription { onDeleteTodo { id } }", None, API_KEY)
    assert upd.mutations == {"updateTodo"}
    assert dele.mutations == {"deleteTodo"}


async def test_fields_the_mutation_did_not_select_are_filled_from_the_record(
    make_engine: HarnessFactory,
) -> None:
    """The documented difference from AppSync: the committed record, not the mutation's result."""
    h = await harness(make_engine)
    sub = prepare_subscription(h.engine, "subscription { onCreateTodo { id done createdAt } }", {}, API_KEY)
    await h.ok(CREATE, {"input": {"id": "t9", "content": "x", "done": True}})
    event = h.pubsub.published[-1]
    payload = await render_event(sub, event.mutation, event.record)
    assert payload == {
        "data": {"onCreateTodo": {"id": "t9", "done": True, "createdAt": "2026-11-22T05:34:15.846Z"}}
    }


async def test_aliases_and_typename_are_honoured(make_engine: HarnessFactory) -> None:
    h = await harness(make_engine)
    sub = prepare_subscription(
        h.engine, "subscription S { created: onCreateTodo { key: id __typename } }", {}, API_KEY, "S"
    )
    payload = await render_event(sub, "createTodo", todo())
    assert payload == {"data": {"created": {"key": "t1", "__typename": "Todo"}}}


@pytest.mark.parametrize(
    ("filter_", "matches"),
    [
        ({"content": {"contains": "milk"}}, True),
        ({"content": {"notContains": "milk"}}, False),
        ({"content": {"beginsWith": "buy"}}, True),
        ({"priority": {"between": [1, 3]}}, True),
        ({"priority": {"gt": 2}}, False),
        ({"priority": {"in": [1, 2]}}, True),
        ({"priority": {"notIn": [1, 2]}}, False),
        ({"content": {"in": ["x", "buy milk"]}}, True),
        ({"and": [{"priority": {"ge": 2}}, {"done": {"eq": False}}]}, True),
        ({"and": [{"priority": {"ge": 2}}, {"done": {"eq": True}}]}, False),
        ({"or": [{"priority": {"eq": 9}}, {"content": {"eq": "buy milk"}}]}, True),
        ({"or": [{"priority": {"eq": 9}}, {"content": {"ne": "buy milk"}}]}, False),
        ({"or": [{"and": [{"priority": {"notIn": [5]}}, {"id": {"eq": "t1"}}]}]}, True),
        ({}, True),
    ],
)
async def test_filters_apply_to_each_event(
    make_engine: HarnessFactory, filter_: dict[str, Any], matches: bool
) -> None:
    h = await harness(make_engine)
    sub = prepare_subscription(h.engine, ON_CREATE, {"filter": filter_}, API_KEY)
    assert event_matches(sub, "createTodo", todo()) is matches
    assert (await render_event(sub, "createTodo", todo()) is not None) is matches


async def test_filter_given_inline_in_the_document_works(make_engine: HarnessFactory) -> None:
    h = await harness(make_engine)
    query = "subscription { onCreateTodo(filter: {priority: {in: [7]}}) { id } }"
    sub = prepare_subscription(h.engine, query, None, API_KEY)
    assert not event_matches(sub, "createTodo", todo())
    assert event_matches(sub, "createTodo", todo(priority=7))


async def test_custom_subscription_listens_to_subscribe_to_and_filters_on_arguments(
    make_engine: HarnessFactory,
) -> None:
    h = await harness(make_engine)
    query = "subscription ($c: String) { onTodoNamed(content: $c) { id content } }"
    anything = prepare_subscription(h.engine, query, {}, Identity(mode=None))
    assert anything.mutations == {"createTodo", "updateTodo"}
    assert event_matches(anything, "updateTodo", todo())
    assert not event_matches(anything, "deleteTodo", todo())
    named = prepare_subscription(h.engine, query, {"c": "tea"}, Identity(mode=None))
    assert not event_matches(named, "createTodo", todo())
    assert event_matches(named, "createTodo", todo(content="tea"))


async def test_relationship_fields_are_resolved_for_the_subscriber(make_engine: HarnessFactory) -> None:
    h = await harness(make_engine)
    await h.ok(CREATE, {"input": {"id": "t1", "content": "x"}})
    await h.ok(
        "mutation ($input: CreateNoteInput!) { createNote(input: $input) { id } }",
        {"input": {"id": "n1", "text": "hello", "todoNotesId": "t1"}},
    )
    sub = prepare_subscription(
        h.engine, "subscription { onCreateTodo { id notes { items { id text } } } }", {}, API_KEY
    )
    payload = await render_event(sub, "createTodo", h.pubsub.published[0].record)
    assert payload == {
        "data": {"onCreateTodo": {"id": "t1", "notes": {"items": [{"id": "n1", "text": "hello"}]}}}
    }


async def test_listening_needs_the_models_read_rights(make_engine: HarnessFactory) -> None:
    h = await harness(make_engine)
    query = "subscription { onCreateSecret { id value } }"
    with pytest.raises(
        UnauthorizedError, match="Not Authorized to access onCreateSecret on type Subscription"
    ):
        prepare_subscription(h.engine, query, {}, USER)
    with pytest.raises(UnauthorizedError):
        prepare_subscription(h.engine, query, {}, API_KEY)
    sub = prepare_subscription(h.engine, query, {}, ADMIN)
    assert await render_event(sub, "createSecret", {"id": "s1", "value": "v", "__typename": "Secret"}) == {
        "data": {"onCreateSecret": {"id": "s1", "value": "v"}}
    }


async def test_read_rights_are_rechecked_for_every_event(make_engine: HarnessFactory) -> None:
    h = await harness(make_engine)
    sub = prepare_subscription(h.engine, "subscription { onCreateSecret { id } }", {}, ADMIN)

    # the Admin group loses its rights (a reloaded schema with other rules, say)
    revoked = replace(h.schema, models=tuple(replace(m, auth_rules=()) for m in h.schema.models))
    h.engine.policy = SchemaPolicy(revoked)
    assert await render_event(sub, "createSecret", {"id": "s1"}) is None


@pytest.mark.parametrize(
    ("query", "variables", "message"),
    [
        ("subscription {", {}, "Syntax Error"),
        ("subscription { onCreateTodo { nope } }", {}, "Cannot query field 'nope'"),
        ("query { listTodos { items { id } } }", {}, "only serves subscriptions"),
        ('mutation { deleteTodo(input: {id: "1"}) { id } }', {}, "only serves subscriptions"),
        (
            "subscription A { onCreateTodo { id } } subscription B { onUpdateTodo { id } }",
            {},
            "operation name",
        ),
        (
            "subscription { onCreateTodo { id } onUpdateTodo { id } }",
            {},
            "Anonymous Subscription must select only one",
        ),
        (ON_CREATE, {"filter": {"priority": {"eq": "high"}}}, "Int cannot represent"),
        (ON_CREATE, {"filter": {"nope": {"eq": 1}}}, "nope"),
    ],
)
async def test_bad_subscription_documents_are_validation_errors(
    make_engine: HarnessFactory, query: str, variables: dict[str, Any], message: str
) -> None:
    h = await harness(make_engine)
    with pytest.raises(ValidationError, match=message):
        prepare_subscription(h.engine, query, variables, API_KEY)


async def test_unknown_operation_name_is_a_validation_error(make_engine: HarnessFactory) -> None:
    h = await harness(make_engine)
    with pytest.raises(ValidationError, match="Unknown operation named 'X'"):
        prepare_subscription(h.engine, "subscription A { onCreateTodo { id } }", {}, API_KEY, "X")


async def test_subscriptions_without_resolved_fields_can_share_renderings(
    make_engine: HarnessFactory,
) -> None:
    h = await harness(make_engine)
    plain = "subscription { onCreateTodo { id content __typename } }"
    first = prepare_subscription(h.engine, plain, {}, API_KEY)
    second = prepare_subscription(h.engine, plain, {}, Identity(mode=None))
    assert first.render_key is not None
    assert first.render_key == second.render_key
    filtered = prepare_subscription(h.engine, ON_CREATE, {"filter": {"priority": {"eq": 1}}}, API_KEY)
    assert filtered.render_key not in (None, first.render_key)
    related = "subscription { onCreateTodo { id ...N } } fragment N on Todo { notes { items { id } } }"
    assert prepare_subscription(h.engine, related, {}, API_KEY).render_key is None


async def test_a_cached_invalid_document_fails_the_same_way_every_time(make_engine: HarnessFactory) -> None:
    h = await harness(make_engine)
    for _ in range(2):
        with pytest.raises(ValidationError, match="Cannot query field 'nope'"):
            prepare_subscription(h.engine, "subscription { onCreateTodo { nope } }", {}, API_KEY)


OWNED = """
type Diary @model @auth(rules: [{ allow: owner }, { allow: public, operations: [read] }]) {
  id: ID!
  text: String
}
"""
ALICE = Identity(mode="userPool", claims={"sub": "s-alice", "username": "alice"})
BOB = Identity(mode="userPool", claims={"sub": "s-bob", "username": "bob"})


async def test_owner_rules_of_the_policy_filter_each_event(make_engine: HarnessFactory) -> None:
    schema = replace(schema_from_sdl(OWNED), auth=AuthConfig("apiKey", ("apiKey", "userPool")))
    h = await make_engine(schema)
    h.engine.policy = SchemaPolicy(schema)  # what the engine exposes once it adopts the policy
    query = "subscription ($owner: String) { onCreateDiary(owner: $owner) { id text } }"
    alices = {"id": "d1", "text": "mine", "owner": "s-alice::alice", "__typename": "Diary"}
    bobs = {"id": "d2", "text": "his", "owner": "s-bob::bob", "__typename": "Diary"}

    alice = prepare_subscription(h.engine, query, {}, ALICE)
    assert event_matches(alice, "createDiary", alices)
    assert not event_matches(alice, "createDiary", bobs)
    assert prepare_subscription(h.engine, query, {"owner": "alice"}, ALICE).predicate is None
    with pytest.raises(UnauthorizedError):
        prepare_subscription(h.engine, query, {"owner": "alice"}, BOB)
    public = prepare_subscription(h.engine, query, {}, API_KEY)  # a static rule: every record
    assert event_matches(public, "createDiary", alices)
    assert event_matches(public, "createDiary", bobs)
    assert await render_event(alice, "createDiary", alices) == {
        "data": {"onCreateDiary": {"id": "d1", "text": "mine"}}
    }


async def test_subscribers_share_a_fan_out_only_when_their_access_is_the_same(
    make_engine: HarnessFactory,
) -> None:
    schema = replace(schema_from_sdl(OWNED), auth=AuthConfig("apiKey", ("apiKey", "userPool")))
    h = await make_engine(schema)
    h.engine.policy = SchemaPolicy(schema)
    query = "subscription { onCreateDiary { id text } }"
    alice = prepare_subscription(h.engine, query, {}, ALICE)
    alice_again = prepare_subscription(h.engine, query, {}, ALICE)
    bob = prepare_subscription(h.engine, query, {}, BOB)
    public = prepare_subscription(h.engine, query, {}, API_KEY)
    other_key = prepare_subscription(h.engine, query, {}, Identity(mode="apiKey"))
    assert alice.share_key is not None and alice.share_key == alice_again.share_key
    assert bob.share_key not in (None, alice.share_key)  # each owner's events are filtered apart
    assert public.share_key is not None and public.share_key == other_key.share_key
    assert public.share_key != alice.share_key
    denied = Identity(mode="apiKey", denied_fields=("Diary.id",))
    assert prepare_subscription(h.engine, query, {}, denied).share_key is None  # rendered for it alone


async def test_the_listen_decision_is_taken_once_per_policy(
    make_engine: HarnessFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ampbase.engine import subscriptions

    schema = replace(schema_from_sdl(OWNED), auth=AuthConfig("apiKey", ("apiKey", "userPool")))
    h = await make_engine(schema)
    h.engine.policy = SchemaPolicy(schema)
    alice = prepare_subscription(h.engine, "subscription { onCreateDiary { id } }", {}, ALICE)
    decisions: list[str] = []
    original = subscriptions._authorize

    def counting(*args: Any) -> Any:
        decisions.append("decided")
        return original(*args)

    monkeypatch.setattr(subscriptions, "_authorize", counting)
    alices = {"id": "d1", "owner": "s-alice::alice", "__typename": "Diary"}
    bobs = {"id": "d2", "owner": "s-bob::bob", "__typename": "Diary"}
    for _ in range(3):
        assert event_matches(alice, "createDiary", alices)
        assert not event_matches(alice, "createDiary", bobs)
    assert decisions == []  # decided when prepared
    h.engine.policy = SchemaPolicy(schema)  # a new policy object: decided again, once
    assert event_matches(alice, "createDiary", alices)
    assert not event_matches(alice, "createDiary", bobs)
    assert decisions == ["decided"]


PROFILE = """
type Profile @model @auth(rules: [{ allow: public }, { allow: owner }]) {
  id: ID!
  name: String
  ssn: String @auth(rules: [{ allow: owner }])
}
"""


async def test_policy_projects_owner_values_and_nulls_protected_fields(make_engine: HarnessFactory) -> None:
    schema = replace(schema_from_sdl(PROFILE), auth=AuthConfig("apiKey", ("apiKey", "userPool")))
    h = await make_engine(schema)
    h.engine.policy = SchemaPolicy(schema)
    query = "subscription { onCreateProfile { id ssn owner } }"
    record = {"id": "p1", "ssn": "123", "owner": "s-alice::alice", "__typename": "Profile"}
    owner = prepare_subscription(h.engine, query, {}, ALICE)
    public = prepare_subscription(h.engine, query, {}, API_KEY)
    assert owner.render_key is None  # visibility depends on the subscriber
    assert await render_event(owner, "createProfile", record) == {
        "data": {"onCreateProfile": {"id": "p1", "ssn": "123", "owner": "alice"}}
    }
    assert await render_event(public, "createProfile", record) == {
        "data": {"onCreateProfile": {"id": "p1", "ssn": None, "owner": "alice"}}
    }
