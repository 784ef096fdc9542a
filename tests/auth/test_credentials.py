"""Mode detection (auth-spec §1.7) and verification through the configured verifiers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ampbase.auth.credentials import CredentialVerifiers, RequestFacts, detect_mode
from ampbase.auth.issuer import LocalIssuer
from ampbase.auth.lambda_authorizer import LambdaAuthorizer
from ampbase.auth.sigv4 import IamCredential, SigV4Verifier, sign_headers
from ampbase.errors import AuthenticationError

pytestmark = pytest.mark.anyio

POOL = LocalIssuer.generate()
OIDC = LocalIssuer.generate(issuer="https://idp.example/")
ALL = ("apiKey", "userPool", "oidc", "iam", "lambda")


def authorizer_fn(event: dict[str, Any]) -> dict[str, Any]:
    return {"isAuthorized": event["authorizationToken"] == "let-me-in", "resolverContext": {"who": "lambda"}}


def verifiers(**kw: Any) -> CredentialVerifiers:
    return CredentialVerifiers(
        user_pools=[POOL.verifier()],
        oidc=[OIDC.verifier()],
        sigv4=SigV4Verifier([IamCredential("AKID", "secret", kind="iam")]),
        lambda_authorizer=LambdaAuthorizer(authorizer_fn),
        **kw,
    )


def test_the_credential_decides_the_mode() -> None:
    pools = [POOL.verifier()]
    oidc = [OIDC.verifier()]
    assert detect_mode("AWS4-HMAC-SHA256 Credential=x", modes=ALL) == "iam"
    assert detect_mode(POOL.issue_token("a"), modes=ALL, user_pools=pools, oidc=oidc) == "userPool"
    assert detect_mode(OIDC.issue_token("a"), modes=ALL, user_pools=pools, oidc=oidc) == "oidc"
    assert detect_mode("opaque", modes=ALL, user_pools=pools) == "lambda"
    # A JWT of an unknown issuer may be a Lambda token; without Lambda nothing takes it.
    assert detect_mode(LocalIssuer.generate(issuer="https://x").issue_token("a"), modes=ALL) == "lambda"
    assert detect_mode("opaque", modes=("userPool",), user_pools=pools) is None
    assert detect_mode("AWS4-HMAC-SHA256 Credential=x", modes=("lambda",)) is None


async def test_each_mode_yields_its_identity() -> None:
    v = verifiers()
    pool = await v.verify(POOL.issue_token("alice"), {}, modes=ALL)
    assert pool.mode == "userPool" and pool.claims["username"] == "alice"
    oidc = await v.verify(OIDC.issue_token("o"), {}, modes=ALL)
    assert oidc.mode == "oidc"
    lam = await v.verify("let-me-in", {"Authorization": "let-me-in"}, modes=ALL)
    assert lam.mode == "lambda" and lam.resolver_context == {"who": "lambda"}
    body = b'{"query":"{ listTodos { items { id } } }"}'
    headers = sign_headers(
        method="POST",
        url_path="/graphql",
        host="h",
        body=body,
        access_key_id="AKID",
        secret_access_key="secret",
        region="us-east-1",
        now=datetime.now(UTC),
    )
    iam = await v.verify(headers["authorization"], headers, modes=ALL, request=RequestFacts(body=body))
    assert iam.mode == "iam"


async def test_disabled_or_invalid_credentials_are_401() -> None:
    v = verifiers()
    with pytest.raises(AuthenticationError, match="not authorized"):
        await v.verify(POOL.issue_token("alice"), {}, modes=("apiKey",))
    with pytest.raises(AuthenticationError, match="not authorized"):
        await v.verify("wrong", {}, modes=ALL)  # the Lambda authorizer said no
    with pytest.raises(AuthenticationError, match="Unable to parse JWT token"):
        await v.verify("a.b.c", {}, modes=("userPool",))
    with pytest.raises(AuthenticationError, match="signature"):
        await v.verify(
            "AWS4-HMAC-SHA256 Credential=AKID/20261122/us-east-1/appsync/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=00",
            {"host": "h", "x-amz-date": datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")},
            modes=ALL,
        )
    # An expired user-pool token is never handed to the Lambda authorizer.
    with pytest.raises(AuthenticationError, match="expired"):
        await v.verify(POOL.issue_token("alice", now=0), {}, modes=ALL)


async def test_the_lambda_authorizer_sees_the_graphql_request_from_the_body() -> None:
    events: list[dict[str, Any]] = []

    def fn(event: dict[str, Any]) -> dict[str, Any]:
        events.append(event)
        return {"isAuthorized": True, "resolverContext": {}}

    v = CredentialVerifiers(lambda_authorizer=LambdaAuthorizer(fn))
    body = b'{"query": "query Q { a }", "operationName": "Q", "variables": {"x": 1}}'
    await v.verify("tok", {"authorization": "tok"}, modes=("lambda",), request=RequestFacts(body=body))
    context = events[0]["requestContext"]
    assert (context["queryString"], context["operationName"], context["variables"]) == (
        "query Q { a }",
        "Q",
        {"x": 1},
    )
