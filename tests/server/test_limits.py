"""Admission limits: per-API-key rate limiting, WebSockets per address, limit settings and flags."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from ampbase.cli.main import LIMIT_FLAGS, build_parser
from ampbase.engine.limits import ExecutionLimits
from ampbase.errors import ConfigError
from ampbase.server.app import CLOSE_TOO_MANY_CONNECTIONS, create_app
from ampbase.server.limits import ConnectionLimiter, RateLimiter
from ampbase.server.settings import Settings
from tests.server.fakes import VALID_KEY, FakeRuntime
from tests.server.test_realtime import KEY, make_runtime


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_a_burst_then_the_refill_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2, burst=3, clock=clock)
    assert [limiter.acquire("k") for _ in range(4)] == [True, True, True, False]
    assert limiter.acquire("other")  # buckets are per key
    assert limiter.retry_after("k") == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.acquire("k")
    assert not limiter.acquire("k")
    clock.now += 100
    assert [limiter.acquire("k") for _ in range(4)] == [True, True, True, False]  # never above burst


def test_idle_buckets_are_forgotten() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=10, burst=10, clock=clock)
    for n in range(2000):
        limiter.acquire(f"key-{n}")
        clock.now += 0.01
    assert len(limiter) < 1100


def test_zero_rate_disables_the_limiter() -> None:
    limiter = RateLimiter(rate=0, burst=0)
    assert not limiter.enabled
    assert all(limiter.acquire("k") for _ in range(10_000))


def test_connection_limiter_counts_per_address() -> None:
    limiter = ConnectionLimiter(2)
    assert limiter.try_open("a") and limiter.try_open("a")
    assert not limiter.try_open("a")
    assert limiter.try_open("b")
    limiter.close("a")
    assert limiter.count("a") == 1
    assert limiter.try_open("a")
    unlimited = ConnectionLimiter(0)
    assert all(unlimited.try_open("a") for _ in range(1000))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def throttled_client() -> AsyncIterator[httpx.AsyncClient]:
    runtime = FakeRuntime(settings=Settings(rate_limit=0.001, rate_burst=2))
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:4443") as c:
        yield c


@pytest.mark.anyio
async def test_api_key_over_its_rate_gets_a_throttling_error_with_http_200(
    throttled_client: httpx.AsyncClient,
) -> None:
    headers = {"x-api-key": VALID_KEY, "origin": "https://app.example.com"}
    responses = [
        await throttled_client.post("/graphql", json={"query": "{ a }"}, headers=headers) for _ in range(3)
    ]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert "data" in responses[0].json() and "errors" not in responses[0].json()
    throttled = responses[2]
    assert throttled.json() == {
        "data": None,
        "errors": [
            {
                "errorType": "ThrottlingException",
                "message": "Rate exceeded: this API key may send 0.001 requests per second. "
                "Retry after a short wait.",
            }
        ],
    }
    assert int(throttled.headers["retry-after"]) >= 1
    assert throttled.headers["access-control-allow-origin"] == "https://app.example.com"


@pytest.mark.anyio
async def test_rejected_credentials_do_not_use_up_a_bucket(throttled_client: httpx.AsyncClient) -> None:
    for _ in range(5):
        response = await throttled_client.post(
            "/graphql", json={"query": "{ a }"}, headers={"x-api-key": "nope"}
        )
        assert response.status_code == 401
    ok = await throttled_client.post("/graphql", json={"query": "{ a }"}, headers={"x-api-key": VALID_KEY})
    assert "errors" not in ok.json()


def _appsync_protocols() -> list[str]:
    header = (
        base64.urlsafe_b64encode(json.dumps({"x-api-key": KEY, "host": "h"}).encode()).decode().rstrip("=")
    )
    return ["graphql-ws", f"header-{header}"]


@pytest.fixture
def limited_client(tmp_path: Path) -> Iterator[TestClient]:
    runtime = make_runtime(tmp_path)
    runtime.settings = replace(runtime.settings, max_ws_connections_per_ip=2)
    with TestClient(create_app(runtime)) as client:
        yield client


def test_websockets_over_the_per_address_limit_are_closed_with_4429(limited_client: TestClient) -> None:
    protocols = _appsync_protocols()
    with (
        limited_client.websocket_connect("/graphql/realtime", subprotocols=protocols) as first,
        limited_client.websocket_connect("/graphql/realtime", subprotocols=protocols) as second,
    ):
        for ws in (first, second):
            ws.send_json({"type": "connection_init"})
            assert ws.receive_json()["type"] == "connection_ack"
        with limited_client.websocket_connect("/graphql/realtime", subprotocols=protocols) as third:
            assert third.accepted_subprotocol == "graphql-ws"
            with pytest.raises(WebSocketDisconnect) as closed:
                third.receive_json()
            assert closed.value.code == CLOSE_TOO_MANY_CONNECTIONS
            assert "limit 2" in closed.value.reason
    # closing frees the slots
    with limited_client.websocket_connect("/graphql/realtime", subprotocols=protocols) as again:
        again.send_json({"type": "connection_init"})
        assert again.receive_json()["type"] == "connection_ack"


def test_every_limit_reads_its_environment_variable() -> None:
    env = {
        "AMPBASE_MAX_QUERY_DEPTH": "9",
        "AMPBASE_MAX_QUERY_TOKENS": "500",
        "AMPBASE_MAX_RESOLVERS": "50",
        "AMPBASE_MAX_PAGE_SIZE": "20",
        "AMPBASE_REQUEST_TIMEOUT": "2.5",
        "AMPBASE_RATE_LIMIT": "7.5",
        "AMPBASE_RATE_BURST": "15",
        "AMPBASE_MAX_SUBSCRIPTIONS": "3",
        "AMPBASE_MAX_WS_MESSAGE_BYTES": "4096",
        "AMPBASE_MAX_WS_CONNECTIONS_PER_IP": "0",
    }
    settings = Settings.from_env(env).validate()
    assert settings.execution_limits == ExecutionLimits(
        max_depth=9, max_tokens=500, max_resolvers=50, timeout=2.5
    )
    assert (settings.max_page_size, settings.rate_limit, settings.rate_burst) == (20, 7.5, 15)
    assert (settings.max_subscriptions, settings.max_ws_message_bytes) == (3, 4096)
    assert settings.max_ws_connections_per_ip == 0
    with pytest.raises(ConfigError, match="AMPBASE_REQUEST_TIMEOUT must be a number"):
        Settings.from_env({"AMPBASE_REQUEST_TIMEOUT": "soon"})
    with pytest.raises(ConfigError, match="rate_limit must not be negative"):
        Settings(rate_limit=-1).validate()
    with pytest.raises(ConfigError, match="max_page_size"):
        Settings(max_page_size=0).validate()


def test_serve_flags_name_settings_fields() -> None:
    args = build_parser().parse_args(
        ["serve", "s.graphql", "--max-query-depth", "4", "--request-timeout", "1.5", "--rate-limit", "0"]
    )
    limits: dict[str, Any] = {
        flag[2:].replace("-", "_"): getattr(args, flag[2:].replace("-", "_")) for flag, _, _ in LIMIT_FLAGS
    }
    assert limits["max_query_depth"] == 4
    assert limits["request_timeout"] == 1.5
    assert limits["rate_limit"] == 0.0
    settings = Settings().merged(**limits)  # every flag is a Settings field
    assert settings.max_query_depth == 4 and settings.rate_limit == 0.0
    assert settings.max_resolvers == 10_000


@pytest.fixture
def small_realtime_client(tmp_path: Path) -> Iterator[TestClient]:
    runtime = make_runtime(tmp_path)
    runtime.settings = replace(runtime.settings, max_subscriptions=2, max_ws_message_bytes=2048)
    with TestClient(create_app(runtime)) as client:
        yield client


def _start(sub_id: str, padding: int = 0) -> dict[str, Any]:
    data = json.dumps({"query": "subscription { onCreateTodo { id } }" + " " * padding, "variables": {}})
    auth = {"x-api-key": KEY, "host": "h"}
    return {"id": sub_id, "type": "start", "payload": {"data": data, "extensions": {"authorization": auth}}}


def test_subscription_and_message_limits_come_from_the_settings(small_realtime_client: TestClient) -> None:
    with small_realtime_client.websocket_connect(
        "/graphql/realtime", subprotocols=_appsync_protocols()
    ) as ws:
        ws.send_json({"type": "connection_init"})
        assert ws.receive_json()["type"] == "connection_ack"
        assert ws.receive_json() == {"type": "ka"}
        for sub_id in ("1", "2"):
            ws.send_json(_start(sub_id))
            assert ws.receive_json() == {"type": "start_ack", "id": sub_id}
        ws.send_json(_start("3"))
        refused = ws.receive_json()
        assert refused["id"] == "3"
        assert refused["payload"]["errors"][0]["errorType"] == "MaxSubscriptionsReachedError"
        assert "Max number of 2 subscriptions" in refused["payload"]["errors"][0]["message"]
        ws.send_json({"type": "stop", "id": "1"})
        assert ws.receive_json() == {"type": "complete", "id": "1"}
        ws.send_json(_start("4", padding=3000))  # over 2048 bytes
        too_big = ws.receive_json()
        assert too_big["payload"]["errors"][0]["errorType"] == "BadRequestException"
        assert "exceeds the limit of 2048 bytes" in too_big["payload"]["errors"][0]["message"]
        ws.send_json(_start("4"))  # the connection carries on
        assert ws.receive_json() == {"type": "start_ack", "id": "4"}


@pytest.mark.anyio
async def test_a_body_that_never_finishes_arriving_gets_408_not_a_hang() -> None:
    from ampbase.server.http import GraphQLEndpoint

    endpoint = GraphQLEndpoint(FakeRuntime(), max_body_bytes=4096, body_timeout=0.05)
    sent: list[dict[str, Any]] = []
    first = True

    async def receive() -> dict[str, Any]:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b'{"query": "{ a', "more_body": True}
        await asyncio.Event().wait()  # the rest never comes
        raise AssertionError("unreachable")

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/graphql",
        "headers": [(b"x-api-key", VALID_KEY.encode())],
    }
    await endpoint(scope, receive, send)
    assert sent[0]["status"] == 408
    assert (b"x-amzn-errortype", b"RequestTimeoutException") in sent[0]["headers"]
    assert json.loads(sent[1]["body"])["errors"][0]["message"] == (
        "The request body did not arrive within 0.05 seconds."
    )
