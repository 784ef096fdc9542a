"""Several ``ampbase serve`` replicas sharing PostgreSQL and a pub/sub (Redis or LISTEN/NOTIFY).

Each test starts two replicas on their own ports, on one fresh PostgreSQL schema and one
pub/sub channel of its own, with TLS from a temporary local CA, and stops them by pid:

* the real aws-amplify JS client subscribes on replica A while another JS client creates on
  replica B: every event arrives once, in order (``tests/interop/replicas.mjs``);
* a replica is SIGKILLed under write load: every write it acknowledged is readable on the other;
* the same cross-replica delivery over PostgreSQL LISTEN/NOTIFY, with a small Python AppSync
  realtime client;
* a replica losing its Redis connection closes its realtime sockets and recovers.

Needs PostgreSQL and Redis (skipped without them, failing under CI); the JS test also needs
Node 20+ and ``npm ci`` in tests/interop.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from ampbase.server.tls import ensure_dev_certificates
from tests.services import TcpProxy, drop_schema, postgres_dsn, redis_url, unique_name

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "tests" / "interop" / "schema.graphql"
INTEROP = ROOT / "tests" / "interop"
NODE = shutil.which("node")
CREATE = "mutation($input: CreateTodoInput!) { createTodo(input: $input) { id content } }"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Replica:
    name: str
    port: int
    outputs: Path
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/graphql"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    @property
    def api_key(self) -> str:
        key: str = json.loads(self.outputs.read_text())["data"]["api_key"]
        return key


@dataclass
class Deployment:
    tmp: Path
    database_url: str
    pubsub_url: str
    ca: Path
    cert: Path
    key: Path
    replicas: list[Replica] = field(default_factory=list)

    def start(self, name: str) -> Replica:
        replica = Replica(name, _free_port(), self.tmp / f"{name}.json", self.tmp / f"{name}.log")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AMPBASE_")}
        command = [
            sys.executable,
            "-m",
            "ampbase.cli.main",
            "serve",
            str(SCHEMA),
            "--database-url",
            self.database_url,
            "--pubsub-url",
            self.pubsub_url,
            "--host",
            "127.0.0.1",
            "--port",
            str(replica.port),
            "--tls-cert",
            str(self.cert),
            "--tls-key",
            str(self.key),
            "--outputs",
            str(replica.outputs),
            "--state-dir",
            str(self.tmp / f"{name}-state"),
        ]
        with replica.log.open("wb") as log:
            replica.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        self.replicas.append(replica)
        self._wait_healthy(replica)
        return replica

    def _wait_healthy(self, replica: Replica) -> None:
        assert replica.process is not None
        deadline = time.monotonic() + 60
        with httpx.Client(verify=ssl.create_default_context(cafile=str(self.ca))) as http:
            while time.monotonic() < deadline:
                if replica.process.poll() is not None:
                    raise RuntimeError(f"replica {replica.name} exited early:\n{replica.log_text()}")
                try:
                    health = http.get(replica.url.replace("/graphql", "/health"), timeout=2)
                    if health.status_code == 200 and health.json()["pubsub"] == "ok":
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
        raise RuntimeError(f"replica {replica.name} did not become healthy:\n{replica.log_text()}")

    def stop_all(self) -> None:
        for replica in self.replicas:
            process = replica.process
            if process is None or process.poll() is not None:
                continue
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(verify=ssl.create_default_context(cafile=str(self.ca)), timeout=30)


def _deployment(tmp: Path, pubsub: str) -> Iterator[Deployment]:
    dsn = postgres_dsn()
    schema = unique_name("test")
    if pubsub == "redis":
        pubsub_url = f"{redis_url()}?channel=ampbase:{schema}"
    else:
        pubsub_url = f"{dsn}?schema={schema}&channel={schema}"
    certs = ensure_dev_certificates(tmp / "ca")
    deployment = Deployment(tmp, f"{dsn}?schema={schema}", pubsub_url, certs.ca_cert, certs.cert, certs.key)
    try:
        deployment.start("a")
        deployment.start("b")
        yield deployment
    finally:
        deployment.stop_all()
        drop_schema(dsn, schema)


@pytest.fixture
def redis_deployment(tmp_path: Path) -> Iterator[Deployment]:
    yield from _deployment(tmp_path, "redis")


@pytest.fixture
def postgres_deployment(tmp_path: Path) -> Iterator[Deployment]:
    yield from _deployment(tmp_path, "postgres")


# -- the real JS client across replicas ------------------------------------------------------------


def _node_command(deployment: Deployment, *args: str) -> tuple[list[str], dict[str, str]]:
    assert NODE is not None
    major = int(
        subprocess.run([NODE, "--version"], capture_output=True, text=True, check=True)
        .stdout.strip()
        .lstrip("v")
        .split(".")[0]
    )
    if major < 20:
        pytest.skip("the JS client test needs Node 20+")
    command = [NODE]
    if major < 22:
        command.append("--experimental-websocket")
    env = {**os.environ, "NODE_EXTRA_CA_CERTS": str(deployment.ca), "NODE_NO_WARNINGS": "1"}
    return [*command, str(INTEROP / "replicas.mjs"), *args], env


def _outcome(stdout: str, what: str, deployment: Deployment) -> Any:
    lines = [line for line in stdout.splitlines() if line.startswith('{"ok"')]
    logs = "\n".join(f"--- {r.name}\n{r.log_text()}" for r in deployment.replicas)
    if not lines:
        pytest.fail(f"{what} printed no result:\n{stdout}\n{logs}")
    outcome = json.loads(lines[-1])
    if not outcome["ok"]:
        pytest.fail(f"{what} failed: {outcome['error']}\n{outcome.get('stack')}\n{logs}")
    return outcome["result"]


@pytest.mark.interop
def test_js_client_subscribed_on_one_replica_gets_every_create_made_on_another_once(
    redis_deployment: Deployment,
) -> None:
    if NODE is None or not (INTEROP / "node_modules" / "aws-amplify").is_dir():
        pytest.skip("needs node and tests/interop/node_modules (make interop-deps)")
    a, b = redis_deployment.replicas
    run, count = unique_name("r"), 20
    command, env = _node_command(
        redis_deployment, "subscribe", "--outputs", str(a.outputs), "--run", run, "--expect", str(count)
    )
    subscriber = subprocess.Popen(command, cwd=INTEROP, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert subscriber.stdout is not None
        seen: list[str] = []
        for line in subscriber.stdout:
            seen.append(line)
            if '"phase":"subscribed"' in line or line.startswith('{"ok"'):
                break
        assert any('"subscribed"' in line for line in seen), "".join(seen)
        command, env = _node_command(
            redis_deployment, "create", "--outputs", str(b.outputs), "--run", run, "--count", str(count)
        )
        created = subprocess.run(command, cwd=INTEROP, env=env, capture_output=True, text=True, timeout=120)
        ids = _outcome(created.stdout + created.stderr, "the creator", redis_deployment)["ids"]
        assert len(set(ids)) == count
        rest, _ = subscriber.communicate(timeout=120)
    finally:
        if subscriber.poll() is None:
            subscriber.kill()
            subscriber.wait()
    result = _outcome("".join(seen) + rest, "the subscriber", redis_deployment)
    assert result["errors"] == []
    # every create exactly once, in the order replica B made them
    assert result["contents"] == [str(i) for i in range(count)]


# -- a replica killed under write load ------------------------------------------------------------


async def _create(http: httpx.AsyncClient, replica: Replica, content: str) -> str:
    response = await http.post(
        replica.url,
        json={"query": CREATE, "variables": {"input": {"content": content}}},
        headers={"x-api-key": replica.api_key},
    )
    body = response.json()
    if response.status_code != 200 or body.get("errors") or not body.get("data"):
        raise RuntimeError(f"not acknowledged: {response.status_code} {body}")
    todo_id: str = body["data"]["createTodo"]["id"]
    return todo_id


async def _list_ids(http: httpx.AsyncClient, replica: Replica, prefix: str) -> list[str]:
    query = (
        "query($f: ModelTodoFilterInput, $t: String) "
        "{ listTodos(filter: $f, limit: 100, nextToken: $t) { items { id } nextToken } }"
    )
    ids: list[str] = []
    token = None
    while True:
        response = await http.post(
            replica.url,
            json={"query": query, "variables": {"f": {"content": {"beginsWith": prefix}}, "t": token}},
            headers={"x-api-key": replica.api_key},
        )
        page = response.json()["data"]["listTodos"]
        ids.extend(item["id"] for item in page["items"])
        token = page["nextToken"]
        if token is None:
            return ids


def test_no_acknowledged_write_is_lost_when_a_replica_is_killed_under_load(
    redis_deployment: Deployment,
) -> None:
    a, b = redis_deployment.replicas
    run = unique_name("kill")
    acknowledged: list[str] = []
    killed = asyncio.Event()

    async def writer(http: httpx.AsyncClient, n: int) -> None:
        i = 0
        while True:
            try:
                acknowledged.append(await _create(http, b, f"{run} {n}-{i}"))
            except (httpx.HTTPError, RuntimeError):
                if killed.is_set():
                    return  # the replica is gone; unacknowledged writes may or may not exist
                raise
            i += 1

    async def killer() -> None:
        while len(acknowledged) < 60:  # noqa: ASYNC110 - waiting on a counter the writers bump
            await asyncio.sleep(0.01)
        assert b.process is not None
        killed.set()
        os.kill(b.process.pid, signal.SIGKILL)

    async def main() -> list[str]:
        async with redis_deployment.http() as http:
            async with asyncio.timeout(120):
                await asyncio.gather(killer(), *(writer(http, n) for n in range(4)))
            return await _list_ids(http, a, run)

    stored = asyncio.run(main())
    assert b.process is not None and b.process.wait(timeout=10) == -signal.SIGKILL
    assert len(acknowledged) >= 60
    assert set(acknowledged) <= set(stored)


# -- LISTEN/NOTIFY across replicas, with a Python AppSync realtime client ---------------------


def _header(replica: Replica) -> dict[str, str]:
    return {"host": f"127.0.0.1:{replica.port}", "x-api-key": replica.api_key}


async def _appsync_subscribe(deployment: Deployment, replica: Replica, query: str) -> Any:
    """An open AppSync realtime socket with one started subscription (after ``start_ack``)."""
    header = base64.urlsafe_b64encode(json.dumps(_header(replica)).encode()).decode().rstrip("=")
    ws = await connect(
        replica.url.replace("https://", "wss://") + "/realtime",
        subprotocols=["graphql-ws", f"header-{header}"],  # type: ignore[list-item]
        ssl=ssl.create_default_context(cafile=str(deployment.ca)),
    )
    await ws.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    start = {
        "id": "sub-1",
        "type": "start",
        "payload": {
            "data": json.dumps({"query": query, "variables": {}}),
            "extensions": {"authorization": _header(replica)},
        },
    }
    await ws.send(json.dumps(start))
    while True:
        frame = json.loads(await ws.recv())
        if frame["type"] == "start_ack":
            return ws
        assert frame["type"] == "ka", frame


def test_listen_notify_carries_events_between_replicas_once_in_order(
    postgres_deployment: Deployment,
) -> None:
    a, b = postgres_deployment.replicas
    run = unique_name("pg")
    query = "subscription { onCreateTodo { id content } }"
    big = "x" * 9000  # over NOTIFY's 8000-byte payload limit: travels through the events table

    async def main() -> tuple[list[str], list[str]]:
        ws = await _appsync_subscribe(postgres_deployment, a, query)
        try:
            async with postgres_deployment.http() as http:
                contents = [f"{run} {i}" for i in range(10)] + [f"{run} {big}"]
                for content in contents:
                    await _create(http, b, content)
            received: list[str] = []
            try:
                async with asyncio.timeout(30):
                    while len(received) < len(contents):
                        frame = json.loads(await ws.recv())
                        if frame["type"] == "data":
                            content = frame["payload"]["data"]["onCreateTodo"]["content"]
                            if content.startswith(run):
                                received.append(content)
            except TimeoutError:
                pass
            try:  # a duplicate would arrive now
                async with asyncio.timeout(1.5):
                    while True:
                        frame = json.loads(await ws.recv())
                        if frame["type"] == "data":
                            received.append(frame["payload"]["data"]["onCreateTodo"]["content"])
            except TimeoutError:
                pass
            return contents, received
        finally:
            await ws.close()

    sent, received = asyncio.run(main())
    assert received == sent


# -- a lost pub/sub connection, end to end ---------------------------------------------------------


def test_a_lost_pubsub_connection_closes_realtime_sockets_and_recovers(tmp_path: Path) -> None:
    """Redis behind a proxy the test cuts: the replica reports it on /health, closes its realtime
    sockets (1011) so clients re-subscribe instead of silently missing events, reconnects when
    Redis is back, and events flow again."""
    dsn = postgres_dsn()
    schema = unique_name("test")
    redis = redis_url()
    certs = ensure_dev_certificates(tmp_path / "ca")

    async def main() -> None:
        proxy = TcpProxy(6379)
        await proxy.start()
        via_proxy = redis.replace("127.0.0.1:6379", f"127.0.0.1:{proxy.port}")
        assert via_proxy != redis
        deployment = Deployment(
            tmp_path,
            f"{dsn}?schema={schema}",
            f"{via_proxy}?channel=ampbase:{schema}",
            certs.ca_cert,
            certs.cert,
            certs.key,
        )
        try:
            replica = await asyncio.to_thread(deployment.start, "a")
            query = "subscription { onCreateTodo { id content } }"
            ws = await _appsync_subscribe(deployment, replica, query)
            await proxy.stop()
            async with asyncio.timeout(30):
                while True:
                    try:
                        await ws.recv()
                    except ConnectionClosed as closed:
                        assert closed.rcvd is not None and closed.rcvd.code == 1011
                        break
            async with deployment.http() as http:
                health = await http.get(replica.url.replace("/graphql", "/health"))
                assert health.status_code == 503
                assert health.json()["pubsub"] == "unavailable"
                await proxy.start()
                await asyncio.to_thread(deployment._wait_healthy, replica)
                ws = await _appsync_subscribe(deployment, replica, query)
                await _create(http, replica, f"{schema} after")
                async with asyncio.timeout(30):
                    while True:
                        frame = json.loads(await ws.recv())
                        if frame["type"] == "data":
                            assert frame["payload"]["data"]["onCreateTodo"]["content"] == f"{schema} after"
                            break
                await ws.close()
        finally:
            await asyncio.to_thread(deployment.stop_all)
            if proxy.server is not None and proxy.server.is_serving():
                await proxy.stop()

    try:
        asyncio.run(main())
    finally:
        drop_schema(dsn, schema)
