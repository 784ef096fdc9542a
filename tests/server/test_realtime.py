"""The realtime endpoint end to end: Starlette's TestClient, and a real uvicorn for real clients."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from ampbase.engine.identity import Identity
from ampbase.pubsub.base import ChangeEvent
from ampbase.pubsub.local import LocalPubSub
from ampbase.schema.ir import AuthConfig
from ampbase.server.app import create_app
from ampbase.server.realtime import RealtimeEndpoint, decode_handshake
from ampbase.server.settings import Settings
from ampbase.server.wiring import Runtime
from ampbase.storage.base import ApiKeyRecord
from tests.engine.harness import schema_from_sdl
from tests.engine.memory_storage import MemoryStorage

KEY = "da2-realtimerealtimerealtime01"
OTHER_KEY = "da2-otherotherotherotherother1"
JWT = "aaa.bbb.ccc"
ADMIN_JWT = "admin.bbb.ccc"

SCHEMA = """
type Todo @model @auth(rules: [{ allow: public }]) {
  id: ID!
  content: String
  priority: Int
  done: Boolean
}

type Secret @model @auth(rules: [{ allow: groups, groups: ["Admin"] }]) {
  id: ID!
  value: String
}
"""

ON_CREATE = (
    "subscription ($filter: ModelSubscriptionTodoFilterInput) "
    "{ onCreateTodo(filter: $filter) { id content priority } }"
)
ON_SECRET = "subscription { onCreateSecret { id value } }"
CREATE = "mutation ($input: CreateTodoInput!) { createTodo(input: $input) { id } }"
UPDATE = "mutation ($input: UpdateTodoInput!) { updateTodo(input: $input) { id } }"
CREATE_SECRET = "mutation ($input: CreateSecretInput!) { createSecret(input: $input) { id } }"

API_AUTH = {"host": "127.0.0.1:4443", "x-amz-date": "20261122T053447Z", "x-api-key": KEY}


class FakeUserPool:
    """Accepts two fixed tokens: a plain user and an Admin."""

    async def __call__(self, token: str, headers: Mapping[str, str]) -> Identity | None:
        if token == JWT:
            return Identity(mode="userPool", claims={"sub": "u1", "cognito:groups": []})
        if token == ADMIN_JWT:
            return Identity(mode="userPool", claims={"sub": "u2", "cognito:groups": ["Admin"]})
        return None


def make_runtime(tmp_path: Path, pubsub: LocalPubSub | None = None) -> Runtime:
    schema = replace(schema_from_sdl(SCHEMA), auth=AuthConfig("apiKey", ("apiKey", "userPool")))
    storage = MemoryStorage()
    far = int(time.time()) + 3600
    storage.keys = {k: ApiKeyRecord(id=k, expires_at=far) for k in (KEY, OTHER_KEY)}
    settings = Settings(secret="realtime-test", state_dir=tmp_path)
    return Runtime(schema, settings, storage_factory=lambda: storage, pubsub=pubsub or LocalPubSub())


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    runtime = make_runtime(tmp_path)
    with TestClient(create_app(runtime)) as test_client:
        runtime.authenticator.verifiers["userPool"] = FakeUserPool()
        yield test_client


def b64url(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def start(
    sub_id: str, query: str, variables: dict[str, Any] | None = None, auth: Any = None
) -> dict[str, Any]:
    data = json.dumps({"query": query, "variables": variables or {}})
    authorization = API_AUTH if auth is None else auth
    return {
        "id": sub_id,
        "payload": {"data": data, "extensions": {"authorization": authorization}},
        "type": "start",
    }


def receive(ws: Any) -> dict[str, Any]:
    """The next frame that is not a keep-alive."""
    while True:
        frame: dict[str, Any] = ws.receive_json()
        if frame["type"] not in ("ka", "ping"):
            return frame


def init(ws: Any) -> None:
    ws.send_json({"type": "connection_init"})
    assert ws.receive_json() == {"type": "connection_ack", "payload": {"connectionTimeoutMs": 300000}}
    assert ws.receive_json() == {"type": "ka"}


def subscribe(ws: Any, sub_id: str, query: str = ON_CREATE, variables: Any = None, auth: Any = None) -> None:
    ws.send_json(start(sub_id, query, variables, auth))
    assert receive(ws) == {"type": "start_ack", "id": sub_id}


def mutate(client: TestClient, query: str, variables: dict[str, Any], key: str = KEY) -> dict[str, Any]:
    response = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"x-api-key": key}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


def appsync_socket(client: TestClient, auth: dict[str, str] | None = None) -> Any:
    return client.websocket_connect(
        "/graphql/realtime", subprotocols=["graphql-ws", "header-" + b64url(auth or API_AUTH)]
    )


def probe(ws: Any) -> list[dict[str, Any]]:
    """Frames received before the answer to a deliberately bad frame (a barrier)."""
    ws.send_text('{"type":"probe"}')
    seen = []
    while True:
        frame = receive(ws)
        if frame["type"] == "error" and "probe" in frame["payload"]["errors"][0]["message"]:
            return seen
        seen.append(frame)


# ------------------------------------------------------------------------------ AppSync


def test_header_subprotocol_handshake_start_data_stop_complete(client: TestClient) -> None:
    with appsync_socket(client) as ws:
        assert ws.accepted_subprotocol == "graphql-ws"
        init(ws)
        subscribe(ws, "s1")
        mutate(client, CREATE, {"input": {"id": "t1", "content": "milk", "priority": 1}})
        assert receive(ws) == {
            "type": "data",
            "id": "s1",
            "payload": {"data": {"onCreateTodo": {"id": "t1", "content": "milk", "priority": 1}}},
        }
        ws.send_json({"id": "s1", "type": "stop"})
        assert receive(ws) == {"type": "complete", "id": "s1"}


def test_query_string_handshake_of_older_clients(client: TestClient) -> None:
    header = base64.b64encode(json.dumps(API_AUTH).encode()).decode()
    # a form decoder would turn "+" into a space; the server undoes that
    url = f"/graphql/realtime?header={header.replace('+', ' ')}&payload=e30=&x-client-header=abc"
    with client.websocket_connect(url, subprotocols=["graphql-ws"]) as ws:
        assert ws.accepted_subprotocol == "graphql-ws"
        init(ws)
        subscribe(ws, "s1")
        mutate(client, CREATE, {"input": {"id": "t1"}})
        assert receive(ws)["payload"]["data"]["onCreateTodo"]["id"] == "t1"


def test_bad_handshake_credentials_get_connection_error(client: TestClient) -> None:
    with appsync_socket(client, {"host": "h", "x-api-key": "da2-wrong"}) as ws:
        ws.send_json({"type": "connection_init"})
        frame = ws.receive_json()
        assert frame["type"] == "connection_error"
        assert frame["payload"]["errors"][0]["errorType"] == "UnauthorizedException"
        assert frame["payload"]["errors"][0]["errorCode"] == 401
        with pytest.raises(WebSocketDisconnect):
            ws.receive_json()


def test_undecodable_handshake_header_is_a_bad_request(client: TestClient) -> None:
    with client.websocket_connect("/graphql/realtime", subprotocols=["graphql-ws", "header-!!!"]) as ws:
        ws.send_json({"type": "connection_init"})
        frame = ws.receive_json()
        assert frame["type"] == "connection_error"
        assert frame["payload"]["errors"][0]["errorCode"] == 400


def test_filters_with_and_or_in_and_not_in(client: TestClient) -> None:
    with appsync_socket(client) as ws:
        init(ws)
        subscribe(ws, "in", variables={"filter": {"priority": {"in": [1, 2]}}})
        subscribe(ws, "notin", variables={"filter": {"priority": {"notIn": [1, 2]}}})
        subscribe(
            ws,
            "andor",
            variables={
                "filter": {
                    "and": [
                        {"content": {"beginsWith": "buy"}},
                        {"or": [{"priority": {"gt": 5}}, {"done": {"eq": True}}]},
                    ]
                }
            },
        )
        mutate(client, CREATE, {"input": {"id": "a", "content": "buy milk", "priority": 2}})
        mutate(client, CREATE, {"input": {"id": "b", "content": "buy tea", "priority": 9}})
        mutate(client, CREATE, {"input": {"id": "c", "content": "sell", "priority": 3, "done": True}})
        mutate(client, CREATE, {"input": {"id": "d", "content": "buy eggs", "priority": 1, "done": True}})
        got = [(f["id"], f["payload"]["data"]["onCreateTodo"]["id"]) for f in probe(ws)]
        assert sorted(got) == sorted(
            [("in", "a"), ("notin", "b"), ("andor", "b"), ("notin", "c"), ("in", "d"), ("andor", "d")]
        )
        # per subscription, events arrive in commit order
        assert [todo for sub, todo in got if sub == "notin"] == ["b", "c"]


def test_two_subscriptions_on_one_socket_with_different_auth(client: TestClient) -> None:
    with appsync_socket(client) as ws:  # the socket was opened with an API key
        init(ws)
        ws.send_json(start("secret-key", ON_SECRET))  # API key: no rule for it on Secret
        error = receive(ws)
        assert error["type"] == "error" and error["id"] == "secret-key"
        assert error["payload"]["errors"][0]["errorType"] == "Unauthorized"
        ws.send_json(start("todo-user", ON_CREATE, auth={"Authorization": JWT, "host": "h"}))
        assert receive(ws)["payload"]["errors"][0]["errorType"] == "Unauthorized"  # public = API key only
        subscribe(ws, "secret-admin", ON_SECRET, auth={"Authorization": ADMIN_JWT, "host": "h"})
        subscribe(ws, "todo-key")
        response = client.post(
            "/graphql",
            json={"query": CREATE_SECRET, "variables": {"input": {"id": "s1", "value": "v"}}},
            headers={"authorization": ADMIN_JWT},
        )
        assert "errors" not in response.json()
        mutate(client, CREATE, {"input": {"id": "t1"}})
        frames = probe(ws)
        assert frames == [
            {
                "type": "data",
                "id": "secret-admin",
                "payload": {"data": {"onCreateSecret": {"id": "s1", "value": "v"}}},
            },
            {
                "type": "data",
                "id": "todo-key",
                "payload": {"data": {"onCreateTodo": {"id": "t1", "content": None, "priority": None}}},
            },
        ]


def test_unsubscribe_stops_events_but_not_the_other_subscriptions(client: TestClient) -> None:
    with appsync_socket(client) as ws:
        init(ws)
        subscribe(ws, "gone")
        subscribe(ws, "stays")
        ws.send_json({"id": "gone", "type": "stop"})
        assert receive(ws) == {"type": "complete", "id": "gone"}
        mutate(client, CREATE, {"input": {"id": "t1"}})
        assert [f["id"] for f in probe(ws)] == ["stays"]


def test_bad_frames_do_not_kill_the_connection_or_other_subscriptions(client: TestClient) -> None:
    with appsync_socket(client) as ws:
        init(ws)
        subscribe(ws, "live")
        bad = [
            "not json",
            "[]",
            '{"type":"nonsense","id":"x"}',
            '{"type":"stop","id":"unknown"}',
            '{"type":"start","id":"x","payload":{"data":"{oops"}}',
        ]
        for text in bad:
            ws.send_text(text)
            assert receive(ws)["type"] == "error"
        ws.send_json(start("live", ON_CREATE))  # duplicate of an active id
        assert receive(ws)["payload"]["errors"][0]["errorType"] == "DuplicatedOperationError"
        ws.send_json(start("badq", "subscription { onCreateTodo { nope } }"))
        error = receive(ws)
        assert (error["id"], error["payload"]["errors"][0]["errorType"]) == ("badq", "ValidationError")
        ws.send_json(start("mut", CREATE, {"input": {"id": "x"}}))
        assert receive(ws)["payload"]["errors"][0]["errorType"] == "ValidationError"
        mutate(client, CREATE, {"input": {"id": "t1", "content": "still here"}})
        frame = receive(ws)
        assert frame["id"] == "live"
        assert frame["payload"]["data"]["onCreateTodo"]["content"] == "still here"


def test_ids_may_be_reused_after_reconnecting(client: TestClient) -> None:
    with appsync_socket(client) as ws:
        init(ws)
        subscribe(ws, "same")
    with appsync_socket(client) as ws:
        init(ws)
        subscribe(ws, "same")
        mutate(client, CREATE, {"input": {"id": "t1"}})
        assert receive(ws)["id"] == "same"


def test_a_socket_without_a_known_subprotocol_is_refused(client: TestClient) -> None:
    with client.websocket_connect("/graphql/realtime", subprotocols=["mqtt"]) as ws:
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_json()
        assert info.value.code == 4406


def test_closing_the_socket_releases_its_subscriptions(tmp_path: Path) -> None:
    with custom_endpoint(tmp_path) as (client, endpoint, _runtime):
        with appsync_socket(client) as ws:
            init(ws)
            subscribe(ws, "a")
            subscribe(ws, "b", "subscription { onUpdateTodo { id } }")
            assert endpoint.hub.subscription_count == 2
            assert endpoint.hub.connection_count == 1
        assert endpoint.hub.subscription_count == 0
        assert endpoint.hub.connection_count == 0


def test_subscriptions_follow_a_schema_reload(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path)
    with TestClient(create_app(runtime)) as client, appsync_socket(client) as ws:
        init(ws)
        subscribe(ws, "keeps", "subscription { onCreateTodo { id content } }")
        subscribe(ws, "breaks", "subscription { onCreateTodo { id priority } }")
        reloaded = schema_from_sdl(SCHEMA.replace("  priority: Int\n", ""))
        assert client.portal is not None
        client.portal.call(runtime.reload, replace(reloaded, auth=runtime.schema.auth))
        mutate(client, CREATE, {"input": {"id": "t1", "content": "new schema"}})
        frames = sorted(probe(ws), key=lambda f: str(f["id"]))
        assert frames[0]["id"] == "breaks" and frames[0]["type"] == "error"
        assert frames[0]["payload"]["errors"][0]["errorType"] == "ValidationError"
        assert frames[1] == {
            "type": "data",
            "id": "keeps",
            "payload": {"data": {"onCreateTodo": {"id": "t1", "content": "new schema"}}},
        }


# ------------------------------------------------------------------------------ graphql-transport-ws


def test_graphql_transport_ws_protocol(client: TestClient) -> None:
    with client.websocket_connect("/graphql/realtime", subprotocols=["graphql-transport-ws"]) as ws:
        assert ws.accepted_subprotocol == "graphql-transport-ws"
        ws.send_json({"type": "connection_init", "payload": {"x-api-key": KEY}})
        assert ws.receive_json() == {"type": "connection_ack"}
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}
        ws.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": ON_CREATE, "variables": {"filter": None}}}
        )
        ws.send_json(
            {"id": "2", "type": "subscribe", "payload": {"query": "subscription { onCreateTodo { x } }"}}
        )
        error = ws.receive_json()
        assert error["id"] == "2" and error["type"] == "error"
        assert "Cannot query field 'x'" in error["payload"][0]["message"]
        mutate(client, CREATE, {"input": {"id": "t1", "content": "c"}})
        assert ws.receive_json() == {
            "id": "1",
            "type": "next",
            "payload": {"data": {"onCreateTodo": {"id": "t1", "content": "c", "priority": None}}},
        }
        ws.send_json({"id": "1", "type": "complete"})
        ws.send_json({"type": "connection_init"})
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_json()
        assert info.value.code == 4429


def test_graphql_transport_ws_rejects_bad_credentials_with_4403(client: TestClient) -> None:
    with client.websocket_connect("/graphql/realtime", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "connection_init", "payload": {"x-api-key": "da2-nope"}})
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_json()
        assert info.value.code == 4403


# ------------------------------------------------------------------------------ endpoint options


@contextlib.contextmanager
def custom_endpoint(
    tmp_path: Path, pubsub: LocalPubSub | None = None, **options: Any
) -> Iterator[tuple[TestClient, RealtimeEndpoint, Runtime]]:
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute

    runtime = make_runtime(tmp_path, pubsub)
    endpoint = RealtimeEndpoint(runtime, **options)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        yield
        await runtime.stop()

    app = Starlette(routes=[WebSocketRoute("/graphql/realtime", endpoint)], lifespan=lifespan)
    with TestClient(app) as test_client:
        yield test_client, endpoint, runtime


def test_keep_alives_are_sent_while_idle(tmp_path: Path) -> None:
    with (
        custom_endpoint(tmp_path, keepalive_interval=0.01) as (client, _endpoint, _runtime),
        appsync_socket(client) as ws,
    ):
        init(ws)
        assert ws.receive_json() == {"type": "ka"}
        assert ws.receive_json() == {"type": "ka"}


def test_a_connection_that_falls_behind_is_closed_and_others_are_not(tmp_path: Path) -> None:
    with (
        custom_endpoint(tmp_path, queue_limit=5) as (client, endpoint, runtime),
        appsync_socket(client) as slow,
        appsync_socket(client) as fast,
    ):
        init(slow)
        init(fast)
        subscribe(slow, "s")
        subscribe(fast, "f")
        slow_conn = next(c for c in endpoint.hub._connections if "s" in c.subs)
        reg = slow_conn.subs["s"]

        def flood() -> None:  # six events queued before its writer can run once
            for n in range(6):
                slow_conn.offer_event(reg, ChangeEvent("createTodo", "Todo", {"id": str(n)}, n))

        assert client.portal is not None
        client.portal.call(flood)
        assert slow_conn.aborted == (1013, "Slow consumer")
        with pytest.raises(WebSocketDisconnect) as info:
            while True:
                slow.receive_json()
        assert info.value.code == 1013
        assert endpoint.hub.subscription_count == 1
        client.portal.call(runtime.pubsub.publish, ChangeEvent("createTodo", "Todo", {"id": "after"}, 9))
        assert receive(fast)["payload"]["data"]["onCreateTodo"]["id"] == "after"


def test_identical_subscriptions_share_one_rendering_per_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ampbase.server import realtime

    calls: list[str] = []
    original = realtime.render_record

    async def counting(sub: Any, record: Any) -> Any:
        calls.append(sub.field_name)
        return await original(sub, record)

    monkeypatch.setattr(realtime, "render_record", counting)
    with (
        custom_endpoint(tmp_path) as (client, _endpoint, runtime),
        appsync_socket(client) as one,
        appsync_socket(client) as two,
    ):
        for ws in (one, two):
            init(ws)
            subscribe(ws, "same", "subscription { onCreateTodo { id content } }")
        assert client.portal is not None
        record = {"id": "t1", "content": "shared", "__typename": "Todo"}
        client.portal.call(runtime.pubsub.publish, ChangeEvent("createTodo", "Todo", record, 1))
        expected = {
            "type": "data",
            "id": "same",
            "payload": {"data": {"onCreateTodo": {"id": "t1", "content": "shared"}}},
        }
        assert receive(one) == expected
        assert receive(two) == expected
        assert calls == ["onCreateTodo"]


def test_one_rendering_reaches_every_member_of_a_group_with_its_own_id(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ampbase.server import realtime

    monkeypatch.setattr(realtime, "_FAN_OUT_BATCH", 2)  # members written in several batches
    with appsync_socket(client) as ws, appsync_socket(client) as other:
        init(ws)
        init(other)
        for sub_id in ("a", "b", 'q"uote'):
            subscribe(ws, sub_id)
        subscribe(other, "c")
        subscribe(ws, "high", variables={"filter": {"priority": {"gt": 5}}})
        mutate(client, CREATE, {"input": {"id": "t1", "content": "thé", "priority": 1}})
        mutate(client, CREATE, {"input": {"id": "t2", "content": "two", "priority": 9}})
        got = [(f["id"], f["payload"]["data"]["onCreateTodo"]) for f in probe(ws)]
        first = {"id": "t1", "content": "thé", "priority": 1}
        second = {"id": "t2", "content": "two", "priority": 9}
        assert got == [
            ("a", first),
            ("b", first),
            ('q"uote', first),
            ("a", second),
            ("b", second),
            ('q"uote', second),
            ("high", second),
        ]
        assert [receive(other)["payload"]["data"]["onCreateTodo"]["id"] for _ in range(2)] == ["t1", "t2"]


def test_a_new_policy_is_applied_to_each_member_of_a_group(tmp_path: Path) -> None:
    from ampbase.auth.policy import SchemaPolicy

    ops_jwt = "ops.bbb.ccc"

    class Pool(FakeUserPool):
        async def __call__(self, token: str, headers: Mapping[str, str]) -> Identity | None:
            if token == ops_jwt:
                return Identity(mode="userPool", claims={"sub": "u3", "cognito:groups": ["Admin", "Ops"]})
            return await super().__call__(token, headers)

    with custom_endpoint(tmp_path) as (client, _endpoint, runtime):
        runtime.authenticator.verifiers["userPool"] = Pool()
        with appsync_socket(client) as admin, appsync_socket(client) as ops:
            for ws, token in ((admin, ADMIN_JWT), (ops, ops_jwt)):
                init(ws)
                subscribe(ws, "secret", ON_SECRET, auth={"Authorization": token, "host": "h"})
                subscribe(ws, "todo")  # API key: a barrier after the secrets
            # the same group so far (both admitted by the same static rule); now only Ops may read
            ops_only = schema_from_sdl(SCHEMA.replace('groups: ["Admin"]', 'groups: ["Ops"]'))
            runtime.engine.policy = SchemaPolicy(ops_only)
            assert client.portal is not None
            for n in range(2):
                secret = {"id": f"s{n}", "value": "v", "__typename": "Secret"}
                client.portal.call(runtime.pubsub.publish, ChangeEvent("createSecret", "Secret", secret, n))
            todo = {"id": "t", "__typename": "Todo"}
            client.portal.call(runtime.pubsub.publish, ChangeEvent("createTodo", "Todo", todo, 3))

            def until_barrier(ws: Any) -> list[str]:
                seen = []
                while (frame := receive(ws))["id"] != "todo":
                    seen.append(frame["payload"]["data"]["onCreateSecret"]["id"])
                return seen

            assert until_barrier(admin) == []
            assert until_barrier(ops) == ["s0", "s1"]


class GatedSocket:
    """A WebSocket stand-in whose sends wait until ``gate`` is resolved (a full socket buffer)."""

    def __init__(self, gate: asyncio.Future[None] | None = None) -> None:
        self.gate = gate
        self.sent: list[str] = []

    async def send_text(self, text: str) -> None:
        if self.gate is not None:
            await self.gate
        self.sent.append(text)

    async def close(self, code: int, reason: str) -> None:
        self.sent.append(f"close {code}")


def gated_connection(socket: GatedSocket, queue_limit: int = 10, keepalive: float = 60.0) -> Any:
    from ampbase.protocol.appsync_ws import AppSyncConnection
    from ampbase.server.realtime import RealtimeHub, _Connection, _Options

    machine = AppSyncConnection()
    machine.receive('{"type":"connection_init"}')
    machine.receive(json.dumps(start("s1", ON_CREATE)))
    machine.subscription_ready("s1")
    hub = RealtimeHub(Any)  # type: ignore[arg-type]  # the hub's runtime is not used here
    return _Connection(socket, hub, _Options(keepalive, queue_limit, 60.0), machine, {}, None)  # type: ignore[arg-type]


def event_payload(n: int) -> tuple[dict[str, Any], str]:
    payload = {"data": {"onCreateTodo": {"id": str(n)}}}
    return payload, json.dumps(payload, separators=(",", ":"))


@pytest.mark.anyio
async def test_frames_sent_while_a_send_waits_follow_it_in_order() -> None:
    from ampbase.server.realtime import Registration

    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    socket = GatedSocket(gate)
    conn = gated_connection(socket)
    writer = asyncio.ensure_future(conn.writer())
    conn.tasks = [writer]
    reg = Registration(conn, "s1", Any, Any)  # type: ignore[arg-type]
    for n in range(3):
        conn.send_data(reg, *event_payload(n), 0.0)
    assert conn.sending is not None and len(conn.queue) == 2  # the first waits, the rest queue behind
    gate.set_result(None)
    while len(socket.sent) < 3:
        await asyncio.sleep(0.001)
        assert not writer.done()
    assert [json.loads(text)["payload"]["data"]["onCreateTodo"]["id"] for text in socket.sent] == [
        "0",
        "1",
        "2",
    ]
    conn.send_data(reg, *event_payload(3), 0.0)  # nothing ahead: written at once
    assert json.loads(socket.sent[-1])["payload"]["data"]["onCreateTodo"]["id"] == "3"
    writer.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await writer


@pytest.mark.anyio
async def test_a_consumer_whose_sends_stay_blocked_is_closed_as_slow() -> None:
    from ampbase.server.realtime import Registration

    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    conn = gated_connection(GatedSocket(gate), queue_limit=2)
    writer = asyncio.ensure_future(conn.writer())
    conn.tasks = [writer]
    reg = Registration(conn, "s1", Any, Any)  # type: ignore[arg-type]
    for n in range(3):
        conn.send_data(reg, *event_payload(n), 0.0)
    before = conn.aborted
    conn.send_data(reg, *event_payload(3), 0.0)
    assert before is None
    assert conn.aborted == (1013, "Slow consumer")
    assert writer.cancelled() or writer.cancelling()
    with contextlib.suppress(asyncio.CancelledError):
        await writer
    assert conn.sending is not None
    conn.sending.cancel()
    gate.cancel()


def test_keep_alives_keep_coming_on_uvloop_when_a_deadline_is_under_a_millisecond_away() -> None:
    uvloop = pytest.importorskip("uvloop")

    async def scenario() -> None:
        socket = GatedSocket()
        conn = gated_connection(socket, keepalive=0.0004)  # uvloop: call_at returns a plain Handle
        writer = asyncio.ensure_future(conn.writer())
        conn.tasks = [writer]
        while socket.sent.count('{"type":"ka"}') < 5:
            await asyncio.sleep(0.0002)
            assert not writer.done(), writer.exception()
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer

    uvloop.run(scenario())


@pytest.mark.parametrize("subprotocol", ["graphql-ws", "graphql-transport-ws"])
def test_a_socket_that_never_initialises_is_closed_with_4408(tmp_path: Path, subprotocol: str) -> None:
    with (
        custom_endpoint(tmp_path, init_timeout=0.01) as (client, _endpoint, _runtime),
        client.websocket_connect("/graphql/realtime", subprotocols=[subprotocol]) as ws,
        pytest.raises(WebSocketDisconnect) as info,
    ):
        ws.receive_json()
    assert info.value.code == 4408


def test_when_the_process_falls_behind_the_event_stream_sockets_are_closed_for_resubscription(
    tmp_path: Path,
) -> None:
    with custom_endpoint(tmp_path, LocalPubSub(max_queue=1)) as (client, endpoint, runtime):
        with appsync_socket(client) as ws:
            init(ws)
            subscribe(ws, "s")

            async def burst() -> None:  # two events before the hub can read one: it is cut off
                for n in range(2):
                    await runtime.pubsub.publish(ChangeEvent("createTodo", "Todo", {"id": str(n)}, n))

            assert client.portal is not None
            client.portal.call(burst)
            with pytest.raises(WebSocketDisconnect) as info:
                while True:
                    ws.receive_json()
            assert info.value.code == 1011
        with appsync_socket(client) as ws:  # a new connection restarts the hub
            init(ws)
            subscribe(ws, "s")
            client.portal.call(runtime.pubsub.publish, ChangeEvent("createTodo", "Todo", {"id": "x"}, 3))
            assert receive(ws)["payload"]["data"]["onCreateTodo"]["id"] == "x"
            assert endpoint.hub.connection_count == 1


def test_handshake_decoding_prefers_the_subprotocol() -> None:
    auth = {"host": "h", "x-api-key": "k"}
    other = base64.b64encode(json.dumps({"x-api-key": "q"}).encode()).decode()
    headers, extra = decode_handshake(
        ["graphql-ws", "header-" + b64url(auth)], f"header={other}&payload=e30=&x-tenant=a%20b".encode()
    )
    assert headers == auth
    assert extra == {"x-tenant": "a b"}
    assert decode_handshake(["graphql-ws", "header-"], b"") == ({}, {})
    with pytest.raises(ValueError):
        decode_handshake(["graphql-ws", "header-" + b64url({"a": 1})[:-1] + "%"], b"")


# ------------------------------------------------------------------------------ real sockets


@contextlib.asynccontextmanager
async def serving(tmp_path: Path) -> AsyncIterator[tuple[str, TestClient | None]]:
    runtime = make_runtime(tmp_path)
    config = uvicorn.Config(create_app(runtime), host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
        assert not task.done()
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}", None
    finally:
        server.should_exit = True
        await task


async def post(base: str, query: str, variables: dict[str, Any]) -> None:
    import httpx

    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"http://{base}/graphql",
            json={"query": query, "variables": variables},
            headers={"x-api-key": KEY},
        )
        assert response.status_code == 200 and "errors" not in response.json(), response.text


@pytest.mark.anyio
async def test_real_websocket_clients_over_uvicorn(tmp_path: Path) -> None:
    from websockets.asyncio.client import connect

    async with serving(tmp_path) as (base, _):
        url = f"ws://{base}/graphql/realtime"
        async with (
            connect(url, subprotocols=["graphql-ws", "header-" + b64url(API_AUTH)]) as appsync,  # type: ignore[list-item]
            connect(url, subprotocols=["graphql-transport-ws"]) as standard,  # type: ignore[list-item]
        ):
            assert appsync.subprotocol == "graphql-ws"
            assert standard.subprotocol == "graphql-transport-ws"
            await appsync.send('{"type":"connection_init"}')
            assert json.loads(await appsync.recv())["type"] == "connection_ack"
            assert json.loads(await appsync.recv()) == {"type": "ka"}
            await appsync.send(json.dumps(start("a1", ON_CREATE)))
            assert json.loads(await appsync.recv()) == {"type": "start_ack", "id": "a1"}

            await standard.send(json.dumps({"type": "connection_init", "payload": {"x-api-key": KEY}}))
            assert json.loads(await standard.recv()) == {"type": "connection_ack"}
            await standard.send(
                json.dumps(
                    {
                        "id": "t1",
                        "type": "subscribe",
                        "payload": {"query": "subscription { onUpdateTodo { id done } }"},
                    }
                )
            )
            await standard.send('{"type":"ping"}')
            assert json.loads(await standard.recv()) == {"type": "pong"}  # the subscribe was handled before

            await post(base, CREATE, {"input": {"id": "r1", "content": "real"}})
            await post(base, UPDATE, {"input": {"id": "r1", "done": True}})
            assert json.loads(await appsync.recv()) == {
                "type": "data",
                "id": "a1",
                "payload": {"data": {"onCreateTodo": {"id": "r1", "content": "real", "priority": None}}},
            }
            assert json.loads(await standard.recv()) == {
                "id": "t1",
                "type": "next",
                "payload": {"data": {"onUpdateTodo": {"id": "r1", "done": True}}},
            }
