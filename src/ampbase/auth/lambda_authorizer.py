"""AppSync Lambda (``AWS_LAMBDA``) authorizers: a Python callable or an HTTP endpoint.

The authorizer receives AppSync's event::

    {"authorizationToken": "<Authorization header>",
     "requestContext": {"apiId", "accountId", "requestId", "queryString",
                        "operationName", "variables"},
     "requestHeaders": {...}}

and returns ``{"isAuthorized": bool, "resolverContext": {...}, "deniedFields": [...],
"ttlOverride": seconds}``. A callable may be sync or async and may take the event as its one
argument; an ``http(s)://`` target is POSTed the event as JSON. ``isAuthorized`` false (or an
invalid response, a timeout, an exception) is HTTP 401 ``UnauthorizedException``. A token that
does not match ``identity_validation_expression`` is refused without calling the authorizer.
Responses are cached by token for ``ttlOverride`` (else ``ttl``) seconds; 0 = no cache.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from ampbase.auth.policy import denied_field_pairs
from ampbase.engine.identity import Identity
from ampbase.errors import AuthenticationError, ConfigError

__all__ = [
    "DEFAULT_TTL",
    "MAX_TOKEN_LENGTH",
    "AuthorizerResult",
    "LambdaAuthorizer",
    "RequestInfo",
    "denied_field_names",
]

DEFAULT_TTL = 60
MAX_TOKEN_LENGTH = 2048
_CACHE_SIZE = 10_000
NOT_AUTHORIZED = "You are not authorized to make this call."


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """What AppSync tells the authorizer about the request (``requestContext`` + headers)."""

    query: str = ""
    operation_name: str | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class AuthorizerResult:
    """The authorizer's answer; ``ttl`` is how long it may be cached (seconds)."""

    authorized: bool
    resolver_context: dict[str, Any] = field(default_factory=dict)
    denied_fields: tuple[str, ...] = ()
    ttl: int = 0


def denied_field_names(denied: tuple[str, ...]) -> frozenset[tuple[str, str]]:
    """``deniedFields`` (``Type.field`` or a full field ARN) as ``(type, field)`` pairs."""
    return denied_field_pairs(denied)


def _denied() -> AuthenticationError:
    return AuthenticationError(NOT_AUTHORIZED)


class LambdaAuthorizer:
    """Calls the authorizer (with a per-token cache) and turns its answer into an :class:`Identity`."""

    def __init__(
        self,
        target: Callable[..., Any] | str,
        *,
        ttl: int = DEFAULT_TTL,
        identity_validation_expression: str | None = None,
        api_id: str = "ampbase",
        account_id: str = "000000000000",
        timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        if isinstance(target, str) and not target.startswith(("http://", "https://")):
            raise ConfigError(f"lambda authorizer {target!r} must be a callable or an http(s):// URL")
        if not 0 <= ttl <= 3600:
            raise ConfigError(f"lambda authorizer ttl must be 0..3600 seconds, got {ttl}")
        self.target = target
        self.ttl = ttl
        self.validation = (
            re.compile(identity_validation_expression) if identity_validation_expression else None
        )
        self.api_id = api_id
        self.account_id = account_id
        self.timeout = timeout
        self._clock = clock
        self._http = http
        self._cache: OrderedDict[str, tuple[float, AuthorizerResult]] = OrderedDict()
        self.calls = 0

    def event(self, token: str, request: RequestInfo) -> dict[str, Any]:
        context: dict[str, Any] = {
            "apiId": self.api_id,
            "accountId": self.account_id,
            "requestId": request.request_id or str(uuid.uuid4()),
            "queryString": request.query,
            "variables": dict(request.variables),
        }
        if request.operation_name:
            context["operationName"] = request.operation_name
        return {
            "authorizationToken": token,
            "requestContext": context,
            "requestHeaders": dict(request.headers),
        }

    async def _invoke(self, event: dict[str, Any]) -> Any:
        target = self.target
        if isinstance(target, str):
            if self._http is not None:
                response = await self._http.post(target, json=event, timeout=self.timeout)
            else:
                async with httpx.AsyncClient() as client:
                    response = await client.post(target, json=event, timeout=self.timeout)
            response.raise_for_status()
            return response.json()
        result = target(event)
        if inspect.isawaitable(result):
            result = await result
        return result

    def _parse(self, response: Any) -> AuthorizerResult:
        """The authorizer's answer; raises ``ValueError`` on malformed ones."""
        if not isinstance(response, Mapping):
            raise ValueError("the authorizer must return an object")
        authorized = response.get("isAuthorized")
        if not isinstance(authorized, bool):
            raise ValueError("'isAuthorized' must be a boolean")
        ttl_value = response.get("ttlOverride")
        ttl = self.ttl
        if ttl_value is not None:
            if isinstance(ttl_value, bool) or not isinstance(ttl_value, int) or not 0 <= ttl_value <= 3600:
                raise ValueError("'ttlOverride' must be 0..3600 seconds")
            ttl = ttl_value
        if not authorized:
            return AuthorizerResult(False, ttl=ttl)
        context = response.get("resolverContext") or {}
        if not isinstance(context, Mapping):
            raise ValueError("'resolverContext' must be an object")
        denied = response.get("deniedFields") or []
        if not isinstance(denied, list) or not all(isinstance(d, str) for d in denied):
            raise ValueError("'deniedFields' must be a list of strings")
        return AuthorizerResult(True, dict(context), tuple(denied), ttl)

    async def authorize(self, token: str, request: RequestInfo | None = None) -> AuthorizerResult:
        """The authorizer's answer for ``token`` (cached), or :class:`AuthenticationError`."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise _denied()
        if self.validation is not None and not self.validation.fullmatch(token):
            raise _denied()
        now = self._clock()
        cached = self._cache.get(token)
        if cached is not None and cached[0] > now:
            self._cache.move_to_end(token)
            if cached[1].authorized:
                return cached[1]
            raise _denied()
        self._cache.pop(token, None)
        self.calls += 1
        try:
            response = await asyncio.wait_for(
                self._invoke(self.event(token, request or RequestInfo())), timeout=self.timeout
            )
            result = self._parse(response)
        except AuthenticationError:
            raise
        except Exception as exc:  # any authorizer failure is a 401, never a 500
            raise AuthenticationError(NOT_AUTHORIZED) from exc
        if result.ttl > 0:
            self._cache[token] = (self._clock() + result.ttl, result)
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        if not result.authorized:
            raise _denied()
        return result

    async def identity(
        self, token: str, request: RequestInfo | None = None, *, source_ip: str | None = None
    ) -> Identity:
        result = await self.authorize(token, request)
        context = dict(result.resolver_context)
        return Identity(
            mode="lambda", resolver_context=context, source_ip=source_ip, denied_fields=result.denied_fields
        )

    def clear(self) -> None:
        self._cache.clear()
