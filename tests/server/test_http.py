"""The /graphql HTTP endpoint: status codes, CORS and request validation (in process)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from ampbase.schema.ir import AuthConfig
from ampbase.server.app import create_app
from ampbase.server.http import GraphQLEndpoint
from ampbase.server.settings import Settings
from tests.server.fakes import EXPIRED_KEY, VALID_KEY, FakeRuntime

pytestmark = pytest.mark.anyio

UNAUTHORIZED = {
    "errors": [{"errorType": "UnauthorizedException", "message": "You are not authorized to make this call."}]
}
ORIGIN = "https://app.example.com"


@pytest.fixture
def runtime() -> FakeRuntime:
    return FakeRuntime(settings=Settings(max_body_bytes=4096))


@pytest.fixture
async def client(runtime: FakeRuntime) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1:4443") as c:
        yield c


def post(client: httpx.AsyncClient, body: Any, *, key: str | None = VALID_KEY, **headers: str) -> Any:
    all_headers = {"content-type": "application/json; charset=UTF-8", "origin": ORIGIN, **headers}
    if key is not None:
        all_headers["x-api-key"] = key
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return client.post("/graphql", content=content, headers=all_headers)


async def test_query_with_valid_api_key_runs_with_api_key_identity(
    client: httpx.AsyncClient, runtime: FakeRuntime
) -> None:
    response = await post(client, {"query": "query { listTodos { items { id } } }", "variables": {"a": 1}})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["data"]["echo"]["variables"] == {"a": 1}
    _query, _variables, identity, operation_name = runtime.engine.calls[0]
    assert identity.mode == "apiKey"
    assert identity.api_key == VALID_KEY
    assert identity.source_ip == "127.0.0.1"
    assert operation_name is None


async def test_operation_name_is_passed_to_the_engine(
    client: httpx.AsyncClient, runtime: FakeRuntime
) -> None:
    response = await post(client, {"query": "query A { a } query B { b }", "operationName": "B"})
    assert response.status_code == 200
    assert runtime.engine.calls[0][3] == "B"


async def test_every_response_echoes_the_origin_and_exposes_the_error_type(client: httpx.AsyncClient) -> None:
    for response in (
        await post(client, {"query": "{ a }"}),
        await post(client, {"query": "{ a }"}, key=None),
        await post(client, b"{not json"),
    ):
        assert response.headers["access-control-allow-origin"] == ORIGIN
        assert response.headers["access-control-allow-credentials"] == "true"
        assert "x-amzn-ErrorType" in response.headers["access-control-expose-headers"]


async def test_request_without_origin_gets_wildcard_cors(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ a }"}, headers={"x-api-key": VALID_KEY})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"


async def test_preflight_echoes_requested_headers(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/graphql",
        headers={
            "origin": ORIGIN,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type,x-amz-user-agent,x-api-key,x-custom",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    assert (
        response.headers["access-control-allow-headers"] == "content-type,x-amz-user-agent,x-api-key,x-custom"
    )


async def test_preflight_needs_no_credentials(client: httpx.AsyncClient, runtime: FakeRuntime) -> None:
    response = await client.options("/graphql", headers={"origin": ORIGIN})
    assert response.status_code == 204
    assert "x-api-key" in response.headers["access-control-allow-headers"]
    assert runtime.engine.calls == []


async def test_missing_api_key_is_401_unauthorized_exception(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": "{ a }"}, key=None)
    assert response.status_code == 401
    assert response.headers["x-amzn-errortype"] == "UnauthorizedException"
    assert response.json() == UNAUTHORIZED


@pytest.mark.parametrize("key", [EXPIRED_KEY, "da2-unknown", ""])
async def test_expired_or_unknown_api_key_is_401(
    client: httpx.AsyncClient, runtime: FakeRuntime, key: str
) -> None:
    response = await post(client, {"query": "{ a }"}, key=key)
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert runtime.engine.calls == []


async def test_api_key_is_refused_when_the_schema_does_not_enable_api_keys() -> None:
    runtime = FakeRuntime(auth=AuthConfig(default_mode="userPool", modes=("userPool",)))
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1:4443") as client:
        response = await post(client, {"query": "{ a }"})
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


async def test_token_mode_without_a_verifier_is_a_clear_401() -> None:
    runtime = FakeRuntime(auth=AuthConfig(default_mode="apiKey", modes=("apiKey", "userPool")))
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1:4443") as client:
        response = await post(client, {"query": "{ a }"}, key=None, authorization="aaa.bbb.ccc")
    assert response.status_code == 401
    assert response.headers["x-amzn-errortype"] == "UnauthorizedException"
    error = response.json()["errors"][0]
    assert error["errorType"] == "UnauthorizedException"
    assert "userPool" in error["message"] and "not configured" in error["message"]


async def test_malformed_json_is_400_not_500(client: httpx.AsyncClient) -> None:
    response = await post(client, b'{"query": ')
    assert response.status_code == 400
    assert response.headers["x-amzn-errortype"] == "MalformedHttpRequestException"
    assert response.json()["errors"][0]["errorType"] == "MalformedHttpRequestException"


@pytest.mark.parametrize("body", [b"[]", b'"query"', b"null", b"\xff\xfe", b""])
async def test_body_that_is_not_a_json_object_is_400(client: httpx.AsyncClient, body: bytes) -> None:
    response = await post(client, body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["errorType"] == "MalformedHttpRequestException"


@pytest.mark.parametrize(
    ("body", "mentions"),
    [
        ({"variables": {}}, "query"),
        ({"query": 12}, "query"),
        ({"query": "   "}, "query"),
        ({"query": "{ a }", "variables": [1]}, "variables"),
        ({"query": "{ a }", "variables": "x"}, "variables"),
        ({"query": "{ a }", "operationName": 3}, "operationName"),
    ],
)
async def test_bad_graphql_request_shape_is_200_with_errors(
    client: httpx.AsyncClient, runtime: FakeRuntime, body: dict[str, Any], mentions: str
) -> None:
    response = await post(client, body)
    assert response.status_code == 200
    error = response.json()["errors"][0]
    assert error["errorType"] == "BadRequestException"
    assert mentions in error["message"]
    assert runtime.engine.calls == []


async def test_null_variables_are_accepted(client: httpx.AsyncClient, runtime: FakeRuntime) -> None:
    response = await post(client, {"query": "{ a }", "variables": None})
    assert response.status_code == 200
    assert runtime.engine.calls[0][1] is None


async def test_body_over_the_limit_is_413(client: httpx.AsyncClient, runtime: FakeRuntime) -> None:
    response = await post(client, {"query": "{ a }", "variables": {"pad": "x" * 5000}})
    assert response.status_code == 413
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.json()["errors"][0]["errorType"] == "PayloadTooLargeException"
    assert runtime.engine.calls == []


async def test_streamed_body_over_the_limit_without_content_length_is_413(runtime: FakeRuntime) -> None:
    endpoint = GraphQLEndpoint(runtime, max_body_bytes=100)
    chunks = [b'{"query": "{ a }", "variables": {"pad": "', b"x" * 80, b"x" * 80, b'"}}']
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/graphql",
        "headers": [(b"x-api-key", VALID_KEY.encode())],
        "client": ("127.0.0.1", 5000),
    }
    await endpoint(scope, receive, send)
    assert sent[0]["status"] == 413
    assert runtime.engine.calls == []


async def test_streamed_body_within_the_limit_is_joined(runtime: FakeRuntime) -> None:
    endpoint = GraphQLEndpoint(runtime, max_body_bytes=1000)
    chunks = [b'{"query": "{ a', b' }", "variables": {"x": 1}}']
    messages = [{"type": "http.request", "body": c, "more_body": i == 0} for i, c in enumerate(chunks)]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/graphql",
        "headers": [(b"x-api-key", VALID_KEY.encode())],
    }
    await endpoint(scope, receive, send)
    assert sent[0]["status"] == 200
    assert runtime.engine.calls[0][:2] == ("{ a }", {"x": 1})


async def test_engine_crash_is_reported_as_200_internal_failure_never_500(
    client: httpx.AsyncClient, runtime: FakeRuntime
) -> None:
    runtime.engine.explode = True
    response = await post(client, {"query": "{ a }"})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["errorType"] == "InternalFailure"
    assert "bug in the engine" not in response.text


async def test_get_is_405_with_cors(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"origin": ORIGIN})
    assert response.status_code == 405
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in response.headers["allow"]


async def test_unknown_path_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql/other", json={"query": "{ a }"}, headers={"x-api-key": VALID_KEY})
    assert response.status_code == 404


async def test_health_reports_database_and_pubsub(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "pubsub": "ok"}


async def test_health_is_503_when_the_database_fails(client: httpx.AsyncClient, runtime: FakeRuntime) -> None:
    runtime.store.fail = True
    response = await client.get("/health")
    assert response.status_code == 503
    assert response.json()["database"] == "error"
    assert response.json()["status"] == "error"


async def test_lifespan_starts_and_stops_the_runtime(runtime: FakeRuntime) -> None:
    app = create_app(runtime)
    sent: list[dict[str, Any]] = []
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": "lifespan", "state": {}}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert (runtime.started, runtime.stopped) == (1, 1)
