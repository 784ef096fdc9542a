"""Background work of a running server: the time-to-live sweeper and recovery snapshots.

:class:`Maintenance` is started and stopped with the :class:`~ampbase.server.wiring.Runtime`.
Every ``AMPBASE_TTL_SWEEP_INTERVAL`` seconds (60) it deletes the items whose time to live has
passed (:func:`ampbase.engine.resources.sweep_expired`), firing ``onDelete`` events; reads
hide expired items at once, so the interval only bounds how long they take up space. Several
server processes may sweep the same database: each deletion is conditional, so an item is
deleted (and announced) once.

When a table has point-in-time recovery, a consistent snapshot of the SQLite database is taken
at start and every ``AMPBASE_SNAPSHOT_INTERVAL`` seconds (3600), starting a new journal segment
(:mod:`ampbase.storage.recovery`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from ampbase.engine.resources import find_layer, sweep_expired
from ampbase.storage.recovery import JournalLayer

__all__ = ["DEFAULT_SNAPSHOT_INTERVAL", "DEFAULT_TTL_SWEEP_INTERVAL", "Maintenance"]

logger = logging.getLogger("ampbase.server")

DEFAULT_TTL_SWEEP_INTERVAL = 60.0
DEFAULT_SNAPSHOT_INTERVAL = 3600.0


def _interval(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return max(float(value), 0.01)
    except ValueError:
        logger.warning("%s=%r is not a number; using %g", name, value, default)
        return default


class Maintenance:
    """Periodic jobs over ``runtime.engine`` (read afresh each time, so reloads are followed)."""

    def __init__(
        self, runtime: Any, *, ttl_interval: float | None = None, snapshot_interval: float | None = None
    ) -> None:
        self.runtime = runtime
        self.ttl_interval = (
            ttl_interval
            if ttl_interval is not None
            else _interval("AMPBASE_TTL_SWEEP_INTERVAL", DEFAULT_TTL_SWEEP_INTERVAL)
        )
        self.snapshot_interval = (
            snapshot_interval
            if snapshot_interval is not None
            else _interval("AMPBASE_SNAPSHOT_INTERVAL", DEFAULT_SNAPSHOT_INTERVAL)
        )
        self._tasks: list[asyncio.Task[None]] = []
        self.sweeps = 0
        self.snapshots = 0

    def start(self) -> None:
        if self._tasks:
            return
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self._every(self.ttl_interval, self._sweep, "ttl sweep")))
        self._tasks.append(loop.create_task(self._every(self.snapshot_interval, self._snapshot, "snapshot")))

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _sweep(self) -> None:
        if not self.runtime.started:
            return
        await sweep_expired(self.runtime.engine)
        self.sweeps += 1

    async def _snapshot(self) -> None:
        if not self.runtime.started:
            return
        layer: JournalLayer | None = find_layer(self.runtime.engine.storage, JournalLayer)
        if layer is None:
            return
        path = await asyncio.to_thread(layer.journal.snapshot)
        self.snapshots += 1
        logger.info("point-in-time recovery: snapshot %s", path)

    async def _every(self, seconds: float, job: Callable[[], Awaitable[None]], name: str) -> None:
        while True:
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("%s failed; retrying in %gs", name, seconds)
            await asyncio.sleep(seconds)
