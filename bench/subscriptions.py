"""Subscription fan-out on one ampbase process: commit-to-delivery latency and memory per connection.

Starts ``ampbase serve`` (fresh SQLite, plain HTTP; the per-address WebSocket cap is lifted with
``AMPBASE_MAX_WS_CONNECTIONS_PER_IP=0`` since every subscriber comes from 127.0.0.1), then for
1, 100, 1,000 and 10,000 subscribers (cumulative; each is one WebSocket speaking AppSync's
real-time protocol, as the Amplify client does: ``connection_init`` → ``start`` of
``onCreateTodo``) it:

* measures the server's resident memory (``VmRSS``) with all of them connected and idle;
* sends ``--events`` ``createTodo`` mutations, one at a time, each after the previous one was
  delivered to every subscriber (or after ``--event-timeout``), and records, per subscriber,
  the time from sending the mutation to receiving its ``data`` frame.

Latency is measured from the moment the mutation is sent (so it includes the mutation itself;
the commit happens before its HTTP response, which is reported too). The subscribers run in
this one Python process on the same 2 cores as the server, so at 10,000 the client's own
receive loop is part of the figure (its CPU time is reported). Like browsers and the Amplify
client, the subscribers send no WebSocket pings; the client's garbage collector is frozen
after each level's connections are open (``gc.freeze()``) so its full collections over
thousands of sockets do not count as delivery latency (the server's GC is left as it is).

    .venv/bin/python bench/subscriptions.py [--levels 1,100,1000,10000] [--events 5]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import gc
import json
import resource
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from common import Processes, Target, cpu_seconds, machine_description, start_ampbase
from websockets.asyncio.client import ClientConnection, connect

SUBSCRIPTION = "subscription OnCreateTodo { onCreateTodo { id name description priority createdAt } }"
CREATE = (
    "mutation CreateTodo($input: CreateTodoInput!) { createTodo(input: $input) "
    "{ id name description priority done createdAt updatedAt } }"
)
OPEN_CONCURRENCY = 100


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Subscriber:
    """One WebSocket with one ``onCreateTodo`` subscription; records when each item arrives."""

    def __init__(self, hub: Fanout) -> None:
        self.hub = hub
        self.ws: ClientConnection | None = None
        self.task: asyncio.Task[None] | None = None

    async def open(self, target: Target, host: str) -> None:
        auth = {"host": host, "x-api-key": target.api_key or ""}
        header = base64.b64encode(json.dumps(auth).encode()).decode()
        url = target.url.replace("http://", "ws://") + f"/realtime?header={header}&payload=e30="
        # No WebSocket pings from the client (browsers and the Amplify client send none; the
        # protocol's own ``ka`` frames keep the socket alive).
        ws = await connect(
            url,
            subprotocols=["graphql-ws"],  # type: ignore[list-item]
            open_timeout=30,
            max_queue=64,
            compression=None,
            ping_interval=None,
        )
        self.ws = ws
        await ws.send(json.dumps({"type": "connection_init"}))
        await self._expect(ws, "connection_ack")
        sub_id = str(uuid.uuid4())
        start = {
            "id": sub_id,
            "type": "start",
            "payload": {
                "data": json.dumps({"query": SUBSCRIPTION, "variables": {}}),
                "extensions": {"authorization": auth},
            },
        }
        await ws.send(json.dumps(start))
        await self._expect(ws, "start_ack")
        self.task = asyncio.create_task(self._read(ws))

    @staticmethod
    async def _expect(ws: ClientConnection, kind: str) -> None:
        for _ in range(10):  # skip keep-alives
            message = json.loads(await asyncio.wait_for(ws.recv(), timeout=30))
            if message.get("type") == kind:
                return
            if message.get("type") != "ka":
                raise RuntimeError(f"expected {kind}, got {message}")
        raise RuntimeError(f"no {kind}")

    async def _read(self, ws: ClientConnection) -> None:
        async for raw in ws:
            now = time.perf_counter()
            message = json.loads(raw)
            if message.get("type") == "data":
                item = message["payload"]["data"]["onCreateTodo"]
                self.hub.delivered(item["id"], now)

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        if self.ws is not None:
            await self.ws.close()


class Fanout:
    """Arrival times of every ``data`` frame, by item id (frames may beat the HTTP response)."""

    def __init__(self) -> None:
        self.arrivals: dict[str, list[float]] = collections.defaultdict(list)
        self.waiting: str | None = None
        self.wanted = 0
        self.complete = asyncio.Event()

    def delivered(self, item_id: str, at: float) -> None:
        arrivals = self.arrivals[item_id]
        arrivals.append(at)
        if item_id == self.waiting and len(arrivals) >= self.wanted:
            self.complete.set()

    async def wait(self, item_id: str, wanted: int, seconds: float) -> list[float]:
        self.waiting, self.wanted = item_id, wanted
        self.complete.clear()
        if len(self.arrivals[item_id]) < wanted:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.complete.wait(), timeout=seconds)
        self.waiting = None
        return self.arrivals.pop(item_id, [])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def start_py_spy(pid: int, raw: Path) -> subprocess.Popen[bytes]:
    from profile_ampbase import py_spy_command

    argv = [*py_spy_command(pid, raw), "--gil"]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_py_spy(spy: subprocess.Popen[bytes], raw: Path) -> None:
    from profile_ampbase import summarize_collapsed

    spy.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
    try:
        spy.wait(timeout=60)
    except subprocess.TimeoutExpired:
        spy.kill()
        spy.wait(timeout=10)
    if raw.exists():
        text = summarize_collapsed(raw)
        raw.with_suffix(".summary.txt").write_text(text + "\n")
        print(f"py-spy profile of the fan-out ({raw}):\n{text}")


async def measure(
    target: Target, levels: list[int], events: int, event_timeout: float, profile: Path | None = None
) -> list[dict[str, Any]]:
    pid = target.pids[0]
    host = target.url.split("/")[2]
    hub = Fanout()
    subscribers: list[Subscriber] = []
    rows: list[dict[str, Any]] = []
    gate = asyncio.Semaphore(OPEN_CONCURRENCY)

    async def add_one() -> None:
        async with gate:
            s = Subscriber(hub)
            await s.open(target, host)
            subscribers.append(s)

    async with httpx.AsyncClient(timeout=60) as client:

        async def mutate(name: str) -> tuple[str, float, float]:
            body = {
                "query": CREATE,
                "variables": {"input": {"name": name, "description": "fan-out", "priority": 1}},
            }
            sent = time.perf_counter()
            response = await client.post(target.url, headers=target.headers, json=body)
            answered = time.perf_counter()
            data = response.json()
            if data.get("errors"):
                raise RuntimeError(f"createTodo failed: {data}")
            return data["data"]["createTodo"]["id"], sent, answered

        await mutate("warm-up")
        await asyncio.sleep(1)
        rss_before = rss_kib(pid)
        print(f"server RSS with no subscriber: {rss_before / 1024:.1f} MiB")
        try:
            for level in levels:
                opening = time.monotonic()
                await asyncio.gather(*(add_one() for _ in range(level - len(subscribers))))
                opened_in = time.monotonic() - opening
                await asyncio.sleep(2)
                # This load generator holds every subscriber's objects: without this, its own
                # full collections (0.6-1.1 s at 10,000 sockets) land in the latency figures.
                gc.collect()
                gc.freeze()
                rss = rss_kib(pid)
                per_conn = (rss - rss_before) * 1024 / len(subscribers)
                latencies: list[float] = []
                lasts: list[float] = []
                responses: list[float] = []
                missing = 0
                spy = start_py_spy(pid, profile) if profile is not None and level == levels[-1] else None
                server_cpu0, client_cpu0 = cpu_seconds(pid), time.process_time()
                for e in range(events):
                    name = f"fanout-{level}-{e}"
                    item_id, sent, answered = await mutate(name)
                    arrivals = await hub.wait(item_id, len(subscribers), event_timeout)
                    got = [t - sent for t in arrivals]
                    missing += len(subscribers) - len(got)
                    latencies += got
                    if got:
                        lasts.append(max(got))
                    responses.append(answered - sent)
                    await asyncio.sleep(0.5)
                server_cpu = cpu_seconds(pid) - server_cpu0
                client_cpu = time.process_time() - client_cpu0
                if spy is not None and profile is not None:
                    stop_py_spy(spy, profile)
                row = {
                    "subscribers": len(subscribers),
                    "opened_in_s": round(opened_in, 2),
                    "rss_mib": round(rss / 1024, 1),
                    "rss_per_connection_kib": round(per_conn / 1024, 1),
                    "events": events,
                    "deliveries": len(latencies),
                    "missing": missing,
                    "p50_ms": round(1000 * percentile(latencies, 0.5), 2),
                    "p99_ms": round(1000 * percentile(latencies, 0.99), 2),
                    "last_delivery_ms": round(1000 * statistics.median(lasts), 2) if lasts else None,
                    "last_delivery_ms_each": [round(1000 * x, 1) for x in lasts],
                    "mutation_response_ms": round(1000 * statistics.median(responses), 2),
                    "server_cpu_s_per_event": round(server_cpu / events, 3),
                    "client_cpu_s_per_event": round(client_cpu / events, 3),
                }
                rows.append(row)
                print(json.dumps(row))
        finally:
            await asyncio.gather(*(s.close() for s in subscribers), return_exceptions=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,100,1000,10000")
    parser.add_argument("--events", type=int, default=5)
    parser.add_argument("--event-timeout", type=float, default=60.0)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the server with py-spy during the largest level's events",
    )
    args = parser.parse_args()
    levels = sorted(int(x) for x in args.levels.split(","))
    if not levels or levels[0] < 1 or levels[-1] > 15000 or not 1 <= args.events <= 100:
        parser.error("levels 1..15000, events 1..100")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = levels[-1] + 1000
    if hard != resource.RLIM_INFINITY and hard < needed:
        parser.error(f"the open-file limit ({hard}) is too low for {levels[-1]} connections")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, needed), hard))  # inherited by the server
    out: Path = args.out or Path("/tmp/ampbase-subscriptions") / time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    out.mkdir(parents=True, exist_ok=True)
    print(f"results in {out}\nmachine: {json.dumps(machine_description())}")
    with Processes() as procs:
        target = start_ampbase(procs, out, env={"AMPBASE_MAX_WS_CONNECTIONS_PER_IP": "0"})
        try:
            import uvloop

            runner: Any = uvloop.run
        except ImportError:
            runner = asyncio.run
        profile = out / "profile-fanout.txt" if args.profile else None
        rows = runner(measure(target, levels, args.events, args.event_timeout, profile))
    (out / "results.json").write_text(json.dumps(rows, indent=1) + "\n")
    lines = [
        "| subscribers | delivery p50 / p99 ms | last delivery ms | mutation response ms | missing "
        "| server RSS MiB | RSS per idle connection KiB | server / client CPU s per event |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['subscribers']:,} | {r['p50_ms']} / {r['p99_ms']} | {r['last_delivery_ms']} "
            f"| {r['mutation_response_ms']} | {r['missing']} | {r['rss_mib']} "
            f"| {r['rss_per_connection_kib']} "
            f"| {r['server_cpu_s_per_event']} / {r['client_cpu_s_per_event']} |"
        )
    table = "\n".join(lines)
    (out / "summary.md").write_text(table + "\n")
    print("\n" + table)
    return 1 if any(r["missing"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
