"""The standard ``graphql-transport-ws`` protocol (graphql-ws library, Apollo, gql), sans IO.

::

    → {"type":"connection_init","payload":{…headers…}}
    ← {"type":"connection_ack"}
    → {"type":"subscribe","id":ID,"payload":{"query":…,"variables":…}}
    ← {"type":"next","id":ID,"payload":{"data":{…}}}       (per matching event)
    ← {"type":"error","id":ID,"payload":[{"message":…}]}  (the operation failed; it is over)
    → {"type":"complete","id":ID}                          (client unsubscribes)
    ← {"type":"complete","id":ID}                          (server ends an operation)
    ↔ {"type":"ping"} / {"type":"pong"}

The protocol ends the *connection* on misuse, with these close codes:

======  ===========================================================
4400    invalid message (bad JSON, unknown type, bad fields, too large)
4401    ``subscribe`` before ``connection_ack``
4403    the ``connection_init`` credentials were refused
4408    no ``connection_init`` in time (the driver's timer)
4409    ``Subscriber for <id> already exists``
4429    ``Too many initialisation requests``
======  ===========================================================

``connection_init`` yields :class:`AuthenticateConnection`; the driver checks
the payload's headers and answers with :meth:`TransportWsConnection.accept` or
:meth:`TransportWsConnection.reject`. The 100-subscriptions limit is an ``error``
for that operation only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ampbase.protocol.actions import (
    Action,
    CloseConnection,
    SendFrame,
    StartSubscription,
    StopSubscription,
    encode_frame,
)

__all__ = [
    "CLOSE_BAD_REQUEST",
    "CLOSE_DUPLICATE",
    "CLOSE_FORBIDDEN",
    "CLOSE_INIT_TIMEOUT",
    "CLOSE_TOO_MANY_INITS",
    "CLOSE_UNAUTHORIZED",
    "MAX_MESSAGE_BYTES",
    "MAX_SUBSCRIPTIONS",
    "SUBPROTOCOL",
    "AuthenticateConnection",
    "TransportAction",
    "TransportWsConnection",
]

SUBPROTOCOL = "graphql-transport-ws"
MAX_SUBSCRIPTIONS = 100
MAX_MESSAGE_BYTES = 240 * 1024

CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_INIT_TIMEOUT = 4408
CLOSE_DUPLICATE = 4409
CLOSE_TOO_MANY_INITS = 4429


@dataclass(frozen=True, slots=True)
class AuthenticateConnection:
    """Check the ``connection_init`` payload (header names → values), then accept or reject."""

    headers: dict[str, str] = field(default_factory=dict)


TransportAction = Action | AuthenticateConnection


class TransportWsConnection:
    """The protocol state of one ``graphql-transport-ws`` connection."""

    def __init__(
        self, *, max_subscriptions: int = MAX_SUBSCRIPTIONS, max_message_bytes: int = MAX_MESSAGE_BYTES
    ) -> None:
        self.max_subscriptions = max_subscriptions
        self.max_message_bytes = max_message_bytes
        self.init_received = False
        self.acknowledged = False
        self.closed = False
        self._pending: set[str] = set()
        self._active: set[str] = set()

    @property
    def active_ids(self) -> frozenset[str]:
        return frozenset(self._active)

    @property
    def pending_ids(self) -> frozenset[str]:
        return frozenset(self._pending)

    def __len__(self) -> int:
        return len(self._pending) + len(self._active)

    def _close(self, code: int, reason: str) -> list[TransportAction]:
        self.closed = True
        return [CloseConnection(code, reason)]

    # ------------------------------------------------------------ client frames
    def receive(self, message: str | bytes) -> list[TransportAction]:
        """Handle one client frame; never raises for bad input."""
        if self.closed:
            return []
        size = len(message) if isinstance(message, bytes) else len(message.encode("utf-8"))
        if size > self.max_message_bytes:
            return self._close(CLOSE_BAD_REQUEST, "Message too large")
        try:
            frame = json.loads(message)
        except (ValueError, UnicodeDecodeError):
            return self._close(CLOSE_BAD_REQUEST, "Invalid message received")
        if not isinstance(frame, dict):
            return self._close(CLOSE_BAD_REQUEST, "Invalid message received")
        kind = frame.get("type")
        if kind == "connection_init":
            return self._connection_init(frame)
        if kind == "ping":
            return [SendFrame({"type": "pong"})]
        if kind == "pong":
            return []
        if kind == "subscribe":
            return self._subscribe(frame)
        if kind == "complete":
            return self._complete(frame)
        return self._close(CLOSE_BAD_REQUEST, "Invalid message received")

    def _connection_init(self, frame: dict[str, Any]) -> list[TransportAction]:
        if self.init_received:
            return self._close(CLOSE_TOO_MANY_INITS, "Too many initialisation requests")
        self.init_received = True
        payload = frame.get("payload")
        if payload is not None and not isinstance(payload, dict):
            return self._close(CLOSE_BAD_REQUEST, "Invalid message received")
        headers: dict[str, str] = {}
        for key, value in (payload or {}).items():
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                headers[str(key)] = str(value)
            elif isinstance(value, dict) and key in ("headers", "authorization"):
                # {"headers": {...}} (Apollo style) or {"authorization": {...}} (AppSync style)
                headers.update({str(k): str(v) for k, v in value.items() if isinstance(v, str | int)})
        return [AuthenticateConnection(headers)]

    def _subscribe(self, frame: dict[str, Any]) -> list[TransportAction]:
        if not self.acknowledged:
            return self._close(CLOSE_UNAUTHORIZED, "Unauthorized")
        sub_id = frame.get("id")
        payload = frame.get("payload")
        if not isinstance(sub_id, str) or not sub_id or not isinstance(payload, dict):
            return self._close(CLOSE_BAD_REQUEST, "Invalid message received")
        query = payload.get("query")
        variables = payload.get("variables")
        operation_name = payload.get("operationName")
        extensions = payload.get("extensions")
        if (
            not isinstance(query, str)
            or not (variables is None or isinstance(variables, dict))
            or not (operation_name is None or isinstance(operation_name, str))
            or not (extensions is None or isinstance(extensions, dict))
        ):
            return self._close(CLOSE_BAD_REQUEST, "Invalid message received")
        if sub_id in self._pending or sub_id in self._active:
            return self._close(CLOSE_DUPLICATE, f"Subscriber for {sub_id} already exists")
        if len(self) >= self.max_subscriptions:
            return [
                SendFrame(
                    {
                        "id": sub_id,
                        "type": "error",
                        "payload": [
                            {
                                "message": f"Max number of {self.max_subscriptions} subscriptions reached",
                                "extensions": {"errorType": "MaxSubscriptionsReachedError"},
                            }
                        ],
                    }
                )
            ]
        authorization: dict[str, str] = {}
        auth = (extensions or {}).get("authorization")
        if isinstance(auth, dict):
            authorization = {str(k): str(v) for k, v in auth.items() if v is not None}
        self._pending.add(sub_id)
        return [StartSubscription(sub_id, query, variables or {}, operation_name, authorization)]

    def _complete(self, frame: dict[str, Any]) -> list[TransportAction]:
        sub_id = frame.get("id")
        if not isinstance(sub_id, str) or not sub_id:
            return self._close(CLOSE_BAD_REQUEST, "Invalid message received")
        if sub_id in self._active or sub_id in self._pending:
            self._active.discard(sub_id)
            self._pending.discard(sub_id)
            return [StopSubscription(sub_id)]
        return []  # completing an operation that already ended is normal

    # ------------------------------------------------------------ driver events
    def accept(self) -> list[TransportAction]:
        """The ``connection_init`` credentials are fine: ``connection_ack``."""
        if self.closed or self.acknowledged:
            return []
        self.acknowledged = True
        return [SendFrame({"type": "connection_ack"})]

    def reject(self, reason: str = "Forbidden") -> list[TransportAction]:
        """The ``connection_init`` credentials were refused."""
        if self.closed:
            return []
        return self._close(CLOSE_FORBIDDEN, reason)

    def init_timeout(self) -> list[TransportAction]:
        """No ``connection_init`` arrived in time."""
        if self.closed or self.init_received:
            return []
        return self._close(CLOSE_INIT_TIMEOUT, "Connection initialisation timeout")

    def subscription_ready(self, sub_id: str) -> list[TransportAction]:
        if sub_id not in self._pending:
            return [StopSubscription(sub_id)]
        self._pending.discard(sub_id)
        self._active.add(sub_id)
        return []

    def subscription_failed(self, sub_id: str, errors: list[dict[str, Any]]) -> list[TransportAction]:
        """The operation could not start: an ``error`` frame (it is then over)."""
        if sub_id not in self._pending:
            return []
        self._pending.discard(sub_id)
        return [SendFrame({"id": sub_id, "type": "error", "payload": errors})]

    def subscription_error(self, sub_id: str, errors: list[dict[str, Any]]) -> list[TransportAction]:
        """End an active operation with an ``error`` frame."""
        if sub_id not in self._active:
            return []
        self._active.discard(sub_id)
        return [StopSubscription(sub_id), SendFrame({"id": sub_id, "type": "error", "payload": errors})]

    def data(
        self,
        sub_id: str,
        payload: dict[str, Any],
        *,
        payload_json: str | None = None,
    ) -> list[TransportAction]:
        """A ``next`` frame for an event, if the operation is active.

        ``payload_json``: ``payload`` already encoded (see :meth:`AppSyncConnection.data`).
        """
        if sub_id not in self._active:
            return []
        frame = {"id": sub_id, "type": "next", "payload": payload}
        if payload_json is None:
            text = encode_frame(frame)
        else:
            text = (
                '{"id":'
                + json.dumps(sub_id, ensure_ascii=False)
                + ',"type":"next","payload":'
                + payload_json
                + "}"
            )
        action = SendFrame(frame, text)
        size = len(text) if text.isascii() else len(text.encode("utf-8"))
        if size > self.max_message_bytes:
            limit = self.max_message_bytes
            return self.subscription_error(
                sub_id,
                [
                    {
                        "message": f"Event of {size} bytes exceeds the limit of {limit} bytes",
                        "extensions": {"errorType": "PayloadTooLargeError"},
                    }
                ],
            )
        return [action]

    def complete(self, sub_id: str) -> list[TransportAction]:
        """The server ends an active operation."""
        if sub_id not in self._active:
            return []
        self._active.discard(sub_id)
        return [StopSubscription(sub_id), SendFrame({"id": sub_id, "type": "complete"})]

    def keepalive(self) -> list[TransportAction]:
        """A server ``ping`` (clients answer ``pong``)."""
        if not self.acknowledged or self.closed:
            return []
        return [SendFrame({"type": "ping"})]
