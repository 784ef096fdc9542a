"""OIDC, Lambda and IAM modes with the real aws-amplify JS client (6.22.1) against `ampbase serve`.

One server serves ``auth_modes/resource.py`` with:

- **OIDC**: tokens signed here with a fresh RSA key whose JWKS the server reads from a file
  (``AMPBASE_OIDC_JWKS``); the client gets them from a custom ``tokenProvider`` (it sends
  ``tokens.accessToken`` for ``'oidc'``) or per request (``authToken``).
- **Lambda**: the authorizer is an HTTP endpoint served by this module on 127.0.0.1
  (``AMPBASE_LAMBDA_AUTHORIZER_URL``; the schema only names a Gen 2 function); the client sends
  ``authMode: 'lambda', authToken``.
- **IAM**: credentials of an ``AMPBASE_IAM_CONFIG`` file handed to the client by a custom
  ``credentialsProvider``; the client SigV4-signs requests and the realtime handshake for the
  config's region (``eu-west-1``), which ``amplify_outputs.json`` carries as ``data.aws_region``.

``auth_modes.mjs`` holds the scenarios.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from tests.interop.auth_modes.resource import OIDC_CLIENT_ID, OIDC_ISSUER
from tests.interop.harness import HERE, Server, run_node, skip_without_node, start_server, stop

from ampbase.auth.issuer import LocalIssuer

pytestmark = pytest.mark.interop

skip_without_node()

# not us-east-1 (the default): the client signs for the region amplify_outputs.json names
REGION = "eu-west-1"
IDENTITY_POOL = f"{REGION}:interop-pool"
AUTH_CREDENTIAL = {
    "accessKeyId": "AKIDINTEROPAUTH",
    "secretAccessKey": "interop-auth-secret",
    "sessionToken": "interop-session-token",
    "identityId": f"{REGION}:alice-identity",
}
GUEST_CREDENTIAL = {
    "accessKeyId": "AKIDINTEROPGUEST",
    "secretAccessKey": "interop-guest-secret",
    "identityId": f"{REGION}:guest-identity",
}
UNKNOWN_CREDENTIAL = {"accessKeyId": "AKIDNOBODY", "secretAccessKey": "nope"}
UNAUTHORIZED = [
    {"errorType": "UnauthorizedException", "message": "You are not authorized to make this call."}
]


def not_authorized(field: str, type_name: str) -> list[dict[str, str]]:
    """The per-field error of a rule denial (the request itself succeeds)."""
    return [{"errorType": "Unauthorized", "message": f"Not Authorized to access {field} on type {type_name}"}]


# how the client reports an HTTP 401 UnauthorizedException of a query or mutation
REFUSED = [
    {"message": "Unauthorized", "originalName": "UnauthorizedException", "hasRecoverySuggestion": True}
]


class _Authorizer(BaseHTTPRequestHandler):
    """The Lambda authorizer: ``allow-<tenant>`` is authorized (``secret`` denied), else refused."""

    events: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).events.append(event)
        token = str(event.get("authorizationToken", ""))
        answer: dict[str, Any] = {"isAuthorized": False}
        if token.startswith("allow-"):
            answer = {
                "isAuthorized": True,
                "resolverContext": {"tenant": token.removeprefix("allow-")},
                "deniedFields": ["Memo.secret"],
                "ttlOverride": 0,
            }
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def idp() -> LocalIssuer:
    return LocalIssuer.generate(issuer=OIDC_ISSUER, client_id=OIDC_CLIENT_ID)


@pytest.fixture(scope="module")
def authorizer() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Authorizer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/authorize"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, idp: LocalIssuer, authorizer: str) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("interop-auth-modes")
    jwks = tmp / "oidc-jwks.json"
    jwks.write_text(json.dumps(idp.jwks()))
    iam = tmp / "iam.json"
    iam.write_text(
        json.dumps(
            {
                "region": REGION,
                "accountId": "123456789012",
                "identityPoolId": IDENTITY_POOL,
                "authRoleName": "interopAuthRole",
                "unauthRoleName": "interopUnauthRole",
                "credentials": [
                    {**AUTH_CREDENTIAL, "kind": "authenticated"},
                    {**GUEST_CREDENTIAL, "kind": "unauthenticated"},
                ],
            }
        )
    )
    env = {
        "AMPBASE_OIDC_JWKS": str(jwks),
        "AMPBASE_IAM_CONFIG": str(iam),
        "AMPBASE_LAMBDA_AUTHORIZER_URL": authorizer,
    }
    srv = start_server(tmp, HERE / "auth_modes" / "resource.py", env=env)
    try:
        yield srv
    finally:
        stop(srv.process)


def _oidc_token(
    idp: LocalIssuer, sub: str, groups: list[str] | None = None, *, audience: str = OIDC_CLIENT_ID
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": OIDC_ISSUER,
        "sub": sub,
        "aud": audience,
        "iat": now,
        "auth_time": now,
        "exp": now + 3600,
        "email": f"{sub}@example.test",
    }
    if groups is not None:
        claims["groups"] = groups
    return idp.sign(claims)


def run(server: Server, idp: LocalIssuer, scenario: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    forger = LocalIssuer.generate(issuer=OIDC_ISSUER, client_id=OIDC_CLIENT_ID)
    for name, value in {
        "OIDC_ALICE": _oidc_token(idp, "alice-sub"),
        "OIDC_BOB": _oidc_token(idp, "bob-sub", ["Readers"]),
        "OIDC_MOD": _oidc_token(idp, "mod-sub", ["Moderators"]),
        "OIDC_FORGED": _oidc_token(forger, "alice-sub", ["Moderators"]),
        "OIDC_WRONG_AUD": _oidc_token(idp, "alice-sub", audience="another-app"),
        "IAM_AUTH": json.dumps(AUTH_CREDENTIAL),
        "IAM_GUEST": json.dumps(GUEST_CREDENTIAL),
        "IAM_UNKNOWN": json.dumps(UNKNOWN_CREDENTIAL),
    }.items():
        monkeypatch.setenv(name, value)
    return run_node(server, HERE / "auth_modes.mjs", scenario)


def test_outputs_list_the_three_modes(server: Server) -> None:
    data = json.loads(server.outputs.read_text())["data"]
    assert data["default_authorization_type"] == "OPENID_CONNECT"
    assert set(data["authorization_types"]) == {"AMAZON_COGNITO_USER_POOLS", "AWS_IAM", "AWS_LAMBDA"}
    assert data["aws_region"] == REGION  # the IAM config's region


# ---------------------------------------------------------------------------------------- OIDC


def test_oidc_owners_see_their_own_records_and_moderators_all(
    server: Server, idp: LocalIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = run(server, idp, "oidcOwner", monkeypatch)
    assert r["createErrors"] == []
    assert r["created"]["owner"] == "alice-sub"
    assert r["aliceSees"] == ["alice"] and r["aliceListErrors"] == []
    assert r["aliceGet"]["errors"] == [] and r["aliceGet"]["data"]["owner"] == "alice-sub"
    assert r["bobGet"] == {
        "data": None,
        "errors": not_authorized("getNote", "Query"),
    }
    assert r["bobUpdate"] == {
        "data": None,
        "errors": not_authorized("updateNote", "Mutation"),
    }
    assert r["modSees"] == ["alice", "bob"] and r["modListErrors"] == []
    assert r["bobViaToken"] == ["bob"]
    assert r["forged"] == {"data": [], "errors": REFUSED}
    assert r["wrongAudience"] == {"data": [], "errors": REFUSED}
    who = r["whoAmI"]["data"]  # the caller as a handler sees it
    assert r["whoAmI"]["errors"] == []
    assert (who["sub"], who["issuer"], who["claims"]["groups"]) == ("mod-sub", OIDC_ISSUER, ["Moderators"])
    # the client itself refuses 'oidc' without a signed-in user, even with an authToken
    assert r["signedOut"] == {"thrown": {"message": "No federated jwt"}}


def test_oidc_subscribers_receive_only_events_they_may_read(
    server: Server, idp: LocalIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = run(server, idp, "oidcSubscription", monkeypatch)
    assert r["errors"] == []
    assert r["alice"] == ["from alice"]
    assert r["mod"] == ["from alice", "from bob"]


# -------------------------------------------------------------------------------------- Lambda


def test_lambda_tokens_are_checked_by_the_authorizer(
    server: Server, idp: LocalIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _Authorizer.events.clear()
    r = run(server, idp, "lambda", monkeypatch)
    assert r["created"]["errors"] == [] and r["created"]["data"]["secret"] is None
    assert r["got"]["errors"] == [] and r["got"]["data"]["secret"] is None
    assert r["listed"]["errors"] == []
    assert [(m["title"], m["secret"]) for m in r["listed"]["data"]] == [("memo", None)]
    assert r["whoAmI"] == {"data": {"resolverContext": {"tenant": "acme"}}, "errors": []}
    assert r["otherTenant"] == {"resolverContext": {"tenant": "globex"}}
    assert r["denied"] == {"data": [], "errors": REFUSED}
    assert r["deniedQuery"] == {"data": None, "errors": REFUSED}
    assert r["wrongRules"] == {
        "data": [],
        "errors": not_authorized("listNotes", "Query"),
    }
    raw = httpx.post(
        server.url,
        json={"query": "query { whoAmI }"},
        headers={"Authorization": "deny-me"},
        verify=ssl.create_default_context(cafile=str(server.ca)),
    )
    assert raw.status_code == 401 and raw.json() == {"errors": UNAUTHORIZED}
    tokens = {e["authorizationToken"] for e in _Authorizer.events}
    assert tokens == {"allow-acme", "allow-globex", "deny-me"}
    create = next(e for e in _Authorizer.events if "createMemo" in e["requestContext"]["queryString"])
    assert create["requestContext"]["variables"]["input"]["secret"] == "classified"
    assert create["requestHeaders"]["authorization"] == "allow-acme"


def test_lambda_subscriptions(server: Server, idp: LocalIssuer, monkeypatch: pytest.MonkeyPatch) -> None:
    r = run(server, idp, "lambdaSubscription", monkeypatch)
    assert r["errors"] == []
    assert r["event"] == {"title": "live", "secret": None}
    # the subscription's start_error, as the client reports it
    message = "Connection failed: " + json.dumps({"errors": UNAUTHORIZED}, separators=(",", ":"))
    assert r["refused"] == [{"errors": [{"errorType": None, "message": message}]}]


# ----------------------------------------------------------------------------------------- IAM


def test_iam_identity_pool_roles(server: Server, idp: LocalIssuer, monkeypatch: pytest.MonkeyPatch) -> None:
    r = run(server, idp, "iam", monkeypatch)
    assert r["created"]["errors"] == []
    assert r["authSees"] == ["by auth"] and r["authListErrors"] == []
    assert r["guestSees"] == ["by auth"] and r["guestListErrors"] == []
    assert r["guestGet"] == {"title": "by auth", "errors": []}
    assert r["guestCreate"] == {
        "data": None,
        "errors": not_authorized("createPost", "Mutation"),
    }
    assert r["guestDelete"]["data"] is None
    assert r["guestDelete"]["errors"] == not_authorized("deletePost", "Mutation")
    assert r["aliasSees"] == ["by auth"] and r["aliasErrors"] == []
    assert r["unknown"] == {"data": [], "errors": REFUSED}
    assert r["guestNotes"]["errors"] == not_authorized("listNotes", "Query")
    assert r["perRequestSees"] == ["by auth"] and r["perRequestErrors"] == []
    for who, identity_id, kind, role in (
        (r["authWho"], AUTH_CREDENTIAL["identityId"], "authenticated", "interopAuthRole"),
        (r["guestWho"], GUEST_CREDENTIAL["identityId"], "unauthenticated", "interopUnauthRole"),
    ):
        assert who["errors"] == []
        assert who["data"]["cognitoIdentityId"] == identity_id
        assert who["data"]["cognitoIdentityPoolId"] == IDENTITY_POOL
        assert who["data"]["cognitoIdentityAuthType"] == kind
        assert (
            who["data"]["userArn"]
            == f"arn:aws:sts::123456789012:assumed-role/{role}/CognitoIdentityCredentials"
        )


def test_iam_subscriptions_sign_the_realtime_handshake(
    server: Server, idp: LocalIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = run(server, idp, "iamSubscription", monkeypatch)
    assert r["errors"] == []
    assert r["seen"] == ["live"]
