"""Soak: one ``ampbase serve`` under a steady mixed load with 1,000 live subscriptions.

Starts ``ampbase serve`` (fresh SQLite, plain HTTP, the per-address WebSocket cap lifted since
every subscriber comes from 127.0.0.1, the rate limit off), then for ``--minutes``:

* ``--connections`` WebSockets (default 100) speak AppSync's realtime protocol, as the Amplify
  client does, each with ``--subscriptions-per-connection`` subscriptions (default 10, so 1,000
  in all): ``onCreateTodo`` / ``onUpdateTodo`` / ``onDeleteTodo`` in turn, most filtered on
  ``priority`` (so each event reaches a few dozen subscribers), some unfiltered;
* writers run ``createTodo`` / ``updateTodo`` / ``deleteTodo`` (the live set stays about
  constant) and readers run ``getTodo``, filtered ``listTodos`` and an index query, at a steady
  ``--rate`` requests per second in all;
* a churner opens a socket, subscribes, unsubscribes and disconnects, over and over (connection
  and subscription lifecycles must not leak);
* the server's resident memory (``VmRSS``) and open file descriptors are sampled every
  ``--sample-seconds``.

At the end it waits for the last events, then checks that **every acknowledged mutation's event
arrived at every subscriber whose filter matches it, exactly once**, and that memory and file
descriptors are flat: the mean of the last quarter of samples is within ``--rss-tolerance``
(default 10 %) of the mean of the second quarter (the first quarter is warm-up), and the
descriptor count is back where it was. Prints a report and writes it as JSON (``--json``).

    .venv/bin/python bench/soak.py [--minutes 10] [--rate 60] [--json bench/results/soak.json]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import itertools
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from common import Processes, Target, cpu_seconds, machine_description, start_ampbase
from websockets.asyncio.client import ClientConnection, connect

PRIORITIES = 12
KINDS = ("create", "update", "delete")
ROOT = {"create": "onCreateTodo", "update": "onUpdateTodo", "delete": "onDeleteTodo"}
SELECTION = "{ id name description priority }"
CREATE = f"mutation ($i: CreateTodoInput!) {{ createTodo(input: $i) {SELECTION} }}"
UPDATE = f"mutation ($i: UpdateTodoInput!) {{ updateTodo(input: $i) {SELECTION} }}"
DELETE = f"mutation ($i: DeleteTodoInput!) {{ deleteTodo(input: $i) {SELECTION} }}"
GET = "query ($id: ID!) { getTodo(id: $id) { id name priority } }"
LIST = "query ($p: Int) { listTodos(filter: {priority: {eq: $p}}, limit: 50) { items { id } nextToken } }"
BY_REP = (
    'query ($r: ID!) { customersByRepresentative(accountRepresentativeId: $r, name: {beginsWith: "c"}) '
    "{ items { id name } } }"
)

Event = tuple[str, str, str]  # (kind, item id, description)


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@dataclass
class Subscription:
    sub_id: str
    kind: str
    priority: int | None  # None: unfiltered
    received: collections.Counter[Event] = field(default_factory=collections.Counter)

    def matches(self, kind: str, priority: int) -> bool:
        return kind == self.kind and (self.priority is None or self.priority == priority)

    def document(self) -> dict[str, Any]:
        root = ROOT[self.kind]
        if self.priority is None:
            return {"query": f"subscription {{ {root} {SELECTION} }}", "variables": {}}
        filter_type = "ModelSubscriptionTodoFilterInput"
        return {
            "query": f"subscription ($f: {filter_type}) {{ {root}(filter: $f) {SELECTION} }}",
            "variables": {"f": {"priority": {"eq": self.priority}}},
        }


def _auth(target: Target) -> dict[str, str]:
    return {"host": target.url.split("/")[2], "x-api-key": target.api_key or ""}


async def _open_socket(target: Target) -> ClientConnection:
    auth = _auth(target)
    header = base64.urlsafe_b64encode(json.dumps(auth).encode()).decode().rstrip("=")
    url = target.url.replace("http://", "ws://") + "/realtime"
    ws = await connect(
        url, subprotocols=["graphql-ws", f"header-{header}"], open_timeout=60, compression=None
    )  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init"}))
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
        if frame["type"] == "connection_ack":
            return ws
        if frame["type"] != "ka":
            raise RuntimeError(f"expected connection_ack, got {frame}")


def _start(target: Target, sub: Subscription) -> str:
    return json.dumps(
        {
            "id": sub.sub_id,
            "type": "start",
            "payload": {"data": json.dumps(sub.document()), "extensions": {"authorization": _auth(target)}},
        }
    )


class Connection:
    """One WebSocket with several subscriptions; counts every event per subscription."""

    def __init__(self, subs: list[Subscription]) -> None:
        self.subs = {s.sub_id: s for s in subs}
        self.ws: ClientConnection | None = None
        self.reader: asyncio.Task[None] | None = None
        self.acked: set[str] = set()
        self.all_acked = asyncio.Event()
        self.problems: list[str] = []
        self.frames = 0

    async def open(self, target: Target) -> None:
        self.ws = await _open_socket(target)
        self.reader = asyncio.create_task(self._read(self.ws))
        for sub in self.subs.values():
            await self.ws.send(_start(target, sub))
        await asyncio.wait_for(self.all_acked.wait(), timeout=120)

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                frame = json.loads(raw)
                self.frames += 1
                kind = frame.get("type")
                if kind == "data":
                    sub = self.subs[frame["id"]]
                    item = frame["payload"]["data"][ROOT[sub.kind]]
                    sub.received[(sub.kind, item["id"], item["description"])] += 1
                elif kind == "start_ack":
                    self.acked.add(frame["id"])
                    if len(self.acked) == len(self.subs):
                        self.all_acked.set()
                elif kind not in ("ka", "complete"):
                    self.problems.append(f"unexpected frame {frame}")
        except Exception as exc:  # noqa: BLE001 - reported as a problem of this connection
            self.problems.append(f"reader stopped: {exc!r}")
        else:
            self.problems.append(f"socket closed by the server: {ws.close_code} {ws.close_reason}")

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader
        if self.ws is not None:
            await self.ws.close()


@dataclass
class Ledger:
    """What the server acknowledged."""

    events: list[tuple[str, str, str, int]] = field(default_factory=list)  # kind, id, description, priority
    requests: collections.Counter[str] = field(default_factory=collections.Counter)
    failures: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)


async def load(target: Target, ledger: Ledger, stop: asyncio.Event, rate: float, seed: int) -> None:
    """Mixed queries and mutations at ``rate`` requests per second, until ``stop``."""
    rng = random.Random(seed)
    live: list[str] = []
    reps = [f"rep-{n}" for n in range(5)]
    versions = itertools.count(1)
    busy: set[str] = set()  # items with a write in flight: one write per item at a time
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=8)) as http:

        async def call(name: str, query: str, variables: dict[str, Any]) -> dict[str, Any] | None:
            started = time.perf_counter()
            try:
                response = await http.post(
                    target.url, headers=target.headers, json={"query": query, "variables": variables}
                )
                body: dict[str, Any] = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                ledger.failures.append(f"{name}: {exc!r}")
                return None
            ledger.latencies.append(time.perf_counter() - started)
            ledger.requests[name] += 1
            if response.status_code != 200 or body.get("errors"):
                ledger.failures.append(f"{name}: {json.dumps(body)[:300]}")
                return None
            return body["data"]  # type: ignore[no-any-return]

        for n, rep in enumerate(reps):
            for m in range(20):
                await call(
                    "seedCustomer",
                    "mutation ($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }",
                    {"i": {"name": f"c{n}-{m}", "accountRepresentativeId": rep}},
                )
        interval = 1.0 / rate
        next_at = time.monotonic()
        pending: set[asyncio.Task[None]] = set()

        async def one() -> None:
            roll = rng.random()
            if roll < 0.5:  # a mutation: keep about 300 live items
                want = (
                    "create"
                    if len(live) < 300
                    else rng.choice(["create", "update", "update", "delete", "delete"])
                )
                idle = [item for item in live if item not in busy]
                if want != "create" and not idle:
                    want = "create"
                description = f"d{next(versions)}"
                priority = rng.randrange(PRIORITIES)
                if want == "create":
                    item_id = str(uuid.uuid4())
                    variables = {
                        "i": {"id": item_id, "name": "soak", "description": description, "priority": priority}
                    }
                    query = CREATE
                elif want == "update":
                    item_id = rng.choice(idle)
                    variables = {"i": {"id": item_id, "description": description, "priority": priority}}
                    query = UPDATE
                else:
                    item_id = rng.choice(idle)
                    variables, query = {"i": {"id": item_id}}, DELETE
                busy.add(item_id)
                try:
                    data = await call(want, query, variables)
                finally:
                    busy.discard(item_id)
                if data is None:
                    return
                if want == "create":
                    live.append(item_id)
                elif want == "delete":
                    live.remove(item_id)
                record = next(iter(data.values()))
                ledger.events.append((want, item_id, record["description"], record["priority"]))
            elif roll < 0.7 and live:
                await call("get", GET, {"id": rng.choice(live)})
            elif roll < 0.85:
                await call("list", LIST, {"p": rng.randrange(PRIORITIES)})
            else:
                await call("index", BY_REP, {"r": rng.choice(reps)})

        while not stop.is_set():
            next_at += interval
            task = asyncio.create_task(one())
            pending.add(task)
            task.add_done_callback(pending.discard)
            delay = next_at - time.monotonic()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=delay)
            elif len(pending) > 64:  # falling behind: do not pile up unbounded work
                await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                next_at = time.monotonic()
        if pending:
            await asyncio.wait(pending)


async def churn(target: Target, stop: asyncio.Event, counter: collections.Counter[str]) -> None:
    """Open, subscribe, stop, close — over and over."""
    while not stop.is_set():
        try:
            ws = await _open_socket(target)
            try:
                sub = Subscription(str(uuid.uuid4()), "create", None)
                await ws.send(_start(target, sub))
                while json.loads(await asyncio.wait_for(ws.recv(), timeout=30)).get("id") != sub.sub_id:
                    pass
                await ws.send(json.dumps({"type": "stop", "id": sub.sub_id}))
            finally:
                await ws.close()
            counter["churned"] += 1
        except Exception as exc:  # noqa: BLE001 - counted; the soak goes on
            counter[f"churn error {type(exc).__name__}"] += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.2)


async def soak(args: argparse.Namespace, target: Target) -> dict[str, Any]:
    pid = target.pids[0]
    connections: list[Connection] = []
    rng = random.Random(1)
    for c in range(args.connections):
        subs = []
        for s in range(args.subscriptions_per_connection):
            n = c * args.subscriptions_per_connection + s
            priority = None if n % 25 == 0 else rng.randrange(PRIORITIES)
            subs.append(Subscription(f"c{c}-s{s}", KINDS[n % 3], priority))
        connections.append(Connection(subs))
    gate = asyncio.Semaphore(20)

    async def open_one(conn: Connection) -> None:
        async with gate:
            await conn.open(target)

    opening = time.monotonic()
    await asyncio.gather(*(open_one(c) for c in connections))
    print(
        f"{sum(len(c.subs) for c in connections)} subscriptions on {len(connections)} sockets "
        f"in {time.monotonic() - opening:.1f}s",
        flush=True,
    )

    ledger = Ledger()
    churned: collections.Counter[str] = collections.Counter()
    stop = asyncio.Event()
    samples: list[dict[str, float]] = []
    started = time.monotonic()
    cpu0 = cpu_seconds(pid)
    workers = [
        asyncio.create_task(load(target, ledger, stop, args.rate, seed=1)),
        asyncio.create_task(churn(target, stop, churned)),
    ]
    duration = args.minutes * 60
    while time.monotonic() - started < duration:
        samples.append(
            {"t": round(time.monotonic() - started, 1), "rss_kib": rss_kib(pid), "fds": open_fds(pid)}
        )
        done = sum(ledger.requests.values())
        print(
            f"  t={samples[-1]['t']:6.0f}s  rss={samples[-1]['rss_kib'] / 1024:6.1f} MiB  "
            f"fds={samples[-1]['fds']:4d}  requests={done}  failures={len(ledger.failures)}  "
            f"churned={churned['churned']}",
            flush=True,
        )
        await asyncio.sleep(min(args.sample_seconds, max(0.0, duration - (time.monotonic() - started))))
    stop.set()
    await asyncio.gather(*workers)
    elapsed = time.monotonic() - started
    server_cpu = cpu_seconds(pid) - cpu0

    # every acknowledged event, at every matching subscriber, exactly once
    expected: dict[str, collections.Counter[Event]] = {}
    subs = [s for c in connections for s in c.subs.values()]
    for sub in subs:
        expected[sub.sub_id] = collections.Counter(
            (kind, item_id, description)
            for kind, item_id, description, priority in ledger.events
            if sub.matches(kind, priority)
        )
    deadline = time.monotonic() + args.drain_seconds
    for _ in range(int(args.drain_seconds * 2)):  # bounded: at most drain_seconds
        if time.monotonic() > deadline or all(sub.received == expected[sub.sub_id] for sub in subs):
            break
        await asyncio.sleep(0.5)
    missing = sum(sum((expected[s.sub_id] - s.received).values()) for s in subs)
    extra = sum(sum((s.received - expected[s.sub_id]).values()) for s in subs)
    deliveries = sum(sum(e.values()) for e in expected.values())
    problems = [p for c in connections for p in c.problems]
    for conn in connections:
        await conn.close()
    await asyncio.sleep(2)
    after_close = {"rss_kib": rss_kib(pid), "fds": open_fds(pid)}

    quarter = max(1, len(samples) // 4)
    settled = samples[quarter : 2 * quarter] or samples[:1]
    last = samples[-quarter:]
    rss_settled = statistics.mean(s["rss_kib"] for s in settled)
    rss_last = statistics.mean(s["rss_kib"] for s in last)
    fds_settled = statistics.mean(s["fds"] for s in settled)
    fds_last = statistics.mean(s["fds"] for s in last)
    rss_growth = (rss_last - rss_settled) / rss_settled
    latencies = sorted(ledger.latencies)
    report = {
        "machine": machine_description(),
        "minutes": round(elapsed / 60, 2),
        "connections": len(connections),
        "subscriptions": len(subs),
        "requests": dict(ledger.requests),
        "requests_per_second": round(sum(ledger.requests.values()) / elapsed, 1),
        "request_p50_ms": round(1000 * latencies[len(latencies) // 2], 2) if latencies else None,
        "request_p99_ms": round(1000 * latencies[int(len(latencies) * 0.99)], 2) if latencies else None,
        "failures": len(ledger.failures),
        "failure_examples": ledger.failures[:5],
        "mutations_acknowledged": len(ledger.events),
        "deliveries_expected": deliveries,
        "deliveries_missing": missing,
        "deliveries_extra": extra,
        "connection_problems": problems[:5],
        "churned_connections": dict(churned),
        "server_cpu_seconds": round(server_cpu, 1),
        "rss_mib_settled": round(rss_settled / 1024, 1),
        "rss_mib_last": round(rss_last / 1024, 1),
        "rss_growth": round(rss_growth, 4),
        "fds_settled": round(fds_settled, 1),
        "fds_last": round(fds_last, 1),
        "after_close": after_close,
        "samples": samples,
    }
    ok = (
        missing == 0
        and extra == 0
        and not ledger.failures
        and not problems
        and abs(rss_growth) <= args.rss_tolerance
        and abs(fds_last - fds_settled) <= 3
    )
    report["verdict"] = "PASS" if ok else "FAIL"
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=60.0, help="requests per second, all kinds")
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--subscriptions-per-connection", type=int, default=10)
    parser.add_argument("--sample-seconds", type=float, default=10.0)
    parser.add_argument("--drain-seconds", type=float, default=60.0)
    parser.add_argument("--rss-tolerance", type=float, default=0.10)
    parser.add_argument("--json", type=Path, help="write the report here")
    args = parser.parse_args()
    env = {"AMPBASE_MAX_WS_CONNECTIONS_PER_IP": "0", "AMPBASE_RATE_LIMIT": "0"}
    with tempfile.TemporaryDirectory(prefix="ampbase-soak-") as tmp, Processes() as procs:
        target = start_ampbase(procs, Path(tmp), env=env)
        print(f"ampbase pid {target.pids[0]} at {target.url}", flush=True)
        report = asyncio.run(soak(args, target))
    summary = {k: v for k, v in report.items() if k != "samples"}
    print(json.dumps(summary, indent=2))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"soak: {report['verdict']}")
    return 0 if report["verdict"] == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
