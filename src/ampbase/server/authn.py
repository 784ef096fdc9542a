"""Authentication: turn request headers into an :class:`~ampbase.engine.identity.Identity`.

Shared by the HTTP endpoint and the realtime handler (which passes the decoded header JSON of
the WebSocket handshake or of a ``start`` message, with mixed-case keys). Which mode a request
uses follows AppSync: an ``x-api-key`` header means API key; an ``authorization`` header means
one of the token modes (user pools, OIDC, Lambda, IAM). A mode must be enabled in the schema's
:class:`~ampbase.schema.ir.AuthConfig`. Token modes are verified by
:class:`~ampbase.auth.credentials.CredentialVerifiers` (``credentials``: JWT issuers, SigV4 keys,
a Lambda authorizer; ``auth-spec.md`` §1.7), which needs the signed request (``request``) for
SigV4 and the GraphQL request for Lambda authorizers.

API keys live in the database (``ampbase keys create``); they are cached here for a few
seconds, and an unknown key triggers an early, rate-limited refresh so a freshly created key
works at once. Token modes may also plug in through :class:`TokenVerifier` objects (tests);
without any verifier, such a request fails with a clear 401.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from ampbase.auth.credentials import CredentialVerifiers, RequestFacts
from ampbase.engine.identity import Identity
from ampbase.errors import AuthenticationError
from ampbase.schema.ir import AuthConfig
from ampbase.storage.base import StorageAdapter

__all__ = ["NOT_AUTHORIZED_MESSAGE", "Authenticator", "TokenVerifier"]

NOT_AUTHORIZED_MESSAGE = "You are not authorized to make this call."
TOKEN_MODES: tuple[str, ...] = ("userPool", "oidc", "lambda", "iam")
_MIN_REFRESH_INTERVAL = 0.5


class TokenVerifier(Protocol):
    """Verifies an ``authorization`` header value for one mode.

    Returns the identity, ``None`` when the token is not of this mode (the next enabled mode
    is tried), or raises :class:`AuthenticationError` when it is this mode's token but invalid.
    """

    async def __call__(self, token: str, headers: Mapping[str, str]) -> Identity | None: ...


class Authenticator:
    def __init__(
        self,
        storage: StorageAdapter,
        auth: AuthConfig,
        *,
        cache_ttl: float = 5.0,
        clock: Callable[[], float] = time.time,
        verifiers: Mapping[str, TokenVerifier] | None = None,
        credentials: CredentialVerifiers | None = None,
    ) -> None:
        self.storage = storage
        self.auth = auth
        self.cache_ttl = cache_ttl
        self.verifiers: dict[str, TokenVerifier] = dict(verifiers or {})
        self.credentials = credentials
        self._clock = clock
        self._keys: dict[str, int] = {}
        self._loaded_at = float("-inf")
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        """Forget cached API keys (after creating or deleting one in this process)."""
        self._loaded_at = float("-inf")

    async def authenticate(
        self,
        headers: Mapping[str, str],
        *,
        source_ip: str | None = None,
        request: RequestFacts | None = None,
    ) -> Identity:
        """The caller's identity, or :class:`AuthenticationError` (HTTP 401).

        ``request`` describes what a SigV4 signature covers (method, path, body) and the GraphQL
        request a Lambda authorizer is told about.
        """
        api_key: str | None = None
        authorization: str | None = None
        for name, value in headers.items():
            lowered = name.lower()
            if lowered == "x-api-key":
                api_key = value
            elif lowered == "authorization":
                authorization = value
        if api_key is not None:
            return await self._authenticate_api_key(api_key, source_ip)
        if authorization:
            if self.credentials is not None and not self.verifiers:
                modes = tuple(dict.fromkeys((*self.auth.modes, self.auth.default_mode)))
                return await self.credentials.verify(
                    authorization, headers, modes=modes, request=request, source_ip=source_ip
                )
            return await self._authenticate_token(authorization, headers, source_ip)
        raise AuthenticationError(NOT_AUTHORIZED_MESSAGE)

    async def _authenticate_api_key(self, key: str, source_ip: str | None) -> Identity:
        if "apiKey" not in self.auth.modes:
            raise AuthenticationError(NOT_AUTHORIZED_MESSAGE)
        now = self._clock()
        if now - self._loaded_at > self.cache_ttl or (
            key not in self._keys and now - self._loaded_at > _MIN_REFRESH_INTERVAL
        ):
            await self._refresh(now)
        expires_at = self._keys.get(key)
        if expires_at is None or expires_at <= self._clock():
            raise AuthenticationError(NOT_AUTHORIZED_MESSAGE)
        return Identity(mode="apiKey", api_key=key, source_ip=source_ip)

    async def _refresh(self, now: float) -> None:
        async with self._lock:
            if self._loaded_at >= now:  # another request refreshed while we waited
                return
            records = await self.storage.list_api_keys()
            self._keys = {r.id: r.expires_at for r in records}
            self._loaded_at = self._clock()

    async def _authenticate_token(
        self, token: str, headers: Mapping[str, str], source_ip: str | None
    ) -> Identity:
        candidates = [m for m in _modes_for_token(token) if m in self.auth.modes]
        if not candidates:
            raise AuthenticationError(NOT_AUTHORIZED_MESSAGE)
        for mode in candidates:
            verifier = self.verifiers.get(mode)
            if verifier is None:
                continue
            identity = await verifier(token, headers)
            if identity is not None:
                if source_ip is not None and identity.source_ip is None:
                    return Identity(
                        mode=identity.mode,
                        api_key=identity.api_key,
                        claims=identity.claims,
                        resolver_context=identity.resolver_context,
                        iam=identity.iam,
                        source_ip=source_ip,
                    )
                return identity
        if not any(m in self.verifiers for m in candidates):
            names = " or ".join(candidates)
            raise AuthenticationError(
                f"Authorization mode {names} is not configured on this server "
                "(this ampbase version verifies API keys only)."
            )
        raise AuthenticationError(NOT_AUTHORIZED_MESSAGE)


def _modes_for_token(token: str) -> tuple[str, ...]:
    """Which token modes an ``authorization`` value may belong to, most specific first."""
    if token.startswith("AWS4-HMAC-SHA256 "):
        return ("iam",)
    if token.count(".") == 2:  # looks like a JWT; a Lambda authorizer may also take one
        return ("userPool", "oidc", "lambda")
    return ("lambda",)
