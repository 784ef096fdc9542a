"""Relationships through the real aws-amplify JS client: lazy loaders and selectionSet eager loading.

One server per module: ``ampbase serve tests/interop/relations/resource.py`` (the "Modeling
relationships" guide's models); each test runs a scenario of ``relations.mjs``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.interop.harness import HERE, Server, run_node, skip_without_node, start_server, stop

pytestmark = pytest.mark.interop

skip_without_node()

SCRIPT = HERE / "relations.mjs"
SCHEMA = HERE / "relations" / "resource.py"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("relations"), SCHEMA)
    try:
        yield srv
    finally:
        stop(srv.process)


def test_lazy_loaders_has_many_with_paging_has_one_and_belongs_to(server: Server) -> None:
    r = run_node(server, SCRIPT, "lazy")
    assert r["errors"] == []
    # team.members({limit: 2, nextToken}) pages through the five members, two at a time
    assert [len(page) for page in r["pages"]] == [2, 2, 1]
    assert sorted(name for page in r["pages"] for name in page) == ["ann", "ben", "cat", "dan", "eve"]
    assert r["all"] == ["ann", "ben", "cat", "dan", "eve"]
    assert r["annTeam"] == f"Go Frontend {r['run']}"
    assert r["lonerTeam"] is None
    # hasOne: customer.activeCart() and back with cart.customer(); reassigning and clearing it
    assert r["reneCart"] == ["Tomato", "Ice", "Mint"]
    assert r["cartCustomer"] == f"Rene {r['run']}"
    assert r["ianCartBefore"] is None
    assert r["ianCartAfter"] == r["cartId"]
    assert r["reneCartAfter"] is None
    assert r["clearedCustomerId"] is None
    assert r["ianCartCleared"] is None
    # two relationships between Post and Person
    assert (r["author"], r["editor"]) == ("Ada", "Bob")
    assert r["authored"] == [f"p {r['run']}"]
    assert r["edited"] == []


def test_selection_set_eager_loading_three_levels_and_many_to_many(server: Server) -> None:
    r = run_node(server, SCRIPT, "eager")
    assert r["errors"] == []
    team = r["teamWithMembers"]
    assert team["id"] is True
    assert sorted(m["name"] for m in team["members"]) == ["ann", "ben"]
    assert all(m["teamId"] for m in team["members"])
    assert team["lazyLoaderFunctions"] is False  # a custom selectionSet returns plain arrays
    assert r["withAuthor"]["email"] == "ada@example.com"
    assert r["withAuthor"]["tagLinks"] == 2
    assert r["withAuthor"]["tagKeys"] == ["createdAt", "id", "postId", "tagId", "updatedAt"]
    assert r["postTags"] == ["blue", "red"]
    assert r["threeLevels"] == {
        "name": "Ada",
        "posts": [{"title": "one", "tags": ["blue", "red"]}, {"title": "two", "tags": ["blue", "red"]}],
    }
    assert r["tagPosts"] == [{"name": "red", "posts": ["one@Ada", "two@Ada"]}]
