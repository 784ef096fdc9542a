"""Subscriptions, observe_query, connection states and reconnection against a real
``ampbase serve`` (TLS with a local CA, WebSocket at ``wss://…/graphql/realtime``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from ampbase.client import Client, ConnectionState, Record, SubscriptionError, generate_client
from tests.client.app import ServedApp, start_server, stop_server

pytestmark = pytest.mark.anyio

TIMEOUT = 20.0


def make_client(server: ServedApp, **options: Any) -> Client:
    return generate_client(server.outputs, verify=str(server.ca), **options)


async def next_event(iterator: Any) -> Any:
    return await asyncio.wait_for(iterator.__anext__(), TIMEOUT)


async def test_outputs_file_configures_the_client(server: ServedApp) -> None:
    client = make_client(server)
    try:
        assert set(client.models) >= {"Todo", "Team", "Member", "Customer", "Blog"}
        assert client.enums.Priority.values() == ["LOW", "MEDIUM", "HIGH"]
        res = await client.models.Todo.create(content="over https", isDone=False)
        assert res.errors is None and res.data is not None
    finally:
        await client.close()


async def test_on_create_with_filter_delivers_matching_records(server: ServedApp) -> None:
    client = make_client(server)
    try:
        sub = client.models.Todo.on_create(filter={"content": {"contains": "groceries"}})
        await asyncio.wait_for(sub.ready(), TIMEOUT)
        await client.models.Todo.create(content="walk the dog")
        await client.models.Todo.create(content="buy groceries")
        event = await next_event(sub)
        assert isinstance(event, Record)
        assert event["content"] == "buy groceries"
        assert callable(event.loaders.get("location", lambda: None))
        await sub.unsubscribe()
        with pytest.raises(StopAsyncIteration):
            await next_event(sub)
    finally:
        await client.close()


async def test_on_update_and_on_delete(server: ServedApp) -> None:
    client = make_client(server)
    try:
        todo = (await client.models.Todo.create(content="to change")).data
        assert todo is not None
        updates = client.models.Todo.on_update(filter={"id": {"eq": todo["id"]}})
        deletes = client.models.Todo.on_delete()
        await asyncio.wait_for(asyncio.gather(updates.ready(), deletes.ready()), TIMEOUT)
        await client.models.Todo.update(id=todo["id"], isDone=True)
        updated = await next_event(updates)
        assert updated["id"] == todo["id"] and updated["isDone"] is True
        await client.models.Todo.delete(id=todo["id"])
        deleted = await next_event(deletes)
        assert deleted["id"] == todo["id"]
        await updates.unsubscribe()
        await deletes.unsubscribe()
    finally:
        await client.close()


async def test_observe_query_syncs_then_follows_changes(server: ServedApp) -> None:
    client = make_client(server)
    try:
        marker = "observe-me"
        first = (await client.models.Todo.create(content=f"{marker} 1")).data
        assert first is not None
        query = client.models.Todo.observe_query(filter={"content": {"beginsWith": marker}})
        snapshot = await next_event(query)
        assert snapshot.is_synced and [t["content"] for t in snapshot.items] == [f"{marker} 1"]
        await client.models.Todo.create(content=f"{marker} 2")
        snapshot = await next_event(query)
        assert sorted(t["content"] for t in snapshot.items) == [f"{marker} 1", f"{marker} 2"]
        await client.models.Todo.update(id=first["id"], content=f"{marker} 1b")
        snapshot = await next_event(query)
        assert sorted(t["content"] for t in snapshot.items) == [f"{marker} 1b", f"{marker} 2"]
        await client.models.Todo.delete(id=first["id"])
        snapshot = await next_event(query)
        assert [t["content"] for t in snapshot.items] == [f"{marker} 2"]
        await query.aclose()
    finally:
        await client.close()


async def test_subscription_with_bad_auth_fails_with_errors(server: ServedApp) -> None:
    client = make_client(server)
    try:
        sub = client.models.Todo.on_create(auth_mode="apiKey", headers={"x-api-key": "da2-wrong"})
        with pytest.raises(SubscriptionError) as caught:
            await asyncio.wait_for(sub.ready(), TIMEOUT)
        assert caught.value.errors and caught.value.errors[0]["message"]
    finally:
        await client.close()


async def test_connection_states_are_reported(server: ServedApp) -> None:
    client = make_client(server)
    states: list[ConnectionState] = []
    disconnected = asyncio.Event()

    def record(state: ConnectionState) -> None:
        states.append(state)
        if state == ConnectionState.DISCONNECTED:
            disconnected.set()

    client.on_connection_state_change(record)
    try:
        sub = client.models.Todo.on_create()
        await asyncio.wait_for(sub.ready(), TIMEOUT)
        assert client.connection_state == ConnectionState.CONNECTED
        await sub.unsubscribe()
        await asyncio.wait_for(disconnected.wait(), TIMEOUT)
        assert states == [
            ConnectionState.CONNECTING,
            ConnectionState.CONNECTED,
            ConnectionState.CONNECTED_PENDING_DISCONNECT,
            ConnectionState.DISCONNECTED,
        ]
    finally:
        await client.close()


async def test_reconnects_and_resubscribes_with_the_same_id(tmp_path: Path) -> None:
    served = start_server(tmp_path)
    client = generate_client(
        served.outputs, verify=str(served.ca), reconnect_delay=0.2, max_reconnect_delay=0.5
    )
    try:
        states: asyncio.Queue[ConnectionState] = asyncio.Queue()
        client.on_connection_state_change(states.put_nowait)
        sub = client.models.Todo.on_create()
        await asyncio.wait_for(sub.ready(), TIMEOUT)
        sub_id = sub.id
        stop_server(served)

        async def wait_for(state: ConnectionState) -> None:
            while await states.get() != state:
                pass

        await asyncio.wait_for(wait_for(ConnectionState.CONNECTION_DISRUPTED), TIMEOUT)
        served = await asyncio.to_thread(start_server, tmp_path, port=served.port)
        await asyncio.wait_for(wait_for(ConnectionState.CONNECTED), 60)
        assert sub.id == sub_id
        # Events flow again on the re-sent subscription (retry until the start is acknowledged).
        async with asyncio.timeout(60):
            while True:
                await client.models.Todo.create(content="after restart")
                try:
                    event = await asyncio.wait_for(sub.__anext__(), 1.0)
                except TimeoutError:
                    continue
                break
        assert event["content"] == "after restart"
        await sub.unsubscribe()
    finally:
        await client.close()
        stop_server(served)


async def test_untrusted_certificate_fails_subscriptions(server: ServedApp) -> None:
    client = generate_client(server.outputs)  # the system trust store does not know the local CA
    try:
        sub = client.models.Todo.on_create()
        with pytest.raises(SubscriptionError) as caught:
            await asyncio.wait_for(sub.ready(), TIMEOUT)
        assert "certificate verify failed" in caught.value.errors[0]["message"]
        failed = await client.models.Todo.list()
        assert failed.errors and failed.errors[0]["message"] == "A network error has occurred."
    finally:
        await client.close()


async def test_custom_mutation_and_subscription(server: ServedApp) -> None:
    client = make_client(server)
    try:
        sub = client.subscriptions.on_announcement()
        await asyncio.wait_for(sub.ready(), TIMEOUT)
        sent = await client.mutations.announce(text="hello")
        assert sent.errors is None and sent.data == {"text": "hello", "loud": "HELLO"}
        event = await next_event(sub)
        assert event == {"text": "hello", "loud": "HELLO"}
        await sub.unsubscribe()
    finally:
        await client.close()
