"""The "Modeling relationships" guide end to end on the engine: the seed's schemas (Python DSL fixtures
and Gen 1 SDL samples), the lazy loaders' filtered lists served by an index, eager loading with a
constant number of statements, required and optional references, and no cascading deletes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ampbase import a, define_data
from ampbase.engine.subscriptions import prepare_subscription, render_event
from ampbase.schema.ir import AuthConfig, SchemaDef
from ampbase.schema.loader import load_schema
from ampbase.schema.resolve import resolve_schema
from ampbase.storage.base import Page, Query
from ampbase.storage.sqlite import SQLiteStorage
from tests.engine.conftest import HarnessFactory
from tests.engine.harness import API_KEY, Harness, oracle_schema, schema_from_sdl

pytestmark = pytest.mark.anyio

DSL = Path(__file__).resolve().parents[1] / "fixtures" / "dsl"


def dsl_schema(name: str) -> SchemaDef:
    return load_schema(DSL / f"{name}.py")


def composite_person_schema(*, author_required: bool = False) -> SchemaDef:
    """The guide's "models with sort keys in their identifier" example (Person keyed by name + DoB)."""
    author_name = a.string().required() if author_required else a.string()
    schema = a.schema(
        {
            "Post": a.model(
                {
                    "title": a.string().required(),
                    "content": a.string().required(),
                    "authorName": author_name,
                    "authorDoB": a.date(),
                    "author": a.belongs_to("Person", ["authorName", "authorDoB"]),
                }
            ),
            "Person": a.model(
                {
                    "name": a.string().required(),
                    "dateOfBirth": a.date().required(),
                    "authoredPosts": a.has_many("Post", ["authorName", "authorDoB"]),
                }
            ).identifier(["name", "dateOfBirth"]),
        }
    ).authorization(lambda allow: allow.public_api_key())
    modes = {"default_authorization_mode": "apiKey", "api_key_authorization_mode": {"expires_in_days": 30}}
    return resolve_schema(define_data(schema=schema, authorization_modes=modes).schema)


def required_author_schema() -> SchemaDef:
    """The guide's "Make relationships required or optional" example."""
    schema = a.schema(
        {
            "Post": a.model(
                {
                    "title": a.string().required(),
                    "content": a.string().required(),
                    "authorId": a.id().required(),
                    "author": a.belongs_to("Person", "authorId"),
                    "editorId": a.id(),
                    "editor": a.belongs_to("Person", "editorId"),
                }
            ),
            "Person": a.model(
                {
                    "name": a.string(),
                    "editedPosts": a.has_many("Post", "editorId"),
                    "authoredPosts": a.has_many("Post", "authorId"),
                }
            ),
        }
    ).authorization(lambda allow: allow.public_api_key())
    modes = {"default_authorization_mode": "apiKey", "api_key_authorization_mode": {"expires_in_days": 30}}
    return resolve_schema(define_data(schema=schema, authorization_modes=modes).schema)


async def create(h: Harness, model: str, values: dict[str, Any], returns: str = "id") -> dict[str, Any]:
    doc = f"mutation ($input: Create{model}Input!) {{ create{model}(input: $input) {{ {returns} }} }}"
    result: dict[str, Any] = (await h.ok(doc, {"input": values}))[f"create{model}"]
    return result


async def update(h: Harness, model: str, values: dict[str, Any], returns: str = "id") -> dict[str, Any]:
    doc = f"mutation ($input: Update{model}Input!) {{ update{model}(input: $input) {{ {returns} }} }}"
    result: dict[str, Any] = (await h.ok(doc, {"input": values}))[f"update{model}"]
    return result


class RecordingStorage:
    """Passes everything to ``inner`` and records the ``Query`` objects of ``query`` calls."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.queries: list[Query] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def query(self, query: Query) -> Page:
        self.queries.append(query)
        page: Page = await self.inner.query(query)
        return page


async def recording_engine(tmp_path: Path, schema: SchemaDef) -> tuple[Harness, RecordingStorage]:
    sqlite = SQLiteStorage(tmp_path / "plan.sqlite")
    await sqlite.open(schema)
    storage = RecordingStorage(sqlite)
    return Harness(schema, storage), storage


# -------------------- one-to-many


async def test_team_members_has_many_and_belongs_to(make_engine: HarnessFactory) -> None:
    h = await make_engine(dsl_schema("gen2_member_team"))
    team = await create(h, "Team", {"mantra": "Go Frontend!"})
    other = await create(h, "Team", {"mantra": "Go Fullstack"})
    tim = await create(h, "Member", {"name": "Tim", "teamId": team["id"]})
    await create(h, "Member", {"name": "Ann", "teamId": team["id"]})
    doc = """query ($id: ID!) { getTeam(id: $id) { mantra members { items { name team { mantra } } } } }"""

    async def names(team_id: str) -> list[str]:
        got = (await h.ok(doc, {"id": team_id}))["getTeam"]
        assert all(m["team"]["mantra"] == got["mantra"] for m in got["members"]["items"])
        return sorted(m["name"] for m in got["members"]["items"])

    assert await names(team["id"]) == ["Ann", "Tim"]
    # update: move Tim to the other team
    await update(h, "Member", {"id": tim["id"], "teamId": other["id"]})
    assert await names(team["id"]) == ["Ann"]
    assert await names(other["id"]) == ["Tim"]
    # delete the relationship: an optional reference field set to null
    moved = await update(h, "Member", {"id": tim["id"], "teamId": None}, "teamId team { id }")
    assert moved == {"teamId": None, "team": None}
    assert await names(other["id"]) == []


async def test_lazy_loader_filter_returns_the_related_items(make_engine: HarnessFactory) -> None:
    h = await make_engine(dsl_schema("gen2_member_team"))
    team = await create(h, "Team", {"mantra": "m"})
    for name in ("a", "b", "c"):
        await create(h, "Member", {"name": name, "teamId": team["id"]})
    await create(h, "Member", {"name": "loner"})
    doc = """query ($f: ModelMemberFilterInput, $l: Int, $t: String) {
      listMembers(filter: $f, limit: $l, nextToken: $t) { items { name } nextToken }
    }"""
    pinned = {"and": [{"teamId": {"eq": team["id"]}}]}  # what `team.members()` sends
    seen: list[str] = []
    token = None
    while True:
        page = (await h.ok(doc, {"f": pinned, "l": 2, "t": token}))["listMembers"]
        seen += [m["name"] for m in page["items"]]
        token = page["nextToken"]
        if token is None:
            break
    assert sorted(seen) == ["a", "b", "c"]
    # the same filter read as a scan (an `or` pins nothing) finds the same items
    scan = {"or": [{"teamId": {"eq": team["id"]}}]}
    items = (await h.ok(doc, {"f": scan, "l": 100}))["listMembers"]["items"]
    assert sorted(m["name"] for m in items) == sorted(seen)
    # a token of the index-served list does not continue the scan
    first = (await h.ok(doc, {"f": pinned, "l": 1}))["listMembers"]["nextToken"]
    error = await h.error(doc, {"f": scan, "l": 1, "t": first})
    assert "different query" in error["message"]


async def test_lazy_loader_filters_are_index_queries_not_scans(tmp_path: Path) -> None:
    schema = dsl_schema("gen2_member_team")
    h, storage = await recording_engine(tmp_path, schema)
    team = await create(h, "Team", {"mantra": "m"})
    await create(h, "Member", {"name": "a", "teamId": team["id"]})
    await create(h, "Member", {"name": "b"})
    doc = "query ($f: ModelMemberFilterInput) { listMembers(filter: $f) { items { name } } }"
    for pinned in (
        {"and": [{"teamId": {"eq": team["id"]}}]},
        {"teamId": {"eq": team["id"]}, "name": {"ne": "zz"}},
        {"and": [{"and": [{"name": {"beginsWith": "a"}}, {"teamId": {"eq": team["id"]}}]}]},
    ):
        storage.queries.clear()
        items = (await h.ok(doc, {"f": pinned}))["listMembers"]["items"]
        assert items == [{"name": "a"}]
        (query,) = storage.queries
        assert query.index == "gsi-Team.members"
        assert query.key is not None and query.key.partition == (("teamId", team["id"]),)
        plan = " ".join(await storage.inner.explain(query))
        assert "USING INDEX" in plan and "SCAN" not in plan, plan
    unpinned: dict[str, Any]
    for unpinned in ({"or": [{"teamId": {"eq": team["id"]}}]}, {"teamId": {"ne": "x"}}, {"not": {}}):
        storage.queries.clear()
        await h.ok(doc, {"f": unpinned})
        (query,) = storage.queries
        assert query.index is None and query.key is None


async def test_composite_references_pin_the_whole_index_key(tmp_path: Path) -> None:
    schema = composite_person_schema()
    h, storage = await recording_engine(tmp_path, schema)
    await create(h, "Person", {"name": "Ada", "dateOfBirth": "1815-12-10"}, "name")
    await create(h, "Person", {"name": "Ada", "dateOfBirth": "1900-01-01"}, "name")
    for i in range(3):
        values = {"title": f"t{i}", "content": "c", "authorName": "Ada", "authorDoB": "1815-12-10"}
        await create(h, "Post", values)
    await create(
        h, "Post", {"title": "other", "content": "c", "authorName": "Ada", "authorDoB": "1900-01-01"}
    )
    storage.queries.clear()
    pinned = {"and": [{"authorName": {"eq": "Ada"}}, {"authorDoB": {"eq": "1815-12-10"}}]}
    doc = "query ($f: ModelPostFilterInput) { listPosts(filter: $f) { items { title } } }"
    items = (await h.ok(doc, {"f": pinned}))["listPosts"]["items"]
    assert sorted(p["title"] for p in items) == ["t0", "t1", "t2"]
    (query,) = storage.queries
    assert query.index is not None and query.key is not None
    assert query.key.partition == (("authorName", "Ada"),)
    assert query.key.sort is not None and query.key.sort.values == ("1815-12-10",)
    # both directions of the relationship
    data = await h.ok(
        """{ getPerson(name: "Ada", dateOfBirth: "1815-12-10") {
          authoredPosts { items { title author { name dateOfBirth } } } } }"""
    )
    posts = data["getPerson"]["authoredPosts"]["items"]
    assert sorted(p["title"] for p in posts) == ["t0", "t1", "t2"]
    assert all(p["author"] == {"name": "Ada", "dateOfBirth": "1815-12-10"} for p in posts)


async def test_primary_key_partition_pinned_by_a_filter_is_a_key_query(tmp_path: Path) -> None:
    h, storage = await recording_engine(tmp_path, composite_person_schema())
    await create(h, "Person", {"name": "Ada", "dateOfBirth": "1815-12-10"}, "name")
    await create(h, "Person", {"name": "Bob", "dateOfBirth": "1815-12-10"}, "name")
    storage.queries.clear()
    doc = '{ listPeople(filter: {name: {eq: "Ada"}}) { items { name dateOfBirth } } }'
    assert (await h.ok(doc))["listPeople"]["items"] == [{"name": "Ada", "dateOfBirth": "1815-12-10"}]
    (query,) = storage.queries
    assert query.index is None and query.key is not None and query.key.partition == (("name", "Ada"),)


# -------------------- one-to-one


async def test_customer_cart_has_one_and_belongs_to(make_engine: HarnessFactory) -> None:
    h = await make_engine(dsl_schema("gen2_cart_customer"))
    rene = await create(h, "Customer", {"name": "Rene"})
    ian = await create(h, "Customer", {"name": "Ian"})
    cart = await create(h, "Cart", {"items": ["Tomato", "Ice", "Mint"], "customerId": rene["id"]})
    doc = "query ($id: ID!) { getCustomer(id: $id) { name activeCart { items customer { name } } } }"
    got = (await h.ok(doc, {"id": rene["id"]}))["getCustomer"]
    assert got == {
        "name": "Rene",
        "activeCart": {"items": ["Tomato", "Ice", "Mint"], "customer": {"name": "Rene"}},
    }
    # reassign the cart to another customer
    await update(h, "Cart", {"id": cart["id"], "customerId": ian["id"]})
    assert (await h.ok(doc, {"id": rene["id"]}))["getCustomer"]["activeCart"] is None
    assert (await h.ok(doc, {"id": ian["id"]}))["getCustomer"]["activeCart"]["customer"] == {"name": "Ian"}
    # delete the relationship
    await update(h, "Cart", {"id": cart["id"], "customerId": None})
    assert (await h.ok(doc, {"id": ian["id"]}))["getCustomer"]["activeCart"] is None
    lazy = "query ($f: ModelCartFilterInput) { listCarts(filter: $f) { items { id } } }"
    pinned = {"and": [{"customerId": {"eq": ian["id"]}}]}  # what `customer.activeCart()` sends
    assert (await h.ok(lazy, {"f": pinned}))["listCarts"]["items"] == []


# -------------------- many-to-many


async def test_post_tag_many_to_many_through_the_join_model(make_engine: HarnessFactory) -> None:
    h = await make_engine(dsl_schema("gen2_post_tag"))
    post = await create(h, "Post", {"title": "hello"})
    other = await create(h, "Post", {"title": "world"})
    tags = {n: await create(h, "Tag", {"name": n}) for n in ("red", "blue")}
    for p in (post, other):
        for t in tags.values():
            await create(h, "PostTag", {"postId": p["id"], "tagId": t["id"]})
    data = await h.ok(
        """query ($id: ID!) { getPost(id: $id) { title
          tags { items { tag { name posts { items { post { title } } } } } } } }""",
        {"id": post["id"]},
    )
    items = data["getPost"]["tags"]["items"]
    assert sorted(i["tag"]["name"] for i in items) == ["blue", "red"]
    for i in items:
        assert sorted(p["post"]["title"] for p in i["tag"]["posts"]["items"]) == ["hello", "world"]


async def test_gen1_many_to_many_join_model_is_generated(make_engine: HarnessFactory) -> None:
    h = await make_engine(oracle_schema("many-to-many"))
    await create(h, "Post", {"id": "p1", "title": "one"})
    await create(h, "Post", {"id": "p2", "title": "two"})
    await create(h, "Tag", {"id": "t", "label": "news"})
    for p in ("p1", "p2"):
        await create(h, "PostTags", {"postId": p, "tagId": "t"})
    data = await h.ok(
        '{ getTag(id: "t") { posts { items { post { title tags { items { tag { label } } } } } } } }'
    )
    posts = data["getTag"]["posts"]["items"]
    assert sorted(p["post"]["title"] for p in posts) == ["one", "two"]
    assert all(p["post"]["tags"]["items"] == [{"tag": {"label": "news"}}] for p in posts)


# -------------------- author / editor


async def test_two_relationships_between_the_same_models(make_engine: HarnessFactory) -> None:
    h = await make_engine(dsl_schema("gen2_post_person"))
    ann = await create(h, "Person", {"name": "Ann"})
    bob = await create(h, "Person", {"name": "Bob"})
    await create(h, "Post", {"title": "a", "content": "c", "authorId": ann["id"], "editorId": bob["id"]})
    await create(h, "Post", {"title": "b", "content": "c", "authorId": ann["id"]})
    await create(h, "Post", {"title": "c", "content": "c", "authorId": bob["id"], "editorId": ann["id"]})
    doc = """query ($id: ID!) { getPerson(id: $id) {
      authoredPosts { items { title author { name } editor { name } } }
      editedPosts { items { title } } } }"""
    got = (await h.ok(doc, {"id": ann["id"]}))["getPerson"]
    authored = sorted(got["authoredPosts"]["items"], key=lambda p: p["title"])
    assert authored == [
        {"title": "a", "author": {"name": "Ann"}, "editor": {"name": "Bob"}},
        {"title": "b", "author": {"name": "Ann"}, "editor": None},
    ]
    assert got["editedPosts"]["items"] == [{"title": "c"}]


# -------------------- required / optional


async def test_required_reference_cannot_be_nulled_optional_one_can(make_engine: HarnessFactory) -> None:
    h = await make_engine(required_author_schema())
    ann = await create(h, "Person", {"name": "Ann"})
    error = await h.error(
        'mutation { createPost(input: {title: "t", content: "c"}) { id } }',
    )
    assert error["message"] == "Field 'CreatePostInput.authorId' of required type 'ID!' was not provided."
    assert error["errorType"] == "ValidationError"
    post = await create(
        h, "Post", {"title": "t", "content": "c", "authorId": ann["id"], "editorId": ann["id"]}
    )
    error = await h.error(
        "mutation ($input: UpdatePostInput!) { updatePost(input: $input) { id } }",
        {"input": {"id": post["id"], "authorId": None}},
    )
    assert error["message"] == "Field 'authorId' of type 'Post' is required and cannot be set to null."
    assert error["errorType"] == "ValidationError"
    cleared = await update(h, "Post", {"id": post["id"], "editorId": None}, "author { name } editor { name }")
    assert cleared == {"author": {"name": "Ann"}, "editor": None}


# -------------------- Gen 1 directives


async def test_gen1_has_one_implicit_and_explicit_fields(make_engine: HarnessFactory) -> None:
    h = await make_engine(oracle_schema("has-one"))
    await create(h, "Team", {"id": "t", "name": "alpha"})
    await create(h, "Project", {"id": "p", "name": "x", "projectTeamId": "t"})
    assert (await h.ok('{ getProject(id: "p") { team { name } } }'))["getProject"]["team"] == {
        "name": "alpha"
    }
    await create(h, "Project2", {"id": "p2", "name": "y", "teamID": "t2"})
    await create(h, "Team2", {"id": "t2", "name": "beta", "team2ProjectId": "p2"})
    data = await h.ok('{ getProject2(id: "p2") { team { name project { name } } } }')
    assert data["getProject2"]["team"] == {"name": "beta", "project": {"name": "y"}}


async def test_gen1_implicit_has_many_and_belongs_to_with_default_index(make_engine: HarnessFactory) -> None:
    h = await make_engine(oracle_schema("belongs-to-bidirectional"))
    await create(h, "Blog", {"id": "b", "name": "blog"})
    await create(h, "Post", {"id": "p", "title": "post", "blogPostsId": "b"})
    for i in range(3):
        await create(h, "Comment", {"id": f"c{i}", "content": f"c{i}", "postCommentsId": "p"})
    data = await h.ok(
        '{ getBlog(id: "b") { posts { items { title blog { name } '
        "comments { items { content post { id } } } } } } }"
    )
    (post,) = data["getBlog"]["posts"]["items"]
    assert post["blog"] == {"name": "blog"}
    assert sorted(c["content"] for c in post["comments"]["items"]) == ["c0", "c1", "c2"]
    assert all(c["post"] == {"id": "p"} for c in post["comments"]["items"])

    h = await make_engine(oracle_schema("has-many-implicit"))
    await create(h, "Post", {"id": "p", "title": "t"})
    await create(h, "Comment", {"id": "c", "content": "x", "postCommentsId": "p"})
    data = await h.ok('{ getPost(id: "p") { comments { items { id postCommentsId } } } }')
    assert data["getPost"]["comments"]["items"] == [{"id": "c", "postCommentsId": "p"}]


async def test_gen1_implicit_fields_to_a_composite_parent_key(make_engine: HarnessFactory) -> None:
    h = await make_engine(oracle_schema("has-many-implicit-composite-parent"))
    await create(h, "Shelf", {"store": "s", "code": 1}, "store")
    await create(h, "Shelf", {"store": "s", "code": 2}, "store")
    await create(h, "Book", {"id": "b1", "title": "one", "shelfBooksStore": "s", "shelfBooksCode": 1})
    await create(h, "Book", {"id": "b2", "title": "two", "shelfBooksStore": "s", "shelfBooksCode": 2})
    data = await h.ok('{ getShelf(store: "s", code: 1) { books { items { title shelf { code } } } } }')
    assert data["getShelf"]["books"]["items"] == [{"title": "one", "shelf": {"code": 1}}]


async def test_has_many_connection_arguments_and_paging_on_an_index_with_sort_key(
    make_engine: HarnessFactory,
) -> None:
    h = await make_engine(oracle_schema("has-many-index"))
    await create(h, "Post", {"id": "p", "title": "t"})
    for c in "edcba":
        await create(h, "Comment", {"id": c, "postID": "p", "content": c})
    doc = """query ($t: String, $d: ModelSortDirection, $c: ModelStringKeyConditionInput,
      $f: ModelCommentFilterInput) {
      getPost(id: "p") {
        comments(limit: 2, nextToken: $t, sortDirection: $d, content: $c, filter: $f) {
          items { content } nextToken } } }"""

    async def all_pages(**variables: Any) -> list[list[str]]:
        pages: list[list[str]] = []
        token = None
        while True:
            page = (await h.ok(doc, {**variables, "t": token}))["getPost"]["comments"]
            pages.append([c["content"] for c in page["items"]])
            token = page["nextToken"]
            if token is None:
                return pages

    assert await all_pages() == [["a", "b"], ["c", "d"], ["e"]]
    assert await all_pages(d="DESC") == [["e", "d"], ["c", "b"], ["a"]]
    assert await all_pages(c={"ge": "b"}, f={"content": {"ne": "c"}}) == [["b", "d"], ["e"]]


# -------------------- eager loading


async def test_eager_selection_sets_cost_the_same_for_2_and_50_parents(make_engine: HarnessFactory) -> None:
    doc = """{ listTags(limit: 1000) { items { name
      posts { items { post { title tags { items { tag { name } } } } } } } } }"""

    async def cost(parents: int) -> tuple[int, list[Any]]:
        h = await make_engine(dsl_schema("gen2_post_tag"))
        post = await create(h, "Post", {"title": "p"})
        for i in range(parents):
            tag = await create(h, "Tag", {"name": f"t{i:02}"})
            await create(h, "PostTag", {"postId": post["id"], "tagId": tag["id"]})
        before = h.storage.stats.statements
        items = (await h.ok(doc))["listTags"]["items"]
        return h.storage.stats.statements - before, items

    small, small_items = await cost(2)
    large, large_items = await cost(50)
    assert small == large
    assert len(large_items) == 50
    for tag in large_items:
        (link,) = tag["posts"]["items"]
        assert link["post"]["title"] == "p"
        assert len(link["post"]["tags"]["items"]) == 50
    assert len(small_items) == 2


async def test_team_with_members_selection_set_like_the_client_sends(make_engine: HarnessFactory) -> None:
    async def cost(parents: int) -> int:
        h = await make_engine(dsl_schema("gen2_member_team"))
        for t in range(parents):
            team = await create(h, "Team", {"mantra": f"m{t}"})
            for n in range(2):
                await create(h, "Member", {"name": f"n{n}", "teamId": team["id"]})
        before = h.storage.stats.statements
        # ["id", "members.*"] on a list, and ["name", "team.mantra"] back up
        items = (
            await h.ok("{ listTeams { items { id members { items { id name teamId team { mantra } } } } } }")
        )["listTeams"]["items"]
        assert len(items) == parents
        assert all(len(t["members"]["items"]) == 2 for t in items)
        spent: int = h.storage.stats.statements - before
        return spent

    assert await cost(2) == await cost(50)


# -------------------- no cascade


async def test_deleting_a_parent_does_not_cascade(make_engine: HarnessFactory) -> None:
    h = await make_engine(dsl_schema("gen2_member_team"))
    team = await create(h, "Team", {"mantra": "m"})
    member = await create(h, "Member", {"name": "Tim", "teamId": team["id"]})
    await h.ok("mutation ($id: ID!) { deleteTeam(input: {id: $id}) { id } }", {"id": team["id"]})
    got = await h.ok("query ($id: ID!) { getMember(id: $id) { teamId team { id } } }", {"id": member["id"]})
    assert got["getMember"] == {"teamId": team["id"], "team": None}

    h = await make_engine(dsl_schema("gen2_post_tag"))
    post = await create(h, "Post", {"title": "p"})
    tag = await create(h, "Tag", {"name": "t"})
    link = await create(h, "PostTag", {"postId": post["id"], "tagId": tag["id"]})
    await h.ok("mutation ($id: ID!) { deletePost(input: {id: $id}) { id } }", {"id": post["id"]})
    data = await h.ok(
        "query ($id: ID!) { getTag(id: $id) { posts { items { id post { id } } } } }", {"id": tag["id"]}
    )
    assert data["getTag"]["posts"]["items"] == [{"id": link["id"], "post": None}]


async def test_a_has_many_without_limit_is_its_first_page_of_100(make_engine: HarnessFactory) -> None:
    h = await make_engine(dsl_schema("gen2_member_team"))
    team = await create(h, "Team", {"mantra": "m"})
    for i in range(101):
        await h.storage.insert("Member", {"id": f"m{i:03}", "name": f"n{i}", "teamId": team["id"]})
    # what selectionSet ["id", "members.*"] sends: no limit, no nextToken
    doc = "query ($id: ID!) { getTeam(id: $id) { members { items { id } nextToken } } }"
    members = (await h.ok(doc, {"id": team["id"]}))["getTeam"]["members"]
    assert [m["id"] for m in members["items"]] == [f"m{i:03}" for i in range(100)]
    assert members["nextToken"] is not None


# -------------------- related data in mutation results and events

MIXED_RULES = """
type Team @model @auth(rules: [{ allow: public }]) {
  id: ID!
  name: String
  notes: [Note] @hasMany(references: ["teamId"])
  members: [Member] @hasMany(references: ["teamId"])
  vaults: [Vault] @hasMany(references: ["teamId"])
}
type Note @model @auth(rules: [{ allow: public }]) {
  id: ID!
  teamId: ID
  team: Team @belongsTo(references: ["teamId"])
}
type Member @model @auth(rules: [{ allow: public }, { allow: owner }]) {
  id: ID!
  teamId: ID
  team: Team @belongsTo(references: ["teamId"])
}
type Vault @model @auth(rules: [{ allow: public, operations: [create, update] }]) {
  id: ID!
  teamId: ID
  team: Team @belongsTo(references: ["teamId"])
}
"""


async def mixed_rules(make_engine: HarnessFactory) -> Harness:
    schema = replace(schema_from_sdl(MIXED_RULES), auth=AuthConfig("apiKey", ("apiKey", "userPool")))
    h = await make_engine(schema)
    await create(h, "Team", {"id": "t", "name": "red"})
    await create(h, "Member", {"id": "m", "teamId": "t"})
    await create(h, "Vault", {"id": "v", "teamId": "t"})
    return h


async def test_mutation_results_redact_relations_with_different_rules(make_engine: HarnessFactory) -> None:
    h = await mixed_rules(make_engine)
    # the same static rules on both sides: the related data is in the mutation result
    note = await create(h, "Note", {"id": "n", "teamId": "t"}, "id team { name notes { items { id } } }")
    assert note == {"id": "n", "team": {"name": "red", "notes": {"items": [{"id": "n"}]}}}
    # Member's rules differ from Team's (an owner rule): redacted in mutation results, without error,
    # although this caller reads them with a query
    data = await h.ok(
        'mutation { updateTeam(input: {id: "t", name: "blue"}) { name notes { items { id } } '
        "members { items { id } } } }"
    )
    assert data["updateTeam"] == {"name": "blue", "notes": {"items": [{"id": "n"}]}, "members": {"items": []}}
    member = await update(h, "Member", {"id": "m", "teamId": "t"}, "id team { name }")
    assert member == {"id": "m", "team": None}
    queried = await h.ok('{ getTeam(id: "t") { members { items { id team { name } } } } }')
    assert queried["getTeam"]["members"]["items"] == [{"id": "m", "team": {"name": "blue"}}]


async def test_events_never_carry_related_data_the_subscriber_cannot_read(
    make_engine: HarnessFactory,
) -> None:
    h = await mixed_rules(make_engine)
    await create(h, "Note", {"id": "n", "teamId": "t"})
    await update(h, "Team", {"id": "t", "name": "blue"})
    query = "subscription { onUpdateTeam { name notes { items { id } } vaults { items { id } } } }"
    sub = prepare_subscription(h.engine, query, {}, API_KEY)
    updated = next(e for e in h.pubsub.published if e.mutation == "updateTeam")
    payload = await render_event(sub, "updateTeam", {**updated.record, "__typename": "Team"})
    assert payload is not None
    event = payload["data"]["onUpdateTeam"]
    assert event["name"] == "blue"
    assert event["notes"] == {"items": [{"id": "n"}]}  # the same rules as Team: there
    assert not (event["vaults"] or {}).get("items")  # Vault is not readable with an API key
