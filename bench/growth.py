"""How ampbase's read latency grows with the table: 1,000 vs 1,000,000 rows.

For each size, a SQLite database is created by ampbase's own storage adapter (tables, indexes,
metadata) and then bulk-filled with plain ``executemany`` in one transaction (1,000,000 API
calls would take an hour; the rows are exactly what ``createTodo``/``createCustomer`` store,
which the check below verifies through the API). Then ``ampbase serve`` runs on it and wrk
measures, sequentially (1 connection) and at concurrency 16:

* ``get``: ``getTodo(id)`` cycling over 1,000 random ids of the table;
* ``index``: ``customersByRepresentative(accountRepresentativeId, name: {beginsWith}, limit: 20)``
  (the Customer table has the same number of rows, 100 per representative at every size, so
  the partition stays the same and only the index grows);
* ``list``: ``listTodos(limit: 100)``, the first page.

    .venv/bin/python bench/growth.py [--sizes 1000,1000000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import sys
import time
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
from common import SCHEMA, Processes, Target, machine_description, run_wrk, serve_existing_ampbase, settle
from workloads import BY_REPRESENTATIVE, GET_TODO, LIST_TODOS, WORKLOADS

CUSTOMERS_PER_REPRESENTATIVE = 100
STAMP = "2026-11-22T08:00:00.000Z"
_BATCH = 50_000


async def _create_tables(db: Path) -> None:
    from ampbase.schema.loader import load_schema
    from ampbase.storage.sqlite import SQLiteStorage

    storage = SQLiteStorage(db)
    await storage.open(load_schema(SCHEMA))
    await storage.close()


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]


def _insert(conn: sqlite3.Connection, table: str, rows: Any, count: int) -> None:
    columns = _columns(conn, table)
    sql = (
        f'INSERT INTO "{table}" ({", ".join(f"{chr(34)}{c}{chr(34)}" for c in columns)}) '
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    done = 0
    while done < count:
        batch = [tuple(row.get(c) for c in columns) for _, row in zip(range(_BATCH), rows, strict=False)]
        if not batch:
            break
        conn.executemany(sql, batch)
        done += len(batch)


def build_database(db: Path, rows: int, seed: int = 7) -> dict[str, list[str]]:
    """A database with ``rows`` Todos and ``rows`` Customers; returns sample ids for the bodies."""
    db.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    asyncio.run(_create_tables(db))
    rng = random.Random(seed)

    def uid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    todo_ids = [uid() for _ in range(rows)]
    representatives = [uid() for _ in range(max(1, rows // CUSTOMERS_PER_REPRESENTATIVE))]
    todos = (
        {
            "id": todo_ids[i],
            "name": f"todo-{i:07d}",
            "description": "benchmark item",
            "priority": i % 10,
            "done": i % 2,
            "createdAt": STAMP,
            "updatedAt": STAMP,
        }
        for i in range(rows)
    )
    customers = (
        {
            "id": uid(),
            "name": f"c-{i % CUSTOMERS_PER_REPRESENTATIVE:03d}",
            "phoneNumber": f"+1555{i:07d}",
            "accountRepresentativeId": representatives[i // CUSTOMERS_PER_REPRESENTATIVE],
            "createdAt": STAMP,
            "updatedAt": STAMP,
        }
        for i in range(len(representatives) * CUSTOMERS_PER_REPRESENTATIVE)
    )
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN")
        _insert(conn, "Todo", todos, rows)
        _insert(conn, "Customer", customers, rows)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return {
        "todos": rng.sample(todo_ids, min(1000, rows)),
        "representatives": rng.sample(representatives, 10),
    }


def write_bodies(folder: Path, sample: dict[str, list[str]]) -> dict[str, Path]:
    bodies = {
        "get": [{"query": GET_TODO, "variables": {"id": i}} for i in sample["todos"]],
        "index": [
            {"query": BY_REPRESENTATIVE, "variables": {"rep": r, "prefix": "c-0", "limit": 20}}
            for r in sample["representatives"]
        ],
        "list": [{"query": LIST_TODOS, "variables": {"limit": 100}}],
    }
    paths = {}
    for name, items in bodies.items():
        path = folder / f"{name}.bodies"
        path.write_text("\n".join(json.dumps(b, separators=(",", ":")) for b in items) + "\n")
        paths[name] = path
    return paths


async def check(target: Target, bodies: dict[str, Path]) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        for name, path in bodies.items():
            body = json.loads(path.read_text().splitlines()[0])
            response = (await client.post(target.url, headers=target.headers, json=body)).json()
            problem = WORKLOADS[name].check(body, response) if "errors" not in response else str(response)
            if problem:
                raise RuntimeError(f"{name}: {problem}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,1000000")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if any(not 100 <= s <= 10_000_000 for s in sizes) or not 1 <= args.rounds <= 10:
        parser.error("sizes 100..10,000,000, rounds 1..10")
    out: Path = args.out or Path("/tmp/ampbase-growth") / time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    out.mkdir(parents=True, exist_ok=True)
    print(f"results in {out}\nmachine: {json.dumps(machine_description())}")
    rows: list[dict[str, Any]] = []
    with Processes() as procs:
        for size in sizes:
            folder = out / f"rows-{size}"
            started = time.monotonic()
            sample = build_database(folder / "bench.db", size)
            megabytes = (folder / "bench.db").stat().st_size / 1e6
            took = time.monotonic() - started
            print(f"built {size:,} Todos + {size:,} Customers in {took:.1f} s ({megabytes:.0f} MB)")
            bodies = write_bodies(folder, sample)
            target = serve_existing_ampbase(procs, folder / "bench.db", folder / "ampbase.log")
            asyncio.run(check(target, bodies))
            for name, path in bodies.items():
                for concurrency in (1, 16):
                    run_wrk(target, path, seconds=2, concurrency=concurrency)  # warm-up
                    for r in range(args.rounds):
                        settle([target])
                        res = run_wrk(target, path, seconds=args.seconds, concurrency=concurrency)
                        row = {
                            "rows": size,
                            "workload": name,
                            "concurrency": concurrency,
                            "round": r,
                            **asdict(res),
                        }
                        rows.append(row)
                        with (out / "results.jsonl").open("a") as f:
                            f.write(json.dumps(row) + "\n")
                        print(
                            f"  {size:>9,} {name:5} c{concurrency:<2} round {r}: {res.rps:8,.0f} req/s  "
                            f"p50 {res.p50_ms:6.2f} ms  p99 {res.p99_ms:6.2f} ms"
                            + (
                                f"  ERRORS {res.graphql_errors}: {res.first_error}"
                                if res.graphql_errors
                                else ""
                            )
                        )
            procs.stop(target.pids[0])

    def med(size: int, name: str, c: int, key: str) -> float:
        values = [
            r[key] for r in rows if r["rows"] == size and r["workload"] == name and r["concurrency"] == c
        ]
        return statistics.median(values) if values else float("nan")

    lines = [
        "| workload | rows | c1 p50 / p99 ms | c1 req/s | c16 p50 / p99 ms | c16 req/s |",
        "|---|---|---|---|---|---|",
    ]
    for name in ("get", "index", "list"):
        for size in sizes:
            lines.append(
                f"| {name} | {size:,} "
                f"| {med(size, name, 1, 'p50_ms'):.2f} / {med(size, name, 1, 'p99_ms'):.2f} "
                f"| {med(size, name, 1, 'rps'):,.0f} "
                f"| {med(size, name, 16, 'p50_ms'):.2f} / {med(size, name, 16, 'p99_ms'):.2f} "
                f"| {med(size, name, 16, 'rps'):,.0f} |"
            )
    table = "\n".join(lines)
    (out / "summary.md").write_text(table + "\n")
    print("\n" + table)
    errors = sum(r["graphql_errors"] + r["socket_errors"] + r["timeouts"] for r in rows)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
