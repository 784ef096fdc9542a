"""Custom queries and mutations served by Python callables.

Three calling conventions, chosen from the handler's signature:

- keyword style, ``fn(*, arguments, identity, context)``: the field's arguments
  as a dict, the caller's :class:`~ampbase.engine.identity.Identity` and a
  :class:`HandlerContext` (any subset of those names, or ``**kwargs``);
- Lambda style, ``fn(event)``: an AppSync-like event ``{"typeName", "fieldName",
  "arguments", "identity", "source", "request", "prev"}``, as a Gen 2 function
  handler receives it;
- Python Lambda style, ``fn(event, context)``: the same event plus the
  :class:`HandlerContext`.

Coroutine functions are awaited; plain functions run in a worker thread. The
return value is the field's result. A :class:`~ampbase.errors.RequestError`
raised by the handler (typically :class:`~ampbase.errors.HandlerError`) becomes
a GraphQL error with its message and ``errorType``; any other exception is
logged with the request id and reported as an internal error.

``context.client`` is a trusted server-side data client
(:class:`ampbase.client.server.ServerClient`) over the same engine;
``context.caller_client`` acts as the caller, so the schema's rules apply.
"""

from __future__ import annotations

import asyncio
import inspect
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ampbase.engine.identity import Identity
from ampbase.errors import RequestError
from ampbase.schema.ir import CustomOperationDef

if TYPE_CHECKING:
    from ampbase.client.server import ServerClient

__all__ = ["HandlerContext", "call_handlers", "handler_style", "identity_event", "uses_keywords"]

_TRUSTED = Identity(mode=None)
_KEYWORDS = frozenset({"arguments", "identity", "context"})
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_CLIENTS: weakref.WeakKeyDictionary[Any, ServerClient] = weakref.WeakKeyDictionary()


def _server_client(engine: Any, identity: Identity) -> ServerClient:
    # the client package sits above the engine; imported on first use only
    from ampbase.client.server import ServerClient

    if identity.mode is not None:
        return ServerClient(engine, identity)
    client = _CLIENTS.get(engine)
    if client is None:
        client = ServerClient(engine)
        _CLIENTS[engine] = client
    return client


@dataclass(frozen=True, slots=True)
class HandlerContext:
    """What a custom handler learns about the call besides its arguments.

    ``engine`` is the :class:`~ampbase.engine.engine.Engine` serving the request;
    ``prev`` is the result of the previous handler when an operation has several;
    ``identity`` is the caller.
    """

    engine: Any
    type_name: str
    field_name: str
    request_id: str
    prev: Any = None
    identity: Identity | None = None

    @property
    def client(self) -> ServerClient:
        """A trusted data client (``generate_client``'s API, in process; rules bypassed)."""
        return _server_client(self.engine, _TRUSTED)

    @property
    def caller_client(self) -> ServerClient:
        """A data client acting as the caller: the schema's authorization rules apply."""
        return _server_client(self.engine, self.identity or _TRUSTED)


async def call_handlers(
    op: CustomOperationDef,
    arguments: Mapping[str, Any],
    identity: Identity,
    engine: Any,
    request_id: str,
) -> Any:
    handlers = [h for h in op.handlers if h.callable is not None]
    if not handlers:
        names = ", ".join(h.function_name or h.kind for h in op.handlers) or "none"
        raise RequestError(
            f"The {op.kind.value.lower()} '{op.name}' has no Python handler (declared: {names}).",
            error_type="HandlerNotFound",
        )
    result: Any = None
    for handler in handlers:
        context = HandlerContext(engine, op.kind.value, op.name, request_id, result, identity)
        fn = handler.callable
        call_args: tuple[Any, ...] = ()
        call_kwargs: dict[str, Any] = {}
        style = handler_style(fn)
        if isinstance(style, int):
            event: dict[str, Any] = {
                "typeName": op.kind.value,
                "fieldName": op.name,
                "arguments": dict(arguments),
                "identity": identity_event(identity),
                "source": None,
                "request": {"headers": {}},
                "prev": {"result": result},
            }
            call_args = (event, context) if style == 2 else (event,)
        else:
            everything = {"arguments": dict(arguments), "identity": identity, "context": context}
            call_kwargs = {k: v for k, v in everything.items() if k in style}
        if inspect.iscoroutinefunction(fn):
            result = await fn(*call_args, **call_kwargs)
        else:
            result = await asyncio.to_thread(fn, *call_args, **call_kwargs)
            if inspect.isawaitable(result):
                result = await result
    return result


def handler_style(fn: Any) -> frozenset[str] | int:
    """The keyword names ``fn`` takes, or how many positional arguments it wants (1: ``event``,
    2: ``event, context``)."""
    keywords = uses_keywords(fn)
    if keywords is not None:
        return keywords
    params = list(inspect.signature(fn).parameters.values())
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
        return 2
    positional = [p for p in params if p.kind in _POSITIONAL]
    return 2 if len(positional) >= 2 else 1


def uses_keywords(fn: Any) -> frozenset[str] | None:
    """The keyword names ``fn`` takes (``None`` = Lambda style, ``event`` [+ ``context``])."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return _KEYWORDS
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return _KEYWORDS
    named = frozenset(p.name for p in params) & _KEYWORDS
    if "context" in named and not named - {"context"} and _positional_before(params, "context"):
        return None  # fn(event, context)
    if named:
        return named
    return None


def _positional_before(params: Any, name: str) -> bool:
    """``fn(event, context)``: ``context`` is the second positional parameter."""
    ordered = [p for p in params if p.kind in _POSITIONAL]
    return len(ordered) >= 2 and ordered[1].name == name


def identity_event(identity: Identity) -> dict[str, Any] | None:
    """The caller as AppSync describes it to a Lambda (``null`` for API-key calls)."""
    if identity.mode in ("userPool", "oidc"):
        claims = identity.claims
        groups = claims.get("cognito:groups")
        return {
            "sub": claims.get("sub"),
            "username": claims.get("cognito:username") or claims.get("username") or claims.get("sub"),
            "issuer": claims.get("iss"),
            "claims": dict(claims),
            "groups": list(groups) if isinstance(groups, list | tuple) else groups,
            "sourceIp": [identity.source_ip] if identity.source_ip else [],
            "defaultAuthStrategy": "ALLOW",
        }
    if identity.mode == "lambda":
        return {"resolverContext": dict(identity.resolver_context)}
    if identity.mode == "iam":
        return dict(identity.iam)
    return None
