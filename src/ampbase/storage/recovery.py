"""Point-in-time recovery for SQLite: periodic consistent snapshots plus a change journal.

For models whose table has ``point_in_time_recovery_enabled`` (``backend.py``), every committed
write is appended to a journal next to the database, and the server takes a snapshot of the
whole database with SQLite's online backup API every ``AMPBASE_SNAPSHOT_INTERVAL`` seconds
(3600; one at start). ``ampbase restore --to 2026-11-20T10:00:00Z`` copies the newest snapshot
taken before that moment and replays the journal up to it, into a *new* database file (like
DynamoDB, which restores into a new table).

Layout, for ``app.db``::

    app.db.pitr/
      snapshot-20261120T090000.123456Z.db     consistent copy, taken after the segment opened
      journal-20261120T090000.123456Z.jsonl   writes from that moment on, one JSON object a line

Each snapshot starts a new journal segment *before* copying, so every write the snapshot may
have missed is in that segment or a later one; replay is idempotent (a journal entry is the full
item after the write, or its deletion), so entries the snapshot already holds are harmless.
Snapshots and segments older than ``retention_days`` (35, DynamoDB's window) are pruned, always
keeping the newest snapshot.

Limits: the journal is appended right after the database commits, in the same process, so a
crash between the two loses that write from the journal (the live database has it). Tables
without recovery enabled are restored as of the snapshot. PostgreSQL has its own mechanism:
base backups plus WAL archiving (``docs/customize-resources.md``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ampbase.errors import ConditionalCheckFailedError, ConfigError
from ampbase.storage.base import Record, StorageAdapter
from ampbase.storage.layers import StorageLayer
from ampbase.storage.predicate import Predicate

__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "Journal",
    "JournalLayer",
    "RestoreReport",
    "format_moment",
    "parse_moment",
    "restore",
]

logger = logging.getLogger("ampbase.storage")

DEFAULT_RETENTION_DAYS = 35
_STAMP = "%Y%m%dT%H%M%S.%fZ"


def format_moment(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime(_STAMP)


def _stamp_of(name: str, prefix: str, suffix: str) -> float | None:
    if not (name.startswith(prefix) and name.endswith(suffix)):
        return None
    try:
        return datetime.strptime(name[len(prefix) : -len(suffix)], _STAMP).replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def parse_moment(text: str) -> float:
    """``2026-11-20T10:00:00Z`` (any ISO 8601 with an offset; naive means UTC) → epoch seconds."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--to {text!r} is not an ISO 8601 time such as 2026-11-20T10:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


class Journal:
    """The recovery folder of one SQLite database: snapshots and journal segments."""

    def __init__(
        self,
        database: Path,
        *,
        retention_days: float = DEFAULT_RETENTION_DAYS,
        clock: Callable[[], float] | None = None,
    ) -> None:
        import time

        self.database = Path(database)
        self.folder = self.database.with_name(self.database.name + ".pitr")
        self.retention_days = retention_days
        self.clock = clock or time.time
        self._lock = threading.Lock()
        self._segment: Any = None
        self._last = 0.0

    # -- writing -----------------------------------------------------------------------------

    def _now(self) -> float:
        # strictly increasing, so segment names and entry order agree with time
        now = max(self.clock(), self._last + 1e-6)
        self._last = now
        return now

    def _open_segment(self, moment: float) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self._segment is not None:
            self._segment.close()
        path = self.folder / f"journal-{format_moment(moment)}.jsonl"
        self._segment = path.open("a", encoding="utf-8")

    def append(self, op: str, model: str, key: dict[str, Any], record: Record | None) -> None:
        with self._lock:
            moment = self._now()
            entry = {"t": moment, "op": op, "model": model, "key": key, "record": record}
            if self._segment is None:
                self._open_segment(moment)
            self._segment.write(json.dumps(entry, separators=(",", ":"), default=str) + "\n")
            self._segment.flush()

    def close(self) -> None:
        with self._lock:
            if self._segment is not None:
                self._segment.close()
                self._segment = None

    # -- snapshots ---------------------------------------------------------------------------

    def snapshot(self) -> Path:
        """Start a new segment, then copy the database consistently; the snapshot's path."""
        with self._lock:
            moment = self._now()
            self._open_segment(moment)
        final = self.folder / f"snapshot-{format_moment(moment)}.db"
        partial = final.with_suffix(".partial")
        source = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)
        try:
            target = sqlite3.connect(partial)
            try:
                source.backup(target)
            finally:
                target.close()
        finally:
            source.close()
        os.replace(partial, final)
        self.prune()
        return final

    def snapshots(self) -> list[tuple[float, Path]]:
        found = []
        if self.folder.is_dir():
            for path in self.folder.iterdir():
                moment = _stamp_of(path.name, "snapshot-", ".db")
                if moment is not None:
                    found.append((moment, path))
        return sorted(found)

    def segments(self) -> list[tuple[float, Path]]:
        found = []
        if self.folder.is_dir():
            for path in self.folder.iterdir():
                moment = _stamp_of(path.name, "journal-", ".jsonl")
                if moment is not None:
                    found.append((moment, path))
        return sorted(found)

    def prune(self) -> None:
        """Drop snapshots older than the retention window (keeping the newest) and the journal
        segments no kept snapshot needs."""
        horizon = self.clock() - self.retention_days * 86400
        snapshots = self.snapshots()
        keep = [s for s in snapshots[:-1] if s[0] >= horizon] + snapshots[-1:]
        for moment, path in snapshots:
            if (moment, path) not in keep:
                path.unlink(missing_ok=True)
        if keep:
            oldest = keep[0][0]
            for moment, path in self.segments():
                if moment < oldest:
                    path.unlink(missing_ok=True)

    def entries(self, since: float, until: float) -> Iterator[dict[str, Any]]:
        """Journal entries with ``since <= t <= until``, oldest first (merged by time: several
        server processes each write their own segments)."""
        found: list[dict[str, Any]] = []
        for moment, path in self.segments():
            if moment > until:
                break
            with path.open(encoding="utf-8") as lines:
                for number, line in enumerate(lines, 1):
                    if not line.endswith("\n"):
                        logger.warning("%s:%d: ignoring a torn last line", path, number)
                        break
                    entry = json.loads(line)
                    if since <= entry["t"] <= until:
                        found.append(entry)
        found.sort(key=lambda entry: entry["t"])
        return iter(found)


class JournalLayer(StorageLayer):
    """Appends every committed write of the ``models`` to ``journal``."""

    def __init__(
        self,
        inner: StorageAdapter,
        journal: Journal,
        models: frozenset[str],
        keys: dict[str, tuple[str, ...]],
    ) -> None:
        super().__init__(inner)
        self.journal = journal
        self.models = models
        self.keys = keys

    def _key(self, model: str, record: Record) -> dict[str, Any]:
        return {k: record.get(k) for k in self.keys[model]}

    async def insert(self, model: str, record: Record, condition: Predicate | None = None) -> Record:
        stored = await self.inner.insert(model, record, condition)
        if model in self.models:
            self.journal.append("put", model, self._key(model, stored), stored)
        return stored

    async def update(
        self, model: str, key: dict[str, Any], changes: Record, condition: Predicate | None = None
    ) -> Record:
        stored = await self.inner.update(model, key, changes, condition)
        if model in self.models:
            self.journal.append("put", model, self._key(model, stored), stored)
        return stored

    async def delete(self, model: str, key: dict[str, Any], condition: Predicate | None = None) -> Record:
        stored = await self.inner.delete(model, key, condition)
        if model in self.models:
            self.journal.append("delete", model, self._key(model, stored), None)
        return stored

    async def close(self) -> None:
        self.journal.close()
        await self.inner.close()


@dataclass(frozen=True, slots=True)
class RestoreReport:
    snapshot: Path
    snapshot_time: float
    applied: int
    output: Path


def choose_snapshot(journal: Journal, moment: float) -> tuple[float, Path]:
    candidates = [s for s in journal.snapshots() if s[0] <= moment]
    if not candidates:
        snapshots = journal.snapshots()
        if not snapshots:
            raise ConfigError(
                f"no snapshots in {journal.folder}: point-in-time recovery starts when a server with "
                "point_in_time_recovery_enabled first runs"
            )
        raise ConfigError(f"the earliest restorable time is {format_moment(snapshots[0][0])}")
    return candidates[-1]


def _prepare_output(journal: Journal, moment: float, output: Path) -> tuple[float, Path]:
    if output.exists():
        raise ConfigError(f"{output} already exists: restore writes a new database file")
    taken, snapshot = choose_snapshot(journal, moment)
    output.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(snapshot, output)
    return taken, snapshot


async def restore(
    journal: Journal,
    moment: float,
    output: Path,
    open_storage: Callable[[Path], Any],
    models: dict[str, tuple[str, ...]],
) -> RestoreReport:
    """Build ``output`` as the database was at ``moment``.

    ``open_storage(path)`` returns an opened storage adapter for the restored file; ``models``
    maps each journaled model to its primary key fields.
    """
    taken, snapshot = _prepare_output(journal, moment, output)
    storage = await open_storage(output)
    applied = 0
    try:
        for entry in journal.entries(taken, moment):
            model = entry["model"]
            if model not in models:
                continue
            if entry["op"] == "delete":
                with contextlib.suppress(ConditionalCheckFailedError):  # not in the snapshot either
                    await storage.delete(model, entry["key"])
            else:
                await _put(storage, model, entry["key"], entry["record"])
            applied += 1
    finally:
        await storage.close()
    return RestoreReport(snapshot, taken, applied, output)


async def _put(storage: Any, model: str, key: dict[str, Any], record: Record) -> None:
    try:
        await storage.insert(model, record)
    except ConditionalCheckFailedError:
        current = await storage.get(model, key) or {}
        changes = {k: v for k, v in record.items() if k not in key}
        changes.update({k: None for k in current if k not in record and k not in key})
        await storage.update(model, key, changes)
