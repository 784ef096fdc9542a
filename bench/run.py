"""ampbase side by side with AWS's AppSync simulator (the peer) and a bare ASGI baseline.

One command (``make bench``, or ``.venv/bin/python bench/run.py``):

1. starts the peer (``start-peer.sh``: AppSync simulator + file-backed DynamoDB Local),
   ``ampbase serve`` (one process, fresh SQLite file, plain HTTP) and ``bench/baseline.py``
   (bare Starlette on uvicorn), all on 127.0.0.1, every one on ``bench/schema.graphql``;
2. seeds the same data set into the peer and ampbase through their GraphQL APIs
   (:mod:`workloads`) and checks every workload's answer on both;
3. runs each workload on each target alternately (target order flips every round) with
   ``wrk -t1 -cN`` (closed loop, N connections, ``--seconds`` per run), the baseline with the
   ``getTodo`` request;
4. counts ampbase's database statements per request (in process, :mod:`statements`);
5. stops everything it started (by pid, also on Ctrl-C) and prints a table of medians:
   throughput, p50, p99, ampbase/peer ratios, the fraction of the bare-ASGI ceiling and the
   issue's goals. Raw results go to ``--out`` (``results.jsonl``, ``summary.md``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
from common import (
    SCHEMA,
    Processes,
    Target,
    WrkResult,
    graphql_many,
    machine_description,
    run_wrk,
    settle,
    start_ampbase,
    start_baseline,
    start_peer,
)
from statements import count_statements
from workloads import WORKLOADS, DataSet, Workload, check_response

P99_GOAL = 5.0  # ampbase p99 at most 1/5 of the peer's
BASELINE_GOAL = 0.5  # getTodo at least 50 % of the bare-ASGI throughput


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of one measured run (10)")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured run per target first (3)")
    parser.add_argument("--rounds", type=int, default=3, help="measured runs per workload and target (3)")
    parser.add_argument("--concurrency", type=int, default=16, help="wrk connections (16)")
    parser.add_argument(
        "--workloads", default=",".join(WORKLOADS), help=f"comma-separated subset of {','.join(WORKLOADS)}"
    )
    parser.add_argument("--targets", default="peer,ampbase,baseline", help="subset of peer,ampbase,baseline")
    parser.add_argument("--out", type=Path, default=None, help="results folder (/tmp/ampbase-bench/<time>)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="after measuring, run each workload once more on ampbase under py-spy (see profile.py)",
    )
    args = parser.parse_args(argv)
    args.workloads = [w for w in args.workloads.split(",") if w]
    args.targets = [t for t in args.targets.split(",") if t]
    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}")
    if "create" in args.workloads:  # create grows the Todo table: keep "list of 1,000" true
        args.workloads = [w for w in args.workloads if w != "create"] + ["create"]
    if not 1 <= args.rounds <= 20 or not 1 <= args.seconds <= 300 or not 1 <= args.concurrency <= 1024:
        parser.error("rounds 1..20, seconds 1..300, concurrency 1..1024")
    return args


async def seed(target: Target, data: DataSet) -> float:
    started = time.monotonic()
    for label, mutation, variables in data.seed_batches():
        sent = await graphql_many(target, mutation, variables, concurrency=8)
        print(f"  {target.name}: {sent} {label}")
    return time.monotonic() - started


async def validate(target: Target, workload: Workload, bodies: list[dict[str, Any]]) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        for body in bodies[:3]:
            response = await client.post(target.url, headers=target.headers, json=body)
            if response.status_code != 200:
                raise RuntimeError(f"{target.name} {workload.name}: HTTP {response.status_code}")
            problem = check_response(workload, body, response.json())
            if problem:
                raise RuntimeError(f"{target.name} {workload.name}: {problem}")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarize(
    results: list[dict[str, Any]], workloads: list[str], statements: dict[str, int]
) -> tuple[str, list[str]]:
    """A markdown table of medians, and the list of missed goals."""

    def cell(workload: str, target: str, key: str) -> float:
        return median([r[key] for r in results if r["workload"] == workload and r["target"] == target])

    def cpu_per_request(workload: str, target: str) -> float:
        """Server CPU microseconds per request: robust to other load on the machine."""
        runs = [r for r in results if r["workload"] == workload and r["target"] == target]
        return median([1e6 * r["server_cores"] / r["rps"] for r in runs if r["rps"] > 0])

    baseline_rps = cell("get", "baseline", "rps")
    header = (
        "| workload | peer req/s | ampbase req/s | x peer (goal) | % of bare ASGI | peer p50 / p99 ms "
        "| ampbase p50 / p99 ms | p99 peer / ampbase (goal 5x) | server CPU µs/req peer / ampbase "
        "| SQL stmts/req |"
    )
    lines = [header, "|" + "---|" * 10]
    missed: list[str] = []
    for w in workloads:
        workload = WORKLOADS[w]
        peer, amp = cell(w, "peer", "rps"), cell(w, "ampbase", "rps")
        ratio = amp / peer if peer == peer and peer > 0 else float("nan")
        of_base = amp / baseline_rps if baseline_rps == baseline_rps and baseline_rps > 0 else float("nan")
        p99_ratio = cell(w, "peer", "p99_ms") / cell(w, "ampbase", "p99_ms")
        if ratio == ratio and ratio < workload.target:
            missed.append(f"{w}: {ratio:.1f}x peer throughput, goal {workload.target:g}x")
        if p99_ratio == p99_ratio and p99_ratio < P99_GOAL:
            missed.append(f"{w}: p99 {p99_ratio:.1f}x lower than the peer's, goal {P99_GOAL:g}x")
        if w == "get" and of_base == of_base and of_base < BASELINE_GOAL:
            missed.append(f"get: {of_base:.0%} of bare-ASGI throughput, goal {BASELINE_GOAL:.0%}")
        base_goal = f" (goal {BASELINE_GOAL:.0%})" if w == "get" else ""
        lines.append(
            f"| {workload.title} | {peer:,.0f} | {amp:,.0f} | {ratio:.1f}x ({workload.target:g}x) "
            f"| {of_base:.0%}{base_goal} "
            f"| {cell(w, 'peer', 'p50_ms'):.1f} / {cell(w, 'peer', 'p99_ms'):.1f} "
            f"| {cell(w, 'ampbase', 'p50_ms'):.1f} / {cell(w, 'ampbase', 'p99_ms'):.1f} "
            f"| {p99_ratio:.1f}x "
            f"| {cpu_per_request(w, 'peer'):,.0f} / {cpu_per_request(w, 'ampbase'):,.0f} "
            f"| {statements.get(w, '-')} |"
        )
    if baseline_rps == baseline_rps:
        lines.append(
            f"| bare ASGI (Starlette + uvicorn, fixed body) | | {baseline_rps:,.0f} | | 100% | "
            f"| {cell('get', 'baseline', 'p50_ms'):.1f} / {cell('get', 'baseline', 'p99_ms'):.1f} "
            f"| | {cpu_per_request('get', 'baseline'):,.0f} | |"
        )
    return "\n".join(lines), missed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out: Path = args.out or Path("/tmp/ampbase-bench") / time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    out.mkdir(parents=True, exist_ok=True)
    machine = machine_description()
    print(f"results in {out}\nmachine: {json.dumps(machine)}")
    data = DataSet.generate()
    bodies = {w: WORKLOADS[w].bodies(data) for w in args.workloads}
    body_files = {w: WORKLOADS[w].write_bodies(data, out / f"{w}.bodies") for w in args.workloads}
    results: list[dict[str, Any]] = []
    statements: dict[str, int] = {}

    with Processes() as procs:
        targets: dict[str, Target] = {}
        if "peer" in args.targets:
            print("starting the peer (AppSync simulator + DynamoDB Local)")
            targets["peer"] = start_peer(procs, out)
        if "ampbase" in args.targets:
            print("starting ampbase serve")
            targets["ampbase"] = start_ampbase(procs, out)
        if "baseline" in args.targets:
            print("starting the bare ASGI baseline")
            targets["baseline"] = start_baseline(procs, out)
        for name, target in targets.items():
            print(f"  {name}: {target.url} pids {target.pids}")

        for name in ("peer", "ampbase"):
            if name in targets:
                print(f"seeding {name}")
                took = asyncio.run(seed(targets[name], data))
                print(f"  {name}: seeded in {took:.1f} s")
                for w in args.workloads:
                    asyncio.run(validate(targets[name], WORKLOADS[w], bodies[w]))
        print("every workload answers correctly on every target")

        for w in args.workloads:
            participants = [t for n, t in targets.items() if n != "baseline"]
            if w == "get" and "baseline" in targets:
                participants.append(targets["baseline"])
            workload = WORKLOADS[w]
            seconds = args.seconds * workload.seconds_factor
            timeout_s = max(10.0, seconds)
            all_targets = list(targets.values())
            for target in participants:
                if args.warmup > 0:
                    settle(all_targets)
                    run_wrk(
                        target,
                        body_files[w],
                        seconds=args.warmup,
                        concurrency=args.concurrency,
                        timeout_s=timeout_s,
                    )
            for r in range(args.rounds):
                order = participants if r % 2 == 0 else participants[::-1]
                for target in order:
                    waited = settle(all_targets)
                    if waited > 5:
                        print(f"  (waited {waited:.0f} s for the servers to finish queued requests)")
                    res: WrkResult = run_wrk(
                        target,
                        body_files[w],
                        seconds=seconds,
                        concurrency=args.concurrency,
                        timeout_s=timeout_s,
                    )
                    row = {"workload": w, "target": target.name, "round": r, **asdict(res)}
                    results.append(row)
                    with (out / "results.jsonl").open("a") as f:
                        f.write(json.dumps(row) + "\n")
                    errors = res.graphql_errors + res.socket_errors + res.timeouts
                    print(
                        f"  {w:7} {target.name:9} round {r}: {res.rps:9,.1f} req/s  "
                        f"p50 {res.p50_ms:7.2f} ms  p99 {res.p99_ms:7.2f} ms  "
                        f"server {res.server_cores:.2f} cores  wrk {res.client_cores:.2f}"
                        + (f"  ERRORS {errors}: {res.first_error}" if errors else "")
                    )

        settle(list(targets.values()))
        if args.profile and "ampbase" in targets:
            from profile_ampbase import profile_workloads

            profile_workloads(targets["ampbase"], {w: body_files[w] for w in args.workloads}, out, args)

        if "ampbase" in targets:
            amp = targets["ampbase"]
            assert amp.api_key is not None
            statements = count_statements(
                SCHEMA, Path(amp.extra["db"]), amp.api_key, {w: b[0] for w, b in bodies.items()}
            )
            print(f"ampbase SQL statements per request: {statements}")

    table, missed = summarize(results, args.workloads, statements)
    errors = sum(r["graphql_errors"] + r["socket_errors"] + r["timeouts"] for r in results)
    summary = [
        f"# ampbase benchmark {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        "",
        f"machine: {json.dumps(machine)}",
        f"command: {' '.join(sys.argv)}",
        f"wrk -t1 -c{args.concurrency}, {args.rounds} x {args.seconds:g} s per workload and target "
        f"(+{args.warmup:g} s warm-up), medians; errors in measured runs: {errors}",
        "",
        table,
        "",
        "Goals missed: " + ("none" if not missed else "; ".join(missed)),
    ]
    text = "\n".join(summary)
    (out / "summary.md").write_text(text + "\n")
    print()
    print(text)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
