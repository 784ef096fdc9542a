"""The server-side client: the same API, executed in process on the engine (no HTTP).

For custom handlers, jobs and scripts running next to the server::

    from ampbase.client.server import ServerClient

    client = ServerClient(engine)                      # trusted: authorization rules are bypassed
    client = ServerClient(engine, identity)            # act as a caller (rules apply)
    todo = (await client.models.Todo.create(content="from a job")).data
    async for event in client.models.Todo.on_create(): ...

``engine`` is an :class:`ampbase.engine.engine.Engine` or anything with an ``engine`` property
(the server's ``Runtime``; the current engine is used per request, so schema reloads are
followed). Documents are built by the same code as the HTTP client's, and results are mapped the
same way; subscriptions listen to the engine's pub/sub directly. Per-call ``auth_mode``,
``auth_token`` and ``headers`` do not apply here (the identity decides); use
:meth:`ServerClient.with_identity` to act as someone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ampbase.client.auth import AuthSettings
from ampbase.client.client import Client, load_introspection
from ampbase.client.models import ClientCore
from ampbase.client.realtime import ActiveSubscription
from ampbase.client.transport import Headers
from ampbase.errors import RequestError

if TYPE_CHECKING:
    from ampbase.engine.engine import Engine
    from ampbase.engine.identity import Identity

__all__ = ["EngineTransport", "InProcessRealtime", "ServerClient"]

logger = logging.getLogger("ampbase.client")


def _current_engine(source: Any) -> Engine:
    engine = source if hasattr(source, "execute") else source.engine
    return engine  # type: ignore[no-any-return]


class EngineTransport:
    """Runs requests with ``Engine.execute`` under a fixed identity."""

    def __init__(self, source: Any, identity: Identity) -> None:
        self.source = source
        self.identity = identity

    async def execute(
        self, query: str, variables: Mapping[str, Any], *, auth: AuthSettings, headers: Headers
    ) -> dict[str, Any]:
        return await _current_engine(self.source).execute(query, dict(variables), self.identity)

    async def aclose(self) -> None:
        return None


class InProcessRealtime:
    """Subscriptions straight on the engine's pub/sub: prepared, filtered and rendered by the
    engine's subscription code, as the realtime endpoint does for WebSocket clients."""

    def __init__(self, source: Any, identity: Identity) -> None:
        self.source = source
        self.identity = identity
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def subscribe(
        self, query: str, variables: Mapping[str, Any], *, auth: AuthSettings, headers: Headers
    ) -> ActiveSubscription:
        sub = ActiveSubscription(str(uuid.uuid4()), query, dict(variables), auth, headers)
        self._tasks[sub.id] = asyncio.get_running_loop().create_task(self._run(sub))
        return sub

    async def _run(self, sub: ActiveSubscription) -> None:
        from ampbase.engine.subscriptions import prepare_subscription, render_event

        engine = _current_engine(self.source)
        try:
            prepared = prepare_subscription(engine, sub.query, sub.variables, self.identity)
        except RequestError as exc:
            self._fail(sub, {"message": exc.message, "errorType": exc.error_type})
            return
        stream = engine.pubsub.events()
        sub.acknowledged.set()
        try:
            async for event in stream:
                payload = await render_event(prepared, event.mutation, event.record)
                data = payload.get("data") if payload else None
                if isinstance(data, dict) and data:
                    sub.queue.put_nowait(("data", next(iter(data.values()))))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.exception("in-process subscription %s failed", sub.id)
            self._fail(sub, {"message": str(exc), "errorType": "InternalFailure"})
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()

    @staticmethod
    def _fail(sub: ActiveSubscription, error: dict[str, Any]) -> None:
        sub.failed = [error]
        sub.done = True
        sub.acknowledged.set()
        sub.queue.put_nowait(("error", [error]))

    async def unsubscribe(self, sub: ActiveSubscription) -> None:
        task = self._tasks.pop(sub.id, None)
        if not sub.done:
            sub.done = True
            sub.acknowledged.set()
            sub.queue.put_nowait(("complete", None))
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        self._tasks.clear()


class ServerClient(Client):
    """``generate_client``'s surface on top of an engine, in process."""

    def __init__(self, engine: Any, identity: Identity | None = None) -> None:
        if identity is None:
            from ampbase.engine.identity import Identity

            identity = Identity(mode=None)
        self.engine_source = engine
        self.identity = identity
        mis = load_introspection(_current_engine(engine).schema)
        core = ClientCore(
            mis,
            EngineTransport(engine, identity),
            auth=AuthSettings(mode="none"),
            realtime_factory=lambda: InProcessRealtime(engine, identity),
        )
        super().__init__(core)

    def with_identity(self, identity: Identity) -> ServerClient:
        """The same client acting as ``identity`` (authorization rules apply)."""
        return ServerClient(self.engine_source, identity)
