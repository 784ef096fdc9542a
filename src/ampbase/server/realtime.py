"""The realtime WebSocket endpoint, ``<graphql path>/realtime``.

Protocols: AppSync's (subprotocol ``graphql-ws``, what the Amplify client speaks,
:mod:`ampbase.protocol.appsync_ws`) and the standard ``graphql-transport-ws``
(:mod:`ampbase.protocol.transport_ws`). ``graphql-ws`` wins when both are
offered; a handshake offering neither is closed with 4406.

AppSync handshake auth comes from the ``header-<base64url JSON>`` subprotocol
(clients ≥ 6.6) or the ``?header=<base64 JSON>&payload=e30=`` query string
(clients ≤ 6.5; a ``+`` turned into a space is undone); any other query
parameter is an extra header. A rejected handshake is answered with
``connection_error`` after ``connection_init``. Every ``start`` is authorized on
its own ``extensions.authorization`` (the socket is shared by all auth modes).

Design, per process: one :class:`RealtimeHub` reads ``runtime.pubsub.events()``
and dispatches each event to the subscriptions listening to its mutation. They
are indexed by mutation name, then grouped by
:attr:`~ampbase.engine.subscriptions.PreparedSubscription.share_key`: subscriptions
whose rendering depends only on the record (same document, variables, and access
filter decided at registration) form one group, so an event is matched, rendered
(the subscription's own selection set against the committed record) and
JSON-encoded once per group, and each member's frame is that payload with its
id spliced in. The frame is written straight away when the member's connection has
nothing queued and no send in flight (no task wake-up per subscriber); otherwise
it joins the connection's bounded queue. Subscriptions that cannot share
(relationship fields, field-level rules: the result depends on the subscriber)
are matched one by one and rendered by their connection's writer task.

Per connection, one reader task feeds client frames to the protocol machine and
one writer task sends queued frames in order (rendering unshared events), plus
``ka``/``ping`` when the socket has been quiet for ``keepalive_interval``.

Slow consumers: a connection whose queue holds ``queue_limit`` items is closed
with code 1013 ("Try Again Later"); the Amplify client reconnects and
re-subscribes with the same ids. When the pub/sub stream itself fails or ends,
every connection is closed with 1011/1012 for the same reason: clients must
re-subscribe rather than silently miss events.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
from collections import deque
from collections.abc import Coroutine, Hashable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from urllib.parse import unquote

import orjson
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from ampbase.aio import resume
from ampbase.auth.credentials import RequestFacts
from ampbase.engine.engine import Engine
from ampbase.engine.identity import Identity
from ampbase.engine.subscriptions import (
    PreparedSubscription,
    event_matches,
    policy_token,
    prepare_subscription,
    render_record,
)
from ampbase.errors import AuthenticationError, RequestError
from ampbase.protocol import appsync_ws, transport_ws
from ampbase.protocol.actions import CloseConnection, SendFrame, StartSubscription, StopSubscription
from ampbase.protocol.appsync_ws import AppSyncConnection, HandshakeRejection
from ampbase.protocol.transport_ws import AuthenticateConnection, TransportAction, TransportWsConnection
from ampbase.pubsub.base import ChangeEvent, PubSub

__all__ = [
    "DEFAULT_INIT_TIMEOUT",
    "DEFAULT_KEEPALIVE_INTERVAL",
    "DEFAULT_QUEUE_LIMIT",
    "RealtimeEndpoint",
    "RealtimeHub",
    "RealtimeRuntime",
    "create_realtime_endpoint",
    "decode_handshake",
]

logger = logging.getLogger("ampbase.realtime")

DEFAULT_KEEPALIVE_INTERVAL = 30.0
DEFAULT_QUEUE_LIMIT = 1000
DEFAULT_INIT_TIMEOUT = 15.0
INTERNAL_ERROR_TYPE = "InternalFailure"

CLOSE_SLOW_CONSUMER = 1013
CLOSE_PUBSUB_FAILED = 1011
CLOSE_SERVICE_RESTART = 1012
CLOSE_SUBPROTOCOL = 4406


class Authenticates(Protocol):
    async def authenticate(
        self,
        headers: Mapping[str, str],
        *,
        source_ip: str | None = None,
        request: RequestFacts | None = None,
    ) -> Identity: ...


def _graphql_path(scope: Scope) -> str:
    """The GraphQL endpoint's path, which IAM clients sign (``/graphql`` for ``/graphql/realtime``)."""
    path = str(scope.get("path") or "/graphql/realtime")
    return path[: -len("/realtime")] if path.endswith("/realtime") else path


def _connect_facts(graphql_path: str) -> RequestFacts:
    """What an IAM handshake signs: ``POST <graphql path>/connect`` with body ``{}``."""
    return RequestFacts(path=graphql_path.rstrip("/") + "/connect", body=b"{}")


class RealtimeRuntime(Protocol):
    """What the endpoint needs of :class:`ampbase.server.wiring.Runtime`."""

    @property
    def engine(self) -> Engine: ...

    @property
    def authenticator(self) -> Authenticates: ...

    pubsub: PubSub


# --------------------------------------------------------------------------- handshake


def _b64decode(text: str) -> bytes:
    cleaned = text.strip().replace(" ", "+")
    cleaned += "=" * (-len(cleaned) % 4)
    if "-" in cleaned or "_" in cleaned:
        return base64.urlsafe_b64decode(cleaned)
    return base64.b64decode(cleaned, validate=True)


def _json_headers(raw: bytes) -> dict[str, str]:
    value = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    if not isinstance(value, dict):
        raise ValueError("the handshake header is not a JSON object")
    return {str(k): str(v) for k, v in value.items() if v is not None}


def _query_params(query_string: bytes) -> list[tuple[str, str]]:
    """Raw ``k=v`` pairs, percent-decoded but with ``+`` kept (it is base64 here)."""
    pairs: list[tuple[str, str]] = []
    for part in query_string.decode("latin-1").split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((unquote(key), unquote(value)))
    return pairs


def decode_handshake(subprotocols: list[str], query_string: bytes) -> tuple[dict[str, str], dict[str, str]]:
    """``(auth headers, extra headers)`` of an AppSync handshake; ``ValueError`` when malformed.

    The ``header-`` subprotocol wins over the ``header`` query parameter.
    """
    auth: dict[str, str] | None = None
    for proto in subprotocols:
        if proto.startswith("header-"):
            encoded = proto[len("header-") :]
            auth = _json_headers(_b64decode(encoded)) if encoded else {}
            break
    extra: dict[str, str] = {}
    for key, value in _query_params(query_string):
        if key == "header":
            if auth is None:
                auth = _json_headers(_b64decode(value))
        elif key != "payload":
            extra[key] = value
    return (auth or {}), extra


# --------------------------------------------------------------------------- hub


@dataclass(eq=False, slots=True)
class Registration:
    """One live subscription of one connection."""

    connection: _Connection
    sub_id: str
    prepared: PreparedSubscription
    request: StartSubscription
    active: bool = True
    # the key of the group it joined in the hub (see RealtimeHub.register)
    group_key: Hashable = None


class _Group:
    """Registrations of one mutation that are matched and rendered together.

    ``shared``: every member has the same ``share_key`` and engine and was authorized
    under the same policy (``token``), so one decision and one rendering per event serve
    them all while that policy is in force; otherwise the group is one registration,
    matched on its own and rendered by its connection's writer.
    """

    __slots__ = ("members", "shared", "token")

    def __init__(self, shared: bool, token: tuple[object, object]) -> None:
        self.shared = shared
        self.token = token
        # insertion-ordered set
        self.members: dict[Registration, None] = {}


def _same_policy(a: tuple[object, object], b: tuple[object, object]) -> bool:
    return a[0] is b[0] and a[1] is b[1]


# Members written to between two yields to the event loop during one fan-out.
_FAN_OUT_BATCH = 500


def _encode_payload(payload: Mapping[str, Any]) -> str:
    """Compact JSON, non-ASCII kept (as :func:`~ampbase.protocol.actions.encode_frame`)."""
    try:
        return orjson.dumps(payload).decode("utf-8")
    except (TypeError, orjson.JSONEncodeError):  # e.g. integers over 64 bits
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


class RealtimeHub:
    """One pub/sub reader per process, dispatching to connections."""

    def __init__(self, runtime: RealtimeRuntime) -> None:
        self.runtime = runtime
        # mutation name -> group key -> group
        self._by_mutation: dict[str, dict[Hashable, _Group]] = {}
        self._connections: set[_Connection] = set()
        self._task: asyncio.Task[None] | None = None

    @property
    def subscription_count(self) -> int:
        return len(
            {reg for groups in self._by_mutation.values() for g in groups.values() for reg in g.members}
        )

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    def ensure_started(self) -> None:
        if self._task is None or self._task.done():
            stream = self.runtime.pubsub.events()
            self._task = asyncio.get_running_loop().create_task(
                self._run(stream), name="ampbase-realtime-hub"
            )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, stream: Any) -> None:
        code, reason = CLOSE_SERVICE_RESTART, "Service restart"
        try:
            async for event in stream:
                await self.dispatch(event)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("the realtime pub/sub stream failed; closing realtime connections")
            code, reason = CLOSE_PUBSUB_FAILED, "Event stream failed"
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()
        for conn in list(self._connections):
            conn.abort(code, reason)

    async def dispatch(self, event: ChangeEvent) -> None:
        groups = self._by_mutation.get(event.mutation)
        if not groups:
            return
        try:
            engine: Engine | None = self.runtime.engine
        except RuntimeError:  # the runtime is stopping
            engine = None
        renders: dict[Any, dict[str, Any] | None] = {}
        for group in tuple(groups.values()):
            members = tuple(group.members)
            if not members:
                continue
            first = members[0].prepared
            if (
                group.shared
                and (engine is None or first.engine is engine)
                and _same_policy(group.token, policy_token(first.engine))
            ):
                await self._fan_out(members, event)
            else:
                for reg in members:
                    self._offer_one(reg, event, engine, renders)

    async def _fan_out(self, members: tuple[Registration, ...], event: ChangeEvent) -> None:
        """Match and render once for a shared group; send the frame to every member."""
        first = members[0]
        try:
            if not event_matches(first.prepared, event.mutation, event.record):
                return
            payload = await render_record(first.prepared, event.record)
            if payload is None:
                return
            payload_json = _encode_payload(payload)
        except Exception:
            logger.exception("rendering an event for subscription %s failed", first.sub_id)
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        for start in range(0, len(members), _FAN_OUT_BATCH):
            if start:
                await asyncio.sleep(0)  # let requests and other sockets run between batches
                now = loop.time()
            for reg in members[start : start + _FAN_OUT_BATCH]:
                if reg.active:
                    reg.connection.send_data(reg, payload, payload_json, now)

    def _offer_one(
        self,
        reg: Registration,
        event: ChangeEvent,
        engine: Engine | None,
        renders: dict[Any, dict[str, Any] | None],
    ) -> None:
        """Match one registration; its connection's writer renders it."""
        if not reg.active:
            return
        if engine is not None and reg.prepared.engine is not engine:
            # the schema was reloaded: re-prepare against the engine now serving
            refreshed = reg.connection.refresh(reg, engine)
            if refreshed is None or event.mutation not in refreshed.prepared.mutations:
                return
            reg = refreshed
        try:
            matched = event_matches(reg.prepared, event.mutation, event.record)
        except Exception:
            logger.exception("evaluating subscription %s failed", reg.sub_id)
            return
        if matched:
            reg.connection.offer_event(reg, event, renders)

    def add_connection(self, conn: _Connection) -> None:
        self._connections.add(conn)
        self.ensure_started()

    def remove_connection(self, conn: _Connection) -> None:
        self._connections.discard(conn)

    def register(self, reg: Registration) -> None:
        prepared = reg.prepared
        share = prepared.share_key
        token = policy_token(prepared.engine) if prepared.decision is None else prepared.decision.policy
        key: Hashable = reg if share is None else (id(prepared.engine), id(token[0]), id(token[1]), share)
        reg.group_key = key
        for mutation in prepared.mutations:
            groups = self._by_mutation.setdefault(mutation, {})
            group = groups.get(key)
            if group is None:
                group = groups[key] = _Group(share is not None, token)
            group.members[reg] = None

    def unregister(self, reg: Registration) -> None:
        reg.active = False
        for mutation in reg.prepared.mutations:
            groups = self._by_mutation.get(mutation)
            if groups is None:
                continue
            group = groups.get(reg.group_key)
            if group is None:
                continue
            group.members.pop(reg, None)
            if not group.members:
                del groups[reg.group_key]
                if not groups:
                    del self._by_mutation[mutation]


# --------------------------------------------------------------------------- connections


@dataclass(frozen=True, slots=True)
class _Event:
    reg: Registration
    event: ChangeEvent
    # renderings of this event shared by subscribers with the same render key
    renders: dict[Any, dict[str, Any] | None]


_Item = SendFrame | CloseConnection | _Event


@dataclass(slots=True)
class _Options:
    keepalive_interval: float
    queue_limit: int
    init_timeout: float


class _Wakeup:
    """:class:`asyncio.Event` for a single waiter (the writer), without a waiter deque per connection."""

    __slots__ = ("_flag", "_waiter")

    def __init__(self) -> None:
        self._flag = False
        self._waiter: asyncio.Future[None] | None = None

    def set(self) -> None:
        self._flag = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def clear(self) -> None:
        self._flag = False

    async def wait(self) -> None:
        if self._flag:
            return
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        try:
            await waiter
        finally:
            self._waiter = None


@dataclass(eq=False, slots=True)
class _Connection:
    websocket: WebSocket
    hub: RealtimeHub
    options: _Options
    machine: AppSyncConnection | TransportWsConnection
    extra_headers: dict[str, str]
    source_ip: str | None
    identity: Identity | None = None
    graphql_path: str = "/graphql"
    subs: dict[str, Registration] = field(default_factory=dict)
    queue: deque[_Item] = field(default_factory=deque)
    wakeup: _Wakeup = field(default_factory=_Wakeup)
    aborted: tuple[int, str] | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    # loop time of the last frame sent (keep-alives are due ``keepalive_interval`` after it)
    last_sent: float = 0.0
    # a direct send that could not complete at once (back-pressure), finished by a task
    sending: asyncio.Task[None] | None = None
    # the writer task is between taking an item and having sent it
    writing: bool = False
    # a send failed: the socket is gone, nothing more is sent
    broken: bool = False
    # wakes the writer when a keep-alive may be due
    ka_timer: asyncio.Handle | None = None

    # -- queueing --------------------------------------------------------------------
    def _push(self, item: _Item) -> None:
        if self.aborted is not None or self.broken:
            return
        if len(self.queue) >= self.options.queue_limit:
            logger.warning("realtime connection from %s fell behind; closing it", self.source_ip)
            self.abort(CLOSE_SLOW_CONSUMER, "Slow consumer")
            return
        self.queue.append(item)
        self.wakeup.set()

    def offer_event(
        self, reg: Registration, event: ChangeEvent, renders: dict[Any, dict[str, Any] | None] | None = None
    ) -> None:
        self._push(_Event(reg, event, {} if renders is None else renders))

    def send_data(self, reg: Registration, payload: dict[str, Any], payload_json: str, now: float) -> None:
        """Send an event already rendered (and encoded) for ``reg``'s group."""
        if self.aborted is not None or self.broken:
            return
        for action in self.machine.data(reg.sub_id, payload, payload_json=payload_json):
            if isinstance(action, SendFrame):
                self._send_now(action, now)
            elif isinstance(action, StopSubscription):
                self._stop(action.id)

    def _send_now(self, frame: SendFrame, now: float) -> None:
        """Write ``frame`` without waking the writer when nothing is ahead of it; else queue it.

        The send coroutine is stepped here: with room in the socket's buffer it completes
        at once. If it has to wait (back-pressure), a task finishes it and later frames
        queue behind it (so ``queue_limit`` still closes a slow consumer).
        """
        if self.queue or self.sending is not None or self.writing or not self.tasks:
            self._push(frame)
            return
        send = self.websocket.send_text(frame.text)
        try:
            step = send.send(None)
        except StopIteration:
            self.last_sent = now
            return
        except (WebSocketDisconnect, OSError, RuntimeError):
            self._break()  # the peer went away
            return
        except Exception:
            logger.exception("sending to a realtime connection failed")
            self._break()
            return
        task = asyncio.get_running_loop().create_task(_finish(send, step))
        self.sending = task
        task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        if self.sending is task:
            self.sending = None
        if task.cancelled():
            return
        if task.exception() is not None:
            self._break()
            return
        self.last_sent = asyncio.get_running_loop().time()
        self.wakeup.set()  # frames queued meanwhile

    def _break(self) -> None:
        """A send failed (the peer went away): stop; the endpoint cleans up."""
        if self.broken:
            return
        self.broken = True
        self.queue.clear()
        self.unregister_all()
        for task in self.tasks:
            task.cancel()

    def abort(self, code: int, reason: str) -> None:
        """Stop everything now and close with ``code`` (overflow, pub/sub failure)."""
        if self.aborted is not None:
            return
        self.aborted = (code, reason)
        self.queue.clear()
        self.unregister_all()
        for task in self.tasks:
            task.cancel()

    def unregister_all(self) -> None:
        for reg in self.subs.values():
            self.hub.unregister(reg)
        self.subs.clear()

    # -- actions ---------------------------------------------------------------------
    async def perform(self, actions: list[TransportAction]) -> bool:
        """Run actions from the reader; False once the connection is closing."""
        for action in actions:
            if isinstance(action, SendFrame):
                self._push(action)
            elif isinstance(action, StartSubscription):
                await self._start(action)
            elif isinstance(action, StopSubscription):
                self._stop(action.id)
            elif isinstance(action, AuthenticateConnection):
                await self._authenticate_init(action)
            else:
                self._push(action)
                return False
        return self.aborted is None

    async def _authenticate(
        self, headers: Mapping[str, str], request: RequestFacts | None = None
    ) -> Identity:
        return await self.hub.runtime.authenticator.authenticate(
            headers, source_ip=self.source_ip, request=request
        )

    async def _authenticate_init(self, action: AuthenticateConnection) -> None:
        machine = self.machine
        assert isinstance(machine, TransportWsConnection)
        headers = {**self.extra_headers, **action.headers}
        try:
            self.identity = await self._authenticate(headers, _connect_facts(self.graphql_path))
        except AuthenticationError as error:
            await self.perform(machine.reject(error.message[:100]))
            return
        await self.perform(machine.accept())

    async def _start(self, action: StartSubscription) -> None:
        try:
            if action.authorization:
                headers = {**self.extra_headers, **action.authorization}
                facts = RequestFacts(
                    path=self.graphql_path,
                    body=(action.body or "").encode(),
                    graphql_query=action.query,
                    operation_name=action.operation_name,
                    variables=action.variables,
                )
                identity = await self._authenticate(headers, facts)
            elif self.identity is not None:
                identity = self.identity
            else:
                raise AuthenticationError("You are not authorized to make this call.")
            prepared = prepare_subscription(
                self.hub.runtime.engine, action.query, action.variables, identity, action.operation_name
            )
        except RequestError as error:
            self._fail(action.id, error.error_type, error.message)
            return
        except Exception:
            logger.exception("starting subscription %s failed", action.id)
            self._fail(action.id, INTERNAL_ERROR_TYPE, "Internal server error")
            return
        ready = self.machine.subscription_ready(action.id)
        if any(isinstance(a, StopSubscription) for a in ready):
            return
        # kept for re-preparing after a schema reload (not the signed text nor the headers)
        reg = Registration(self, action.id, prepared, replace(action, authorization={}, body=None))
        self.subs[action.id] = reg
        self.hub.register(reg)
        for item in ready:
            if isinstance(item, SendFrame | CloseConnection):
                self._push(item)

    def refresh(self, reg: Registration, engine: Engine) -> Registration | None:
        """Re-prepare ``reg`` for a reloaded schema; ends it with an error if it no longer fits."""
        self.hub.unregister(reg)
        request = reg.request
        try:
            prepared = prepare_subscription(
                engine, request.query, request.variables, reg.prepared.identity, request.operation_name
            )
        except RequestError as error:
            self.subs.pop(reg.sub_id, None)
            self._end(reg.sub_id, error.error_type, error.message)
            return None
        fresh = Registration(self, reg.sub_id, prepared, request)
        self.subs[reg.sub_id] = fresh
        self.hub.register(fresh)
        return fresh

    def _end(self, sub_id: str, error_type: str, message: str) -> None:
        """End an active subscription with an error frame."""
        self._error(sub_id, error_type, message, active=True)

    def _fail(self, sub_id: str, error_type: str, message: str) -> None:
        """A subscription could not start: its error frame."""
        self._error(sub_id, error_type, message, active=False)

    def _error(self, sub_id: str, error_type: str, message: str, *, active: bool) -> None:
        machine = self.machine
        actions: list[TransportAction]
        if isinstance(machine, AppSyncConnection):
            end = machine.subscription_error if active else machine.subscription_failed
            actions = list(end(sub_id, error_type, message))
        else:
            error = {"message": message, "errorType": error_type, "extensions": {"errorType": error_type}}
            finish = machine.subscription_error if active else machine.subscription_failed
            actions = list(finish(sub_id, [error]))
        for action in actions:
            if isinstance(action, SendFrame | CloseConnection):
                self._push(action)

    def _stop(self, sub_id: str) -> None:
        reg = self.subs.pop(sub_id, None)
        if reg is not None:
            self.hub.unregister(reg)

    # -- tasks -----------------------------------------------------------------------
    async def reader(self) -> bool:
        """Feed client frames to the machine; True when it ended because the server closes."""
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return False
            data = message.get("text")
            if data is None:
                data = message.get("bytes") or b""
            if not await self.perform(list(self.machine.receive(data))):
                return self.aborted is None

    async def writer(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self.options.keepalive_interval
        self.last_sent = loop.time()
        # One timer wakes the writer when a keep-alive may be due; it is re-armed only
        # once it has fired (sends move the deadline later, never earlier), not per wake-up.
        # (The timer clears ``ka_timer`` when it fires: uvloop returns a plain Handle, without
        # ``when()``, that runs at once for a deadline less than a millisecond away.)
        try:
            while True:
                if not self.queue or self.sending is not None:
                    self.wakeup.clear()
                    if self.ka_timer is None:
                        self.ka_timer = loop.call_at(self.last_sent + interval, self._keepalive_due)
                    await self.wakeup.wait()
                    if self.sending is not None:
                        continue  # its completion wakes us
                self.writing = True
                try:
                    if await self._write_next(loop, interval):
                        return
                finally:
                    self.writing = False
        finally:
            if self.ka_timer is not None:
                self.ka_timer.cancel()
                self.ka_timer = None

    def _keepalive_due(self) -> None:
        self.ka_timer = None
        self.wakeup.set()

    async def _write_next(self, loop: asyncio.AbstractEventLoop, interval: float) -> bool:
        """Send a due keep-alive and the next queued item; True once the socket is closed."""
        # timers may fire up to a millisecond early (uvloop's resolution)
        if loop.time() - self.last_sent >= interval - _TIMER_SLACK:
            for action in self.machine.keepalive():
                if isinstance(action, SendFrame):
                    await self.websocket.send_text(action.text)
            self.last_sent = loop.time()
        if not self.queue:
            return False
        item = self.queue.popleft()
        if isinstance(item, CloseConnection):
            await self.websocket.close(item.code, item.reason)
            return True
        if isinstance(item, SendFrame):
            await self.websocket.send_text(item.text)
            self.last_sent = loop.time()
        elif await self._send_event(item):
            self.last_sent = loop.time()
        return False

    async def _send_event(self, item: _Event) -> bool:
        reg = item.reg
        if not reg.active:
            return False
        key = reg.prepared.render_key
        try:
            if key is not None and key in item.renders:
                payload = item.renders[key]
            else:
                payload = await render_record(reg.prepared, item.event.record)
                if key is not None:
                    item.renders[key] = payload
        except Exception:
            logger.exception("rendering an event for subscription %s failed", reg.sub_id)
            return False
        if payload is None or not reg.active:
            return False
        sent = False
        for action in self.machine.data(reg.sub_id, payload):
            if isinstance(action, SendFrame):
                await self.websocket.send_text(action.text)
                sent = True
            elif isinstance(action, StopSubscription):
                self._stop(action.id)
        return sent

    def init_expired(self) -> None:
        """``init_timeout`` after the socket opened: close it unless it was initialised."""
        machine = self.machine
        if isinstance(machine, TransportWsConnection):
            for action in machine.init_timeout():
                if isinstance(action, CloseConnection):
                    self._push(action)
        elif not machine.acknowledged and not machine.closed:
            self._push(CloseConnection(4408, "Connection initialisation timeout"))


# --------------------------------------------------------------------------- endpoint


class RealtimeEndpoint:
    """The ASGI app mounted at ``/graphql/realtime``."""

    def __init__(
        self,
        runtime: RealtimeRuntime,
        *,
        keepalive_interval: float = DEFAULT_KEEPALIVE_INTERVAL,
        queue_limit: int = DEFAULT_QUEUE_LIMIT,
        init_timeout: float = DEFAULT_INIT_TIMEOUT,
        max_subscriptions: int = appsync_ws.MAX_SUBSCRIPTIONS,
        max_message_bytes: int = appsync_ws.MAX_MESSAGE_BYTES,
    ) -> None:
        if keepalive_interval <= 0 or queue_limit <= 0 or init_timeout <= 0:
            raise ValueError("keepalive_interval, queue_limit and init_timeout must be positive")
        self.runtime = runtime
        self.hub = RealtimeHub(runtime)
        self.options = _Options(keepalive_interval, queue_limit, init_timeout)
        self.max_subscriptions = max_subscriptions
        self.max_message_bytes = max_message_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            return
        websocket = WebSocket(scope, receive, send)
        offered: list[str] = [str(p).strip() for p in scope.get("subprotocols") or []]
        client = websocket.client
        source_ip = client.host if client is not None else None
        query_string: bytes = scope.get("query_string", b"")

        machine: AppSyncConnection | TransportWsConnection
        identity: Identity | None = None
        if appsync_ws.SUBPROTOCOL in offered:
            await websocket.accept(subprotocol=appsync_ws.SUBPROTOCOL)
            rejection: HandshakeRejection | None = None
            extra: dict[str, str] = {}
            try:
                auth, extra = decode_handshake(offered, query_string)
                identity = await self.runtime.authenticator.authenticate(
                    {**extra, **auth}, source_ip=source_ip, request=_connect_facts(_graphql_path(scope))
                )
            except (ValueError, binascii.Error, UnicodeDecodeError):
                rejection = HandshakeRejection(
                    "BadRequestException", "The handshake header is not base64-encoded JSON", 400
                )
            except AuthenticationError as error:
                rejection = HandshakeRejection(error.error_type, error.message, 401)
            machine = AppSyncConnection(
                max_subscriptions=self.max_subscriptions,
                max_message_bytes=self.max_message_bytes,
                connection_error=rejection,
            )
        elif transport_ws.SUBPROTOCOL in offered:
            await websocket.accept(subprotocol=transport_ws.SUBPROTOCOL)
            extra = {k: v for k, v in _query_params(query_string) if k not in ("header", "payload")}
            machine = TransportWsConnection(
                max_subscriptions=self.max_subscriptions, max_message_bytes=self.max_message_bytes
            )
        else:
            await websocket.accept()
            await websocket.close(CLOSE_SUBPROTOCOL, "Subprotocol not acceptable")
            return

        conn = _Connection(
            websocket,
            self.hub,
            self.options,
            machine,
            extra,
            source_ip,
            identity,
            graphql_path=_graphql_path(scope),
        )
        await self._serve(conn)

    async def _serve(self, conn: _Connection) -> None:
        self.hub.add_connection(conn)
        loop = asyncio.get_running_loop()
        reader = loop.create_task(conn.reader())
        writer = loop.create_task(conn.writer())
        timer = loop.call_later(conn.options.init_timeout, conn.init_expired)
        conn.tasks = [reader, writer]
        try:
            await asyncio.wait([reader, writer], return_when=asyncio.FIRST_COMPLETED)
            if reader.done() and not reader.cancelled() and reader.exception() is None and reader.result():
                # the server is closing: let the writer flush the last frames and the close
                await asyncio.wait([writer], timeout=_DRAIN_TIMEOUT)
        finally:
            timer.cancel()
            sending = conn.sending
            for task in (reader, writer, sending):
                if task is not None:
                    task.cancel()
            for task in (reader, writer, sending):
                if task is not None:
                    await _reap(task)
            conn.unregister_all()
            self.hub.remove_connection(conn)
        if conn.aborted is not None:
            code, reason = conn.aborted
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.websocket.close(code, reason), timeout=_DRAIN_TIMEOUT)


_DRAIN_TIMEOUT = 5.0
_TIMER_SLACK = 0.001


async def _finish(coro: Coroutine[Any, Any, None], step: Any) -> None:
    await resume(coro, step)


async def _reap(task: asyncio.Task[Any]) -> None:
    try:
        await task
    except asyncio.CancelledError:
        pass
    except (WebSocketDisconnect, OSError, RuntimeError):
        pass  # the peer went away mid-send
    except Exception:
        logger.exception("a realtime connection task failed")


def create_realtime_endpoint(runtime: Any, **options: Any) -> RealtimeEndpoint:
    """The realtime handler for :func:`ampbase.server.app.create_app`."""
    return RealtimeEndpoint(runtime, **options)
