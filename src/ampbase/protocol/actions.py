"""What the sans-IO realtime state machines ask their driver to do.

Both :mod:`ampbase.protocol.appsync_ws` and :mod:`ampbase.protocol.transport_ws`
turn incoming text frames into a list of these actions; the driver (the ASGI
handler in :mod:`ampbase.server.realtime`) performs them in order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Action",
    "CloseConnection",
    "SendFrame",
    "StartSubscription",
    "StopSubscription",
    "encode_frame",
]


@dataclass(frozen=True, slots=True)
class SendFrame:
    """Send ``frame`` (a JSON object) as one text message."""

    frame: dict[str, Any]
    # the frame's JSON when it was already encoded (e.g. for a size check)
    encoded: str | None = field(default=None, compare=False)

    @property
    def text(self) -> str:
        return self.encoded if self.encoded is not None else encode_frame(self.frame)


@dataclass(frozen=True, slots=True)
class StartSubscription:
    """Prepare and register a subscription, then report back.

    The driver calls the machine's ``subscription_ready(id)`` once the
    subscription is registered (events published from then on reach it) or
    ``subscription_failed(id, ...)`` when preparation failed.
    ``authorization`` holds the headers the operation carries (AppSync:
    ``payload.extensions.authorization``); empty means "use the connection's".
    ``body`` is the exact request text those headers sign (AppSync's ``payload.data``
    string, which an IAM SigV4 signature covers), when there is one.
    """

    id: str
    query: str
    variables: dict[str, Any]
    operation_name: str | None = None
    authorization: dict[str, str] = field(default_factory=dict)
    body: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class StopSubscription:
    """Unregister the subscription ``id``; no more events for it."""

    id: str


@dataclass(frozen=True, slots=True)
class CloseConnection:
    """Close the socket with a WebSocket close ``code`` and ``reason``."""

    code: int
    reason: str


Action = SendFrame | StartSubscription | StopSubscription | CloseConnection


def encode_frame(frame: dict[str, Any]) -> str:
    """Compact JSON, non-ASCII kept as is (what AppSync sends)."""
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)
