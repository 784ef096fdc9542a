"""The client against the real ASGI app (``create_app``) in process, through httpx.ASGITransport."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ampbase.client import CancelError, Record
from tests.client.app import InProcessApp, in_process_app

pytestmark = pytest.mark.anyio


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[InProcessApp]:
    async with in_process_app(tmp_path) as served:
        yield served


async def test_todo_crud_list_filter_and_paginate(app: InProcessApp) -> None:
    client = app.client()
    todos = client.models.Todo
    res = await todos.create(
        content="My new todo", isDone=True, priority="HIGH", location={"lat": 1.0, "long": 2.0}
    )
    assert res.errors is None and res.data is not None
    todo = res.data
    assert todo["content"] == "My new todo" and todo.isDone is True
    assert todo["location"] == {"lat": 1.0, "long": 2.0}
    assert todo["createdAt"].endswith("Z")

    got = await todos.get(id=todo["id"])
    assert got.data == todo

    updated = await todos.update(id=todo["id"], content="Updated content")
    assert updated.data is not None and updated.data["content"] == "Updated content"

    for i in range(3):
        await todos.create(content=f"hello {i}", isDone=False)
    hello = await todos.list(filter={"content": {"beginsWith": "hello"}})
    assert sorted(t["content"] for t in hello.data) == ["hello 0", "hello 1", "hello 2"]

    either = await todos.list(filter={"or": [{"content": {"eq": "hello 0"}}, {"content": {"eq": "hello 2"}}]})
    assert sorted(t["content"] for t in either.data) == ["hello 0", "hello 2"]

    seen: list[str] = []
    token: str | None = None
    while True:
        page = await todos.list(limit=2, next_token=token)
        assert page.errors is None and len(page.data) <= 2
        seen += [t["id"] for t in page.data]
        token = page.next_token
        if token is None:
            break
    assert len(seen) == len(set(seen)) == 4

    deleted = await todos.delete(id=todo["id"])
    assert deleted.data is not None and deleted.data["id"] == todo["id"]
    assert (await todos.get(id=todo["id"])).data is None


async def test_errors_are_returned_not_raised(app: InProcessApp) -> None:
    client = app.client()
    unknown_field = await client.models.Todo.create(content="x", notAField=1)
    assert unknown_field.data is None and unknown_field.errors
    assert "notAField" in unknown_field.errors[0]["message"]

    bad_filter = await client.models.Todo.list(filter={"content": {"noSuchOperator": "x"}})
    assert bad_filter.data == [] and bad_filter.errors

    missing = await client.models.Todo.update(id="does-not-exist", content="x")
    assert missing.data is None and missing.errors
    assert missing.errors[0]["errorType"] == "DynamoDB:ConditionalCheckFailedException"

    wrong_key = await client.models.Todo.list(auth_mode="apiKey", headers={"x-api-key": "da2-wrong"})
    assert wrong_key.data == [] and wrong_key.errors
    assert wrong_key.errors[0]["message"] == "Unauthorized"

    no_auth = await client.models.Todo.list(auth_mode="userPool", auth_token="not-a-jwt")
    assert no_auth.errors and no_auth.errors[0]["errorType"] == "UnauthorizedException"


async def test_team_members_lazy_and_eager_loading(app: InProcessApp) -> None:
    client = app.client()
    team = (await client.models.Team.create(mantra="Go Frontend!")).data
    assert team is not None
    tim = (await client.models.Member.create(name="Tim", teamId=team["id"])).data
    assert tim is not None
    await client.models.Member.create(name="Ann", team=team)

    fetched = (await client.models.Team.get(id=team["id"])).data
    assert fetched is not None
    members = await fetched.members()
    assert sorted(m["name"] for m in members.data) == ["Ann", "Tim"]
    assert all(isinstance(m, Record) for m in members.data)
    parent = await members.data[0].team()
    assert parent.data is not None and parent.data["id"] == team["id"]

    eager = (await client.models.Team.get(id=team["id"], selection_set=["id", "members.*"])).data
    assert eager is not None
    assert sorted(m["name"] for m in eager["members"]) == ["Ann", "Tim"]
    assert set(eager) == {"id", "members"}

    moved = await client.models.Member.update(id=tim["id"], teamId=None)
    assert moved.data is not None and moved.data["teamId"] is None
    assert (await moved.data.team()).data is None


async def test_blog_custom_selection_set_with_dot_paths(app: InProcessApp) -> None:
    client = app.client()
    author = (await client.models.Person.create(email="author@example.com")).data
    assert author is not None
    blog = (await client.models.Blog.create(name="Notes", authorId=author["id"])).data
    assert blog is not None
    await client.models.Post.create(title="First", blogId=blog["id"])
    res = await client.models.Blog.get(id=blog["id"], selection_set=["author.email", "posts.*"])
    assert res.errors is None and res.data is not None
    assert res.data["author"] == {"email": "author@example.com"}
    assert [p["title"] for p in res.data["posts"]] == ["First"]


async def test_customer_secondary_index_query(app: InProcessApp) -> None:
    customers = app.client().models.Customer
    for name in ("Rene", "Reza", "Ann", "Rita"):
        await customers.create(name=name, accountRepresentativeId="r1")
    await customers.create(name="Remy", accountRepresentativeId="r2")
    page = await customers.list_customer_by_account_representative_id_and_name(
        accountRepresentativeId="r1", name={"beginsWith": "Re"}, sort_direction="DESC"
    )
    assert page.errors is None
    assert [c["name"] for c in page.data] == ["Reza", "Rene"]
    camel = await customers.listCustomerByAccountRepresentativeIdAndName(accountRepresentativeId="r1")
    assert [c["name"] for c in camel.data] == ["Ann", "Rene", "Reza", "Rita"]


async def test_custom_query(app: InProcessApp) -> None:
    client = app.client()
    assert (await client.queries.echo(content="hi")).data == "echo: hi"
    with pytest.raises(TypeError):
        client.queries.echo()


async def test_cancel_a_request(app: InProcessApp) -> None:
    client = app.client()
    request = client.models.Todo.create(content="New Todo")
    assert client.cancel(request, "my message for cancellation")
    with pytest.raises(CancelError) as caught:
        await request
    assert client.is_cancel_error(caught.value)
    assert caught.value.message == "my message for cancellation"
    done = client.models.Todo.list()
    await done
    assert not client.cancel(done, "too late")


async def test_plain_asyncio_cancellation_cancels_the_request(app: InProcessApp) -> None:
    client = app.client()

    async def slow() -> None:
        await client.models.Todo.list()

    task = asyncio.get_running_loop().create_task(slow())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
