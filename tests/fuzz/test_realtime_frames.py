"""Fuzzing the AppSync realtime protocol: the sans-IO state machine, then the live endpoint.

The machine (``protocol/appsync_ws.py``) gets random sequences of client frames (valid, almost
valid and garbage) interleaved with driver events; it never raises, every frame it sends is a
well-formed AppSync frame, and its bookkeeping matches what it told the driver.

The live endpoint (uvicorn on a free port, the real runtime on SQLite) gets random frame
sequences on a real WebSocket, including ``start`` frames with subscription documents generated
from the compiled schema. Every reply is well formed, nothing is an internal failure, the socket
stays open, and afterwards a fresh subscription on the same socket still receives its event.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from hypothesis import given
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from ampbase.protocol import transport_ws
from ampbase.protocol.actions import CloseConnection, SendFrame, StartSubscription, StopSubscription
from ampbase.protocol.appsync_ws import AppSyncConnection
from tests.fuzz.conftest import FUZZ_TIMEOUT, fuzz_settings
from tests.fuzz.strategies import json_values, requests
from tests.security.served import served

# deep runs (--hypothesis-profile=long) take longer than the suite's default timeout
pytestmark = pytest.mark.timeout(FUZZ_TIMEOUT)

FRAME_TYPES = {"connection_ack", "connection_error", "ka", "start_ack", "data", "complete", "error"}
IDS = st.sampled_from(["1", "2", "3", "a-b", "🙂"]) | st.sampled_from([None, "", 7, ["1"]])


def check_frame(frame: Any) -> None:
    assert isinstance(frame, dict), frame
    assert frame.get("type") in FRAME_TYPES, frame
    if frame["type"] in ("error", "connection_error"):
        errors = frame["payload"]["errors"]
        assert errors, frame
        for error in errors:
            assert isinstance(error["errorType"], str) and error["errorType"], frame
            assert isinstance(error["message"], str) and error["message"], frame
            assert error["errorType"] != "InternalFailure", frame
    if frame["type"] == "data":
        payload = frame["payload"]
        assert "data" in payload or payload.get("errors"), frame
        for error in payload.get("errors") or ():
            assert isinstance(error["message"], str), frame
            assert error.get("errorType") != "InternalFailure", frame


def start_frame(sub_id: Any, request: Any, authorization: Any, *, encode: bool = True) -> dict[str, Any]:
    data = json.dumps(request) if encode else request
    return {
        "id": sub_id,
        "type": "start",
        "payload": {"data": data, "extensions": {"authorization": authorization}},
    }


def frames(
    subscription_requests: st.SearchStrategy[dict[str, Any]], auth: dict[str, str]
) -> st.SearchStrategy[str]:
    """One client frame as text."""
    as_objects = st.one_of(
        st.just({"type": "connection_init"}),
        st.builds(start_frame, IDS, subscription_requests, st.just(auth)),
        st.builds(start_frame, IDS, subscription_requests, st.just(auth), encode=st.just(False)),
        st.builds(start_frame, IDS, json_values, json_values),
        st.builds(lambda i: {"id": i, "type": "stop"}, IDS),
        st.fixed_dictionaries(
            {},
            optional={
                "id": IDS,
                "type": st.sampled_from(["ka", "ping", "data", "complete", "GQL_START", ""]) | json_values,
                "payload": json_values,
            },
        ),
        json_values,
    )
    return st.one_of(
        as_objects.map(lambda f: json.dumps(f)),
        as_objects.map(lambda f: json.dumps(f)),
        st.text(max_size=40),
        st.just('{"type": "connection_init"' + " " * 300_000 + "}"),
    )


# ----------------------------------------------------------------------------- the state machine


def test_state_machine_survives_any_frame_sequence() -> None:
    subscription_requests = st.fixed_dictionaries(
        {
            "query": st.sampled_from(["subscription { onCreateTodo { id } }", "", "{ x }"])
            | st.text(max_size=10)
        },
        optional={"variables": json_values},
    )
    events = st.tuples(
        st.sampled_from(["ready", "failed", "error", "data"]), IDS.filter(lambda i: isinstance(i, str))
    )
    steps = st.lists(st.one_of(frames(subscription_requests, {"x-api-key": "k"}), events), max_size=25)

    @fuzz_settings(400)
    @given(steps=steps, limit=st.integers(1, 4))
    def fuzz(steps: list[Any], limit: int) -> None:
        machine = AppSyncConnection(max_subscriptions=limit, max_message_bytes=2048)
        pending: set[str] = set()
        active: set[str] = set()
        acknowledged = False
        for step in steps:
            if isinstance(step, str):
                actions = machine.receive(step)
            else:
                kind, sub_id = step
                if kind == "ready":
                    actions = machine.subscription_ready(sub_id)
                elif kind == "failed":
                    actions = machine.subscription_failed(sub_id, "ValidationError", "bad")
                elif kind == "error":
                    actions = machine.subscription_error(sub_id, "Unauthorized", "revoked")
                else:
                    actions = machine.data(sub_id, {"data": {"x": "y" * 100}})
            for action in actions:
                if isinstance(action, SendFrame):
                    frame = json.loads(action.text)
                    check_frame(frame)
                    if frame["type"] == "connection_ack":
                        acknowledged = True
                    elif frame["type"] == "start_ack":
                        assert frame["id"] in pending
                        pending.discard(frame["id"])
                        active.add(frame["id"])
                    elif frame["type"] == "data":
                        assert frame["id"] in active
                    elif frame["type"] == "complete":
                        assert frame["id"] not in pending | active
                elif isinstance(action, StartSubscription):
                    assert acknowledged
                    assert action.id not in pending | active
                    pending.add(action.id)
                elif isinstance(action, StopSubscription):
                    pending.discard(action.id)
                    active.discard(action.id)
                else:
                    assert isinstance(action, CloseConnection)
            assert len(machine) == len(pending) + len(active) <= limit
            assert machine.active_ids == active and machine.pending_ids == pending

    fuzz()


def _transport_event(machine: transport_ws.TransportWsConnection, kind: str, sub_id: str) -> list[Any]:
    """One driver event on a graphql-transport-ws machine."""
    if kind == "accept":
        return machine.accept()
    if kind == "reject":
        return machine.reject("Forbidden")
    if kind == "timeout":
        return machine.init_timeout()
    if kind == "ready":
        return machine.subscription_ready(sub_id)
    if kind == "failed":
        return machine.subscription_failed(sub_id, [{"message": "bad"}])
    if kind == "error":
        return machine.subscription_error(sub_id, [{"message": "revoked"}])
    if kind == "data":
        return machine.data(sub_id, {"data": {"x": "y" * 600}})
    if kind == "complete":
        return machine.complete(sub_id)
    return machine.keepalive()


def test_graphql_transport_ws_machine_survives_any_frame_sequence() -> None:
    """The standard protocol ends the connection on misuse: only with its documented codes."""
    client_frames = st.one_of(
        st.fixed_dictionaries(
            {
                "type": st.sampled_from(
                    ["connection_init", "subscribe", "complete", "ping", "pong", "next", "x"]
                )
            },
            optional={
                "id": IDS,
                "payload": st.one_of(
                    json_values,
                    st.fixed_dictionaries(
                        {"query": st.sampled_from(["subscription { onCreateTodo { id } }", ""])},
                        optional={"variables": json_values},
                    ),
                ),
            },
        ).map(json.dumps),
        json_values.map(json.dumps),
        st.text(max_size=20),
    )
    events = st.tuples(
        st.sampled_from(
            ["accept", "reject", "timeout", "ready", "failed", "error", "data", "complete", "ka"]
        ),
        st.sampled_from(["1", "2", "3"]),
    )
    codes = {
        transport_ws.CLOSE_BAD_REQUEST,
        transport_ws.CLOSE_UNAUTHORIZED,
        transport_ws.CLOSE_FORBIDDEN,
        transport_ws.CLOSE_INIT_TIMEOUT,
        transport_ws.CLOSE_DUPLICATE,
        transport_ws.CLOSE_TOO_MANY_INITS,
    }
    kinds = {"connection_ack", "next", "error", "complete", "ping", "pong"}

    @fuzz_settings(400)
    @given(steps=st.lists(st.one_of(client_frames, events), max_size=25), limit=st.integers(1, 3))
    def fuzz(steps: list[Any], limit: int) -> None:
        machine = transport_ws.TransportWsConnection(max_subscriptions=limit, max_message_bytes=512)
        closed = False
        for step in steps:
            if isinstance(step, str):
                actions = machine.receive(step)
            else:
                kind, sub_id = step
                actions = _transport_event(machine, kind, sub_id)
            for action in actions:
                if closed:
                    assert not isinstance(action, SendFrame | StartSubscription), (step, action)
                if isinstance(action, SendFrame):
                    frame = json.loads(action.text)
                    assert frame.get("type") in kinds, frame
                elif isinstance(action, CloseConnection):
                    assert action.code in codes, action
                    closed = True
            assert len(machine) <= limit

    fuzz()


# ----------------------------------------------------------------------------- the live endpoint


class _LiveServer:
    """uvicorn serving the app on 127.0.0.1 on its own event loop."""

    def __init__(self, tmp: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self._stack = contextlib.AsyncExitStack()
        self.base, self.api_key, self.graphql_schema = self.run(self._start(tmp))

    async def _start(self, tmp: Path) -> tuple[str, str, Any]:
        from ampbase.server.app import create_app

        app = await self._stack.enter_async_context(served(tmp, rate_limit=0))
        config = uvicorn.Config(
            create_app(app.runtime), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
        )
        server = uvicorn.Server(config)
        task = asyncio.ensure_future(server.serve())

        async def stop() -> None:
            server.should_exit = True
            await task

        self._stack.push_async_callback(stop)
        while not server.started:
            assert not task.done()
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        return f"127.0.0.1:{port}", app.api_key, app.runtime.engine.graphql_schema

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        try:
            self.run(self._stack.aclose())
        finally:
            self.loop.close()


@contextlib.contextmanager
def live_server(tmp: Path) -> Iterator[_LiveServer]:
    server = _LiveServer(tmp)
    try:
        yield server
    finally:
        server.close()


@contextlib.asynccontextmanager
async def socket(server: _LiveServer) -> AsyncIterator[ClientConnection]:
    header = {"host": server.base, "x-api-key": server.api_key}
    encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).decode().rstrip("=")
    async with connect(
        f"ws://{server.base}/graphql/realtime",
        subprotocols=["graphql-ws", f"header-{encoded}"],  # type: ignore[list-item]
        max_size=None,
    ) as ws:
        yield ws


async def read_until(ws: ClientConnection, wanted: Any) -> dict[str, Any]:
    """Check every frame until one for which ``wanted(frame)`` holds."""
    while True:
        try:
            text = await asyncio.wait_for(ws.recv(), timeout=15)
        except ConnectionClosed as closed:
            raise AssertionError(f"the server closed the socket: {closed}") from None
        frame = json.loads(text)
        check_frame(frame)
        if wanted(frame):
            return frame  # type: ignore[no-any-return]


def test_live_endpoint_survives_random_frames_and_keeps_serving(tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        auth = {"host": server.base, "x-api-key": server.api_key}
        subscription_requests = requests(server.graphql_schema, ("subscription",))
        created = iter(range(10**6))

        async def session(sequence: list[str]) -> None:
            async with socket(server) as ws:
                await ws.send(json.dumps({"type": "connection_init"}))
                await read_until(ws, lambda f: f["type"] == "connection_ack")
                for text in sequence:
                    await ws.send(text)
                sentinel = "sentinel-subscription"
                query = {"query": "subscription { onCreateTodo { id name } }", "variables": {}}
                await ws.send(json.dumps(start_frame(sentinel, query, auth)))
                ack = await read_until(ws, lambda f: f.get("id") == sentinel)
                assert ack["type"] == "start_ack", ack
                todo_id = f"after-fuzz-{next(created)}"
                async with httpx.AsyncClient() as http:
                    response = await http.post(
                        f"http://{server.base}/graphql",
                        json={
                            "query": "mutation ($i: CreateTodoInput!) { createTodo(input: $i) { id } }",
                            "variables": {"i": {"id": todo_id, "name": "n"}},
                        },
                        headers={"x-api-key": server.api_key},
                    )
                    assert "errors" not in response.json(), response.text
                event = await read_until(
                    ws,
                    lambda f: (
                        f["type"] == "data"
                        and f["id"] == sentinel
                        and f["payload"]["data"]["onCreateTodo"]["id"] == todo_id
                    ),
                )
                assert event["payload"]["data"]["onCreateTodo"] == {"id": todo_id, "name": "n"}

        @fuzz_settings(60)
        @given(sequence=st.lists(frames(subscription_requests, auth), max_size=12))
        def fuzz(sequence: list[str]) -> None:
            server.run(session(sequence))

        fuzz()
