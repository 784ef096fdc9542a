"""Custom queries and mutations served by Python callables.

Two calling conventions, chosen from the handler's signature:

- keyword style, ``fn(*, arguments, identity, context)``: the field's arguments
  as a dict, the caller's :class:`~ampbase.engine.identity.Identity` and a
  :class:`HandlerContext` (any subset of those names, or ``**kwargs``);
- Lambda style, ``fn(event)`` (one positional parameter): an AppSync-like event
  ``{"typeName", "fieldName", "arguments", "identity", "source", "request",
  "prev"}``, as a Gen 2 function handler receives it.

Coroutine functions are awaited; plain functions run in a worker thread. The
return value is the field's result; a :class:`~ampbase.errors.RequestError`
raised by the handler becomes a GraphQL error with its ``errorType``.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ampbase.engine.identity import Identity
from ampbase.errors import RequestError
from ampbase.schema.ir import CustomOperationDef

__all__ = ["HandlerContext", "call_handlers", "identity_event", "uses_keywords"]

_KEYWORDS = frozenset({"arguments", "identity", "context"})


@dataclass(frozen=True, slots=True)
class HandlerContext:
    """What a custom handler learns about the call besides its arguments.

    ``engine`` is the :class:`~ampbase.engine.engine.Engine` serving the request
    (handlers may run trusted operations with it); ``prev`` is the result of the
    previous handler when an operation has several.
    """

    engine: Any
    type_name: str
    field_name: str
    request_id: str
    prev: Any = None


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
        context = HandlerContext(engine, op.kind.value, op.name, request_id, result)
        fn = handler.callable
        call_args: tuple[Any, ...] = ()
        call_kwargs: dict[str, Any] = {}
        keywords = uses_keywords(fn)
        if keywords is None:
            call_args = (
                {
                    "typeName": op.kind.value,
                    "fieldName": op.name,
                    "arguments": dict(arguments),
                    "identity": identity_event(identity),
                    "source": None,
                    "request": {"headers": {}},
                    "prev": {"result": result},
                },
            )
        else:
            everything = {"arguments": dict(arguments), "identity": identity, "context": context}
            call_kwargs = {k: v for k, v in everything.items() if k in keywords}
        if inspect.iscoroutinefunction(fn):
            result = await fn(*call_args, **call_kwargs)
        else:
            result = await asyncio.to_thread(fn, *call_args, **call_kwargs)
            if inspect.isawaitable(result):
                result = await result
    return result


def uses_keywords(fn: Any) -> frozenset[str] | None:
    """The keyword names ``fn`` takes (``None`` = Lambda style, one ``event`` argument)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return _KEYWORDS
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return _KEYWORDS
    named = frozenset(p.name for p in params) & _KEYWORDS
    if named:
        return named
    return None


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
