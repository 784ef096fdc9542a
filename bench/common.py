"""Shared plumbing for the benchmarks: targets (ampbase, the peer, the bare baseline), seeding,
the wrk load generator and CPU accounting.

Every process started here is recorded in :class:`Processes` and stopped by pid (SIGTERM, then
SIGKILL after a grace period) when the ``with`` block ends, on SIGINT/SIGTERM too. Every wait
is bounded in time and every loop in count.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

__all__ = [
    "AMPBASE_BENCH_ENV",
    "BENCH_DIR",
    "REPO",
    "SCHEMA",
    "VENV_BIN",
    "Processes",
    "Target",
    "WrkResult",
    "cpu_seconds",
    "free_port",
    "graphql",
    "graphql_many",
    "machine_description",
    "peer_dir",
    "run_wrk",
    "settle",
    "start_ampbase",
    "start_baseline",
    "start_peer",
    "wait_for_port",
]

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
SCHEMA = BENCH_DIR / "schema.graphql"
VENV_BIN = REPO / ".venv" / "bin"
LUA = BENCH_DIR / "graphql.lua"
_CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(slots=True)
class Target:
    """A running GraphQL server under test."""

    name: str
    url: str
    api_key: str | None
    pids: tuple[int, ...]  # processes whose CPU time is accounted to this target
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        if self.api_key:
            headers["x-api-key"] = self.api_key
        return headers


class Processes:
    """Processes this benchmark started; all stopped by pid on exit, in reverse order."""

    def __init__(self) -> None:
        self._procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self._peers: list[tuple[Path, int, dict[str, str]]] = []
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Processes:
        def on_signal(signum: int, frame: FrameType | None) -> None:
            raise KeyboardInterrupt(f"signal {signum}")

        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, on_signal)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.stop_all()
        finally:
            for sig, handler in self._previous.items():
                signal.signal(sig, handler)

    def spawn(self, name: str, argv: Sequence[str], *, log: Path, env: dict[str, str] | None = None) -> int:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            proc = subprocess.Popen(
                list(argv), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )
        self._procs.append((name, proc))
        return proc.pid

    def stop(self, pid: int, *, grace: float = 10.0) -> None:
        for i, (name, proc) in enumerate(self._procs):
            if proc.pid == pid:
                del self._procs[i]
                _terminate(name, proc, grace)
                return

    def add_peer(self, directory: Path, port: int, env: dict[str, str]) -> None:
        """Record a peer started by ``start-peer.sh`` (stopped by ``stop-peer.sh``, which only
        signals the two pids it recorded)."""
        self._peers.append((directory, port, env))

    def stop_peer(self, port: int) -> None:
        for i, (directory, p, env) in enumerate(self._peers):
            if p == port:
                del self._peers[i]
                subprocess.run(
                    [str(directory / "stop-peer.sh"), str(port)],
                    env=env,
                    check=False,
                    timeout=60,
                    stdout=subprocess.DEVNULL,
                )
                return

    def stop_all(self) -> None:
        while self._procs:
            name, proc = self._procs.pop()
            _terminate(name, proc, 10.0)
        while self._peers:
            self.stop_peer(self._peers[-1][1])


def _terminate(name: str, proc: subprocess.Popen[bytes], grace: float) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        print(f"  {name} (pid {proc.pid}) ignored SIGTERM for {grace:.0f} s: SIGKILL", file=sys.stderr)
        proc.kill()
        proc.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(port: int, *, timeout: float, pid: int | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pid is not None and not _alive(pid):
            raise RuntimeError(f"process {pid} exited before listening on port {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid``, all its threads (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    # fields[0] is field 3 (state); utime, stime = fields 14, 15
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


# -- targets -----------------------------------------------------------------------------------


def start_ampbase(
    procs: Processes,
    workdir: Path,
    *,
    schema: Path = SCHEMA,
    port: int | None = None,
    env: dict[str, str] | None = None,
) -> Target:
    """``ampbase serve`` on a fresh SQLite file in ``workdir`` (plain HTTP, one process)."""
    port = port or free_port()
    db = workdir / "ampbase" / "bench.db"
    if db.parent.exists():
        shutil.rmtree(db.parent)
    db.parent.mkdir(parents=True)
    outputs = db.parent / "amplify_outputs.json"
    argv = [
        *_ampbase_command(),
        "serve",
        str(schema),
        "--database-url",
        f"sqlite:///{db}",
        "--port",
        str(port),
        "--outputs",
        str(outputs),
    ]
    return _serve_ampbase(procs, argv, port, outputs, workdir / "ampbase.log", db, env)


def serve_existing_ampbase(procs: Processes, db: Path, log: Path, *, schema: Path = SCHEMA) -> Target:
    """``ampbase serve`` on an existing database (an API key is created when it has none)."""
    port = free_port()
    outputs = db.parent / "amplify_outputs.json"
    argv = [
        *_ampbase_command(),
        "serve",
        str(schema),
        "--database-url",
        f"sqlite:///{db}",
        "--port",
        str(port),
        "--outputs",
        str(outputs),
    ]
    return _serve_ampbase(procs, argv, port, outputs, log, db)


def _ampbase_command() -> list[str]:
    """``.venv/bin/ampbase``, or ``$AMPBASE_BENCH_COMMAND`` (split on spaces) to measure a variant,
    e.g. ``AMPBASE_BENCH_COMMAND="/path/to/other/.venv/bin/ampbase"``."""
    override = os.environ.get("AMPBASE_BENCH_COMMAND")
    return override.split() if override else [str(VENV_BIN / "ampbase")]


# The peer has no request limits; ampbase's per-API-key rate limit (1,000 req/s by default) would
# cap every figure at that rate, so the benchmarks turn it off. Other limits stay at their defaults.
AMPBASE_BENCH_ENV = {"AMPBASE_RATE_LIMIT": "0"}


def _serve_ampbase(
    procs: Processes,
    argv: list[str],
    port: int,
    outputs: Path,
    log: Path,
    db: Path,
    env: dict[str, str] | None = None,
) -> Target:
    outputs.unlink(missing_ok=True)
    environment = {**os.environ, **AMPBASE_BENCH_ENV, **(env or {})}
    pid = procs.spawn("ampbase", argv, log=log, env=environment)
    wait_for_port(port, timeout=60, pid=pid)
    api_key = json.loads(outputs.read_text())["data"]["api_key"]
    return Target(
        "ampbase",
        f"http://127.0.0.1:{port}/graphql",
        api_key,
        (pid,),
        {"db": str(db), "argv": argv, "env": {**AMPBASE_BENCH_ENV, **(env or {})}},
    )


def start_baseline(procs: Processes, workdir: Path) -> Target:
    port = free_port()
    argv = [str(VENV_BIN / "python"), str(BENCH_DIR / "baseline.py"), "--port", str(port)]
    pid = procs.spawn("baseline", argv, log=workdir / "baseline.log")
    wait_for_port(port, timeout=30, pid=pid)
    return Target("baseline", f"http://127.0.0.1:{port}/graphql", None, (pid,), {"argv": argv})


def peer_dir() -> Path:
    """``$AMPBASE_PEER_DIR``, else ``../shared/tools/peer`` next to the repository."""
    configured = os.environ.get("AMPBASE_PEER_DIR")
    directory = Path(configured) if configured else REPO.parent / "shared" / "tools" / "peer"
    if not (directory / "start-peer.sh").is_file():
        raise RuntimeError(f"no peer at {directory} (set AMPBASE_PEER_DIR to a copy of tools/peer)")
    return directory.resolve()


def start_peer(procs: Processes, workdir: Path, *, schema: Path = SCHEMA, port: int | None = None) -> Target:
    """AWS's AppSync simulator + DynamoDB Local (file-backed, as ``amplify mock api``), fresh data."""
    directory = peer_dir()
    if not (directory / "node_modules").is_dir():
        print(f"  npm ci --ignore-scripts in {directory} (once, ~1 min)", file=sys.stderr)
        subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=directory,
            check=True,
            timeout=900,
        )
    port = port or free_port()
    env = {**os.environ, "PEER_RUN_DIR": str(workdir / "peer")}
    env.pop("PEER_KEEP_DATA", None)
    procs.add_peer(directory, port, env)
    done = subprocess.run(
        [str(directory / "start-peer.sh"), str(schema), str(port)],
        env=env,
        check=False,
        timeout=180,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"start-peer.sh failed ({done.returncode}): {done.stderr[-2000:]}")
    info = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return Target(
        "peer",
        info["PEER_GRAPHQL_URL"],
        info["PEER_API_KEY"],
        (int(info["PEER_PID"]), int(info["PEER_DDB_PID"])),
        {"log": info.get("PEER_LOG", ""), "dir": str(directory)},
    )


# -- GraphQL over HTTP (seeding, validation) ---------------------------------------------------


async def graphql(
    client: httpx.AsyncClient, target: Target, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One request; raises on HTTP errors and GraphQL errors."""
    response = await client.post(
        target.url, headers=target.headers, json={"query": query, "variables": variables or {}}
    )
    if response.status_code != 200:
        raise RuntimeError(f"{target.name}: HTTP {response.status_code}: {response.text[:500]}")
    body: dict[str, Any] = response.json()
    if body.get("errors") or "errorMessage" in body:
        raise RuntimeError(f"{target.name}: {json.dumps(body)[:800]}")
    return body


async def graphql_many(
    target: Target, query: str, variables: Sequence[dict[str, Any]], *, concurrency: int = 8
) -> int:
    """Send ``query`` once per variables dict with ``concurrency`` workers; returns the count."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for v in variables:
        queue.put_nowait(v)
    sent = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def worker() -> None:
            nonlocal sent
            while not queue.empty():
                v = queue.get_nowait()
                await graphql(client, target, query, v)
                sent += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return sent


def new_id() -> str:
    return str(uuid.uuid4())


# -- wrk ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    graphql_errors: int
    socket_errors: int
    timeouts: int
    first_error: str
    server_cores: float  # CPU seconds of the target's processes / wall seconds
    client_cores: float


def settle(targets: Sequence[Target], *, idle_cores: float = 0.1, timeout: float = 180.0) -> float:
    """Wait until every target's processes are idle (a server keeps working through the requests
    queued when the previous run's connections closed); returns the seconds waited."""
    pids = [pid for t in targets for pid in t.pids]
    started = time.monotonic()
    before = sum(cpu_seconds(pid) for pid in pids)
    while time.monotonic() - started < timeout:
        time.sleep(0.5)
        now = sum(cpu_seconds(pid) for pid in pids)
        if (now - before) / 0.5 < idle_cores:
            break
        before = now
    return time.monotonic() - started


def run_wrk(
    target: Target,
    bodies: Path,
    *,
    seconds: float,
    concurrency: int,
    timeout_s: float = 10.0,
) -> WrkResult:
    """A closed-loop run: ``concurrency`` connections on one wrk thread for ``seconds``.

    Requests still unanswered after ``timeout_s`` count as timeouts, not as latencies."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed (apt-get install -y wrk)")
    env = {**os.environ, "WRK_BODIES": str(bodies), "WRK_API_KEY": target.api_key or ""}
    argv = [
        wrk,
        "-t1",
        f"-c{concurrency}",
        f"-d{seconds:g}s",
        f"--timeout={timeout_s:g}s",
        "-s",
        str(LUA),
        target.url,
    ]
    cpu_before = sum(cpu_seconds(pid) for pid in target.pids)
    children_before = _children_cpu()
    started = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=seconds + timeout_s + 30)
        client_cpu = _children_cpu() - children_before  # wrk is the only child reaped meanwhile
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate(timeout=10)
        raise RuntimeError("wrk did not finish in time") from None
    wall = time.monotonic() - started
    server_cpu = sum(cpu_seconds(pid) for pid in target.pids) - cpu_before
    for line in out.decode(errors="replace").splitlines():
        if line.startswith("WRK_RESULT "):
            data = json.loads(line[len("WRK_RESULT ") :])
            return WrkResult(
                **data,
                server_cores=server_cpu / wall,
                client_cores=client_cpu / wall,
            )
    raise RuntimeError(f"wrk printed no result: {out.decode()[-1000:]} {err.decode()[-1000:]}")


def _children_cpu() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system


# -- environment -------------------------------------------------------------------------------


def machine_description() -> dict[str, str]:
    def run(argv: list[str]) -> str:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return "?"
        text = done.stdout.strip() or done.stderr.strip()
        return text.splitlines()[0] if text else "?"

    cpu = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        kib = int(f.readline().split()[1])
        mem = f"{kib / 1024 / 1024:.0f} GiB"
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "memory": mem,
        "kernel": run(["uname", "-r"]),
        "python": sys.version.split()[0],
        "node": run(["node", "--version"]),
        "java": run(["java", "-version"]),
        "wrk": run(["wrk", "--version"]).split(" Copyright")[0] or "?",
        "loadavg": Path("/proc/loadavg").read_text().strip(),
    }
