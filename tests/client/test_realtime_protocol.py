"""The realtime client's side of the AppSync protocol, against a scripted server (the sans-IO
``AppSyncConnection`` over plain ``ws://``): handshake, start/stop frames, reconnection with the
same subscription ids, keep-alive timeouts, connection and subscription errors."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from websockets.asyncio.server import ServerConnection, serve

from ampbase.client import Client, ConnectionState, SubscriptionError, generate_client
from ampbase.protocol.actions import CloseConnection, SendFrame, StartSubscription
from ampbase.protocol.appsync_ws import AppSyncConnection, HandshakeRejection
from tests.client.conftest import API_KEY, outputs

pytestmark = pytest.mark.anyio

TIMEOUT = 10.0


@dataclass
class Connection:
    path: str
    protocols: list[str]
    socket: ServerConnection
    frames: list[dict[str, Any]] = field(default_factory=list)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_until(self, condition: Callable[[list[dict[str, Any]]], bool]) -> None:
        async with asyncio.timeout(TIMEOUT):
            while not condition(self.frames):
                self.arrived.clear()
                await self.arrived.wait()


@dataclass
class FakeAppSync:
    """Answers like AppSync; tests script failures through the flags."""

    connection_timeout_ms: int = 300_000
    send_ka: bool = True
    reject: bool = False
    fail_starts: bool = False
    connections: list[Connection] = field(default_factory=list)
    new_connection: asyncio.Event = field(default_factory=asyncio.Event)

    async def handler(self, ws: ServerConnection) -> None:
        request = ws.request
        assert request is not None
        protocols = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
        conn = Connection(request.path, protocols, ws)
        self.connections.append(conn)
        self.new_connection.set()
        machine = AppSyncConnection(
            connection_timeout_ms=self.connection_timeout_ms,
            connection_error=HandshakeRejection() if self.reject else None,
        )
        async for message in ws:
            conn.frames.append(json.loads(message))
            conn.arrived.set()
            for action in machine.receive(message):
                if isinstance(action, SendFrame):
                    if action.frame["type"] != "ka" or self.send_ka:
                        await ws.send(action.text)
                elif isinstance(action, StartSubscription):
                    if self.fail_starts:
                        actions = machine.subscription_failed(action.id, "Unauthorized", "Permission denied")
                    else:
                        actions = machine.subscription_ready(action.id)
                    for follow in actions:
                        if isinstance(follow, SendFrame):
                            await ws.send(follow.text)
                    conn.started.set()
                elif isinstance(action, CloseConnection):
                    await ws.close(action.code, action.reason)

    async def wait_connections(self, count: int) -> Connection:
        async with asyncio.timeout(TIMEOUT):
            while len(self.connections) < count:
                self.new_connection.clear()
                await self.new_connection.wait()
        return self.connections[count - 1]


@dataclass
class Harness:
    server: FakeAppSync
    port: int

    def client(self, **options: Any) -> Client:
        out = outputs(url=f"https://127.0.0.1:{self.port}/graphql")
        return generate_client(
            out,
            realtime_url=f"ws://127.0.0.1:{self.port}/graphql/realtime",
            reconnect_delay=0.05,
            max_reconnect_delay=0.1,
            **options,
        )


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    fake = FakeAppSync()
    async with serve(fake.handler, "127.0.0.1", 0, subprotocols=["graphql-ws"]) as server:  # type: ignore[list-item]
        port = next(iter(server.sockets)).getsockname()[1]
        yield Harness(fake, port)


def start_frames(conn: Connection) -> list[dict[str, Any]]:
    return [f for f in conn.frames if f.get("type") == "start"]


async def test_handshake_and_start_frames_follow_the_js_client(harness: Harness) -> None:
    client = harness.client(headers={"x-client-header": "from-client"})
    sub = client.models.Todo.on_create(filter={"content": {"contains": "g"}})
    await asyncio.wait_for(sub.ready(), TIMEOUT)
    conn = harness.server.connections[0]
    assert conn.protocols[0] == "graphql-ws"
    raw = conn.protocols[1].removeprefix("header-")
    header = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    assert header["host"] == f"127.0.0.1:{harness.port}" and header["x-api-key"] == API_KEY
    assert "x-amz-date" in header
    parts = urlsplit(conn.path)
    assert parts.path == "/graphql/realtime"
    assert parse_qs(parts.query) == {"x-client-header": ["from-client"]}
    assert conn.frames[0] == {"type": "connection_init"}
    (start,) = start_frames(conn)
    assert list(start) == ["id", "payload", "type"]
    data = json.loads(start["payload"]["data"])
    assert data["query"].startswith("subscription ($filter: ModelSubscriptionTodoFilterInput)")
    assert data["variables"] == {"filter": {"content": {"contains": "g"}}}
    authorization = start["payload"]["extensions"]["authorization"]
    assert authorization["x-api-key"] == API_KEY
    assert authorization["x-client-header"] == "from-client"
    assert authorization["x-amz-user-agent"].startswith("ampbase-python/")
    await client.close()


async def test_data_frames_become_records_and_unsubscribe_sends_stop(harness: Harness) -> None:
    client = harness.client()
    sub = client.models.Todo.on_create()
    await asyncio.wait_for(sub.ready(), TIMEOUT)
    conn = harness.server.connections[0]
    record = {"id": "t1", "content": "hi", "isDone": None, "priority": None, "location": None}
    await conn.socket.send(
        json.dumps({"type": "data", "id": sub.id, "payload": {"data": {"onCreateTodo": record}}})
    )
    await conn.socket.send(json.dumps({"type": "data", "id": sub.id, "payload": {"data": None}}))
    await conn.socket.send(json.dumps({"type": "data", "id": "unknown", "payload": {"data": {"x": 1}}}))
    event = await asyncio.wait_for(sub.__anext__(), TIMEOUT)
    assert event == record
    await sub.unsubscribe()
    await conn.wait_until(lambda frames: any(f.get("type") == "stop" for f in frames))
    assert {"id": sub.id, "type": "stop"} in conn.frames
    await conn.socket.wait_closed()
    assert client.connection_state == ConnectionState.DISCONNECTED
    await client.close()


async def test_one_socket_is_shared_and_resubscribed_with_the_same_ids(harness: Harness) -> None:
    client = harness.client()
    first = client.models.Todo.on_create()
    second = client.models.Todo.on_delete(auth_mode="lambda", auth_token="lambda-token")
    await asyncio.wait_for(asyncio.gather(first.ready(), second.ready()), TIMEOUT)
    assert len(harness.server.connections) == 1
    conn = harness.server.connections[0]
    assert start_frames(conn)[1]["payload"]["extensions"]["authorization"]["Authorization"] == "lambda-token"
    ids = sorted(f["id"] for f in start_frames(conn))
    await conn.socket.close(1011, "server restart")
    again = await harness.server.wait_connections(2)
    await again.wait_until(lambda frames: len([f for f in frames if f.get("type") == "start"]) >= 2)
    assert sorted(f["id"] for f in start_frames(again)) == ids
    record = {"id": "t2", "content": "after reconnect"}
    await again.socket.send(
        json.dumps({"type": "data", "id": first.id, "payload": {"data": {"onCreateTodo": record}}})
    )
    event = await asyncio.wait_for(first.__anext__(), TIMEOUT)
    assert event["content"] == "after reconnect"
    await client.close()


async def test_missing_keep_alives_drop_and_reconnect(harness: Harness) -> None:
    harness.server.connection_timeout_ms = 200
    harness.server.send_ka = False
    client = harness.client()
    states: list[ConnectionState] = []
    client.on_connection_state_change(states.append)
    sub = client.models.Todo.on_create()
    await asyncio.wait_for(sub.ready(), TIMEOUT)
    await harness.server.wait_connections(2)
    assert ConnectionState.CONNECTION_DISRUPTED in states
    await client.close()


async def test_rejected_handshake_fails_the_subscription_without_retrying(harness: Harness) -> None:
    harness.server.reject = True
    client = harness.client()
    sub = client.models.Todo.on_create()
    with pytest.raises(SubscriptionError) as caught:
        await asyncio.wait_for(sub.ready(), TIMEOUT)
    assert caught.value.errors[0]["message"].startswith("Connection failed: ")
    assert "UnauthorizedException" in caught.value.errors[0]["message"]
    assert len(harness.server.connections) == 1
    await client.close()


async def test_error_frame_ends_the_subscription(harness: Harness) -> None:
    harness.server.fail_starts = True
    client = harness.client()
    sub = client.models.Todo.on_create()
    with pytest.raises(SubscriptionError) as caught:
        await asyncio.wait_for(sub.ready(), TIMEOUT)
    assert caught.value.errors == [{"message": "Unauthorized", "errorType": "Unauthorized"}]
    with pytest.raises(SubscriptionError):  # iterating reports the failure once, then ends
        await sub.__anext__()
    with pytest.raises(StopAsyncIteration):
        await sub.__anext__()
    await client.close()


async def test_connection_states_as_an_async_iterator(harness: Harness) -> None:
    client = harness.client()
    seen: list[ConnectionState] = []

    async def watch() -> None:
        async for state in client.connection_states():
            seen.append(state)
            if state == ConnectionState.CONNECTED:
                return

    watcher = asyncio.get_running_loop().create_task(watch())
    await asyncio.sleep(0)
    sub = client.models.Todo.on_create()
    await asyncio.wait_for(sub.ready(), TIMEOUT)
    await asyncio.wait_for(watcher, TIMEOUT)
    assert seen == [ConnectionState.CONNECTING, ConnectionState.CONNECTED]
    await client.close()


async def test_callback_style_subscribe(harness: Harness) -> None:
    client = harness.client()
    got: list[Any] = []
    received = asyncio.Event()

    def on_next(record: Any) -> None:
        got.append(record)
        received.set()

    sub = client.models.Todo.on_create().subscribe(next=on_next)
    await asyncio.wait_for(sub.ready(), TIMEOUT)
    conn = harness.server.connections[0]
    await conn.socket.send(
        json.dumps({"type": "data", "id": sub.id, "payload": {"data": {"onCreateTodo": {"id": "1"}}}})
    )
    await asyncio.wait_for(received.wait(), TIMEOUT)
    assert got == [{"id": "1"}]
    await sub.unsubscribe()
    await client.close()


async def test_custom_subscription_delivers_model_records_with_loaders(harness: Harness) -> None:
    client = harness.client()
    sub = client.subscriptions.on_done()
    await asyncio.wait_for(sub.ready(), TIMEOUT)
    conn = harness.server.connections[0]
    (start,) = start_frames(conn)
    data = json.loads(start["payload"]["data"])
    assert data["query"].startswith("subscription {\n  onDone {\n    id\n")
    assert data["variables"] == {}
    todo = {"id": "t9", "content": "done", "isDone": True}
    await conn.socket.send(json.dumps({"type": "data", "id": sub.id, "payload": {"data": {"onDone": todo}}}))
    event = await asyncio.wait_for(sub.__anext__(), TIMEOUT)
    assert event == todo and event.content == "done"
    await client.close()
