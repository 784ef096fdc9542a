"""``POST /graphql``: the AppSync-style GraphQL endpoint, as a raw ASGI callable.

It sits outside Starlette's routing and middleware on purpose (this is the hot path):
read the body (bounded), authenticate, decode with orjson, run the engine, encode with orjson.

Status codes follow AppSync and what the Amplify JS client expects (wire contract §5, §7):

* 200 for every GraphQL result, including GraphQL errors;
* 401 + ``x-amzn-ErrorType: UnauthorizedException`` when authentication fails;
* 400 ``MalformedHttpRequestException`` for a body that is not a JSON object, 413 for a body
  over the limit, 408 for a body that does not arrive within the request timeout, 405 for
  other methods; never 5xx (the client retries those);
* an API key over its rate limit gets 200 with ``errorType: ThrottlingException`` and a
  ``Retry-After`` header (a 429 would be retried by the client, multiplying the load).

Every response, preflight and error included, carries the CORS headers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any, Protocol

import orjson

from ampbase.aio import within
from ampbase.auth.credentials import RequestFacts
from ampbase.engine.identity import Identity
from ampbase.errors import AuthenticationError
from ampbase.server.limits import RateLimiter, throttled

__all__ = [
    "CORS_EXPOSE_HEADERS",
    "ASGIReceive",
    "ASGIScope",
    "ASGISend",
    "GraphQLEndpoint",
    "GraphQLRuntime",
    "cors_headers",
    "error_body",
]

logger = logging.getLogger("ampbase.server")

ASGIScope = MutableMapping[str, Any]
ASGIReceive = Callable[[], Awaitable[MutableMapping[str, Any]]]
ASGISend = Callable[[MutableMapping[str, Any]], Awaitable[None]]

CORS_EXPOSE_HEADERS = b"x-amzn-ErrorType"
_DEFAULT_ALLOW_HEADERS = (
    b"content-type, x-amz-user-agent, x-api-key, authorization, x-amz-date, x-amz-security-token"
)
_JSON = b"application/json; charset=UTF-8"


class _Executor(Protocol):
    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None,
        identity: Identity,
        operation_name: str | None = None,
    ) -> dict[str, Any]: ...


class _Authenticator(Protocol):
    async def authenticate(
        self,
        headers: Mapping[str, str],
        *,
        source_ip: str | None = None,
        request: RequestFacts | None = None,
    ) -> Identity: ...


class GraphQLRuntime(Protocol):
    """What the endpoint needs from the running server (see :class:`ampbase.server.wiring.Runtime`)."""

    @property
    def engine(self) -> _Executor: ...

    @property
    def authenticator(self) -> _Authenticator: ...


def cors_headers(request_headers: Mapping[bytes, bytes]) -> list[tuple[bytes, bytes]]:
    """CORS headers for any response: echo the Origin (credentials allowed) or ``*``."""
    origin = request_headers.get(b"origin")
    if origin:
        return [
            (b"access-control-allow-origin", origin),
            (b"access-control-allow-credentials", b"true"),
            (b"access-control-expose-headers", CORS_EXPOSE_HEADERS),
            (b"vary", b"Origin"),
        ]
    return [
        (b"access-control-allow-origin", b"*"),
        (b"access-control-expose-headers", CORS_EXPOSE_HEADERS),
    ]


def error_body(error_type: str, message: str) -> bytes:
    return orjson.dumps({"errors": [{"errorType": error_type, "message": message}]})


class GraphQLEndpoint:
    def __init__(
        self,
        runtime: GraphQLRuntime,
        *,
        max_body_bytes: int,
        rate_limiter: RateLimiter | None = None,
        body_timeout: float = 0,
    ) -> None:
        self.runtime = runtime
        self.max_body_bytes = max_body_bytes
        self.rate_limiter = rate_limiter
        self.body_timeout = body_timeout  # seconds to receive the whole body (0: no limit)

    async def __call__(self, scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
        headers = dict(scope["headers"])
        method = scope["method"]
        if method == "POST":
            await self._post(scope, headers, receive, send)
        elif method == "OPTIONS":
            await self._preflight(headers, send)
        else:
            await _respond(
                send,
                405,
                error_body("MethodNotAllowedException", f"{method} is not supported; POST a GraphQL request"),
                [*cors_headers(headers), (b"allow", b"POST, OPTIONS")],
                error_type=b"MethodNotAllowedException",
            )

    async def _preflight(self, headers: dict[bytes, bytes], send: ASGISend) -> None:
        requested = headers.get(b"access-control-request-headers") or _DEFAULT_ALLOW_HEADERS
        response_headers = [
            *cors_headers(headers),
            (b"access-control-allow-methods", b"POST, OPTIONS"),
            (b"access-control-allow-headers", requested),
            (b"access-control-max-age", b"86400"),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": response_headers})
        await send({"type": "http.response.body", "body": b""})

    async def _post(
        self, scope: ASGIScope, headers: dict[bytes, bytes], receive: ASGIReceive, send: ASGISend
    ) -> None:
        cors = cors_headers(headers)
        try:
            body = await within(self._read_body(headers, receive), self.body_timeout)
        except TimeoutError:
            message = f"The request body did not arrive within {self.body_timeout:g} seconds."
            await _respond(
                send,
                408,
                error_body("RequestTimeoutException", message),
                cors,
                error_type=b"RequestTimeoutException",
            )
            return
        if body is None:
            await _respond(
                send,
                413,
                error_body(
                    "PayloadTooLargeException",
                    f"The request body is larger than {self.max_body_bytes} bytes.",
                ),
                cors,
                error_type=b"PayloadTooLargeException",
            )
            return

        runtime = self.runtime
        client = scope.get("client")
        try:
            facts = None
            if b"x-api-key" not in headers:  # what SigV4 and Lambda authorizers look at
                raw_query: bytes = scope.get("query_string", b"")
                facts = RequestFacts(
                    method="POST",
                    path=scope.get("raw_path", b"").decode("latin-1").split("?", 1)[0] or scope["path"],
                    body=body,
                    query_string=raw_query.decode("latin-1"),
                )
            identity = await runtime.authenticator.authenticate(
                _auth_headers(headers), source_ip=client[0] if client else None, request=facts
            )
        except AuthenticationError as exc:
            await _respond(
                send, 401, error_body(exc.error_type, exc.message), cors, error_type=b"UnauthorizedException"
            )
            return

        limiter = self.rate_limiter
        if limiter is not None and identity.api_key is not None and not limiter.acquire(identity.api_key):
            error = throttled(limiter.rate)
            wait = max(1, round(limiter.retry_after(identity.api_key) + 0.5))
            await _respond(
                send,
                200,
                orjson.dumps(
                    {"data": None, "errors": [{"errorType": error.error_type, "message": error.message}]}
                ),
                [*cors, (b"retry-after", str(wait).encode())],
            )
            return

        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            payload = None
        if not isinstance(payload, dict):
            await _respond(
                send,
                400,
                error_body(
                    "MalformedHttpRequestException", "The request body must be a JSON object with a query."
                ),
                cors,
                error_type=b"MalformedHttpRequestException",
            )
            return

        query = payload.get("query")
        variables = payload.get("variables")
        operation_name = payload.get("operationName")
        problem = None
        if not isinstance(query, str) or not query.strip():
            problem = 'The request has no GraphQL query: send {"query": "...", "variables": {...}}.'
        elif variables is not None and not isinstance(variables, dict):
            problem = '"variables" must be a JSON object.'
        elif operation_name is not None and not isinstance(operation_name, str):
            problem = '"operationName" must be a string.'
        if problem is not None or not isinstance(query, str):
            await _respond(send, 200, error_body("BadRequestException", problem or "bad request"), cors)
            return

        try:
            result = await runtime.engine.execute(query, variables, identity, operation_name)
            response = orjson.dumps(result)
        except Exception:  # the engine must not raise; never let the client see a 500
            logger.exception("unexpected error while executing a GraphQL request")
            response = orjson.dumps(
                {
                    "data": None,
                    "errors": [{"errorType": "InternalFailure", "message": "An internal error occurred."}],
                }
            )
        await _respond(send, 200, response, cors)

    async def _read_body(self, headers: dict[bytes, bytes], receive: ASGIReceive) -> bytes | None:
        """The whole body, or ``None`` when it exceeds the limit."""
        limit = self.max_body_bytes
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return None
        message = await receive()
        body: bytes = message.get("body", b"")
        if not message.get("more_body", False):
            return body if len(body) <= limit else None
        parts = [body]
        size = len(body)
        while message.get("more_body", False):
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            parts.append(chunk)
        return b"".join(parts)


def _auth_headers(headers: dict[bytes, bytes]) -> dict[str, str]:
    result: dict[str, str] = {}
    api_key = headers.get(b"x-api-key")
    if api_key is not None:
        result["x-api-key"] = api_key.decode("latin-1")
    authorization = headers.get(b"authorization")
    if authorization is not None:
        result["authorization"] = authorization.decode("latin-1")
        if authorization.startswith(b"AWS4-HMAC-SHA256 "):  # SigV4 may sign any header
            for raw_name, raw_value in headers.items():
                result.setdefault(raw_name.decode("latin-1"), raw_value.decode("latin-1"))
        for name in (b"x-amz-date", b"x-amz-security-token", b"host", b"content-type", b"x-amz-user-agent"):
            value = headers.get(name)
            if value is not None:
                result[name.decode()] = value.decode("latin-1")
    return result


async def _respond(
    send: ASGISend,
    status: int,
    body: bytes,
    cors: list[tuple[bytes, bytes]],
    *,
    error_type: bytes | None = None,
) -> None:
    headers = [(b"content-type", _JSON), (b"content-length", str(len(body)).encode()), *cors]
    if error_type is not None:
        headers.append((b"x-amzn-errortype", error_type))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
