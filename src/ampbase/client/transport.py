"""Running one GraphQL request: the :class:`Transport` seam and its HTTP implementation.

:class:`HttpTransport` POSTs ``{"query", "variables"}`` to the GraphQL URL as the JS client
does (``specs/client-wire-contract.md`` §3.1, §4.1, §5.1): headers merged as auth headers →
additional headers (per-call **replaces** client-level) → ``Authorization: <auth_token>`` →
``x-amz-user-agent``, SigV4-signed for ``iam`` unless an ``authorization``/``x-api-key``
header ended up in the set; 429/500/502/503/504 and network errors retried (3 attempts in
all); a status ≥ 300 becomes ``errors: [{"message": "Unauthorized" | "Unknown error"}]``.
It never raises for server or network problems: the result is always a response body.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import random
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from ampbase.client.auth import (
    DEFAULT_REGION,
    AuthSettings,
    auth_headers,
    resolve_credentials,
    sigv4_headers,
)

__all__ = [
    "RETRY_STATUSES",
    "USER_AGENT",
    "Headers",
    "HttpTransport",
    "RequestInfo",
    "Transport",
    "resolve_headers",
    "ssl_context",
]

USER_AGENT = "ampbase-python/0.1.0 api/1"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_UNAUTHORIZED_SUGGESTION = (
    "If you're calling an Amplify-generated API, make sure to set the auth_mode in generate_client "
    "or for the call, e.g. auth_mode='apiKey'"
)


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """What a ``headers`` function receives."""

    method: str
    url: str
    query_string: str
    query: str
    variables: Mapping[str, Any] = field(default_factory=dict)


Headers = (
    Mapping[str, str] | Callable[[RequestInfo], "Mapping[str, str] | Awaitable[Mapping[str, str]]"] | None
)


async def resolve_headers(headers: Headers, info: RequestInfo) -> dict[str, str]:
    """A headers dict, or the result of a sync/async headers function."""
    if headers is None:
        return {}
    if callable(headers):
        value = headers(info)
        if inspect.isawaitable(value):
            value = await value
        return {str(k): str(v) for k, v in (value or {}).items()}
    return {str(k): str(v) for k, v in headers.items()}


def ssl_context(verify: bool | str | ssl.SSLContext) -> ssl.SSLContext:
    """An SSL context from an httpx-style ``verify``: bool, CA bundle path or a context."""
    if isinstance(verify, ssl.SSLContext):
        return verify
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class Transport(Protocol):
    """Executes queries and mutations; returns the response body, never raises for errors."""

    async def execute(
        self,
        query: str,
        variables: Mapping[str, Any],
        *,
        auth: AuthSettings,
        headers: Headers,
    ) -> dict[str, Any]: ...

    async def aclose(self) -> None: ...


def _error(message: str, error_type: str, **extra: Any) -> dict[str, Any]:
    return {"data": None, "errors": [{"message": message, "errorType": error_type, **extra}]}


class HttpTransport:
    """POSTs to ``url`` with httpx (``verify`` as httpx: bool, CA bundle path or SSLContext)."""

    def __init__(
        self,
        url: str,
        *,
        verify: bool | str | ssl.SSLContext = True,
        timeout: float | None = 30.0,
        max_attempts: int = 3,
        retry_base_delay: float = 0.1,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = url
        self.verify = verify
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.retry_base_delay = retry_base_delay
        self._client = http_client
        self._owns_client = http_client is None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            verify = ssl_context(self.verify) if isinstance(self.verify, str) else self.verify
            self._client = httpx.AsyncClient(verify=verify, timeout=self.timeout)
        return self._client

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._owns_client:
            await client.aclose()

    async def _headers(
        self, body: bytes, info: RequestInfo, auth: AuthSettings, headers: Headers
    ) -> dict[str, str]:
        merged: dict[str, str] = {"content-type": "application/json; charset=UTF-8"}
        merged.update(await auth_headers(auth))
        merged.update({k.lower(): v for k, v in (await resolve_headers(headers, info)).items()})
        if auth.auth_token and auth.mode not in ("apiKey", "iam", "identityPool", "none"):
            merged["authorization"] = auth.auth_token
        merged["x-amz-user-agent"] = USER_AGENT
        if auth.mode in ("iam", "identityPool") and not ({"authorization", "x-api-key"} & merged.keys()):
            creds = await resolve_credentials(auth)
            merged = sigv4_headers(
                "POST", self.url, merged, body, creds, region=auth.region or DEFAULT_REGION
            )
        return merged

    async def execute(
        self,
        query: str,
        variables: Mapping[str, Any],
        *,
        auth: AuthSettings,
        headers: Headers,
    ) -> dict[str, Any]:
        body = json.dumps(
            {"query": query, "variables": dict(variables)}, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")
        info = RequestInfo("POST", self.url, urlsplit(self.url).query, query, variables)
        for attempt in range(1, self.max_attempts + 1):
            last = attempt == self.max_attempts
            request_headers = await self._headers(body, info, auth, headers)
            try:
                response = await self._http().post(self.url, content=body, headers=request_headers)
            except httpx.TransportError as exc:
                if last:
                    return _error(
                        "A network error has occurred.", "NetworkError", errorInfo={"reason": str(exc)}
                    )
                await self._backoff(attempt)
                continue
            if response.status_code in RETRY_STATUSES and not last:
                await self._backoff(attempt)
                continue
            return _body(response)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _backoff(self, attempt: int) -> None:
        delay = self.retry_base_delay * (2 ** (attempt - 1))
        await asyncio.sleep(delay * (0.5 + random.random()))


def _body(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 300:
        error_type = response.headers.get("x-amzn-errortype") or ""
        if not error_type:
            try:
                parsed = response.json()
            except ValueError:
                parsed = None
            if isinstance(parsed, Mapping):
                error_type = str(parsed.get("code") or parsed.get("__type") or "")
        if error_type.startswith("UnauthorizedException"):
            return _error(
                "Unauthorized", "UnauthorizedException", recoverySuggestion=_UNAUTHORIZED_SUGGESTION
            )
        return _error("Unknown error", error_type or "UnknownError", statusCode=response.status_code)
    try:
        parsed = response.json()
    except ValueError:
        return _error("The server's response is not JSON.", "UnknownError")
    if not isinstance(parsed, dict):
        return _error("The server's response is not a JSON object.", "UnknownError")
    return parsed
