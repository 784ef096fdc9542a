"""ampbase on PostgreSQL with one and with two replicas: throughput and cross-replica events.

``.venv/bin/python bench/replicas.py [--seconds 10] [--concurrency 16] [--pubsub redis|postgres]``

1. creates a fresh PostgreSQL schema (``bench_<random>``, dropped at the end) and starts replica
   A: ``ampbase serve bench/schema.graphql --database-url postgresql://...?schema=…
   --pubsub-url redis://...?channel=…`` (plain HTTP, one process, rate limit off), seeds the
   data set of :mod:`workloads` through it and checks the answers;
2. measures ``get``, ``list`` and ``create`` with ``wrk -t1 -cN`` against A alone;
3. starts replica B on the same database and pub/sub and measures the same workloads with two
   wrk processes at once, one per replica, N/2 connections each (the same total concurrency);
4. measures event latency: a Python AppSync realtime client subscribed to ``onCreateTodo`` on
   A, ``createTodo`` sent to A (same replica) or to B (cross replica), one at a time; the time
   from sending the mutation to receiving the event;
5. stops everything by pid and prints a table; raw results go to ``--out``.

Needs PostgreSQL (``AMPBASE_BENCH_POSTGRES``, default ``postgresql://postgres@127.0.0.1:5432/test``),
Redis (``AMPBASE_BENCH_REDIS``, default ``redis://127.0.0.1:6379/0``) and ``wrk``. Nothing here
asserts timings.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import concurrent.futures
import json
import os
import secrets
import statistics
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from common import (
    AMPBASE_BENCH_ENV,
    SCHEMA,
    Processes,
    Target,
    WrkResult,
    _ampbase_command,
    _serve_ampbase,
    free_port,
    graphql,
    graphql_many,
    machine_description,
    run_wrk,
    settle,
)
from websockets.asyncio.client import connect
from workloads import WORKLOADS, DataSet, Workload, check_response

POSTGRES = os.environ.get("AMPBASE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("AMPBASE_BENCH_REDIS", "redis://127.0.0.1:6379/0")
MEASURED = ("get", "list", "create")
CREATE = "mutation Create($input: CreateTodoInput!) { createTodo(input: $input) { id name } }"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per wrk run (10)")
    parser.add_argument("--concurrency", type=int, default=16, help="total wrk connections (16)")
    parser.add_argument("--events", type=int, default=200, help="events per latency measurement (200)")
    parser.add_argument("--pubsub", choices=("redis", "postgres"), default="redis")
    parser.add_argument("--pool-size", type=int, default=10, help="PostgreSQL pool per replica (10)")
    parser.add_argument("--out", type=Path, default=None)
    return parser.parse_args(argv)


async def _sql(statement: str) -> None:
    conn = await asyncpg.connect(POSTGRES, timeout=5)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def start_replica(
    procs: Processes, workdir: Path, name: str, database_url: str, pubsub_url: str, pool_size: int
) -> Target:
    port = free_port()
    outputs = workdir / f"{name}.json"
    argv = [
        *_ampbase_command(),
        "serve",
        str(SCHEMA),
        "--database-url",
        database_url,
        "--pubsub-url",
        pubsub_url,
        "--db-pool-size",
        str(pool_size),
        "--port",
        str(port),
        "--outputs",
        str(outputs),
    ]
    target = _serve_ampbase(procs, argv, port, outputs, workdir / f"{name}.log", workdir / "postgres")
    target.name = f"ampbase-{name}"
    return target


async def validate(target: Target, workload: Workload, bodies: list[dict[str, Any]]) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        for body in bodies[:3]:
            response = await client.post(target.url, headers=target.headers, json=body)
            problem = check_response(workload, body, response.json())
            if response.status_code != 200 or problem:
                raise RuntimeError(f"{target.name} {workload.name}: {response.status_code} {problem}")


def measure(
    targets: list[Target], bodies: Path, seconds: float, concurrency: int
) -> tuple[float, list[WrkResult]]:
    """wrk against every target at once (``concurrency`` split between them); total req/s."""
    settle(targets)
    share = max(1, concurrency // len(targets))
    with concurrent.futures.ThreadPoolExecutor(len(targets)) as pool:
        futures = [pool.submit(run_wrk, t, bodies, seconds=seconds, concurrency=share) for t in targets]
        results = [f.result() for f in futures]
    return sum(r.rps for r in results), results


# -- event latency ------------------------------------------------------------------------------


def _auth(target: Target) -> dict[str, str]:
    assert target.api_key is not None
    host = target.url.split("/")[2]
    return {"host": host, "x-api-key": target.api_key}


async def event_latency(subscribe_on: Target, create_on: Target, events: int) -> list[float]:
    """Milliseconds from sending ``createTodo`` to ``create_on`` until ``onCreateTodo`` arrives on
    ``subscribe_on``, one event at a time."""
    header = base64.urlsafe_b64encode(json.dumps(_auth(subscribe_on)).encode()).decode().rstrip("=")
    url = subscribe_on.url.replace("http://", "ws://") + "/realtime"
    tag = secrets.token_hex(4)
    latencies: list[float] = []
    async with connect(url, subprotocols=["graphql-ws", f"header-{header}"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init"}))
        while json.loads(await ws.recv())["type"] != "connection_ack":
            pass
        query = "subscription { onCreateTodo { id name } }"
        start = {
            "id": "bench",
            "type": "start",
            "payload": {
                "data": json.dumps({"query": query, "variables": {}}),
                "extensions": {"authorization": _auth(subscribe_on)},
            },
        }
        await ws.send(json.dumps(start))
        while json.loads(await ws.recv())["type"] != "start_ack":
            pass
        async with httpx.AsyncClient(timeout=30) as http:
            for n in range(events):
                name = f"lat-{tag}-{n}"
                sent = time.perf_counter()
                await graphql(
                    http, create_on, CREATE, {"input": {"name": name, "priority": 0, "done": False}}
                )
                async with asyncio.timeout(30):
                    while True:
                        frame = json.loads(await ws.recv())
                        if (
                            frame["type"] == "data"
                            and frame["payload"]["data"]["onCreateTodo"]["name"] == name
                        ):
                            break
                latencies.append((time.perf_counter() - sent) * 1000)
    return latencies


def cpu_us(row: dict[str, Any]) -> float:
    """Server CPU per request (all replicas' cores ÷ total throughput), in microseconds."""
    return float(row["server_cores"]) / float(row["rps"]) * 1e6 if row["rps"] else 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# -- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = args.out or Path("/tmp/ampbase-bench") / time.strftime("replicas-%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    schema = f"bench_{os.getpid()}_{secrets.token_hex(3)}"
    database_url = f"{POSTGRES}?schema={schema}"
    if args.pubsub == "redis":
        pubsub_url = f"{REDIS}?channel=ampbase:{schema}"
    else:
        pubsub_url = f"{POSTGRES}?schema={schema}&channel={schema}"
    data = DataSet.generate()
    workloads = [WORKLOADS[name] for name in MEASURED]
    rows: list[dict[str, Any]] = []
    latency: dict[str, list[float]] = {}
    print(f"ampbase replicas on PostgreSQL + {args.pubsub}: schema {schema}, results in {out}")
    try:
        with Processes() as procs:
            a = start_replica(procs, out, "a", database_url, pubsub_url, args.pool_size)
            for label, mutation, variables in data.seed_batches():
                sent = asyncio.run(graphql_many(a, mutation, variables, concurrency=8))
                print(f"  seeded {sent} {label}")
            bodies = {}
            for w in workloads:
                path = w.write_bodies(data, out / f"{w.name}.jsonl")
                asyncio.run(validate(a, w, w.bodies(data)))
                bodies[w.name] = path
            for replicas in (1, 2):
                if replicas == 2:
                    b = start_replica(procs, out, "b", database_url, pubsub_url, args.pool_size)
                    for w in workloads:
                        asyncio.run(validate(b, w, w.bodies(data)))
                targets = [a] if replicas == 1 else [a, b]
                for w in workloads:
                    rps, results = measure(targets, bodies[w.name], args.seconds, args.concurrency)
                    row = {
                        "replicas": replicas,
                        "workload": w.name,
                        "rps": rps,
                        "p50_ms": statistics.mean(r.p50_ms for r in results),
                        "p99_ms": max(r.p99_ms for r in results),
                        "errors": sum(r.graphql_errors + r.socket_errors + r.timeouts for r in results),
                        "server_cores": sum(r.server_cores for r in results),
                        "runs": [asdict(r) for r in results],
                    }
                    rows.append(row)
                    print(
                        f"  {replicas} replica(s) {w.name:6} {rps:8.0f} req/s  p50 {row['p50_ms']:.1f} ms  "
                        f"p99 {row['p99_ms']:.1f} ms  errors {row['errors']}"
                    )
            settle([a, b])
            latency["same replica"] = asyncio.run(event_latency(a, a, args.events))
            latency["cross replica"] = asyncio.run(event_latency(a, b, args.events))
    finally:
        asyncio.run(_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    lines = [
        f"ampbase on PostgreSQL, pub/sub {args.pubsub}; wrk -t1, {args.concurrency} connections in total, "
        f"{args.seconds:g} s per run; " + ", ".join(f"{k}: {v}" for k, v in machine_description().items()),
        "",
        "| workload | 1 replica req/s | 2 replicas req/s | 1 replica p50 / p99 ms "
        "| 2 replicas p50 / p99 ms | CPU µs/req 1 / 2 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for w in workloads:
        one = next(r for r in rows if r["workload"] == w.name and r["replicas"] == 1)
        two = next(r for r in rows if r["workload"] == w.name and r["replicas"] == 2)
        lines.append(
            f"| {w.name} | {one['rps']:.0f} | {two['rps']:.0f} | {one['p50_ms']:.1f} / {one['p99_ms']:.1f} "
            f"| {two['p50_ms']:.1f} / {two['p99_ms']:.1f} "
            f"| {cpu_us(one):.0f} / {cpu_us(two):.0f} |"
        )
    lines += [
        "",
        "| event latency (mutation sent → event received) | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|",
    ]
    for label, values in latency.items():
        lines.append(
            f"| {label} ({len(values)} events) | {percentile(values, 0.5):.1f} | "
            f"{percentile(values, 0.99):.1f} | {max(values):.1f} |"
        )
    summary = "\n".join(lines)
    print()
    print(summary)
    (out / "summary.md").write_text(summary + "\n")
    with (out / "results.jsonl").open("w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
        f.write(json.dumps({"latency_ms": latency, "env": AMPBASE_BENCH_ENV}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
