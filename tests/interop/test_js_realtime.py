"""Subscriptions with the real aws-amplify JS client (6.22.1) against `ampbase serve`.

``realtime.mjs`` holds the scenarios. One server per module (the same schema as
``test_js_client.py``, TLS from a temporary local CA); the resubscription test stops it under a
live subscription and starts it again on the same port and database. Needs ``node`` 20+ and
``npm ci`` in tests/interop; skipped otherwise.
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ampbase.server.tls import ensure_dev_certificates

pytestmark = pytest.mark.interop

HERE = Path(__file__).parent
NODE = shutil.which("node")


def _node_major() -> int:
    assert NODE is not None
    out = subprocess.run([NODE, "--version"], capture_output=True, text=True, check=True).stdout
    return int(out.strip().lstrip("v").split(".")[0])


if NODE is None:
    pytest.skip("node is not installed: the interop suite needs Node 20+", allow_module_level=True)
if not (HERE / "node_modules" / "aws-amplify").is_dir():
    pytest.skip("tests/interop/node_modules is missing: run `make interop-deps`", allow_module_level=True)
if _node_major() < 20:
    pytest.skip("the interop suite needs Node 20+", allow_module_level=True)


class RealtimeServer:
    """``ampbase serve`` in a subprocess that can be restarted on the same port and database."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        certs = ensure_dev_certificates(tmp / "ca")
        self.cert, self.key, self.ca = certs.cert, certs.key, certs.ca_cert
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            self.port: int = s.getsockname()[1]
        self.url = f"https://127.0.0.1:{self.port}/graphql"
        self.outputs = tmp / "amplify_outputs.json"
        self.log = tmp / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "ampbase.cli.main",
            "serve",
            str(HERE / "schema.graphql"),
            "--database-url",
            f"sqlite:///{self.tmp / 'realtime.db'}",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--tls-cert",
            str(self.cert),
            "--tls-key",
            str(self.key),
            "--outputs",
            str(self.outputs),
            "--state-dir",
            str(self.tmp / "state"),
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AMPBASE_")}
        with self.log.open("ab") as log_file:
            self.process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=env)
        self._wait_healthy()

    def _wait_healthy(self, timeout: float = 60.0) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        with httpx.Client(verify=ssl.create_default_context(cafile=str(self.ca))) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"ampbase serve exited early:\n{self.log_text()}")
                try:
                    if http.get(self.url.replace("/graphql", "/health"), timeout=2).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
        raise RuntimeError(f"ampbase serve did not become healthy:\n{self.log_text()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealtimeServer]:
    srv = RealtimeServer(tmp_path_factory.mktemp("realtime-interop"))
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def run_scenario(server: RealtimeServer, name: str, on_phase: Any = None, timeout: float = 180) -> Any:
    assert NODE is not None
    command = [NODE]
    if _node_major() < 22:
        command.append("--experimental-websocket")
    command += [str(HERE / "realtime.mjs"), name, "--outputs", str(server.outputs)]
    env = {**os.environ, "NODE_EXTRA_CA_CERTS": str(server.ca), "NODE_NO_WARNINGS": "1"}
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=HERE, env=env
    )
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith('{"phase"') and on_phase is not None:
                on_phase(json.loads(line)["phase"])
            if time.monotonic() > deadline:
                break
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = proc.stderr.read() if proc.stderr is not None else ""
    results = [line for line in lines if line.startswith('{"ok"')]
    if not results:
        pytest.fail(
            f"scenario {name} printed no result (exit {proc.returncode})\nstdout:\n{''.join(lines)}\n"
            f"stderr:\n{stderr}\nserver log:\n{server.log_text()}"
        )
    outcome = json.loads(results[-1])
    if not outcome["ok"]:
        pytest.fail(
            f"scenario {name} failed: {outcome['error']}\n{outcome.get('stack')}\n"
            f"stderr:\n{stderr}\nserver log:\n{server.log_text()}"
        )
    return outcome["result"]


def test_create_update_delete_filters_and_unsubscribe(server: RealtimeServer) -> None:
    r = run_scenario(server, "lifecycle")
    assert r["errors"] == []
    assert r["all"] == ["a", "b", "c", "d"]
    assert r["lowOrDone"] == ["a", "b"]  # LOW, or done
    assert r["notLow"] == ["b", "c"]  # "d" came after unsubscribe
    assert r["updated"] == [{"content": "a", "isDone": True}]
    assert r["deleted"] == ["b"]
    assert "Connected" in r["states"]


def test_observe_query_pages_unsynced_then_synced_then_live(server: RealtimeServer) -> None:
    r = run_scenario(server, "observeSnapshots")
    snapshots = r["snapshots"]
    synced_at = next(i for i, s in enumerate(snapshots) if s["isSynced"])
    assert synced_at >= 1
    assert all(not s["isSynced"] for s in snapshots[:synced_at])
    assert snapshots[synced_at]["count"] == 5
    assert snapshots[-1] == {"isSynced": True, "count": 6}


def test_client_resubscribes_with_the_same_id_after_the_server_restarts(server: RealtimeServer) -> None:
    def restart(phase: str) -> None:
        if phase == "subscribed":
            server.stop()
            server.start()

    r = run_scenario(server, "resubscribe", on_phase=restart)
    assert r["contents"] == ["before", "after"]
    assert r["errors"] == []
    assert "ConnectionDisrupted" in r["states"]
    assert r["acks"] >= 2
