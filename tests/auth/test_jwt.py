"""JWT verification: every forgery and misuse is a 401 with a clear message."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from ampbase.auth.issuer import LOCAL_ISSUER, LocalIssuer
from ampbase.auth.jwt import JwkSet, JwtVerifier, b64url_decode, b64url_encode
from ampbase.errors import AuthenticationError

pytestmark = pytest.mark.anyio

NOW = 1_800_000_000.0


@pytest.fixture(scope="module")
def issuer() -> LocalIssuer:
    return LocalIssuer.generate()


@pytest.fixture(scope="module")
def other() -> LocalIssuer:
    return LocalIssuer.generate()


def verifier(issuer: LocalIssuer, **kw: Any) -> JwtVerifier:
    return issuer.verifier(clock=lambda: NOW, **kw)


def token(issuer: LocalIssuer, **kw: Any) -> str:
    kw.setdefault("now", NOW)
    return issuer.issue_token("alice", sub="A-SUB", groups=["Admin"], **kw)


def segments(jwt: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    head, body, sig = jwt.split(".")
    return json.loads(b64url_decode(head)), json.loads(b64url_decode(body)), sig


def encode(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    return ".".join(
        [
            b64url_encode(json.dumps(header).encode()),
            b64url_encode(json.dumps(claims).encode()),
            b64url_encode(signature),
        ]
    )


async def test_a_valid_access_token_yields_its_claims(issuer: LocalIssuer) -> None:
    claims = await verifier(issuer).verify(token(issuer))
    assert claims["sub"] == "A-SUB" and claims["username"] == "alice"
    assert claims["cognito:groups"] == ["Admin"] and claims["token_use"] == "access"
    assert claims["iss"] == LOCAL_ISSUER and claims["client_id"] == "ampbase-local"


async def test_an_id_token_carries_cognito_username_and_aud(issuer: LocalIssuer) -> None:
    claims = await verifier(issuer).verify(token(issuer, token_use="id"))
    assert claims["cognito:username"] == "alice" and "username" not in claims
    assert claims["aud"] == "ampbase-local" and claims["token_use"] == "id"


async def test_a_token_signed_by_another_key_is_refused(issuer: LocalIssuer, other: LocalIssuer) -> None:
    # Same kid as the trusted key, signature by another key.
    forged_header, claims, _ = segments(token(other))
    forged_header["kid"] = issuer.kid
    forged = other.sign(claims).split(".")
    forged[0] = b64url_encode(json.dumps(forged_header).encode())
    with pytest.raises(AuthenticationError, match="Invalid JWT signature"):
        await verifier(issuer).verify(".".join(forged))
    with pytest.raises(AuthenticationError, match="kid"):
        await verifier(issuer).verify(token(other))


async def test_alg_none_is_refused(issuer: LocalIssuer) -> None:
    header, claims, _ = segments(token(issuer))
    header["alg"] = "none"
    with pytest.raises(AuthenticationError, match="Unsupported JWT algorithm 'none'"):
        await verifier(issuer).verify(encode(header, claims))


async def test_hs256_with_the_public_key_as_secret_is_refused(issuer: LocalIssuer) -> None:
    header, claims, _ = segments(token(issuer))
    header["alg"] = "HS256"
    jwk = issuer.jwks()["keys"][0]
    signing_input = ".".join(encode(header, claims).split(".")[:2])
    for secret in (json.dumps(jwk).encode(), base64.urlsafe_b64decode(jwk["n"] + "==")):
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        with pytest.raises(AuthenticationError, match="Unsupported JWT algorithm 'HS256'"):
            await verifier(issuer).verify(signing_input + "." + b64url_encode(mac))


async def test_an_algorithm_that_does_not_match_the_key_is_refused(issuer: LocalIssuer) -> None:
    header, claims, sig = segments(token(issuer))
    header["alg"] = "ES256"
    with pytest.raises(AuthenticationError, match="does not match the signing key"):
        await verifier(issuer).verify(encode(header, claims, b64url_decode(sig)))


async def test_expired_tokens_are_refused_beyond_the_leeway(issuer: LocalIssuer) -> None:
    with pytest.raises(AuthenticationError, match="Token has expired"):
        await verifier(issuer).verify(token(issuer, now=NOW - 3600 - 61, ttl=3600))
    # inside the 60 s leeway
    await verifier(issuer).verify(token(issuer, now=NOW - 3600 - 30, ttl=3600))


async def test_not_yet_valid_tokens_are_refused(issuer: LocalIssuer) -> None:
    with pytest.raises(AuthenticationError, match="not valid yet"):
        await verifier(issuer).verify(issuer.issue_token("a", now=NOW, extra_claims={"nbf": NOW + 600}))
    with pytest.raises(AuthenticationError, match="issued in the future"):
        await verifier(issuer).verify(issuer.issue_token("a", now=NOW + 600))


async def test_a_wrong_issuer_is_refused(issuer: LocalIssuer) -> None:
    jwt = issuer.issue_token("a", now=NOW, extra_claims={"iss": "https://evil.example"})
    with pytest.raises(AuthenticationError, match="issuer"):
        await verifier(issuer).verify(jwt)


async def test_tampered_claims_are_refused(issuer: LocalIssuer) -> None:
    header, claims, sig = segments(token(issuer))
    claims["cognito:groups"] = ["Admin", "Root"]
    with pytest.raises(AuthenticationError, match="Invalid JWT signature"):
        await verifier(issuer).verify(encode(header, claims, b64url_decode(sig)))


@pytest.mark.parametrize("garbage", ["", "abc", "a.b", "a.b.c.d", "!!.??.**", "e30.e30.!!", "W10.e30.e30"])
async def test_malformed_tokens_cannot_be_parsed(issuer: LocalIssuer, garbage: str) -> None:
    with pytest.raises(AuthenticationError, match="Unable to parse JWT token"):
        await verifier(issuer).verify(garbage)


async def test_token_use_and_client_id_are_checked(issuer: LocalIssuer) -> None:
    with pytest.raises(AuthenticationError, match="Token use"):
        await verifier(issuer).verify(issuer.issue_token("a", now=NOW, extra_claims={"token_use": "refresh"}))
    await verifier(issuer, client_id="ampbase-.*").verify(token(issuer))
    await verifier(issuer, client_id="ampbase-.*").verify(token(issuer, token_use="id"))
    with pytest.raises(AuthenticationError, match="client id"):
        await verifier(issuer, client_id="other-app").verify(token(issuer))


async def test_oidc_iat_and_auth_ttls(issuer: LocalIssuer) -> None:
    fresh = token(issuer, now=NOW - 10)
    await verifier(issuer, iat_ttl=60).verify(fresh)
    old = token(issuer, now=NOW - 1000, ttl=3600)
    with pytest.raises(AuthenticationError, match="expired"):
        await verifier(issuer, iat_ttl=300).verify(old)
    with pytest.raises(AuthenticationError, match="expired"):
        await verifier(issuer, auth_ttl=300).verify(old)


def es256_token(key: ec.EllipticCurvePrivateKey, claims: dict[str, Any], kid: str = "ec1") -> str:
    header = {"alg": "ES256", "kid": kid}
    signing_input = ".".join(encode(header, claims).split(".")[:2])
    der = key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return signing_input + "." + b64url_encode(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def ec_jwks(key: ec.EllipticCurvePrivateKey, kid: str = "ec1") -> dict[str, Any]:
    numbers = key.public_key().public_numbers()
    return {
        "keys": [
            {
                "kty": "EC",
                "crv": "P-256",
                "kid": kid,
                "x": b64url_encode(numbers.x.to_bytes(32, "big")),
                "y": b64url_encode(numbers.y.to_bytes(32, "big")),
            }
        ]
    }


async def test_es256_tokens_of_an_oidc_provider(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(ec_jwks(key)))
    oidc = JwtVerifier(issuer="https://idp.example/", jwks=JwkSet(path), clock=lambda: NOW)
    claims = {"iss": "https://idp.example", "sub": "o1", "exp": NOW + 60, "email": "o@x.com"}
    assert (await oidc.verify(es256_token(key, claims)))["email"] == "o@x.com"
    tampered = es256_token(key, claims)[:-4] + "AAAA"
    with pytest.raises(AuthenticationError, match="Invalid JWT signature"):
        await oidc.verify(tampered)
    with pytest.raises(AuthenticationError, match="no expiry"):
        await oidc.verify(es256_token(key, {"iss": "https://idp.example", "sub": "o1"}))


async def test_url_jwks_are_cached_and_refetched_for_an_unknown_kid(issuer: LocalIssuer) -> None:
    current: dict[str, Any] = {"keys": []}
    fetches: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        fetches.append(str(request.url))
        if request.url.path.endswith("openid-configuration"):
            return httpx.Response(200, json={"jwks_uri": "https://idp.example/keys"})
        return httpx.Response(200, json=current)

    clock = [0.0]
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        jwks = JwkSet("https://idp.example", discover=True, http=http, clock=lambda: clock[0], min_refresh=30)
        v = JwtVerifier(issuer=LOCAL_ISSUER, jwks=jwks, clock=lambda: NOW)
        with pytest.raises(AuthenticationError, match="kid"):
            await v.verify(token(issuer))
        assert fetches == ["https://idp.example/.well-known/openid-configuration", "https://idp.example/keys"]
        current.update(issuer.jwks())  # key rotation: the new key appears
        with pytest.raises(AuthenticationError, match="kid"):
            await v.verify(token(issuer))  # within min_refresh: no new fetch
        assert len(fetches) == 2
        clock[0] = 31.0
        await v.verify(token(issuer))
        await v.verify(token(issuer))  # cached
        assert len(fetches) == 4


async def test_an_unreachable_jwks_is_a_401() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        v = JwtVerifier(issuer="https://idp.example", jwks=JwkSet("https://idp.example/keys", http=http))
        with pytest.raises(AuthenticationError, match="Unable to fetch"):
            await v.verify(encode({"alg": "RS256", "kid": "k"}, {"iss": "https://idp.example"}, b"x"))
