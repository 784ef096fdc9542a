"""The one place that turns outcomes into response bodies.

Errors take AppSync's shape::

    {"path": [...], "data": null, "errorType": "...", "errorInfo": null,
     "locations": [{"line": 2, "column": 3, "sourceName": null}], "message": "...",
     "extensions": {"errorType": "..."}}

A :class:`~ampbase.errors.RequestError` keeps its message and ``error_type``;
GraphQL syntax, validation and variable errors get ``ValidationError``; any
other exception is logged with a request id and reported only as
``Internal server error`` so nothing internal reaches the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from graphql import ExecutionResult, GraphQLError

from ampbase.errors import RequestError

__all__ = ["INTERNAL_ERROR_TYPE", "VALIDATION_ERROR_TYPE", "error_body", "format_error", "response_body"]

logger = logging.getLogger("ampbase.engine")

INTERNAL_ERROR_TYPE = "InternalFailure"
VALIDATION_ERROR_TYPE = "ValidationError"


def _request_error(error: BaseException | None) -> RequestError | None:
    while error is not None:
        if isinstance(error, RequestError):
            return error
        if isinstance(error, GraphQLError):
            error = error.original_error
            continue
        return None
    return None


def format_error(error: GraphQLError, request_id: str, *, debug: bool = False) -> dict[str, Any]:
    """One GraphQL error in AppSync's shape (``debug`` adds the exception to internal errors)."""
    original = error.original_error
    request_error = _request_error(original)
    error_info: Any = None
    if request_error is not None:
        error_type = request_error.error_type
        message = request_error.message
        error_info = getattr(request_error, "error_info", None)
    elif original is None or isinstance(original, GraphQLError):
        error_type = VALIDATION_ERROR_TYPE
        message = error.message
    else:
        logger.error(
            "request %s: unexpected error in %s",
            request_id,
            ".".join(str(p) for p in error.path or ()) or "request",
            exc_info=(type(original), original, original.__traceback__),
        )
        error_type = INTERNAL_ERROR_TYPE
        message = f"Internal server error (request id {request_id})"
        if debug:
            message = f"{message}: {type(original).__name__}: {original}"
    locations = [
        {"line": loc.line, "column": loc.column, "sourceName": None} for loc in error.locations or ()
    ]
    return {
        "path": list(error.path) if error.path else None,
        "data": None,
        "errorType": error_type,
        "errorInfo": error_info,
        "locations": locations,
        "message": message,
        "extensions": {"errorType": error_type},
    }


def error_body(errors: Iterable[GraphQLError], request_id: str, *, debug: bool = False) -> dict[str, Any]:
    """A response with no data: parse/validation/variable errors."""
    return {"data": None, "errors": [format_error(e, request_id, debug=debug) for e in errors]}


def response_body(result: ExecutionResult, request_id: str, *, debug: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [format_error(e, request_id, debug=debug) for e in result.errors]
    return body
