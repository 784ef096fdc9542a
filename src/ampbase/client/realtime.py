"""The AppSync realtime protocol, client side: one shared WebSocket for all subscriptions.

What the JS client does (``specs/client-wire-contract.md`` §6), spoken from Python:
``wss://<graphql url>/realtime`` (scheme forced to ``wss``), subprotocols ``graphql-ws`` and
``header-<base64url JSON auth>``, non-``Authorization`` custom headers as query parameters;
``connection_init`` → ``connection_ack`` (within ``ack_timeout``) → ``start`` per
subscription with its own ``extensions.authorization`` → ``start_ack`` → ``data`` … →
``stop`` → ``complete``. ``ka`` frames keep the connection alive; silence longer than the
announced ``connectionTimeoutMs`` counts as a lost connection.

A lost connection with live subscriptions moves the state to ``ConnectionDisrupted`` and the
connection is re-established after ``reconnect_delay`` (then with back-off up to
``max_reconnect_delay``); every live subscription is started again **with the same id**.
The socket is closed ``idle_close_delay`` seconds after the last subscription stops.
Connection states are reported to listeners (:meth:`RealtimeConnection.add_state_listener`,
:meth:`RealtimeConnection.states`) with the JS client's names.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import enum
import json
import logging
import ssl
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from ampbase.client.auth import AuthSettings, realtime_auth
from ampbase.client.transport import USER_AGENT, Headers, RequestInfo, resolve_headers, ssl_context

__all__ = [
    "CONNECTION_STATE_CHANGE",
    "ConnectionState",
    "RealtimeConnection",
    "SubscriptionError",
    "realtime_url",
    "ssl_context",
]

logger = logging.getLogger("ampbase.client")

CONNECTION_STATE_CHANGE = "ConnectionStateChange"
SUBPROTOCOL = "graphql-ws"
DEFAULT_CONNECTION_TIMEOUT_MS = 300_000
PENDING_KEEPALIVE_SECONDS = 65.0
_FINAL_CONNECTION_ERRORS = frozenset({"BadRequestException", "UnauthorizedException"})


class ConnectionState(enum.StrEnum):
    """The JS client's connection states (``CONNECTION_STATE_CHANGE`` events)."""

    CONNECTED = "Connected"
    CONNECTED_PENDING_DISCONNECT = "ConnectedPendingDisconnect"
    CONNECTED_PENDING_KEEP_ALIVE = "ConnectedPendingKeepAlive"
    CONNECTED_PENDING_NETWORK = "ConnectedPendingNetwork"
    CONNECTING = "Connecting"
    CONNECTION_DISRUPTED = "ConnectionDisrupted"
    CONNECTION_DISRUPTED_PENDING_NETWORK = "ConnectionDisruptedPendingNetwork"
    DISCONNECTED = "Disconnected"


class SubscriptionError(Exception):
    """A subscription failed; ``errors`` as the JS client reports them (``Connection failed: …``)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        super().__init__(errors[0].get("message", "Subscription failed") if errors else "Subscription failed")


def realtime_url(graphql_url: str) -> str:
    """``http(s)://h:p/graphql`` → ``wss://h:p/graphql/realtime`` (the JS client's rule)."""
    url = graphql_url + "/realtime"
    for prefix in ("https://", "http://"):
        if url.startswith(prefix):
            return "wss://" + url[len(prefix) :]
    return url


def _b64url(data: Mapping[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


@dataclass(eq=False)
class ActiveSubscription:
    """One subscription as the connection tracks it; events arrive on ``queue``.

    Queue items: ``("data", record)``, ``("error", errors)`` (final) or ``("complete", None)``.
    """

    id: str
    query: str
    variables: dict[str, Any]
    auth: AuthSettings
    headers: Headers
    queue: asyncio.Queue[tuple[str, Any]] = field(default_factory=asyncio.Queue)
    acknowledged: asyncio.Event = field(default_factory=asyncio.Event)
    failed: list[dict[str, Any]] | None = None
    done: bool = False


class _ConnectionLost(Exception):
    pass


class _ConnectionRejected(Exception):
    def __init__(self, payload: Any) -> None:
        super().__init__("connection rejected")
        self.payload = payload


class RealtimeConnection:
    """The shared realtime socket of one client (one GraphQL URL)."""

    def __init__(
        self,
        graphql_url: str,
        *,
        url: str | None = None,
        verify: bool | str | ssl.SSLContext = True,
        ack_timeout: float = 15.0,
        reconnect_delay: float = 5.0,
        max_reconnect_delay: float = 60.0,
        idle_close_delay: float = 1.0,
    ) -> None:
        self.graphql_url = graphql_url
        self.url = url or realtime_url(graphql_url)
        self.verify = verify
        self.ack_timeout = ack_timeout
        self.reconnect_delay = reconnect_delay
        self.max_reconnect_delay = max_reconnect_delay
        self.idle_close_delay = idle_close_delay
        self.state = ConnectionState.DISCONNECTED
        self._listeners: list[Callable[[ConnectionState], None]] = []
        self._subs: dict[str, ActiveSubscription] = {}
        self._ws: ClientConnection | None = None
        self._runner: asyncio.Task[None] | None = None
        self._wakeup = asyncio.Event()
        self._last_activity = time.monotonic()
        self._timeout_s = DEFAULT_CONNECTION_TIMEOUT_MS / 1000

    # ------------------------------------------------------------------ states
    def add_state_listener(self, listener: Callable[[ConnectionState], None]) -> Callable[[], None]:
        """Call ``listener(state)`` on every change; returns a function that removes it."""
        self._listeners.append(listener)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return remove

    async def states(self) -> AsyncIterator[ConnectionState]:
        """Connection states as they change (an endless async iterator; break to stop)."""
        queue: asyncio.Queue[ConnectionState] = asyncio.Queue()
        remove = self.add_state_listener(queue.put_nowait)
        try:
            while True:
                yield await queue.get()
        finally:
            remove()

    def _set_state(self, state: ConnectionState) -> None:
        if state == self.state:
            return
        self.state = state
        for listener in list(self._listeners):
            try:
                listener(state)
            except Exception:
                logger.exception("connection state listener failed")

    # ------------------------------------------------------------------ subscriptions
    def subscribe(
        self, query: str, variables: Mapping[str, Any], *, auth: AuthSettings, headers: Headers
    ) -> ActiveSubscription:
        """Register a subscription and make sure the connection runs; events go to its queue."""
        sub = ActiveSubscription(str(uuid.uuid4()), query, dict(variables), auth, headers)
        self._subs[sub.id] = sub
        if self._runner is None or self._runner.done():
            self._runner = asyncio.get_running_loop().create_task(self._run(), name="ampbase-realtime")
        elif self._ws is not None and self.state in (
            ConnectionState.CONNECTED,
            ConnectionState.CONNECTED_PENDING_DISCONNECT,
            ConnectionState.CONNECTED_PENDING_KEEP_ALIVE,
        ):
            ws = self._ws
            self._set_state(ConnectionState.CONNECTED)
            asyncio.get_running_loop().create_task(self._send_start(ws, sub))
        self._wakeup.set()
        return sub

    async def unsubscribe(self, sub: ActiveSubscription) -> None:
        """Stop a subscription (``stop`` is sent if it was acknowledged)."""
        if self._subs.pop(sub.id, None) is None:
            return
        self._finish(sub, "complete", None)
        ws = self._ws
        if ws is not None and sub.acknowledged.is_set():
            with contextlib.suppress(WebSocketException, OSError):
                await ws.send(json.dumps({"id": sub.id, "type": "stop"}))
        self._wakeup.set()

    def _finish(self, sub: ActiveSubscription, kind: str, value: Any) -> None:
        if sub.done:
            return
        sub.done = True
        if kind == "error":
            sub.failed = value
        sub.acknowledged.set()
        sub.queue.put_nowait((kind, value))

    async def close(self) -> None:
        """End every subscription and close the socket."""
        for sub in list(self._subs.values()):
            self._finish(sub, "complete", None)
        self._subs.clear()
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner
        await self._close_socket()
        self._set_state(ConnectionState.DISCONNECTED)

    async def _close_socket(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()

    # ------------------------------------------------------------------ the connection loop
    async def _run(self) -> None:
        failures = 0
        try:
            while self._subs:
                self._set_state(ConnectionState.CONNECTING)
                closed_cleanly = False
                try:
                    await self._connect_and_serve()
                    closed_cleanly = True
                    failures = 0
                except _ConnectionRejected as rejected:
                    self._fail_all(rejected.payload)
                    break
                except ssl.SSLCertVerificationError as exc:  # a trust problem does not heal by retrying
                    self._fail_all(
                        {"errors": [{"errorType": "SSLCertVerificationError", "message": str(exc)}]}
                    )
                    break
                except (OSError, WebSocketException, _ConnectionLost, TimeoutError) as exc:
                    logger.info("realtime connection lost: %s", exc)
                    failures += 1
                finally:
                    await self._close_socket()
                if not self._subs:
                    break
                if closed_cleanly:  # idle-closed just as a new subscription arrived: reconnect now
                    continue
                self._set_state(ConnectionState.CONNECTION_DISRUPTED)
                delay = min(self.reconnect_delay * (2 ** max(0, failures - 1)), self.max_reconnect_delay)
                await asyncio.sleep(delay)
        finally:
            if self._runner is asyncio.current_task():
                self._runner = None
            self._set_state(ConnectionState.DISCONNECTED)

    def _fail_all(self, payload: Any) -> None:
        message = "Connection failed: " + json.dumps(payload, separators=(",", ":"))
        for sub in list(self._subs.values()):
            self._finish(sub, "error", [{"message": message}])
        self._subs.clear()

    async def _handshake_url_and_protocols(self) -> tuple[str, list[str]]:
        first = next(iter(self._subs.values()))
        info = RequestInfo("POST", self.graphql_url, "", first.query, first.variables)
        custom = await resolve_headers(first.headers, info)
        header = await realtime_auth(first.auth, self.graphql_url, body=None)
        if first.auth.mode == "lambda" and "Authorization" in custom:
            header["Authorization"] = custom["Authorization"]
        query = {k: v for k, v in custom.items() if k != "Authorization"}
        url = self.url
        if query:
            parts = urlsplit(url)
            joined = "&".join(p for p in (parts.query, urlencode(query)) if p)
            url = urlunsplit((parts.scheme, parts.netloc, parts.path, joined, parts.fragment))
        return url, [SUBPROTOCOL, "header-" + _b64url(header)]

    async def _connect_and_serve(self) -> None:
        url, protocols = await self._handshake_url_and_protocols()
        ssl_ctx = ssl_context(self.verify) if url.startswith("wss://") else None
        ws = await connect(
            url,
            subprotocols=protocols,  # type: ignore[arg-type]
            ssl=ssl_ctx,
            open_timeout=self.ack_timeout,
            max_size=None,
            ping_interval=None,
        )
        self._ws = ws
        await ws.send(json.dumps({"type": "connection_init"}))
        await self._await_ack(ws)
        self._set_state(ConnectionState.CONNECTED)
        for sub in list(self._subs.values()):
            await self._send_start(ws, sub)
        await self._serve(ws)

    async def _await_ack(self, ws: ClientConnection) -> None:
        deadline = time.monotonic() + self.ack_timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _ConnectionLost("no connection_ack in time")
            raw = await asyncio.wait_for(ws.recv(), remaining)
            frame = _decode(raw)
            kind = frame.get("type")
            if kind == "connection_ack":
                payload = frame.get("payload") or {}
                timeout_ms = payload.get("connectionTimeoutMs") if isinstance(payload, dict) else None
                self._timeout_s = (
                    timeout_ms / 1000
                    if isinstance(timeout_ms, int | float) and timeout_ms > 0
                    else DEFAULT_CONNECTION_TIMEOUT_MS / 1000
                )
                self._last_activity = time.monotonic()
                return
            if kind == "connection_error":
                payload = frame.get("payload") or {}
                errors = payload.get("errors") if isinstance(payload, dict) else None
                first = (
                    errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
                )
                if (
                    first.get("errorCode") in (400, 401, 403)
                    or first.get("errorType") in _FINAL_CONNECTION_ERRORS
                ):
                    raise _ConnectionRejected(payload)
                raise _ConnectionLost(f"connection_error: {payload}")

    async def _send_start(self, ws: ClientConnection, sub: ActiveSubscription) -> None:
        data = json.dumps(
            {"query": sub.query, "variables": sub.variables}, separators=(",", ":"), ensure_ascii=False
        )
        info = RequestInfo("POST", self.graphql_url, "", sub.query, sub.variables)
        try:
            extra = await resolve_headers(sub.headers, info)
            extra["x-amz-user-agent"] = USER_AGENT
            authorization = await realtime_auth(sub.auth, self.graphql_url, body=data, additional=extra)
        except Exception as exc:  # noqa: BLE001 - a bad auth setup fails this subscription only
            self._subs.pop(sub.id, None)
            self._finish(sub, "error", [{"message": str(exc)}])
            return
        message = {
            "id": sub.id,
            "payload": {"data": data, "extensions": {"authorization": authorization}},
            "type": "start",
        }
        with contextlib.suppress(WebSocketException, OSError):
            await ws.send(json.dumps(message, separators=(",", ":")))

    async def _serve(self, ws: ClientConnection) -> None:
        recv: asyncio.Task[str | bytes] | None = None
        try:
            while True:
                if not self._subs:
                    self._set_state(ConnectionState.CONNECTED_PENDING_DISCONNECT)
                    self._wakeup.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wakeup.wait(), self.idle_close_delay)
                    if not self._subs:
                        return
                    self._set_state(ConnectionState.CONNECTED)
                idle = time.monotonic() - self._last_activity
                if idle > self._timeout_s:
                    raise _ConnectionLost("keep-alive timeout")
                if idle > PENDING_KEEPALIVE_SECONDS:
                    self._set_state(ConnectionState.CONNECTED_PENDING_KEEP_ALIVE)
                wait = min(self._timeout_s - idle, max(PENDING_KEEPALIVE_SECONDS - idle, 1.0))
                if recv is None:
                    recv = asyncio.ensure_future(ws.recv())
                self._wakeup.clear()
                wake = asyncio.ensure_future(self._wakeup.wait())
                try:
                    await asyncio.wait({recv, wake}, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    wake.cancel()
                if not recv.done():
                    continue
                task, recv = recv, None
                try:
                    raw = task.result()
                except (WebSocketException, OSError) as exc:
                    raise _ConnectionLost(str(exc)) from exc
                self._handle(_decode(raw))
        finally:
            if recv is not None:
                recv.cancel()

    def _handle(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        sub_id = frame.get("id")
        sub = self._subs.get(sub_id) if isinstance(sub_id, str) else None
        if kind in ("ka", "data", "start_ack"):
            self._last_activity = time.monotonic()
            if self.state == ConnectionState.CONNECTED_PENDING_KEEP_ALIVE:
                self._set_state(ConnectionState.CONNECTED)
        if sub is None:
            return
        if kind == "start_ack":
            sub.acknowledged.set()
        elif kind == "data":
            payload = frame.get("payload")
            data = payload.get("data") if isinstance(payload, dict) else None
            if isinstance(data, dict) and data:
                sub.queue.put_nowait(("data", next(iter(data.values()))))
        elif kind == "error":
            payload = frame.get("payload")
            message = "Connection failed: " + json.dumps(payload, separators=(",", ":"))
            error: dict[str, Any] = {"message": message}
            errors = payload.get("errors") if isinstance(payload, dict) else None
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                if "errorType" in errors[0]:
                    error["errorType"] = errors[0]["errorType"]
                if "Permission denied" in message:
                    error = {"message": "Unauthorized", "errorType": error.get("errorType", "Unauthorized")}
            self._subs.pop(sub.id, None)
            self._finish(sub, "error", [error])
            self._wakeup.set()


def _decode(raw: str | bytes) -> dict[str, Any]:
    try:
        frame = json.loads(raw)
    except ValueError:
        return {}
    return frame if isinstance(frame, dict) else {}
