"""Crash safety: SIGKILL ``ampbase serve`` in the middle of a write load, restart, check the data.

Several concurrent clients create, update and delete items they own, recording every
acknowledged response. The server is killed with SIGKILL while requests are in flight, then
restarted on the same database. Afterwards:

* every item is in its last acknowledged state, or in the state of the one write that was in
  flight for it when the server died (acknowledged deletes stay deleted);
* no item is partial: every field of a stored item belongs to the same write;
* the ``byBucket`` index answers exactly what the base table holds;
* the database file passes its own integrity check.

The backend is a parameter (:data:`BACKENDS`): SQLite, and PostgreSQL when it runs on
127.0.0.1:5432 (there the kill tests the server's commit-before-acknowledge order; the database
itself keeps running).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.services import drop_schema, postgres_dsn, unique_name

REPO = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).with_name("schema.graphql")
WORKERS = 6
# The load runs until this many writes were acknowledged (or LOAD_SECONDS passed), then the kill.
KILL_AFTER_ACKS = 300
LOAD_SECONDS = 8.0

CREATE = "mutation ($i: CreateItemInput!) { createItem(input: $i) { id bucket version payload tags } }"
UPDATE = "mutation ($i: UpdateItemInput!) { updateItem(input: $i) { id bucket version payload tags } }"
DELETE = "mutation ($i: DeleteItemInput!) { deleteItem(input: $i) { id } }"
LIST = (
    "query ($t: String) { listItems(limit: 1000, nextToken: $t) "
    "{ items { id bucket version payload tags } nextToken } }"
)
BY_BUCKET = (
    "query ($b: String!, $t: String) { itemsByBucket(bucket: $b, limit: 1000, nextToken: $t) "
    "{ items { id bucket version payload tags } nextToken } }"
)
BUCKETS = ("red", "green", "blue")

State = dict[str, Any] | None  # None: the item does not exist


# ----------------------------------------------------------------------------- backends


class Backend:
    """Where the server keeps its data; ``prepare`` runs before the first start."""

    name = "backend"

    def prepare(self, tmp: Path) -> None:
        """Set up (or skip the test when the service is missing)."""

    def database_url(self, tmp: Path) -> str:
        raise NotImplementedError

    def check_integrity(self, tmp: Path) -> None:
        """The database's own consistency check, after the restarted server stopped."""

    def cleanup(self) -> None:
        """Drop whatever ``prepare`` created."""


class SQLiteBackend(Backend):
    name = "sqlite"

    def database_url(self, tmp: Path) -> str:
        return f"sqlite:///{tmp / 'crash.db'}"

    def check_integrity(self, tmp: Path) -> None:
        with contextlib.closing(sqlite3.connect(tmp / "crash.db")) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


class PostgresBackend(Backend):
    """A fresh schema in the test PostgreSQL (skipped when it is not running, failed under CI)."""

    name = "postgres"

    def __init__(self) -> None:
        self.dsn: str | None = None
        self.schema = unique_name("crash")

    def prepare(self, tmp: Path) -> None:
        self.dsn = postgres_dsn()

    def database_url(self, tmp: Path) -> str:
        assert self.dsn is not None
        separator = "&" if "?" in self.dsn else "?"
        return f"{self.dsn}{separator}schema={self.schema}"

    def cleanup(self) -> None:
        if self.dsn is not None:
            drop_schema(self.dsn, self.schema)


BACKENDS = [SQLiteBackend, PostgresBackend]


# ----------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    api_key: str
    log: Path


def start_server(tmp: Path, backend: Backend, run: int) -> Server:
    port = free_port()
    outputs = tmp / "amplify_outputs.json"
    outputs.unlink(missing_ok=True)
    log = tmp / f"server-{run}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMPBASE_")}
    env["AMPBASE_RATE_LIMIT"] = "0"
    command = [
        sys.executable,
        "-m",
        "ampbase.cli.main",
        "serve",
        str(SCHEMA),
        "--database-url",
        backend.database_url(tmp),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--outputs",
        str(outputs),
        "--state-dir",
        str(tmp / "state"),
    ]
    with log.open("ab") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    url = f"http://127.0.0.1:{port}/graphql"
    deadline = time.monotonic() + 60
    with httpx.Client() as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"ampbase serve exited early:\n{log.read_text(errors='replace')}")
            with contextlib.suppress(httpx.HTTPError):
                if (
                    http.get(url.replace("/graphql", "/health"), timeout=2).status_code == 200
                    and outputs.exists()
                ):
                    api_key = json.loads(outputs.read_text())["data"]["api_key"]
                    return Server(process, url, api_key, log)
            time.sleep(0.1)
    kill(process)
    raise RuntimeError(f"ampbase serve did not become healthy:\n{log.read_text(errors='replace')}")


def kill(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    if process.poll() is None:
        os.kill(process.pid, sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=15)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def running(tmp: Path, backend: Backend, run: int) -> Iterator[Server]:
    server = start_server(tmp, backend, run)
    try:
        yield server
    finally:
        kill(server.process, signal.SIGTERM)


# ----------------------------------------------------------------------------- the load


@dataclass
class Ledger:
    """What one worker knows: acknowledged states, and the write in flight when the server died."""

    acked: dict[str, State] = field(default_factory=dict)
    in_flight: dict[str, State] = field(default_factory=dict)
    acks: int = 0
    errors: list[Any] = field(default_factory=list)


def payload(item_id: str, version: int, rng: random.Random) -> str:
    filler = "".join(rng.choice("abcdefghij") for _ in range(rng.randint(0, 3000)))
    return f"{item_id}:{version}:{len(filler)}:{filler}"


def is_whole(state: dict[str, Any]) -> bool:
    """Every field of ``state`` was written by the same write."""
    item_id, version, length, filler = state["payload"].split(":", 3)
    return (
        item_id == state["id"]
        and int(version) == state["version"]
        and int(length) == len(filler)
        and state["tags"] == [f"v{state['version']}", state["bucket"]]
    )


async def worker(
    n: int, http: httpx.AsyncClient, url: str, key: str, ledger: Ledger, stop: asyncio.Event
) -> None:
    rng = random.Random(n)
    live: list[str] = []
    created = 0
    headers = {"x-api-key": key}
    while not stop.is_set():
        roll = rng.random()
        if not live or roll < 0.45:
            created += 1
            item_id = f"w{n}-{created}"
            bucket = rng.choice(BUCKETS)
            state: State = {
                "id": item_id,
                "bucket": bucket,
                "version": 1,
                "payload": payload(item_id, 1, rng),
                "tags": ["v1", bucket],
            }
            query, variables = CREATE, {"i": state}
        elif roll < 0.85:
            item_id = rng.choice(live)
            previous = ledger.acked[item_id]
            assert previous is not None
            version = previous["version"] + 1
            bucket = rng.choice(BUCKETS)
            state = {
                "id": item_id,
                "bucket": bucket,
                "version": version,
                "payload": payload(item_id, version, rng),
                "tags": [f"v{version}", bucket],
            }
            query, variables = UPDATE, {"i": state}
        else:
            item_id = rng.choice(live)
            state = None
            query, variables = DELETE, {"i": {"id": item_id}}
        ledger.in_flight[item_id] = state
        try:
            response = await http.post(url, json={"query": query, "variables": variables}, headers=headers)
            body = response.json()
        except (httpx.HTTPError, ValueError):
            return  # the server died with this write in flight
        del ledger.in_flight[item_id]
        if response.status_code != 200 or body.get("errors"):
            ledger.errors.append(body)
            return
        ledger.acked[item_id] = state
        ledger.acks += 1
        if state is None:
            live.remove(item_id)
        elif item_id not in live:
            live.append(item_id)


async def run_load_and_kill(server: Server) -> list[Ledger]:
    ledgers = [Ledger() for _ in range(WORKERS)]
    stop = asyncio.Event()
    timeout = httpx.Timeout(10.0)
    async with httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_connections=WORKERS)) as http:
        tasks = [
            asyncio.create_task(worker(n, http, server.url, server.api_key, ledgers[n], stop))
            for n in range(WORKERS)
        ]
        deadline = time.monotonic() + LOAD_SECONDS
        while sum(ledger.acks for ledger in ledgers) < KILL_AFTER_ACKS and time.monotonic() < deadline:
            if all(task.done() for task in tasks):
                break
            await asyncio.sleep(0.01)
        os.kill(server.process.pid, signal.SIGKILL)  # mid-load: every worker has a write in flight
        server.process.wait()
        await asyncio.gather(*tasks)
        stop.set()
    return ledgers


# ----------------------------------------------------------------------------- checks


def read_all(http: httpx.Client, server: Server, query: str, **variables: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    token = None
    while True:
        response = http.post(
            server.url,
            json={"query": query, "variables": {**variables, "t": token}},
            headers={"x-api-key": server.api_key},
        )
        body = response.json()
        assert not body.get("errors"), body
        page = next(iter(body["data"].values()))
        items.extend(page["items"])
        token = page["nextToken"]
        if not token:
            return items


@pytest.fixture(params=BACKENDS, ids=lambda b: b.name)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    chosen: Backend = request.param()
    chosen.prepare(tmp_path)
    try:
        yield chosen
    finally:
        chosen.cleanup()


def test_acknowledged_writes_survive_sigkill_and_nothing_is_partial(tmp_path: Path, backend: Backend) -> None:
    with running(tmp_path, backend, 1) as server:
        ledgers = asyncio.run(run_load_and_kill(server))
    assert [ledger.errors for ledger in ledgers] == [[]] * WORKERS
    acked = sum(ledger.acks for ledger in ledgers)
    assert acked >= 50, "the load did not get going before the kill"
    assert sum(len(ledger.in_flight) for ledger in ledgers) >= 1

    with running(tmp_path, backend, 2) as server, httpx.Client(timeout=30) as http:
        stored = {item["id"]: item for item in read_all(http, server, LIST)}
        by_index = {b: read_all(http, server, BY_BUCKET, b=b) for b in BUCKETS}

    expected_ids: set[str] = set()
    for ledger in ledgers:
        for item_id in ledger.acked.keys() | ledger.in_flight.keys():
            allowed: list[State] = [ledger.acked.get(item_id)]
            if item_id in ledger.in_flight:
                allowed.append(ledger.in_flight[item_id])
            actual = stored.get(item_id)
            assert actual in allowed, (item_id, actual, allowed)
            if actual is not None:
                expected_ids.add(item_id)
    assert set(stored) == expected_ids  # nothing appeared that no client wrote
    assert all(is_whole(item) for item in stored.values())

    indexed = [item for items in by_index.values() for item in items]
    assert len(indexed) == len({item["id"] for item in indexed}), "an item is in two index partitions"
    assert {item["id"]: item for item in indexed} == stored
    for bucket, items in by_index.items():
        assert all(item["bucket"] == bucket for item in items)
        assert [item["version"] for item in items] == sorted(item["version"] for item in items)

    backend.check_integrity(tmp_path)
