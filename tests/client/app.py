"""Serving the example schema in process (``create_app`` + ``httpx.ASGITransport``) or as a real
``ampbase serve`` subprocess (TLS with a local CA, WebSockets), for the client's tests."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from ampbase.client import Client, generate_client

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "examples" / "python" / "amplify" / "data" / "resource.py"
IN_PROCESS_URL = "http://ampbase.test/graphql"


@dataclass
class InProcessApp:
    runtime: Any
    api_key: str
    outputs: dict[str, Any]
    http: httpx.AsyncClient

    def client(self, **options: Any) -> Client:
        return generate_client(self.outputs, http_client=self.http, **options)


@contextlib.asynccontextmanager
async def in_process_app(tmp: Path, schema_path: Path = SCHEMA) -> AsyncIterator[InProcessApp]:
    from ampbase.compiler.outputs import build_amplify_outputs
    from ampbase.schema.loader import load_schema
    from ampbase.server.apikeys import create_api_key
    from ampbase.server.app import create_app
    from ampbase.server.settings import Settings
    from ampbase.server.wiring import Runtime

    schema = load_schema(schema_path)
    settings = Settings(database_url=f"sqlite:///{tmp / 'client.db'}", state_dir=tmp / "state")
    runtime = Runtime(schema, settings)
    await runtime.start()
    try:
        key = await create_api_key(runtime.storage, description="client tests")
        app = create_app(runtime)
        outputs = build_amplify_outputs(schema, url=IN_PROCESS_URL, api_key=key.id)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
            yield InProcessApp(runtime, key.id, outputs, http)
    finally:
        await runtime.stop()


# ---------------------------------------------------------------------------- real server


@dataclass
class ServedApp:
    url: str
    outputs: Path
    ca: Path
    process: subprocess.Popen[bytes]
    log: Path
    port: int

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def outputs_json(self) -> dict[str, Any]:
        return json.loads(self.outputs.read_text())  # type: ignore[no-any-return]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(tmp: Path, *, port: int | None = None, schema_path: Path = SCHEMA) -> ServedApp:
    """``ampbase serve`` on 127.0.0.1 (TLS, local CA); stop it with :func:`stop_server`.

    Restarting on the port of a server just stopped can race with the kernel releasing it;
    that case is retried a few times.
    """
    for attempt in range(10):
        try:
            return _start_server(tmp, port=port, schema_path=schema_path)
        except RuntimeError as exc:
            if port is None or "address already in use" not in str(exc).lower() or attempt == 9:
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable")


def _start_server(tmp: Path, *, port: int | None, schema_path: Path) -> ServedApp:
    from ampbase.server.tls import ensure_dev_certificates

    certs = ensure_dev_certificates(tmp / "ca")
    port = port or free_port()
    outputs = tmp / "amplify_outputs.json"
    log = tmp / f"server-{port}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMPBASE_")}
    command = [
        sys.executable,
        "-m",
        "ampbase.cli.main",
        "serve",
        str(schema_path),
        "--database-url",
        f"sqlite:///{tmp / 'served.db'}",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--tls-cert",
        str(certs.cert),
        "--tls-key",
        str(certs.key),
        "--outputs",
        str(outputs),
        "--state-dir",
        str(tmp / "state"),
    ]
    with log.open("ab") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    served = ServedApp(f"https://127.0.0.1:{port}/graphql", outputs, certs.ca_cert, process, log, port)
    try:
        wait_healthy(served)
    except BaseException:
        stop_server(served)
        raise
    return served


def wait_healthy(served: ServedApp, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    context = ssl.create_default_context(cafile=str(served.ca))
    with httpx.Client(verify=context) as http:
        while time.monotonic() < deadline:
            if served.process.poll() is not None:
                raise RuntimeError(f"ampbase serve exited early:\n{served.log_text()}")
            with contextlib.suppress(httpx.HTTPError):
                health = http.get(served.url.replace("/graphql", "/health"), timeout=2)
                if health.status_code == 200 and served.outputs.exists():
                    return
            time.sleep(0.1)
    raise RuntimeError(f"ampbase serve did not become healthy:\n{served.log_text()}")


def stop_server(served: ServedApp) -> None:
    process = served.process
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
