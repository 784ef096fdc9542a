"""The blocking client (``generate_client(..., sync=True)``) against a real ``ampbase serve``."""

from __future__ import annotations

import threading

from ampbase.client import SyncClient, generate_client, generate_sync_client
from ampbase.client.results import Record
from tests.client.app import ServedApp


def test_sync_crud_loaders_index_and_custom_query(server: ServedApp) -> None:
    with generate_client(server.outputs, sync=True, verify=str(server.ca)) as client:
        assert isinstance(client, SyncClient)
        created = client.models.Todo.create(content="from a script", isDone=False)
        assert created.errors is None and created.data is not None
        got = client.models.Todo.get(id=created.data["id"])
        assert got.data == created.data
        page = client.models.Todo.list(filter={"content": {"eq": "from a script"}})
        assert [t["id"] for t in page.data] == [created.data["id"]]

        team = client.models.Team.create(mantra="sync").data
        assert team is not None
        client.models.Member.create(name="Sy", teamId=team["id"])
        loaded = client.models.Team.get(id=team["id"]).data
        assert isinstance(loaded, Record)
        members = loaded.members()
        assert [m["name"] for m in members.data] == ["Sy"]
        assert members.data[0].team().data["mantra"] == "sync"

        client.models.Customer.create(name="Syd", accountRepresentativeId="sync-rep")
        by_rep = client.models.Customer.list_customer_by_account_representative_id_and_name(
            accountRepresentativeId="sync-rep"
        )
        assert [c["name"] for c in by_rep.data] == ["Syd"]
        assert client.queries.echo(content="sync").data == "echo: sync"
        unknown = client.models.Todo.create(content="x", notAField=True)
        assert unknown.data is None and unknown.errors


def test_sync_subscription_iterates_events(server: ServedApp) -> None:
    client = generate_sync_client(server.outputs, verify=str(server.ca))
    try:
        events = client.models.Todo.on_create(filter={"content": {"beginsWith": "sync-event"}})
        events.ready()
        writer = threading.Thread(target=lambda: client.models.Todo.create(content="sync-event 1"))
        writer.start()
        first = next(events)
        writer.join()
        assert first["content"] == "sync-event 1"
        events.close()
        assert list(events) == []
    finally:
        client.close()
