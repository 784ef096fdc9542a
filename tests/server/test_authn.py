"""Authenticator: API keys from storage (cached), header case, token-mode seam."""

from __future__ import annotations

import time
from collections.abc import Mapping

import pytest

from ampbase.engine.identity import Identity
from ampbase.errors import AuthenticationError
from ampbase.schema.ir import AuthConfig
from ampbase.server.authn import NOT_AUTHORIZED_MESSAGE, Authenticator
from ampbase.storage.base import ApiKeyRecord
from tests.server.fakes import EXPIRED_KEY, VALID_KEY, KeyStore

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def authenticator(
    store: KeyStore, clock: Clock, auth: AuthConfig | None = None, **kw: object
) -> Authenticator:
    return Authenticator(store, auth or AuthConfig(), clock=clock, cache_ttl=5.0, **kw)  # type: ignore[arg-type]


async def test_header_names_are_compared_case_insensitively() -> None:
    # The realtime handshake header JSON arrives with mixed-case keys (§6.2).
    auth = authenticator(KeyStore(), Clock())
    identity = await auth.authenticate({"host": "127.0.0.1:4443", "X-Api-Key": VALID_KEY})
    assert identity == Identity(mode="apiKey", api_key=VALID_KEY)


async def test_source_ip_is_recorded() -> None:
    auth = authenticator(KeyStore(), Clock())
    identity = await auth.authenticate({"x-api-key": VALID_KEY}, source_ip="10.0.0.7")
    assert identity.source_ip == "10.0.0.7"


async def test_expired_key_is_rejected() -> None:
    auth = authenticator(KeyStore(), Clock())
    with pytest.raises(AuthenticationError) as info:
        await auth.authenticate({"x-api-key": EXPIRED_KEY})
    assert info.value.message == NOT_AUTHORIZED_MESSAGE
    assert info.value.http_status == 401


async def test_key_expiring_while_cached_is_rejected() -> None:
    clock = Clock()
    store = KeyStore([ApiKeyRecord(id=VALID_KEY, expires_at=int(clock.now) + 2)])
    auth = authenticator(store, clock)
    await auth.authenticate({"x-api-key": VALID_KEY})
    clock.now += 3
    with pytest.raises(AuthenticationError):
        await auth.authenticate({"x-api-key": VALID_KEY})


async def test_keys_are_cached_between_requests() -> None:
    store = KeyStore()
    auth = authenticator(store, Clock())
    for _ in range(5):
        await auth.authenticate({"x-api-key": VALID_KEY})
    assert store.list_calls == 1


async def test_cache_is_refreshed_after_its_ttl() -> None:
    clock = Clock()
    store = KeyStore()
    auth = authenticator(store, clock)
    await auth.authenticate({"x-api-key": VALID_KEY})
    store.keys = []  # deleted with `ampbase keys delete` in another process
    await auth.authenticate({"x-api-key": VALID_KEY})  # still cached
    clock.now += 6
    with pytest.raises(AuthenticationError):
        await auth.authenticate({"x-api-key": VALID_KEY})


async def test_new_key_is_picked_up_on_a_miss_without_waiting_for_the_ttl() -> None:
    clock = Clock()
    store = KeyStore()
    auth = authenticator(store, clock)
    await auth.authenticate({"x-api-key": VALID_KEY})
    store.keys.append(ApiKeyRecord(id="da2-brandnew", expires_at=int(clock.now) + 60))
    clock.now += 1
    identity = await auth.authenticate({"x-api-key": "da2-brandnew"})
    assert identity.api_key == "da2-brandnew"


async def test_unknown_keys_do_not_hammer_the_database() -> None:
    clock = Clock()
    store = KeyStore()
    auth = authenticator(store, clock)
    for _ in range(10):
        with pytest.raises(AuthenticationError):
            await auth.authenticate({"x-api-key": "da2-guess"})
    assert store.list_calls == 1


async def test_invalidate_forces_a_reload() -> None:
    store = KeyStore()
    auth = authenticator(store, Clock())
    await auth.authenticate({"x-api-key": VALID_KEY})
    auth.invalidate()
    await auth.authenticate({"x-api-key": VALID_KEY})
    assert store.list_calls == 2


async def test_no_credentials_at_all_is_rejected() -> None:
    auth = authenticator(KeyStore(), Clock())
    with pytest.raises(AuthenticationError) as info:
        await auth.authenticate({"host": "127.0.0.1:4443"})
    assert info.value.message == NOT_AUTHORIZED_MESSAGE


class JwtVerifier:
    def __init__(self) -> None:
        self.tokens: list[str] = []

    async def __call__(self, token: str, headers: Mapping[str, str]) -> Identity | None:
        self.tokens.append(token)
        if token == "good.jwt.token":
            return Identity(mode="userPool", claims={"sub": "u1"})
        raise AuthenticationError("Token expired")


async def test_token_mode_uses_the_registered_verifier() -> None:
    verifier = JwtVerifier()
    auth = authenticator(
        KeyStore(),
        Clock(),
        AuthConfig(default_mode="userPool", modes=("userPool",)),
        verifiers={"userPool": verifier},
    )
    identity = await auth.authenticate({"Authorization": "good.jwt.token"}, source_ip="1.2.3.4")
    assert identity.mode == "userPool"
    assert identity.claims == {"sub": "u1"}
    assert identity.source_ip == "1.2.3.4"
    with pytest.raises(AuthenticationError, match="Token expired"):
        await auth.authenticate({"authorization": "bad.jwt.token"})


async def test_token_mode_that_the_schema_does_not_enable_is_rejected() -> None:
    auth = authenticator(KeyStore(), Clock(), verifiers={"userPool": JwtVerifier()})
    with pytest.raises(AuthenticationError) as info:
        await auth.authenticate({"authorization": "good.jwt.token"})
    assert info.value.message == NOT_AUTHORIZED_MESSAGE


@pytest.mark.parametrize(
    ("token", "mode"),
    [
        ("AWS4-HMAC-SHA256 Credential=AKID/20261122/us-east-1/appsync/aws4_request", "iam"),
        ("opaque", "lambda"),
    ],
)
async def test_unverifiable_token_mode_names_the_mode(token: str, mode: str) -> None:
    auth = authenticator(
        KeyStore(), Clock(), AuthConfig(default_mode="apiKey", modes=("apiKey", "iam", "lambda", "userPool"))
    )
    with pytest.raises(AuthenticationError) as info:
        await auth.authenticate({"authorization": token})
    assert mode in info.value.message
    assert "not configured" in info.value.message
