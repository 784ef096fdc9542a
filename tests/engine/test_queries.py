"""List and index queries: filters before limit, signed pagination, key conditions, sort direction."""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine.conftest import HarnessFactory
from tests.engine.harness import TRUSTED, Harness, oracle_schema

pytestmark = pytest.mark.anyio

TODO = """
type Todo @model @auth(rules: [{ allow: public }]) {
  id: ID!
  n: Int!
  parity: String!
}
"""

LIST = """query ($filter: ModelTodoFilterInput, $limit: Int, $nextToken: String) {
  listTodos(filter: $filter, limit: $limit, nextToken: $nextToken) { items { id n } nextToken __typename }
}"""


async def seeded(make_engine: HarnessFactory, count: int = 250, **kw: Any) -> Harness:
    h = await make_engine(TODO, **kw)
    doc = "mutation ($input: CreateTodoInput!) { createTodo(input: $input) { id } }"
    for i in range(count):
        await h.ok(doc, {"input": {"id": f"t{i:03d}", "n": i, "parity": "even" if i % 2 == 0 else "odd"}})
    return h


async def test_pages_are_full_after_the_filter_and_cover_every_match_once(
    make_engine: HarnessFactory,
) -> None:
    h = await seeded(make_engine)
    variables: dict[str, Any] = {"filter": {"parity": {"eq": "even"}, "n": {"ge": 10}}, "limit": 20}
    seen: list[int] = []
    sizes: list[int] = []
    while True:
        page = (await h.ok(LIST, variables))["listTodos"]
        assert page["__typename"] == "ModelTodoConnection"
        sizes.append(len(page["items"]))
        seen += [item["n"] for item in page["items"]]
        if page["nextToken"] is None:
            break
        variables["nextToken"] = page["nextToken"]
    expected = [i for i in range(250) if i % 2 == 0 and i >= 10]
    assert sorted(seen) == expected and len(seen) == len(set(seen))
    assert sizes[:-1] == [20] * (len(sizes) - 1)
    assert 0 < sizes[-1] <= 20


async def test_default_limit_is_100(make_engine: HarnessFactory) -> None:
    h = await seeded(make_engine, 120)
    page = (await h.ok(LIST))["listTodos"]
    assert len(page["items"]) == 100 and page["nextToken"]
    rest = (await h.ok(LIST, {"nextToken": page["nextToken"]}))["listTodos"]
    assert len(rest["items"]) == 20 and rest["nextToken"] is None


async def test_limit_above_the_cap_or_below_one_is_refused(make_engine: HarnessFactory) -> None:
    h = await seeded(make_engine, 3, max_limit=50)
    for limit in (51, 100000, 0, -1):
        body = await h.run(LIST, {"limit": limit})
        assert body["data"] == {"listTodos": None}
        assert body["errors"][0]["errorType"] == "ValidationError"
        assert "between 1 and 50" in body["errors"][0]["message"]
    assert len((await h.ok(LIST, {"limit": 50}))["listTodos"]["items"]) == 3


async def test_bad_next_tokens_are_refused_without_data(make_engine: HarnessFactory) -> None:
    h = await seeded(make_engine, 30)
    first = (await h.ok(LIST, {"limit": 10, "filter": {"parity": {"eq": "odd"}}}))["listTodos"]
    token = first["nextToken"]
    head, tail = token.split(".")
    tampered = head[:-2] + ("AA" if head[-2:] != "AA" else "BB") + "." + tail
    cases = {
        "forged": "eyJvZmZzZXQiOjF9",
        "tampered": tampered,
        "replayed": token,  # used with another filter below
    }
    for name, bad in cases.items():
        variables: dict[str, Any] = {"limit": 10, "nextToken": bad, "filter": {"parity": {"eq": "odd"}}}
        if name == "replayed":
            variables["filter"] = {"parity": {"eq": "even"}}
        body = await h.run(LIST, variables)
        assert body["data"] == {"listTodos": None}, name
        error = body["errors"][0]
        assert error["errorType"] == "ValidationError"
        assert error["message"].startswith("Invalid nextToken"), name
    # changing only the limit keeps the token valid
    ok = (await h.ok(LIST, {"limit": 5, "nextToken": token, "filter": {"parity": {"eq": "odd"}}}))[
        "listTodos"
    ]
    assert [i["n"] for i in ok["items"]] == [21, 23, 25, 27, 29]


async def test_token_of_another_engine_secret_is_refused(make_engine: HarnessFactory) -> None:
    h = await seeded(make_engine, 5)
    other = await make_engine(TODO)
    token = (await other.ok("{ listTodos(limit: 1) { nextToken } }"))["listTodos"]["nextToken"]
    assert token is None  # other engine is empty; make a token from a seeded one with another secret
    from ampbase.engine.pagination import TokenCodec

    forged = TokenCodec(b"not-the-secret").encode("whatever", ("t001",))
    body = await h.run(LIST, {"nextToken": forged})
    assert body["data"] == {"listTodos": None}
    assert "Invalid nextToken" in body["errors"][0]["message"]


# --------------------------------------------------------------------------- index queries


async def orders(make_engine: HarnessFactory) -> Harness:
    h = await make_engine(oracle_schema("index-secondary"))
    doc = "mutation ($input: CreateOrderInput!) { createOrder(input: $input) { id } }"
    rows = [
        ("o1", "c1", "OPEN", "2026-01-01T00:00:00.000Z", 10.0),
        ("o2", "c1", "OPEN", "2026-01-03T00:00:00.000Z", 30.0),
        ("o3", "c1", "CLOSED", "2026-01-02T00:00:00.000Z", 20.0),
        ("o4", "c1", "OPENED", "2026-01-04T00:00:00.000Z", 5.0),
        ("o5", "c2", "OPEN", "2026-01-05T00:00:00.000Z", 1.0),
    ]
    for oid, cust, status, created, total in rows:
        await h.ok(
            doc,
            {
                "input": {
                    "id": oid,
                    "customerId": cust,
                    "status": status,
                    "createdAt": created,
                    "total": total,
                    "warehouseId": "w1",
                }
            },
        )
    return h


BY_CUSTOMER = """query ($customerId: ID!, $sc: ModelOrderByCustomerCompositeKeyConditionInput,
  $sortDirection: ModelSortDirection, $filter: ModelOrderFilterInput, $limit: Int, $nextToken: String) {
  ordersByCustomerStatusDate(
    customerId: $customerId
    statusCreatedAt: $sc
    sortDirection: $sortDirection
    filter: $filter
    limit: $limit
    nextToken: $nextToken
  ) { items { id } nextToken }
}"""


async def ids(h: Harness, doc: str, variables: dict[str, Any], field: str) -> list[str]:
    return [i["id"] for i in (await h.ok(doc, variables))[field]["items"]]


async def test_composite_index_key_conditions_and_direction(make_engine: HarnessFactory) -> None:
    h = await orders(make_engine)
    q = "ordersByCustomerStatusDate"
    assert await ids(h, BY_CUSTOMER, {"customerId": "c1"}, q) == ["o3", "o1", "o2", "o4"]
    assert await ids(h, BY_CUSTOMER, {"customerId": "c1", "sortDirection": "DESC"}, q) == [
        "o4",
        "o2",
        "o1",
        "o3",
    ]
    assert await ids(h, BY_CUSTOMER, {"customerId": "c1", "sc": {"eq": {"status": "OPEN"}}}, q) == [
        "o1",
        "o2",
    ]
    full = {"eq": {"status": "OPEN", "createdAt": "2026-01-03T00:00:00.000Z"}}
    assert await ids(h, BY_CUSTOMER, {"customerId": "c1", "sc": full}, q) == ["o2"]
    begins = {"beginsWith": {"status": "OPEN", "createdAt": "2026-01-0"}}
    assert await ids(h, BY_CUSTOMER, {"customerId": "c1", "sc": begins}, q) == ["o1", "o2"]
    between = {"between": [{"status": "CLOSED"}, {"status": "OPEN"}]}
    assert await ids(h, BY_CUSTOMER, {"customerId": "c1", "sc": between}, q) == ["o3", "o1", "o2"]
    gt = {"gt": {"status": "OPEN", "createdAt": "2026-01-01T00:00:00.000Z"}}
    assert await ids(h, BY_CUSTOMER, {"customerId": "c1", "sc": gt}, q) == ["o2", "o4"]
    flt = {"customerId": "c1", "filter": {"total": {"ge": 10}}, "sortDirection": "DESC"}
    assert await ids(h, BY_CUSTOMER, flt, q) == ["o2", "o1", "o3"]


async def test_index_key_condition_errors(make_engine: HarnessFactory) -> None:
    h = await orders(make_engine)
    cases = [
        (
            {"eq": {"createdAt": "2026"}},
            "When providing argument 'statusCreatedAt.eq.createdAt' you must also provide "
            "'statusCreatedAt.eq.status'.",
        ),
        (
            {"eq": {"status": "A"}, "lt": {"status": "B"}},
            "Argument statusCreatedAt must specify at most one key condition operation.",
        ),
        ({"between": [{"status": "A"}]}, "Argument 'statusCreatedAt.between' expects exactly two elements."),
    ]
    for sc, message in cases:
        body = await h.run(BY_CUSTOMER, {"customerId": "c1", "sc": sc})
        assert body["data"] == {"ordersByCustomerStatusDate": None}
        assert body["errors"][0]["errorType"] == "InvalidArgumentsError"
        assert body["errors"][0]["message"] == message


async def test_index_pagination_with_direction(make_engine: HarnessFactory) -> None:
    h = await orders(make_engine)
    seen: list[str] = []
    variables: dict[str, Any] = {"customerId": "c1", "sortDirection": "DESC", "limit": 1}
    while True:
        page = (await h.ok(BY_CUSTOMER, variables))["ordersByCustomerStatusDate"]
        seen += [i["id"] for i in page["items"]]
        if not page["nextToken"]:
            break
        variables["nextToken"] = page["nextToken"]
    assert seen == ["o4", "o2", "o1", "o3"]


async def test_single_sort_key_index_and_plain_index(make_engine: HarnessFactory) -> None:
    h = await orders(make_engine)
    doc = """query ($w: ID!, $t: ModelFloatKeyConditionInput, $d: ModelSortDirection) {
      ordersByWarehouseIdAndTotal(warehouseId: $w, total: $t, sortDirection: $d) { items { id } } }"""
    field = "ordersByWarehouseIdAndTotal"
    assert await ids(h, doc, {"w": "w1"}, field) == ["o5", "o4", "o1", "o3", "o2"]
    assert await ids(h, doc, {"w": "w1", "t": {"between": [5, 20]}}, field) == ["o4", "o1", "o3"]
    assert await ids(h, doc, {"w": "w1", "t": {"lt": 10}, "d": "DESC"}, field) == ["o4", "o5"]
    assert await ids(h, doc, {"w": "none"}, field) == []


async def test_create_with_part_of_a_composite_index_key_is_refused(make_engine: HarnessFactory) -> None:
    h = await make_engine(
        """
        type Order @model @auth(rules: [{ allow: public }]) {
          id: ID!
          customerId: ID! @index(name: "byCustomer", sortKeyFields: ["status", "placed"], queryField: "q")
          status: String
          placed: String
        }
        """
    )
    doc = "mutation ($input: CreateOrderInput!) { createOrder(input: $input) { id } }"
    body = await h.run(doc, {"input": {"customerId": "c", "status": "OPEN"}})
    assert body["errors"][0]["message"] == (
        "When creating any part of the composite sort key for @index 'byCustomer', "
        "you must provide all fields for the key. Missing key: 'placed'."
    )
    await h.ok(doc, {"input": {"customerId": "c"}})
    await h.ok(doc, {"input": {"customerId": "c", "status": "OPEN", "placed": "x"}})


# --------------------------------------------------------------------------- composite identifiers


async def test_composite_identifiers(make_engine: HarnessFactory) -> None:
    h = await make_engine(oracle_schema("primary-key-composite"))
    create = """mutation ($input: CreateStoreBranchInput!) {
      createStoreBranch(input: $input) { tenantId country city name } }"""
    for tenant, country, city in [
        ("t1", "NL", "Delft"),
        ("t1", "NL", "Amsterdam"),
        ("t1", "BE", "Gent"),
        ("t2", "NL", "Delft"),
    ]:
        await h.ok(
            create, {"input": {"tenantId": tenant, "country": country, "city": city, "name": city.lower()}}
        )
    body = await h.run(create, {"input": {"tenantId": "t1", "country": "NL", "city": "Delft"}})
    assert body["errors"][0]["errorType"] == "DynamoDB:ConditionalCheckFailedException"

    get = """query ($t: ID!, $c: String!, $city: String!) {
      getStoreBranch(tenantId: $t, country: $c, city: $city) { name } }"""
    assert (await h.ok(get, {"t": "t1", "c": "NL", "city": "Delft"}))["getStoreBranch"] == {"name": "delft"}
    assert (await h.ok(get, {"t": "t1", "c": "BE", "city": "Delft"}))["getStoreBranch"] is None

    lst = """query ($t: ID, $cc: ModelStoreBranchPrimaryCompositeKeyConditionInput,
      $d: ModelSortDirection, $f: ModelStoreBranchFilterInput) {
      listStoreBranches(tenantId: $t, countryCity: $cc, sortDirection: $d, filter: $f) {
        items { tenantId city } } }"""

    async def cities(variables: dict[str, Any]) -> list[str]:
        return [i["city"] for i in (await h.ok(lst, variables))["listStoreBranches"]["items"]]

    assert await cities({"t": "t1"}) == ["Gent", "Amsterdam", "Delft"]
    assert await cities({"t": "t1", "d": "DESC"}) == ["Delft", "Amsterdam", "Gent"]
    assert await cities({"t": "t1", "cc": {"eq": {"country": "NL"}}}) == ["Amsterdam", "Delft"]
    assert await cities({"t": "t1", "cc": {"beginsWith": {"country": "NL", "city": "De"}}}) == ["Delft"]
    assert sorted(await cities({})) == ["Amsterdam", "Delft", "Delft", "Gent"]
    assert await cities({"f": {"city": {"eq": "Delft"}}, "t": "t2"}) == ["Delft"]

    body = await h.run(lst, {"d": "DESC"})
    assert body["errors"][0]["errorType"] == "InvalidArgumentsError"
    assert (
        body["errors"][0]["message"]
        == "When providing argument 'sortDirection' you must also provide argument 'tenantId'."
    )
    body = await h.run(lst, {"cc": {"eq": {"country": "NL"}}})
    assert (
        body["errors"][0]["message"]
        == "When providing argument 'countryCity' you must also provide 'tenantId'."
    )

    update = """mutation ($input: UpdateStoreBranchInput!) {
      updateStoreBranch(input: $input) { tenantId country city name } }"""
    updated = await h.ok(
        update, {"input": {"tenantId": "t1", "country": "NL", "city": "Delft", "name": "HQ"}}
    )
    assert updated["updateStoreBranch"] == {"tenantId": "t1", "country": "NL", "city": "Delft", "name": "HQ"}
    delete = "mutation ($input: DeleteStoreBranchInput!) { deleteStoreBranch(input: $input) { name } }"
    assert (await h.ok(delete, {"input": {"tenantId": "t1", "country": "NL", "city": "Delft"}}))[
        "deleteStoreBranch"
    ] == {"name": "HQ"}
    assert (await h.ok(get, {"t": "t1", "c": "NL", "city": "Delft"}))["getStoreBranch"] is None


async def test_single_sort_key_identifier_list(make_engine: HarnessFactory) -> None:
    h = await make_engine(oracle_schema("primary-key-composite"))
    create = "mutation ($input: CreateProductInput!) { createProduct(input: $input) { productId version } }"
    for v in (1, 2, 3, 10):
        await h.ok(create, {"input": {"productId": "p", "version": v}})
    lst = """query ($p: ID, $v: ModelIntKeyConditionInput) {
      listProducts(productId: $p, version: $v, sortDirection: DESC) { items { version } } }"""
    data = await h.ok(lst, {"p": "p", "v": {"ge": 2}})
    assert [i["version"] for i in data["listProducts"]["items"]] == [10, 3, 2]
    body = await h.run(lst, {"v": {"ge": 2}})
    assert body["errors"][0]["errorType"] == "InvalidArgumentsError"
    trusted = await h.ok(
        '{ listProducts(productId: "p", version: {between: [2, 3]}) { items { version } } }', identity=TRUSTED
    )
    assert [i["version"] for i in trusted["listProducts"]["items"]] == [2, 3]


# --------------------------------------------------------------------------- filters through the API

THINGS = """
enum Colour { RED GREEN BLUE }
type Thing @model @auth(rules: [{ allow: public }]) {
  id: ID!
  name: String
  qty: Int
  price: Float
  ok: Boolean
  colour: Colour
  tags: [String]
  colours: [Colour]
  meta: AWSJSON
}
"""

THING_ROWS: list[dict[str, Any]] = [
    {
        "id": "a",
        "name": "apple",
        "qty": 1,
        "price": 1.5,
        "ok": True,
        "colour": "RED",
        "tags": ["x", "y"],
        "colours": ["RED", "GREEN"],
    },
    {
        "id": "b",
        "name": "banana",
        "qty": 5,
        "price": 0.25,
        "ok": False,
        "colour": "GREEN",
        "tags": ["y"],
        "colours": ["GREEN"],
    },
    {"id": "c", "name": "cherry", "qty": 9, "ok": False, "colour": "RED", "tags": [], "colours": []},
    {"id": "d", "qty": 12, "price": 7.0},
]


@pytest.mark.parametrize(
    ("filter_value", "expected"),
    [
        ({"name": {"eq": "apple"}}, "a"),
        ({"name": {"ne": "apple"}}, "bcd"),
        ({"name": {"gt": "b"}}, "bc"),
        ({"name": {"le": "banana"}}, "ab"),
        ({"name": {"between": ["b", "c"]}}, "b"),
        ({"name": {"beginsWith": "ch"}}, "c"),
        ({"name": {"contains": "an"}}, "b"),
        ({"name": {"notContains": "an"}}, "ac"),
        ({"name": {"attributeExists": False}}, "d"),
        ({"name": {"size": {"ge": 6}}}, "bc"),
        ({"qty": {"lt": 5}}, "a"),
        ({"qty": {"ge": 5, "le": 9}}, "bc"),
        ({"qty": {"between": [2, 12]}}, "bcd"),
        ({"price": {"gt": 1.0}}, "ad"),
        ({"price": {"attributeExists": True}}, "abd"),
        ({"ok": {"eq": False}}, "bc"),
        ({"ok": {"ne": True}}, "bcd"),
        ({"colour": {"eq": "RED"}}, "ac"),
        ({"colour": {"ne": "RED"}}, "bd"),
        ({"tags": {"contains": "y"}}, "ab"),
        ({"tags": {"notContains": "y"}}, "c"),
        ({"colours": {"contains": "GREEN"}}, "ab"),
        ({"colours": {"eq": ["GREEN"]}}, "b"),
        ({"or": [{"qty": {"eq": 1}}, {"price": {"eq": 7.0}}]}, "ad"),
        ({"and": [{"ok": {"eq": False}}, {"not": {"name": {"eq": "cherry"}}}]}, "b"),
        ({"id": {"attributeType": "string"}}, "abcd"),
    ],
)
async def test_every_filter_operator_through_the_api(
    make_engine: HarnessFactory, filter_value: dict[str, Any], expected: str
) -> None:
    h = await make_engine(THINGS)
    create = "mutation ($input: CreateThingInput!) { createThing(input: $input) { id } }"
    for row in THING_ROWS:
        await h.ok(create, {"input": row})
    doc = "query ($f: ModelThingFilterInput) { listThings(filter: $f) { items { id } } }"
    found = (await h.ok(doc, {"f": filter_value}))["listThings"]["items"]
    assert "".join(sorted(i["id"] for i in found)) == expected


async def test_filter_with_an_unknown_field_or_operator_is_a_validation_error(
    make_engine: HarnessFactory,
) -> None:
    h = await make_engine(THINGS)
    doc = "query ($f: ModelThingFilterInput) { listThings(filter: $f) { items { id } } }"
    for bad in (
        {"nope": {"eq": 1}},
        {"qty": {"beginsWith": "1"}},
        {"colour": {"eq": "PINK"}},
        {"tags": {"in": ["x"]}},
    ):
        body = await h.run(doc, {"f": bad})
        assert body["data"] is None and body["errors"][0]["errorType"] == "ValidationError", bad


async def test_id_filter_on_a_model_without_id_matches_as_a_missing_attribute(
    make_engine: HarnessFactory,
) -> None:
    h = await make_engine(oracle_schema("primary-key-custom"))
    await h.ok('mutation { createCustomer(input: {email: "a@b.co"}) { email } }')
    doc = "query ($f: ModelCustomerFilterInput) { listCustomers(filter: $f) { items { email } } }"
    assert (await h.ok(doc, {"f": {"id": {"eq": "x"}}}))["listCustomers"]["items"] == []
    found = (await h.ok(doc, {"f": {"id": {"attributeExists": False}}}))["listCustomers"]["items"]
    assert found == [{"email": "a@b.co"}]
