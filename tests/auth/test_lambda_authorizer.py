"""Lambda authorizers: the event shape, response validation, the per-token cache, HTTP endpoints."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from ampbase.auth.lambda_authorizer import LambdaAuthorizer, RequestInfo, denied_field_names
from ampbase.errors import AuthenticationError, ConfigError

pytestmark = pytest.mark.anyio


class Recorder:
    def __init__(self, response: Any) -> None:
        self.response = response
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> Any:
        self.events.append(event)
        return self.response(event) if callable(self.response) else self.response


async def test_the_event_carries_token_request_context_and_headers() -> None:
    fn = Recorder({"isAuthorized": True, "resolverContext": {"tenant": "t1"}})
    authorizer = LambdaAuthorizer(fn, api_id="api1", account_id="123")
    request = RequestInfo(
        query="query Q { listTodos { items { id } } }",
        operation_name="Q",
        variables={"a": 1},
        headers={"authorization": "tok"},
    )
    identity = await authorizer.identity("tok", request, source_ip="10.0.0.1")
    assert identity.mode == "lambda" and identity.resolver_context == {"tenant": "t1"}
    event = fn.events[0]
    assert event["authorizationToken"] == "tok"
    context = event["requestContext"]
    assert context["apiId"] == "api1" and context["accountId"] == "123" and context["requestId"]
    assert context["queryString"] == request.query and context["operationName"] == "Q"
    assert context["variables"] == {"a": 1}
    assert event["requestHeaders"] == {"authorization": "tok"}


async def test_responses_are_cached_by_token_for_the_ttl() -> None:
    clock = [0.0]
    fn = Recorder(lambda e: {"isAuthorized": e["authorizationToken"] == "good", "resolverContext": {}})
    authorizer = LambdaAuthorizer(fn, ttl=60, clock=lambda: clock[0])
    await authorizer.authorize("good")
    await authorizer.authorize("good")
    assert authorizer.calls == 1
    with pytest.raises(AuthenticationError):
        await authorizer.authorize("bad")
    with pytest.raises(AuthenticationError):
        await authorizer.authorize("bad")  # refusals are cached too
    assert authorizer.calls == 2
    clock[0] = 61.0
    await authorizer.authorize("good")
    assert authorizer.calls == 3


async def test_ttl_override_zero_disables_the_cache() -> None:
    fn = Recorder({"isAuthorized": True, "resolverContext": {}, "ttlOverride": 0})
    authorizer = LambdaAuthorizer(fn, ttl=300)
    await authorizer.authorize("t")
    await authorizer.authorize("t")
    assert authorizer.calls == 2


async def test_async_authorizers_and_denied_fields() -> None:
    async def fn(event: dict[str, Any]) -> dict[str, Any]:
        return {
            "isAuthorized": True,
            "resolverContext": {"u": "1"},
            "deniedFields": [
                "Todo.content",
                "arn:aws:appsync:us-east-1:1:apis/x/types/Query/fields/listNotes",
            ],
        }

    result = await LambdaAuthorizer(fn).authorize("t")
    assert denied_field_names(result.denied_fields) == {("Todo", "content"), ("Query", "listNotes")}


@pytest.mark.parametrize(
    "response",
    [
        None,
        [],
        {},
        {"isAuthorized": "yes"},
        {"isAuthorized": True, "resolverContext": "x"},
        {"isAuthorized": True, "deniedFields": "Todo.content"},
        {"isAuthorized": True, "ttlOverride": 99999},
    ],
)
async def test_malformed_responses_are_401(response: Any) -> None:
    with pytest.raises(AuthenticationError, match="not authorized"):
        await LambdaAuthorizer(Recorder(response)).authorize("t")


async def test_a_failing_authorizer_is_a_401_not_a_500() -> None:
    def fn(event: dict[str, Any]) -> Any:
        raise RuntimeError("boom")

    with pytest.raises(AuthenticationError):
        await LambdaAuthorizer(fn).authorize("t")


async def test_the_validation_expression_and_token_length_refuse_without_calling() -> None:
    fn = Recorder({"isAuthorized": True, "resolverContext": {}})
    authorizer = LambdaAuthorizer(fn, identity_validation_expression=r"custom-\w+")
    with pytest.raises(AuthenticationError):
        await authorizer.authorize("other")
    with pytest.raises(AuthenticationError):
        await authorizer.authorize("custom-" + "x" * 3000)
    await authorizer.authorize("custom-ok")
    assert authorizer.calls == 1


async def test_an_http_authorizer_receives_the_event_as_json() -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, json={"isAuthorized": True, "resolverContext": {"via": "http"}})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        authorizer = LambdaAuthorizer("https://auth.example/authorize", http=http)
        result = await authorizer.authorize("t")
    assert result.resolver_context == {"via": "http"} and seen[0]["authorizationToken"] == "t"


def test_bad_configuration_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        LambdaAuthorizer("my-function")
    with pytest.raises(ConfigError):
        LambdaAuthorizer(lambda e: e, ttl=4000)
