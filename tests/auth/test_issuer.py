"""The local token issuer: a persistent key in the state dir, Cognito-shaped tokens, its JWKS."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ampbase.auth.issuer import KEY_FILE, LOCAL_ISSUER, LocalIssuer
from ampbase.auth.jwt import decode_unverified
from ampbase.errors import ConfigError

pytestmark = pytest.mark.anyio


async def test_the_key_persists_and_is_private(tmp_path: Path) -> None:
    first = LocalIssuer.load_or_create(tmp_path / "state")
    path = tmp_path / "state" / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = LocalIssuer.load_or_create(tmp_path / "state")
    assert again.kid == first.kid and again.jwks() == first.jwks()
    claims = await again.verifier().verify(first.issue_token("alice"))
    assert claims["username"] == "alice"


def test_the_jwks_holds_only_the_public_key() -> None:
    jwks = LocalIssuer.generate().jwks()
    (key,) = jwks["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    assert set(key) == {"kty", "alg", "use", "n", "e", "kid"}


def test_tokens_are_cognito_shaped() -> None:
    issuer = LocalIssuer.generate()
    header, claims, _, _ = decode_unverified(
        issuer.issue_token("bob", sub="B-SUB", groups=["Admin"], now=100)
    )
    assert header == {"kid": issuer.kid, "alg": "RS256", "typ": "JWT"}
    assert claims["iss"] == LOCAL_ISSUER and claims["sub"] == "B-SUB" and claims["username"] == "bob"
    assert claims["cognito:groups"] == ["Admin"] and claims["token_use"] == "access"
    assert claims["iat"] == 100 and claims["exp"] == 3700
    _, same_user, _, _ = decode_unverified(issuer.issue_token("bob"))
    _, again, _, _ = decode_unverified(issuer.issue_token("bob"))
    assert same_user["sub"] == again["sub"]  # a stable sub per username
    assert "cognito:groups" not in same_user


def test_bad_arguments_and_key_files(tmp_path: Path) -> None:
    issuer = LocalIssuer.generate()
    with pytest.raises(ValueError):
        issuer.issue_token("")
    with pytest.raises(ValueError):
        issuer.issue_token("a", token_use="refresh")
    (tmp_path / KEY_FILE).write_text("not a key")
    with pytest.raises(ConfigError):
        LocalIssuer.load_or_create(tmp_path)
