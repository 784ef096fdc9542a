"""The fast paths (planned field execution, compiled queries) answer exactly as graphql-core does.

Every case runs twice on the same engine and data: once as served (compiled queries and the
planned execution context on), once through graphql-core's stock ``ExecutionContext`` with no
compiled query; the response bodies must be byte-identical — data, ``errors``, paths, locations.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from graphql.execution import ExecutionContext

from ampbase.engine.compiled import compile_query
from ampbase.engine.execution import FastExecutionContext, SelectionPlans
from ampbase.engine.identity import Identity
from tests.engine.conftest import HarnessFactory
from tests.engine.harness import API_KEY, Harness

pytestmark = pytest.mark.anyio

SCHEMA = """
enum Priority { LOW HIGH }
type Address { street: String! city: String zip: Int }
type Item @model @auth(rules: [{ allow: public }, { allow: owner }]) {
  id: ID!
  name: String!
  note: String
  count: Int
  ratio: Float
  done: Boolean
  priority: Priority
  due: AWSDate
  at: AWSDateTime
  meta: AWSJSON
  stamp: AWSTimestamp
  email: AWSEmail
  address: Address
  tags: [String]
  owner: String
  parts: [Part] @hasMany
  category: String @index(name: "byCategory", queryField: "itemsByCategory", sortKeyFields: ["name"])
}
type Part @model @auth(rules: [{ allow: public }]) {
  id: ID!
  label: String!
  itemPartsId: ID
}
"""

FIELDS = "id name note count ratio done priority due at meta stamp email address { street city zip } tags"
ALICE = Identity(mode="userPool", claims={"sub": "alice-sub", "cognito:username": "alice"})


async def both(
    h: Harness, query: str, variables: dict[str, Any] | None = None, identity: Identity = API_KEY
) -> Any:
    """The served body, after checking it equals graphql-core's stock answer."""
    served = await h.engine.execute(query, variables, identity)
    engine: Any = h.engine
    fast, compiled = engine._execution_context, dict(engine._compiled)
    engine._execution_context, engine._compiled = ExecutionContext, {}
    try:
        stock = await h.engine.execute(query, variables, identity)
    finally:
        engine._execution_context, engine._compiled = fast, compiled
    assert _same_request(json.dumps(served)) == _same_request(json.dumps(stock))
    return served


def _same_request(text: str) -> str:
    return re.sub(r"request id [0-9a-f]+-\d+", "request id R", text)


async def seeded(make_engine: HarnessFactory) -> Harness:
    h = await make_engine(SCHEMA)
    items = [
        {
            "id": "i1",
            "name": "first",
            "note": "n",
            "count": 3,
            "ratio": 0.5,
            "done": True,
            "priority": "HIGH",
            "due": "2026-12-07",
            "at": "2026-12-07T10:00:00.000Z",
            "meta": '{"a":[1,2]}',
            "stamp": 1700000000,
            "email": "a@example.com",
            "address": {"street": "Main", "city": None, "zip": 12345},
            "tags": ["x", "y"],
            "category": "c",
        },
        {"id": "i2", "name": "second", "category": "c"},
        {"id": "i3", "name": "third", "count": 2**31 - 1, "ratio": 2.0, "done": False, "category": "d"},
    ]
    for item in items:
        await h.ok(
            "mutation ($input: CreateItemInput!) { createItem(input: $input) { id } }", {"input": item}
        )
    for n in range(3):
        await h.ok(
            "mutation ($input: CreatePartInput!) { createPart(input: $input) { id } }",
            {"input": {"id": f"p{n}", "label": f"part {n}", "itemPartsId": "i1"}},
        )
    return h


BY_PREFIX = (
    "query ($c: String!, $p: String) "
    "{ itemsByCategory(category: $c, name: { beginsWith: $p }) { items { id } } }"
)

QUERIES: list[tuple[str, dict[str, Any] | None]] = [
    (f"query Q($id: ID!) {{ getItem(id: $id) {{ {FIELDS} createdAt updatedAt __typename }} }}", {"id": "i1"}),
    (f"query Q($id: ID!) {{ getItem(id: $id) {{ {FIELDS} }} }}", {"id": "i2"}),
    (f"query Q($id: ID!) {{ getItem(id: $id) {{ {FIELDS} }} }}", {"id": "missing"}),
    ('{ getItem(id: "i3") { id count ratio done } }', None),
    ('{ alias: getItem(id: "i1") { k: id name n2: name __typename } }', None),
    (
        f"query L($limit: Int) {{ listItems(limit: $limit) {{ items {{ {FIELDS} }} nextToken }} }}",
        {"limit": 2},
    ),
    (f"{{ listItems {{ items {{ {FIELDS} }} nextToken __typename }} }}", None),
    ('{ itemsByCategory(category: "c", sortDirection: DESC) { items { id name } } }', None),
    (
        'query ($c: String!) { itemsByCategory(category: $c, name: { beginsWith: "f" }) { items { id } } }',
        {"c": "c"},
    ),
    ("{ listItems(filter: { count: { gt: 1 } }) { items { id count } } }", None),
    ('{ getItem(id: "i1") { id parts { items { id label } nextToken } } }', None),
    ("{ listItems { items { id parts(limit: 2) { items { label } } } } }", None),
    ("query ($id: ID!) { getItem(id: $id) { ...F } } fragment F on Item { id name }", {"id": "i1"}),
    (
        "query ($id: ID!, $skip: Boolean!) { getItem(id: $id) { id name @skip(if: $skip) } }",
        {"id": "i1", "skip": True},
    ),
    # variables graphql-core coerces or rejects: the compiled path must step aside
    ("query ($id: ID!) { getItem(id: $id) { id } }", {"id": 1}),
    ("query ($id: ID!) { getItem(id: $id) { id } }", {}),
    ("query ($id: ID!) { getItem(id: $id) { id } }", {"id": None}),
    ("query ($limit: Int) { listItems(limit: $limit) { items { id } } }", {"limit": "ten"}),
    ("query ($limit: Int) { listItems(limit: $limit) { items { id } } }", {"limit": 2**40}),
    ("query ($limit: Int) { listItems(limit: $limit) { items { id } } }", {"limit": True}),
    ("query ($limit: Int) { listItems(limit: $limit) { items { id } } }", {"limit": None}),
    ("query ($limit: Int) { listItems(limit: $limit) { items { id } } }", {"limit": 0}),
    ('{ listItems(nextToken: "forged") { items { id } } }', None),
    # input objects: literals and variables inside, as graphql-core coerces them
    (BY_PREFIX, {"c": "c", "p": "s"}),
    (BY_PREFIX, {"c": "c"}),
    (BY_PREFIX, {"c": "c", "p": None}),
    (BY_PREFIX, {"c": "c", "p": 7}),
    ('{ listItems(filter: { count: { gt: 1 }, name: { beginsWith: "f" } }) { items { id count } } }', None),
    ("{ listItems(filter: { or: [{ count: { gt: 1 } }, { done: { eq: false } }] }) { items { id } } }", None),
    ("{ listItems(filter: { name: { eq: null } }) { items { id } } }", None),
]


@pytest.mark.parametrize(("query", "variables"), QUERIES, ids=[str(i) for i in range(len(QUERIES))])
async def test_fast_paths_answer_exactly_like_graphql_core(
    make_engine: HarnessFactory, query: str, variables: dict[str, Any] | None
) -> None:
    h = await seeded(make_engine)
    await both(h, query, variables)
    await both(h, query, variables)  # a second time: cached document, plans and compiled query


async def test_owner_fields_and_denied_records_match_graphql_core(make_engine: HarnessFactory) -> None:
    h = await seeded(make_engine)
    created = await h.ok(
        'mutation { createItem(input: { id: "mine", name: "alice\'s" }) { id owner } }', identity=ALICE
    )
    assert created["createItem"]["owner"] == "alice"
    body = await both(h, '{ getItem(id: "mine") { id name owner } }', identity=ALICE)
    assert body["data"]["getItem"]["owner"] == "alice"
    await both(h, "{ listItems { items { id owner } } }", identity=ALICE)
    bob = Identity(mode="userPool", claims={"sub": "bob-sub", "cognito:username": "bob"})
    await both(h, '{ getItem(id: "mine") { id name } }', identity=bob)
    await both(h, '{ getItem(id: "mine") { id name } }')


async def test_bad_stored_values_are_reported_like_graphql_core(make_engine: HarnessFactory) -> None:
    h = await seeded(make_engine)
    # rows a buggy import could leave behind: a null in a non-null field, values no scalar accepts
    await h.storage.insert("Item", {"id": "bad1", "name": None, "count": 2**40})
    await h.storage.insert("Item", {"id": "bad2", "name": "ok", "done": "yes", "ratio": "x"})
    for item in ("bad1", "bad2"):
        body = await both(
            h, "query ($id: ID!) { getItem(id: $id) { id name count done ratio } }", {"id": item}
        )
        assert body.get("errors"), body
    body = await both(h, "{ listItems { items { id name count done ratio } } }")
    assert body.get("errors"), body


async def test_denied_fields_and_operation_names_take_the_stock_path(make_engine: HarnessFactory) -> None:
    h = await seeded(make_engine)
    lambda_identity = Identity(mode="apiKey", api_key="da2-test", denied_fields=("Item.note",))
    body = await both(h, '{ getItem(id: "i1") { id note } }', identity=lambda_identity)
    assert body["data"]["getItem"] == {"id": "i1", "note": None}
    await both(h, 'query A { getItem(id: "i1") { id } }')
    body = await h.engine.execute('query A { getItem(id: "i1") { id } }', None, API_KEY, operation_name="B")
    assert body["errors"][0]["message"] == "Unknown operation named 'B'."


async def test_only_plain_generated_reads_compile(make_engine: HarnessFactory) -> None:
    h = await seeded(make_engine)
    engine: Any = h.engine
    compiled = [
        "query ($id: ID!) { getItem(id: $id) { id name address { city } } }",
        "query ($limit: Int, $next: String) "
        "{ listItems(limit: $limit, nextToken: $next) { items { id } nextToken } }",
        '{ itemsByCategory(category: "c", sortDirection: ASC) { items { id } } }',
        BY_PREFIX,
        '{ listItems(filter: { count: { gt: 1 }, name: { beginsWith: "f" } }) { items { id } } }',
        'mutation { deleteItem(input: { id: "i3" }) { id } }',
    ]
    not_compiled = [
        '{ getItem(id: "i1") { id parts { items { id } } } }',  # a relation resolver
        "query ($f: ModelItemFilterInput) { listItems(filter: $f) { items { id } } }",  # input object
        '{ getItem(id: "i1") { ...F } } fragment F on Item { id }',
        '{ a: getItem(id: "i1") { id } b: getItem(id: "i2") { id } }',
        "{ __typename }",
        "{ listItems(filter: { or: [{ count: { gt: 1 } }] }) { items { id } } }",  # a list literal
    ]
    for query in compiled + not_compiled:
        await h.engine.execute(query, {}, API_KEY)
    assert [q in engine._compiled for q in compiled] == [True] * len(compiled)
    assert [q in engine._compiled for q in not_compiled] == [False] * len(not_compiled)
    assert compile_query(engine.graphql_schema, engine._documents[compiled[0]], {}) is None


def test_selection_plans_are_shared_and_bounded() -> None:
    from graphql import build_schema, parse

    schema = build_schema("type Query { a: A } type A { x: Int y: String }")
    a_type: Any = schema.type_map["A"]
    document = parse("{ a { x y } }")
    root: Any = document.definitions[0]
    nodes = root.selection_set.selections[0].selection_set.selections
    fields = {node.name.value: [node] for node in nodes}
    plans = SelectionPlans(size=1)
    first = plans.get(a_type, fields)
    assert plans.get(a_type, dict(fields)) is first
    assert [p.key for p in first] == ["x", "y"]
    other = parse("{ a { y } }")
    other_root: Any = other.definitions[0]
    plans.get(a_type, {"y": [other_root.selection_set.selections[0].selection_set.selections[0]]})
    assert plans.get(a_type, fields) is not first  # evicted, planned again
    assert issubclass(FastExecutionContext, ExecutionContext)


WRITE_FIELDS = (
    "id name note count ratio done priority due at meta stamp email address { street city zip } tags"
)
CREATE = (
    f"mutation C($input: CreateItemInput!) {{ createItem(input: $input) {{ {WRITE_FIELDS} createdAt }} }}"
)
UPDATE = "mutation U($input: UpdateItemInput!) { updateItem(input: $input) { id name note count updatedAt } }"
DELETE = "mutation D($input: DeleteItemInput!) { deleteItem(input: $input) { id name } }"
FULL_INPUT = {
    "id": "w1",
    "name": "written",
    "note": None,
    "count": 5,
    "ratio": 1.5,
    "done": False,
    "priority": "LOW",
    "due": "2026-12-24",
    "at": "2026-12-24T18:00:00.000Z",
    "meta": '{"k":"v"}',
    "stamp": 1700000001,
    "email": "w@example.com",
    "address": {"street": "High", "zip": 1},
    "tags": ["a"],
}

WRITES: list[tuple[str, dict[str, Any]]] = [
    (CREATE, {"input": FULL_INPUT}),
    (CREATE, {"input": {"id": "w2", "name": "minimal"}}),
    (CREATE, {"input": {"id": "i1", "name": "duplicate id"}}),  # the resolver fails: ConditionalCheckFailed
    # graphql-core coerces or rejects these variables before any write
    (CREATE, {"input": {"id": "w3"}}),  # missing name
    (CREATE, {"input": {"id": "w3", "name": "x", "unknown": 1}}),
    (CREATE, {"input": {"id": "w3", "name": "x", "count": "five"}}),
    (CREATE, {"input": {"id": "w3", "name": "x", "ratio": 2}}),  # an int for a Float
    (CREATE, {"input": {"id": "w3", "name": "x", "due": "24/12/2026"}}),
    (CREATE, {"input": {"id": "w3", "name": "x", "priority": "MEDIUM"}}),
    (CREATE, {"input": {"id": "w3", "name": "x", "tags": "single"}}),  # wrapped in a list
    (CREATE, {"input": {"id": "w3", "name": "x", "address": {"city": "no street"}}}),
    (CREATE, {"input": {"id": 33, "name": "numeric id"}}),
    (CREATE, {"input": None}),
    (CREATE, {}),
    (UPDATE, {"input": {"id": "i2", "note": "updated", "count": None}}),
    (UPDATE, {"input": {"id": "nope", "note": "missing record"}}),
    (UPDATE, {"input": {"id": "bad1", "note": "a stored null in a non-null field"}}),
    (DELETE, {"input": {"id": "i3"}}),
    (DELETE, {"input": {"id": "i3x"}}),
    ('mutation { createItem(input: { id: "w4", name: "literal", count: 1 }) { id name count } }', {}),
]


@pytest.mark.parametrize(("query", "variables"), WRITES, ids=[str(i) for i in range(len(WRITES))])
async def test_compiled_mutations_answer_and_write_exactly_like_graphql_core(
    make_engine: HarnessFactory, query: str, variables: dict[str, Any]
) -> None:
    served, stock = await seeded(make_engine), await seeded(make_engine)
    for h in (served, stock):
        await h.storage.insert("Item", {"id": "bad1", "note": "no name"})
    engine: Any = stock.engine
    engine._execution_context = ExecutionContext
    answers = []
    for h in (served, stock):
        answers.append(await h.engine.execute(query, variables, API_KEY))
        engine._compiled.clear()
    assert _same_request(json.dumps(answers[0])) == _same_request(json.dumps(answers[1]))
    listing = "{ listItems(limit: 100) { items { " + WRITE_FIELDS + " createdAt updatedAt } } }"
    stored = [_same_request(json.dumps(await h.run(listing))) for h in (served, stock)]
    assert stored[0] == stored[1]


async def test_generated_mutations_compile(make_engine: HarnessFactory) -> None:
    h = await seeded(make_engine)
    engine: Any = h.engine
    for query, variables in (
        (CREATE, {"input": {"id": "c1", "name": "n"}}),
        (DELETE, {"input": {"id": "c1"}}),
    ):
        await h.ok(query, variables)
        assert query in engine._compiled and engine._compiled[query].mutation
