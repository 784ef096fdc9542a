"""Every error ampbase raises on purpose.

::

    AmpbaseError
    ├─ SchemaDefinitionError          invalid schema: .source (file:line), .hint
    ├─ ConfigError                    bad settings / missing optional extra
    ├─ RequestError                   caused by the caller; becomes a GraphQL error (HTTP 200)
    │  ├─ AuthenticationError         missing/invalid credentials → HTTP 401 UnauthorizedException
    │  ├─ UnauthorizedError           errorType "Unauthorized"
    │  ├─ ValidationError             bad input / unknown field / bad nextToken
    │  ├─ ConditionalCheckFailedError condition false, duplicate or missing key
    │  ├─ ThrottledError              rate limits
    │  └─ HandlerError                raised by a custom operation's handler on purpose
    ├─ StorageError                   backend failure (driver exception kept as __cause__)
    └─ PubSubError

``error_type`` is the AppSync ``errorType`` placed in ``errors[].extensions`` and
at the top level of the error object, as AppSync does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ampbase.schema.ir import SourceLocation

__all__ = [
    "AmpbaseError",
    "AuthenticationError",
    "ConditionalCheckFailedError",
    "ConfigError",
    "HandlerError",
    "PubSubError",
    "RequestError",
    "SchemaDefinitionError",
    "StorageError",
    "ThrottledError",
    "UnauthorizedError",
    "ValidationError",
]


class AmpbaseError(Exception):
    """Root of ampbase's errors."""


class SchemaDefinitionError(AmpbaseError):
    """The schema is invalid. Says what, where (``source``) and how to fix it (``hint``)."""

    def __init__(
        self, message: str, *, source: SourceLocation | None = None, hint: str | None = None
    ) -> None:
        self.message = message
        self.source = source
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        text = self.message
        if self.source is not None:
            text = f"{self.source}: {text}"
        if self.hint:
            text = f"{text}\n  hint: {self.hint}"
        return text


class ConfigError(AmpbaseError):
    """Bad settings or a missing optional dependency."""


class RequestError(AmpbaseError):
    """An error caused by the request; reported in ``errors`` with HTTP 200."""

    error_type: str = "BadRequest"
    http_status: int = 200

    def __init__(self, message: str, *, error_type: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if error_type is not None:
            self.error_type = error_type


class AuthenticationError(RequestError):
    error_type = "UnauthorizedException"
    http_status = 401


class UnauthorizedError(RequestError):
    error_type = "Unauthorized"


class ValidationError(RequestError):
    error_type = "ValidationError"


class ConditionalCheckFailedError(RequestError):
    error_type = "DynamoDB:ConditionalCheckFailedException"

    def __init__(self, message: str = "The conditional request failed", **kw: str | None) -> None:
        super().__init__(message, **kw)


class ThrottledError(RequestError):
    error_type = "ThrottlingException"


class HandlerError(RequestError):
    """Raise it from a custom operation's handler to fail the call with your own message.

    The caller gets ``message``, ``error_type`` (default ``Lambda:Unhandled``, what AppSync
    reports for an error thrown by a function) and ``error_info`` (any JSON value, AppSync's
    ``errorInfo``). Any other exception a handler raises is logged with the request id and
    reported only as an internal error.
    """

    error_type = "Lambda:Unhandled"

    def __init__(self, message: str, *, error_type: str | None = None, error_info: object = None) -> None:
        super().__init__(message, error_type=error_type)
        self.error_info = error_info


class StorageError(AmpbaseError):
    """The database failed; the driver's exception is ``__cause__``."""


class PubSubError(AmpbaseError):
    """The pub/sub backend failed."""
