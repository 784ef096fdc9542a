"""Shared helpers for Node interop suites: start ``ampbase serve`` with TLS, run a Node script.

``start_server(tmp, schema, extra_args=[...], env={...})`` serves ``schema`` on 127.0.0.1 (free
port, temporary SQLite database, certificate from a temporary local CA) and writes
amplify_outputs.json; the server sees none of this process's ``AMPBASE_*`` variables, only those
of ``env``; ``run_node(server, script, scenario)`` runs ``script scenario --outputs
...`` with ``NODE_EXTRA_CA_CERTS`` and returns the ``result`` of the last JSON line it prints
(``{"ok": true, "result": ...}``). ``skip_without_node()`` skips a module when Node 20+ or
``tests/interop/node_modules`` is missing. Servers are stopped by pid (``stop``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ampbase.server.tls import ensure_dev_certificates

__all__ = ["HERE", "NODE", "Server", "node_major", "run_node", "skip_without_node", "start_server", "stop"]

HERE = Path(__file__).parent
NODE = shutil.which("node")


def node_major() -> int:
    assert NODE is not None
    out = subprocess.run([NODE, "--version"], capture_output=True, text=True, check=True).stdout
    return int(out.strip().lstrip("v").split(".")[0])


def skip_without_node() -> None:
    if NODE is None:
        pytest.skip("node is not installed: the interop suite needs Node 20+", allow_module_level=True)
    if not (HERE / "node_modules" / "aws-amplify").is_dir():
        pytest.skip("tests/interop/node_modules is missing: run `make interop-deps`", allow_module_level=True)
    if node_major() < 20:
        pytest.skip("the interop suite needs Node 20+", allow_module_level=True)


@dataclass
class Server:
    url: str
    outputs: Path
    ca: Path
    process: subprocess.Popen[bytes]
    log: Path
    database: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_healthy(server: Server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    with httpx.Client(verify=ssl.create_default_context(cafile=str(server.ca))) as http:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(f"ampbase serve exited early:\n{server.log_text()}")
            try:
                if http.get(server.url.replace("/graphql", "/health"), timeout=2).status_code == 200:
                    return
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(0.1)
    raise RuntimeError(f"ampbase serve did not become healthy ({last}):\n{server.log_text()}")


def start_server(
    tmp: Path,
    schema: Path,
    extra_args: Sequence[str] = (),
    *,
    plain_http: bool = False,
    env: Mapping[str, str] | None = None,
) -> Server:
    """Start ``ampbase serve`` on a free port; ``plain_http`` makes ``data.url`` an ``http://`` URL
    (POSTs in plain HTTP on the same port, the client still opens ``wss://``). ``env`` adds
    environment entries (such as ``AMPBASE_IAM_CONFIG``) to the server's environment, from which
    every inherited ``AMPBASE_*`` variable is removed."""
    certs = ensure_dev_certificates(tmp / "ca")
    port = _free_port()
    outputs = tmp / "amplify_outputs.json"
    log = tmp / "server.log"
    database = tmp / "interop.db"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AMPBASE_")}
    environ.update(env or {})
    url = f"{'http' if plain_http else 'https'}://127.0.0.1:{port}/graphql"
    command = [
        sys.executable,
        "-m",
        "ampbase.cli.main",
        "serve",
        str(schema),
        "--database-url",
        f"sqlite:///{database}",
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
        *extra_args,
    ]
    if plain_http:
        command += ["--allow-plain-http", "--public-url", url]
    with log.open("wb") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=environ)
    server = Server(url, outputs, certs.ca_cert, process, log, database)
    try:
        _wait_healthy(server)
    except BaseException:
        stop(process)
        raise
    return server


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


def run_node(server: Server, script: Path, scenario: str, timeout: float = 120) -> Any:
    assert NODE is not None
    command = [NODE]
    if node_major() < 22:
        command.append("--experimental-websocket")
    command += [str(script), scenario, "--outputs", str(server.outputs)]
    env = {**os.environ, "NODE_EXTRA_CA_CERTS": str(server.ca), "NODE_NO_WARNINGS": "1"}
    proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=HERE, env=env)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        pytest.fail(
            f"{script.name} {scenario} printed no result (exit {proc.returncode})\nstdout:\n{proc.stdout}\n"
            f"stderr:\n{proc.stderr}\nserver log:\n{server.log_text()}"
        )
    outcome = json.loads(lines[-1])
    if not outcome["ok"]:
        pytest.fail(
            f"{script.name} {scenario} failed: {outcome['error']}\n{outcome.get('stack')}\n"
            f"detail: {outcome.get('detail')}\nstderr:\n{proc.stderr}\nserver log:\n{server.log_text()}"
        )
    return outcome["result"]
