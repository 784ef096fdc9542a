"""Who is calling: the authenticated identity a request or subscription carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["AUTH_MODES", "Identity"]

# The client's names for AppSync's authorization modes.
AUTH_MODES: tuple[str, ...] = ("apiKey", "userPool", "oidc", "iam", "lambda")


@dataclass(frozen=True, slots=True)
class Identity:
    """An authenticated caller.

    ``mode`` is one of :data:`AUTH_MODES` (``None`` for in-process, trusted
    server-side calls that bypass authorization). ``claims`` holds verified JWT
    claims (userPool/oidc), ``resolver_context`` what a Lambda-style authorizer
    returned, ``iam`` the verified IAM principal description. ``denied_fields``
    are the Lambda authorizer's ``deniedFields`` (``Type.field`` or field ARNs):
    those fields resolve to null.
    """

    mode: str | None
    api_key: str | None = None
    claims: dict[str, Any] = field(default_factory=dict)
    resolver_context: dict[str, Any] = field(default_factory=dict)
    iam: dict[str, Any] = field(default_factory=dict)
    source_ip: str | None = None
    denied_fields: tuple[str, ...] = ()

    @property
    def trusted(self) -> bool:
        """True for server-side calls made in process (custom handlers, jobs)."""
        return self.mode is None
