"""Auth headers per mode, header merging, and SigV4 (checked against AWS's published example and
a signature the real JS client produced)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest

from ampbase.client import AwsCredentials, RequestInfo, sigv4_headers
from ampbase.client.auth import AuthSettings, realtime_auth, signing_key
from ampbase.errors import ConfigError
from tests.client.conftest import API_KEY, Recorder, load_fixture

pytestmark = pytest.mark.anyio

AWS_EXAMPLE = AwsCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")


def test_signing_key_matches_the_aws_documentation_example() -> None:
    key = signing_key(AWS_EXAMPLE.secret_access_key, "20120215", "us-east-1", "iam")
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"


def test_sigv4_matches_the_aws_documentation_example() -> None:
    headers = sigv4_headers(
        "GET",
        "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
        {"content-type": "application/x-www-form-urlencoded; charset=utf-8"},
        b"",
        AWS_EXAMPLE,
        region="us-east-1",
        service="iam",
        now=dt.datetime(2015, 8, 30, 12, 36, tzinfo=dt.UTC),
    )
    assert headers["authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date, "
        "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
    )


def test_sigv4_reproduces_the_js_clients_appsync_signature() -> None:
    captured = load_fixture("captured_http.json")["auth"][4]
    body = json.dumps(
        {"query": captured["query"], "variables": captured["variables"]}, separators=(",", ":")
    ).encode()
    signed = sigv4_headers(
        "POST",
        "https://127.0.0.1:4443/graphql",
        {
            "content-type": "application/json; charset=UTF-8",
            "x-amz-user-agent": "aws-amplify/6.22.1 api/1 framework/100",
        },
        body,
        AwsCredentials(AWS_EXAMPLE.access_key_id, AWS_EXAMPLE.secret_access_key, "FAKESESSIONTOKEN"),
        region="us-east-1",
        now=dt.datetime(2026, 11, 22, 5, 42, 32, tzinfo=dt.UTC),
    )
    assert signed["authorization"] == captured["headers"]["authorization"]
    assert signed["x-amz-security-token"] == "FAKESESSIONTOKEN"


async def test_each_mode_sends_its_header() -> None:
    rec = Recorder()
    rec.default = lambda request: __import__("httpx").Response(
        200, json={"data": {"listTodos": {"items": [], "nextToken": None}}}
    )
    client = rec.client(
        auth_token="lambda-token",
        token_provider=lambda: "user-pool-jwt",
        credentials=AwsCredentials("AKID", "SECRET", "SESSION"),
    )
    todos = client.models.Todo
    await todos.list()
    await todos.list(auth_mode="userPool")
    await todos.list(auth_mode="oidc")
    await todos.list(auth_mode="lambda", auth_token="per-call")
    await todos.list(auth_mode="iam")
    await todos.list(auth_mode="none")
    sent = [dict(r.headers) for r in rec.requests]
    assert sent[0]["x-api-key"] == API_KEY and "authorization" not in sent[0]
    # auth_token given to the client is added as Authorization, like the JS client does.
    assert sent[1]["authorization"] == "lambda-token"
    assert sent[3]["authorization"] == "per-call"
    iam = sent[4]["authorization"]
    assert iam.startswith("AWS4-HMAC-SHA256 Credential=AKID/")
    assert "/us-east-1/appsync/aws4_request" in iam
    assert "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-user-agent" in iam
    assert sent[4]["x-amz-security-token"] == "SESSION"
    assert "authorization" not in sent[5] and "x-api-key" not in sent[5]


async def test_token_provider_is_used_for_user_pools() -> None:
    rec = Recorder()

    async def provider() -> str:
        return "async-jwt"

    client = rec.client(auth_mode="userPool", token_provider=provider)
    await client.models.Todo.list()
    assert rec.requests[0].headers["authorization"] == "async-jwt"


async def test_missing_credentials_raise_before_sending() -> None:
    rec = Recorder()
    client = rec.client(
        outputs=None, url="https://h/graphql", schema=load_fixture("model-introspection.json")
    )
    with pytest.raises(ConfigError, match="NoApiKey"):
        await client.models.Todo.list(auth_mode="apiKey")
    with pytest.raises(ConfigError, match="NoValidAuthTokens"):
        await client.models.Todo.list(auth_mode="userPool")
    with pytest.raises(ConfigError, match="NoCredentials"):
        await client.models.Todo.list(auth_mode="iam")
    with pytest.raises(ConfigError, match="NoAuthorizationHeader"):
        await client.models.Todo.list(auth_mode="lambda")
    assert rec.requests == []


async def test_call_headers_replace_client_headers_and_functions_get_the_request() -> None:
    rec = Recorder()
    seen: list[RequestInfo] = []

    async def dynamic(info: RequestInfo) -> dict[str, str]:
        seen.append(info)
        return {"X-Dynamic": "yes"}

    client = rec.client(headers={"x-client-header": "from-generate-client"})
    await client.models.Todo.list(limit=1)
    await client.models.Todo.list(limit=1, headers={"x-call-header": "per-call"})
    await client.models.Todo.list(limit=1, headers=dynamic)
    await client.models.Todo.list(limit=1, headers={"x-api-key": "override"})
    await client.models.Todo.list(limit=1, headers=lambda info: {"x-sync": info.method})
    h = [r.headers for r in rec.requests]
    assert h[0]["x-client-header"] == "from-generate-client"
    assert "x-client-header" not in h[1] and h[1]["x-call-header"] == "per-call"
    assert h[2]["x-dynamic"] == "yes"
    assert seen[0].method == "POST" and seen[0].url.endswith("/graphql") and seen[0].variables == {"limit": 1}
    assert h[3]["x-api-key"] == "override"
    assert h[4]["x-sync"] == "POST"


def _decode_header(protocol: str) -> dict[str, Any]:
    raw = protocol.removeprefix("header-")
    return json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))  # type: ignore[no-any-return]


async def test_realtime_auth_objects_per_mode() -> None:
    url = "https://127.0.0.1:4443/graphql"
    api = await realtime_auth(AuthSettings("apiKey", api_key="k"), url, body=None)
    assert list(api) == ["host", "x-amz-date", "x-api-key"] and api["host"] == "127.0.0.1:4443"
    pool = await realtime_auth(AuthSettings("userPool", auth_token="jwt"), url, body=None)
    assert pool == {"Authorization": "jwt", "host": "127.0.0.1:4443"}
    lam = await realtime_auth(AuthSettings("lambda", auth_token="tok"), url, body="{}")
    assert lam == {"Authorization": "tok", "host": "127.0.0.1:4443"}
    creds = AwsCredentials("AKID", "SECRET", "TOKEN")
    iam = await realtime_auth(AuthSettings("iam", credentials=creds, region="eu-west-1"), url, body=None)
    assert iam["accept"] == "application/json, text/javascript"
    assert iam["content-encoding"] == "amz-1.0"
    assert "/eu-west-1/appsync/aws4_request" in iam["authorization"]
    assert (
        "SignedHeaders=accept;content-encoding;content-type;host;x-amz-date;x-amz-security-token"
        in (iam["authorization"])
    )


async def test_realtime_iam_signatures_match_the_js_client() -> None:
    captured = load_fixture("captured_realtime_iam.json")
    settings = AuthSettings(
        "iam",
        credentials=AwsCredentials(
            AWS_EXAMPLE.access_key_id, AWS_EXAMPLE.secret_access_key, "FAKESESSIONTOKEN"
        ),
        region="us-east-1",
    )
    url = "https://127.0.0.1:4443/graphql"
    moment = dt.datetime(2026, 11, 22, 5, 42, 32, tzinfo=dt.UTC)
    connect = await realtime_auth(settings, url, body=None, now=moment)
    assert connect == captured["connect"]
    assert list(connect) == list(captured["connect"])
    start = await realtime_auth(
        settings,
        url,
        body=captured["start_data"],
        additional={"x-amz-user-agent": "aws-amplify/6.22.1 api/1 framework/100"},
        now=moment,
    )
    assert start == captured["start_authorization"]
