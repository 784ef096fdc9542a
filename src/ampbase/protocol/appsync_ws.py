"""AppSync's realtime protocol (subprotocol ``graphql-ws``, AppSync flavour), sans IO.

The conversation, as the Amplify JS v6 client speaks it
(``specs/client-wire-contract.md`` §6)::

    → {"type":"connection_init"}
    ← {"type":"connection_ack","payload":{"connectionTimeoutMs":300000}}
    ← {"type":"ka"}                                   (then at least every 60 s)
    → {"id":ID,"type":"start","payload":{"data":"<JSON {query, variables}>",
                                         "extensions":{"authorization":{…}}}}
    ← {"type":"start_ack","id":ID}                     (once the subscription is registered)
    ← {"type":"data","id":ID,"payload":{"data":{…}}}   (per matching event)
    → {"id":ID,"type":"stop"}
    ← {"type":"complete","id":ID}

:class:`AppSyncConnection` holds one connection's state. Feed it every text frame
with :meth:`~AppSyncConnection.receive`; it returns the actions to perform
(:mod:`ampbase.protocol.actions`). Nothing here raises on bad input: every
malformed or out-of-order frame becomes an ``error`` frame, and the connection
and its other subscriptions carry on.

Error frames (``{"type":"error","id":…,"payload":{"errors":[{"errorType","message"}]}}``,
``id`` present when the frame named one):

=================================  ==========================================================
``BadRequestException``            invalid JSON, not an object, missing/invalid ``id`` or
                                   ``payload``, ``start`` before ``connection_init``, ``stop``
                                   of an unknown id, a frame over the size limit
``UnsupportedOperation``           unknown ``type`` ("<type> not supported through the realtime
                                   channel", AppSync's wording)
``DuplicatedOperationError``       ``start`` with the id of a subscription still active on this
                                   connection (ids may be reused after a reconnect or ``stop``)
``MaxSubscriptionsReachedError``   more than ``max_subscriptions`` (100) at once
=================================  ==========================================================

A ``start`` whose ``payload`` holds ``query``/``variables`` itself (Apollo's legacy
subscriptions-transport-ws, which shares the ``graphql-ws`` name) is accepted too.

When the handshake's credentials were rejected, the driver builds the machine
with ``connection_error``; ``connection_init`` is then answered with a
``connection_error`` frame (``errorCode`` 401, which the client treats as final)
and the socket is closed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
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
    "BAD_REQUEST",
    "CONNECTION_TIMEOUT_MS",
    "DUPLICATED_OPERATION",
    "MAX_MESSAGE_BYTES",
    "MAX_SUBSCRIPTIONS",
    "MAX_SUBSCRIPTIONS_REACHED",
    "PAYLOAD_TOO_LARGE",
    "SUBPROTOCOL",
    "UNSUPPORTED_OPERATION",
    "AppSyncConnection",
    "HandshakeRejection",
    "error_frame",
]

SUBPROTOCOL = "graphql-ws"
CONNECTION_TIMEOUT_MS = 300_000
MAX_SUBSCRIPTIONS = 100
MAX_MESSAGE_BYTES = 240 * 1024

BAD_REQUEST = "BadRequestException"
UNSUPPORTED_OPERATION = "UnsupportedOperation"
DUPLICATED_OPERATION = "DuplicatedOperationError"
MAX_SUBSCRIPTIONS_REACHED = "MaxSubscriptionsReachedError"
PAYLOAD_TOO_LARGE = "PayloadTooLargeError"

# Close code after a rejected handshake (4401 mirrors graphql-transport-ws "Unauthorized").
_CLOSE_UNAUTHORIZED = 4401


@dataclass(frozen=True, slots=True)
class HandshakeRejection:
    """Why the handshake credentials were refused (sent as ``connection_error``)."""

    error_type: str = "UnauthorizedException"
    message: str = "You are not authorized to make this call."
    error_code: int = 401


def error_frame(sub_id: str | None, error_type: str, message: str) -> dict[str, Any]:
    """An AppSync ``error`` frame; ``sub_id`` ``None`` for connection-level errors."""
    frame: dict[str, Any] = {"type": "error"}
    if sub_id is not None:
        frame["id"] = sub_id
    frame["payload"] = {"errors": [{"errorType": error_type, "message": message}]}
    return frame


def _utf8_size(text: str) -> int:
    """The UTF-8 length of ``text`` (without encoding it when it is ASCII)."""
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _error(sub_id: str | None, error_type: str, message: str) -> list[Action]:
    return [SendFrame(error_frame(sub_id, error_type, message))]


class AppSyncConnection:
    """The protocol state of one AppSync realtime connection.

    Subscription ids move ``pending`` (a ``start`` was accepted and handed to
    the driver) → ``active`` (:meth:`subscription_ready`, ``start_ack`` sent)
    → gone (``stop``, :meth:`subscription_failed`, or :meth:`subscription_error`).
    """

    def __init__(
        self,
        *,
        max_subscriptions: int = MAX_SUBSCRIPTIONS,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        connection_timeout_ms: int = CONNECTION_TIMEOUT_MS,
        connection_error: HandshakeRejection | None = None,
    ) -> None:
        self.max_subscriptions = max_subscriptions
        self.max_message_bytes = max_message_bytes
        self.connection_timeout_ms = connection_timeout_ms
        self.connection_error = connection_error
        self.acknowledged = False
        self.closed = False
        self._pending: set[str] = set()
        self._active: set[str] = set()

    # ------------------------------------------------------------------ queries
    @property
    def active_ids(self) -> frozenset[str]:
        return frozenset(self._active)

    @property
    def pending_ids(self) -> frozenset[str]:
        return frozenset(self._pending)

    def __len__(self) -> int:
        return len(self._pending) + len(self._active)

    # ------------------------------------------------------------ client frames
    def receive(self, message: str | bytes) -> list[Action]:
        """Handle one client frame; never raises for bad input."""
        if self.closed:
            return []
        size = len(message) if isinstance(message, bytes) else len(message.encode("utf-8"))
        if size > self.max_message_bytes:
            return _error(
                None,
                BAD_REQUEST,
                f"Message of {size} bytes exceeds the limit of {self.max_message_bytes} bytes",
            )
        try:
            frame = json.loads(message)
        except (ValueError, UnicodeDecodeError):
            return _error(None, BAD_REQUEST, "Message is not valid JSON")
        if not isinstance(frame, dict):
            return _error(None, BAD_REQUEST, "Message must be a JSON object")
        raw_id = frame.get("id")
        sub_id = raw_id if isinstance(raw_id, str) and raw_id else None
        kind = frame.get("type")
        if kind == "connection_init":
            return self._connection_init()
        if kind == "start":
            return self._start(sub_id, frame)
        if kind == "stop":
            return self._stop(sub_id)
        if not isinstance(kind, str):
            return _error(sub_id, BAD_REQUEST, "Message has no 'type'")
        return _error(sub_id, UNSUPPORTED_OPERATION, f"{kind} not supported through the realtime channel")

    def _connection_init(self) -> list[Action]:
        if self.connection_error is not None:
            err = self.connection_error
            self.closed = True
            return [
                SendFrame(
                    {
                        "type": "connection_error",
                        "payload": {
                            "errors": [
                                {
                                    "errorType": err.error_type,
                                    "message": err.message,
                                    "errorCode": err.error_code,
                                }
                            ]
                        },
                    }
                ),
                CloseConnection(_CLOSE_UNAUTHORIZED, err.error_type),
            ]
        self.acknowledged = True
        return [
            SendFrame(
                {"type": "connection_ack", "payload": {"connectionTimeoutMs": self.connection_timeout_ms}}
            ),
            SendFrame({"type": "ka"}),
        ]

    def _start(self, sub_id: str | None, frame: dict[str, Any]) -> list[Action]:
        if sub_id is None:
            return _error(None, BAD_REQUEST, "'start' needs a non-empty string 'id'")
        if not self.acknowledged:
            return _error(sub_id, BAD_REQUEST, "'start' sent before 'connection_init' was acknowledged")
        if sub_id in self._pending or sub_id in self._active:
            return _error(sub_id, DUPLICATED_OPERATION, f"Duplicated operation with id {sub_id}")
        if len(self) >= self.max_subscriptions:
            return _error(
                sub_id,
                MAX_SUBSCRIPTIONS_REACHED,
                f"Max number of {self.max_subscriptions} subscriptions reached",
            )
        payload = frame.get("payload")
        if not isinstance(payload, dict):
            return _error(sub_id, BAD_REQUEST, "'start' needs an object 'payload'")
        data = payload.get("data")
        if data is None and "query" in payload:
            data = payload  # subscriptions-transport-ws (Apollo's legacy "graphql-ws") puts it here
        if isinstance(data, str):
            try:
                request = json.loads(data)
            except ValueError:
                return _error(sub_id, BAD_REQUEST, "'payload.data' is not valid JSON")
        elif isinstance(data, dict):
            request = data  # tolerated: some hand-written clients send the object itself
        else:
            return _error(sub_id, BAD_REQUEST, "'payload.data' must be a JSON string")
        if not isinstance(request, dict):
            return _error(sub_id, BAD_REQUEST, "'payload.data' must hold a JSON object")
        query = request.get("query")
        if not isinstance(query, str) or not query.strip():
            return _error(sub_id, BAD_REQUEST, "'payload.data' has no 'query'")
        variables = request.get("variables")
        if variables is None:
            variables = {}
        if not isinstance(variables, dict):
            return _error(sub_id, BAD_REQUEST, "'variables' must be an object")
        operation_name = request.get("operationName")
        if operation_name is not None and not isinstance(operation_name, str):
            return _error(sub_id, BAD_REQUEST, "'operationName' must be a string")
        extensions = payload.get("extensions")
        authorization: dict[str, str] = {}
        if extensions is not None:
            if not isinstance(extensions, dict):
                return _error(sub_id, BAD_REQUEST, "'payload.extensions' must be an object")
            auth = extensions.get("authorization")
            if auth is not None:
                if not isinstance(auth, dict):
                    return _error(sub_id, BAD_REQUEST, "'extensions.authorization' must be an object")
                authorization = {str(k): str(v) for k, v in auth.items() if v is not None}
        self._pending.add(sub_id)
        body = data if isinstance(data, str) else None
        return [StartSubscription(sub_id, query, variables, operation_name, authorization, body)]

    def _stop(self, sub_id: str | None) -> list[Action]:
        if sub_id is None:
            return _error(None, BAD_REQUEST, "'stop' needs a non-empty string 'id'")
        if sub_id in self._active or sub_id in self._pending:
            self._active.discard(sub_id)
            self._pending.discard(sub_id)
            return [StopSubscription(sub_id), SendFrame({"type": "complete", "id": sub_id})]
        return _error(sub_id, BAD_REQUEST, f"No subscription with id {sub_id}")

    # ------------------------------------------------------------ driver events
    def subscription_ready(self, sub_id: str) -> list[Action]:
        """The subscription is registered: acknowledge it.

        If it was stopped meanwhile, tell the driver to unregister it again.
        """
        if sub_id not in self._pending:
            return [StopSubscription(sub_id)]
        self._pending.discard(sub_id)
        self._active.add(sub_id)
        return [SendFrame({"type": "start_ack", "id": sub_id})]

    def subscription_failed(self, sub_id: str, error_type: str, message: str) -> list[Action]:
        """Preparing the subscription failed (bad document, unauthorized ...)."""
        if sub_id not in self._pending:
            return []
        self._pending.discard(sub_id)
        return _error(sub_id, error_type, message)

    def subscription_error(self, sub_id: str, error_type: str, message: str) -> list[Action]:
        """End an active subscription with an error (the client errors its observer)."""
        if sub_id not in self._active:
            return []
        self._active.discard(sub_id)
        return [StopSubscription(sub_id), *_error(sub_id, error_type, message)]

    def data(
        self,
        sub_id: str,
        payload: dict[str, Any],
        *,
        payload_json: str | None = None,
    ) -> list[Action]:
        """A ``data`` frame for an event, if ``sub_id`` is still active.

        ``payload`` is the execution result (``{"data": {...}}`` plus optional
        ``errors``). A frame over the size limit ends the subscription with a
        ``PayloadTooLargeError`` instead of being dropped silently.

        ``payload_json`` is ``payload`` already encoded (compact JSON, shared by every
        subscriber of a fan-out): the frame is then
        spliced around it instead of encoding the payload again.
        """
        if sub_id not in self._active:
            return []
        frame = {"type": "data", "id": sub_id, "payload": payload}
        if payload_json is None:
            text = encode_frame(frame)
        else:
            text = (
                '{"type":"data","id":'
                + json.dumps(sub_id, ensure_ascii=False)
                + ',"payload":'
                + payload_json
                + "}"
            )
        action = SendFrame(frame, text)
        size = _utf8_size(text)
        if size > self.max_message_bytes:
            return self.subscription_error(
                sub_id,
                PAYLOAD_TOO_LARGE,
                f"Event of {size} bytes exceeds the limit of {self.max_message_bytes} bytes",
            )
        return [action]

    def keepalive(self) -> list[Action]:
        """A ``ka`` frame (only once the connection is acknowledged)."""
        if not self.acknowledged or self.closed:
            return []
        return [SendFrame({"type": "ka"})]
