"""Relationship fields: hasMany connections (args, paging), hasOne/belongsTo, and per-request batching."""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine.conftest import HarnessFactory
from tests.engine.harness import Harness, oracle_schema

pytestmark = pytest.mark.anyio


async def blog(make_engine: HarnessFactory, posts: int, comments: int = 3) -> Harness:
    h = await make_engine(oracle_schema("has-many-index"))
    cp = "mutation ($input: CreatePostInput!) { createPost(input: $input) { id } }"
    cc = "mutation ($input: CreateCommentInput!) { createComment(input: $input) { id } }"
    for p in range(posts):
        await h.ok(cp, {"input": {"id": f"p{p}", "title": f"post {p}"}})
        for c in range(comments):
            await h.ok(cc, {"input": {"id": f"p{p}c{c}", "postID": f"p{p}", "content": f"c{c}"}})
    return h


NESTED = (
    """{ listPosts { items { id title comments { items { id content post { id title } } nextToken } } } }"""
)


async def statements_for(
    h: Harness, doc: str, variables: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    before = h.storage.stats.statements
    data = await h.ok(doc, variables)
    return h.storage.stats.statements - before, data


async def test_nested_relations_cost_a_constant_number_of_storage_calls(make_engine: HarnessFactory) -> None:
    small = await blog(make_engine, 2)
    large = await blog(make_engine, 12)
    small_cost, _ = await statements_for(small, NESTED)
    large_cost, data = await statements_for(large, NESTED)
    assert small_cost == large_cost == 3  # posts, all comments, all parents of comments
    posts = data["listPosts"]["items"]
    assert len(posts) == 12
    for post in posts:
        contents = [c["content"] for c in post["comments"]["items"]]
        assert contents == ["c0", "c1", "c2"]
        assert all(c["post"] == {"id": post["id"], "title": post["title"]} for c in post["comments"]["items"])


async def test_has_many_arguments_filter_sort_condition_direction_limit(make_engine: HarnessFactory) -> None:
    h = await blog(make_engine, 1, comments=5)
    doc = """query ($c: ModelStringKeyConditionInput, $f: ModelCommentFilterInput,
      $d: ModelSortDirection, $l: Int) {
      getPost(id: "p0") {
        comments(content: $c, filter: $f, sortDirection: $d, limit: $l) { items { content } nextToken }
      }
    }"""

    async def contents(variables: dict[str, Any]) -> list[str]:
        return [c["content"] for c in (await h.ok(doc, variables))["getPost"]["comments"]["items"]]

    assert await contents({}) == ["c0", "c1", "c2", "c3", "c4"]
    assert await contents({"d": "DESC"}) == ["c4", "c3", "c2", "c1", "c0"]
    assert await contents({"c": {"gt": "c2"}}) == ["c3", "c4"]
    assert await contents({"f": {"content": {"ne": "c1"}}, "l": 2}) == ["c0", "c2"]
    body = await h.run(doc, {"c": {"gt": "a", "lt": "z"}})
    assert body["errors"][0]["errorType"] == "InvalidArgumentsError"


async def test_has_many_pagination_per_parent(make_engine: HarnessFactory) -> None:
    h = await blog(make_engine, 2, comments=5)
    doc = """query ($id: ID!, $t: String) {
      getPost(id: $id) { comments(limit: 2, nextToken: $t) { items { content } nextToken } }
    }"""
    seen: list[str] = []
    token = None
    while True:
        page = (await h.ok(doc, {"id": "p1", "t": token}))["getPost"]["comments"]
        seen += [c["content"] for c in page["items"]]
        token = page["nextToken"]
        if token is None:
            break
    assert seen == ["c0", "c1", "c2", "c3", "c4"]
    first = (await h.ok(doc, {"id": "p1"}))["getPost"]["comments"]["nextToken"]
    body = await h.run(doc, {"id": "p0", "t": first})  # another parent's token
    assert body["data"] == {"getPost": {"comments": None}}
    assert body["errors"][0]["path"] == ["getPost", "comments"]
    assert "different query" in body["errors"][0]["message"]


async def test_belongs_to_and_missing_parent_key(make_engine: HarnessFactory) -> None:
    h = await make_engine(oracle_schema("gen2-member-team"))
    await h.ok('mutation { createTeam(input: {id: "t1", mantra: "go"}) { id } }')
    await h.ok('mutation { createMember(input: {id: "m1", name: "a", teamId: "t1"}) { id } }')
    await h.ok('mutation { createMember(input: {id: "m2", name: "b"}) { id } }')
    await h.ok('mutation { createMember(input: {id: "m3", name: "c", teamId: "gone"}) { id } }')
    data = await h.ok("{ listMembers { items { id team { id mantra members { items { id } } } } } }")
    teams = {m["id"]: m["team"] for m in data["listMembers"]["items"]}
    assert teams["m1"] == {"id": "t1", "mantra": "go", "members": {"items": [{"id": "m1"}]}}
    assert teams["m2"] is None and teams["m3"] is None


async def test_has_one_by_reference_and_composite_references(make_engine: HarnessFactory) -> None:
    h = await make_engine(oracle_schema("gen2-cart-customer"))
    await h.ok('mutation { createCustomer(input: {id: "c1", name: "x"}) { id } }')
    await h.ok('mutation { createCustomer(input: {id: "c2", name: "y"}) { id } }')
    await h.ok('mutation { createCart(input: {id: "k1", items: ["a"], customerId: "c1"}) { id } }')
    cost, data = await statements_for(
        h, "{ listCustomers { items { id activeCart { id customer { id } } } } }"
    )
    carts = {c["id"]: c["activeCart"] for c in data["listCustomers"]["items"]}
    assert carts == {"c1": {"id": "k1", "customer": {"id": "c1"}}, "c2": None}
    assert cost == 3

    h = await make_engine(oracle_schema("relations-references-composite"))
    schema_account = h.schema.get_model("Account")
    assert schema_account is not None
    await h.ok('mutation { createAccount(input: {tenant: "t", accountNo: 7, name: "acc"}) { tenant } }')
    for i in range(3):
        await h.ok(
            "mutation ($input: CreateInvoiceInput!) { createInvoice(input: $input) { id } }",
            {"input": {"id": f"i{i}", "accountTenant": "t", "accountNo": 7, "amount": float(i)}},
        )
    data = await h.ok("{ listAccounts { items { invoices { items { id account { name } } } } } }")
    invoices = data["listAccounts"]["items"][0]["invoices"]["items"]
    assert sorted(i["id"] for i in invoices) == ["i0", "i1", "i2"]
    assert all(i["account"] == {"name": "acc"} for i in invoices)


async def test_many_to_many_through_the_join_model(make_engine: HarnessFactory) -> None:
    h = await make_engine(oracle_schema("many-to-many"))
    await h.ok('mutation { createPost(input: {id: "p", title: "t"}) { id } }')
    for tag in ("a", "b"):
        await h.ok(f'mutation {{ createTag(input: {{id: "{tag}", label: "{tag}"}}) {{ id }} }}')
        await h.ok(f'mutation {{ createPostTags(input: {{postId: "p", tagId: "{tag}"}}) {{ id }} }}')
    data = await h.ok(
        '{ getPost(id: "p") { tags { items { tag { label posts { items { post { id } } } } } } } }'
    )
    items = data["getPost"]["tags"]["items"]
    assert sorted(i["tag"]["label"] for i in items) == ["a", "b"]
    assert all(i["tag"]["posts"]["items"] == [{"post": {"id": "p"}}] for i in items)


async def test_relation_reads_need_the_related_models_read_permission(make_engine: HarnessFactory) -> None:
    h = await make_engine(
        """
        type Team @model @auth(rules: [{ allow: public }]) {
          id: ID!
          members: [Member] @hasMany(references: ["teamId"])
        }
        type Member @model @auth(rules: [{ allow: public, operations: [create] }]) {
          id: ID!
          teamId: ID
          team: Team @belongsTo(references: ["teamId"])
        }
        """
    )
    await h.ok('mutation { createTeam(input: {id: "t"}) { id } }')
    await h.ok('mutation { createMember(input: {id: "m", teamId: "t"}) { id } }')
    body = await h.run('{ getTeam(id: "t") { id members { items { id } } } }')
    assert body["data"] == {"getTeam": {"id": "t", "members": None}}
    assert body["errors"][0]["message"] == "Not Authorized to access members on type Team"


async def test_batched_has_many_limits_each_parent_separately(make_engine: HarnessFactory) -> None:
    h = await blog(make_engine, 4, comments=3)
    cost, data = await statements_for(
        h,
        "{ listPosts { items { id "
        "comments(limit: 2, sortDirection: DESC) { items { content } nextToken } } } }",
    )
    assert cost == 2
    posts = data["listPosts"]["items"]
    assert len(posts) == 4
    for post in posts:
        assert [c["content"] for c in post["comments"]["items"]] == ["c2", "c1"]
        assert post["comments"]["nextToken"]
    doc = """query ($id: ID!, $t: String) {
      getPost(id: $id) {
        comments(limit: 2, sortDirection: DESC, nextToken: $t) { items { content } nextToken }
      }
    }"""
    rest = (await h.ok(doc, {"id": posts[2]["id"], "t": posts[2]["comments"]["nextToken"]}))["getPost"]
    assert rest["comments"] == {"items": [{"content": "c0"}], "nextToken": None}
