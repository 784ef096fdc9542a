"""The in-process server client: same documents and result mapping, executed on the engine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ampbase.client.server import ServerClient
from ampbase.engine.identity import Identity
from tests.client.app import InProcessApp, in_process_app

pytestmark = pytest.mark.anyio


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[InProcessApp]:
    async with in_process_app(tmp_path) as served:
        yield served


async def test_trusted_crud_index_query_and_loaders(app: InProcessApp) -> None:
    client = ServerClient(app.runtime)
    team = (await client.models.Team.create(mantra="server side")).data
    assert team is not None
    await client.models.Member.create(name="Job", teamId=team["id"])
    loaded = (await client.models.Team.get(id=team["id"])).data
    assert loaded is not None
    members = await loaded.members()
    assert [m["name"] for m in members.data] == ["Job"]
    await client.models.Customer.create(name="Rene", accountRepresentativeId="r1")
    page = await client.models.Customer.list_customer_by_account_representative_id_and_name(
        accountRepresentativeId="r1", name={"beginsWith": "Re"}
    )
    assert [c["name"] for c in page.data] == ["Rene"]
    assert (await client.queries.echo(content="in process")).data == "echo: in process"


async def test_writes_by_the_server_client_are_seen_over_http(app: InProcessApp) -> None:
    server = ServerClient(app.runtime.engine)
    created = (await server.models.Todo.create(content="from a job")).data
    assert created is not None
    http = app.client()
    got = await http.models.Todo.get(id=created["id"])
    assert got.data == created


async def test_identity_is_applied_and_errors_are_returned(app: InProcessApp) -> None:
    anonymous = ServerClient(app.runtime).with_identity(Identity(mode="userPool", claims={"sub": "u1"}))
    denied = await anonymous.models.Todo.list()
    assert denied.data == [] and denied.errors
    assert denied.errors[0]["errorType"] == "Unauthorized"
    bad = await ServerClient(app.runtime).models.Todo.create(content="x", bogus=True)
    assert bad.data is None and bad.errors


async def test_in_process_subscription(app: InProcessApp) -> None:
    client = ServerClient(app.runtime)
    sub = client.models.Todo.on_create(filter={"content": {"beginsWith": "job"}})
    await asyncio.wait_for(sub.ready(), 10)
    await client.models.Todo.create(content="other")
    await client.models.Todo.create(content="job done")
    event = await asyncio.wait_for(sub.__anext__(), 10)
    assert event["content"] == "job done"
    await sub.unsubscribe()
    await client.close()


async def test_in_process_custom_subscription(app: InProcessApp) -> None:
    client = ServerClient(app.runtime)
    sub = client.subscriptions.onAnnouncement()
    await asyncio.wait_for(sub.ready(), 10)
    await client.mutations.announce(text="job")
    event = await asyncio.wait_for(sub.__anext__(), 10)
    assert event == {"text": "job", "loud": "JOB"}
    await sub.unsubscribe()
