"""The real aws-amplify JS client (6.22.1, pinned in package-lock.json) against `ampbase serve`.

One server per module: ``ampbase serve tests/interop/schema.graphql`` on 127.0.0.1 with a free
port, a temporary SQLite database and a TLS certificate from a temporary local CA; it writes
amplify_outputs.json, and each test runs one scenario of ``scenarios.mjs`` in Node with
``NODE_EXTRA_CA_CERTS`` pointing at that CA. Needs ``node`` and ``npm ci`` in tests/interop
(``make interop-deps``); skipped otherwise.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ampbase.server.tls import ensure_dev_certificates

pytestmark = pytest.mark.interop

HERE = Path(__file__).parent
SCHEMA = HERE / "schema.graphql"
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


@dataclass
class Server:
    url: str
    outputs: Path
    ca: Path
    process: subprocess.Popen[bytes]
    log: Path

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
                health = server.url.replace("/graphql", "/health").replace("http://", "https://")
                if http.get(health, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(0.1)
    raise RuntimeError(f"ampbase serve did not become healthy ({last}):\n{server.log_text()}")


def _start_server(tmp: Path, *, plain_http: bool = False) -> Server:
    certs = ensure_dev_certificates(tmp / "ca")
    port = _free_port()
    outputs = tmp / "amplify_outputs.json"
    log = tmp / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMPBASE_")}
    url = f"{'http' if plain_http else 'https'}://127.0.0.1:{port}/graphql"
    command = [
        sys.executable,
        "-m",
        "ampbase.cli.main",
        "serve",
        str(SCHEMA),
        "--database-url",
        f"sqlite:///{tmp / 'interop.db'}",
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
    if plain_http:
        command += ["--allow-plain-http", "--public-url", url]
    with log.open("wb") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=env)
    srv = Server(url, outputs, certs.ca_cert, process, log)
    try:
        _wait_healthy(srv)
    except BaseException:
        _stop(process)
        raise
    return srv


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = _start_server(tmp_path_factory.mktemp("interop"))
    try:
        yield srv
    finally:
        _stop(srv.process)


@pytest.fixture(scope="module")
def plain_http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``data.url`` is ``http://``: POSTs go in plain HTTP, the client still opens ``wss://``."""
    srv = _start_server(tmp_path_factory.mktemp("interop-http"), plain_http=True)
    try:
        yield srv
    finally:
        _stop(srv.process)


def run_scenario(server: Server, name: str, timeout: float = 120) -> Any:
    assert NODE is not None
    command = [NODE]
    if _node_major() < 22:
        command.append("--experimental-websocket")
    command += [str(HERE / "scenarios.mjs"), name, "--outputs", str(server.outputs)]
    env = {**os.environ, "NODE_EXTRA_CA_CERTS": str(server.ca), "NODE_NO_WARNINGS": "1"}
    proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=HERE, env=env)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        pytest.fail(
            f"scenario {name} printed no result (exit {proc.returncode})\nstdout:\n{proc.stdout}\n"
            f"stderr:\n{proc.stderr}\nserver log:\n{server.log_text()}"
        )
    outcome = json.loads(lines[-1])
    if not outcome["ok"]:
        pytest.fail(
            f"scenario {name} failed: {outcome['error']}\n{outcome.get('stack')}\n"
            f"detail: {outcome.get('detail')}\nstderr:\n{proc.stderr}\nserver log:\n{server.log_text()}"
        )
    return outcome["result"]


def test_outputs_file_is_what_the_client_configures_from(server: Server) -> None:
    outputs = json.loads(server.outputs.read_text())
    assert outputs["version"].startswith("1")
    assert outputs["data"]["url"] == server.url
    assert outputs["data"]["default_authorization_type"] == "API_KEY"
    assert outputs["data"]["api_key"].startswith("da2-")
    assert set(outputs["data"]["model_introspection"]["models"]) == {
        "Todo",
        "Team",
        "Member",
        "Customer",
        "Product",
    }


def test_create_get_update_list_delete(server: Server) -> None:
    r = run_scenario(server, "crud")
    created = r["created"]
    assert r["createErrors"] == []
    assert created["content"].startswith("buy milk")
    assert created["isDone"] is False
    assert created["priority"] == "HIGH"
    assert created["location"] == {"lat": 1.5, "long": 2.5}
    assert created["createdAt"].endswith("Z") and created["createdAt"] == created["updatedAt"]
    assert r["got"] == created
    updated = r["updated"]
    assert updated["isDone"] is True
    assert updated["createdAt"] == created["createdAt"]  # the client strips read-only fields
    assert updated["updatedAt"] >= created["updatedAt"]
    assert [t["id"] for t in r["listed"]] == [created["id"]]
    assert r["listNextToken"] is None
    assert r["deleted"]["id"] == created["id"]
    assert r["deleted"]["isDone"] is True
    assert r["afterDelete"] is None
    assert r["afterDeleteErrors"] == []


def test_filters(server: Server) -> None:
    r = run_scenario(server, "filter")
    assert r["done"] == ["alpha", "gamma"]
    assert r["notDone"] == ["alphabet", "beta", "delta"]
    assert r["low"] == ["beta", "gamma"]
    assert r["lowOrHigh"] == ["alpha", "beta", "gamma"]
    assert r["notLow"] == ["alpha", "alphabet", "delta"]
    assert r["containsAlpha"] == ["alpha", "alphabet"]
    assert r["withContent"] == ["alpha", "alphabet", "beta", "delta", "gamma"]
    assert r["notContainsA"] == ["alpha", "alphabet", "gamma"]
    assert r["betweenBD"] == ["beta", "delta"]
    assert r["doneAndHigh"] == ["alpha"]


def test_pagination_with_next_token_through_250_items(server: Server) -> None:
    r = run_scenario(server, "paginate", timeout=240)
    assert r["total100"] == r["unique100"] == 250
    assert r["pageSizes100"][:2] == [100, 100]
    assert sum(r["pageSizes100"]) == 250
    assert r["defaultTotal"] == r["defaultUnique"] == 250  # default limit 100, pages followed
    assert r["doneUnique"] == 125
    assert all(size <= 30 for size in r["donePageSizes"])
    assert r["allDone"] is True


def test_errors_come_back_in_the_errors_array(server: Server) -> None:
    r = run_scenario(server, "errors")
    for key in ("missingUpdate", "missingDelete"):
        assert r[key]["data"] is None
        assert r[key]["errors"][0]["errorType"] == "DynamoDB:ConditionalCheckFailedException"
    unknown = r["unknownField"]
    assert "rejected" in unknown, unknown
    assert any("nope" in e["message"] for e in unknown["rejected"])
    missing = r["missingVariable"]
    assert "rejected" in missing, missing
    assert "$id" in missing["rejected"][0]["message"]
    assert r["badFilter"]["errors"], r["badFilter"]
    assert r["badKey"]["data"] == []
    assert r["badKey"]["errors"][0]["message"] == "Unauthorized"


def test_composite_identifier_model(server: Server) -> None:
    r = run_scenario(server, "cpk")
    assert r["createErrors"] == []
    assert r["got"]["region"] == "us-east"
    assert r["got"]["tags"] == ["a", "us-east"]
    assert r["updated"]["title"] == "renamed"
    assert r["asc"] == ["ap-south", "eu-west", "us-east", "us-west"]
    assert r["desc"] == ["us-west", "us-east", "eu-west", "ap-south"]
    assert r["us"] == ["us-west", "us-east"]
    assert r["between"] == ["eu-west", "us-east"]
    assert r["duplicate"]["data"] is None
    assert r["duplicate"]["errors"][0]["errorType"] == "DynamoDB:ConditionalCheckFailedException"
    assert r["deleted"]["region"] == "ap-south"
    assert r["afterDelete"] == ["eu-west", "us-east", "us-west"]


def test_secondary_index_with_sort_key_and_sort_direction(server: Server) -> None:
    r = run_scenario(server, "index")
    assert r["errors"] == []
    assert r["asc"] == ["Alice", "Bob", "Max", "Mia", "Mona", "Zed"]
    assert r["desc"] == ["Zed", "Mona", "Mia", "Max", "Bob", "Alice"]
    assert r["mDesc"] == ["Mona", "Mia", "Max"]
    assert r["gtMax"] == ["Mia", "Mona", "Zed"]
    assert r["containsO"] == ["Bob", "Mona"]
    assert [name for page in r["pagedDesc"] for name in page] == r["desc"]
    assert all(len(page) <= 4 for page in r["pagedDesc"])


def test_relations_lazy_loaders_and_nested_selection_sets(server: Server) -> None:
    r = run_scenario(server, "relations")
    assert r["members"] == ["ann", "ben", "cat"]
    assert r["memberErrors"] == []
    assert r["parent"].startswith("team ")
    assert r["lonerTeam"] is None
    assert r["nested"]["members"] == ["ann", "ben", "cat"]
    assert r["nestedErrors"] == []
    team = r["parent"]
    assert r["viaBelongsTo"] == [f"ann@{team}", f"ben@{team}", f"cat@{team}"]


def test_subscription_with_filter_delivers_only_matching_creates(server: Server) -> None:
    r = run_scenario(server, "subscribe")
    assert len(r["received"]) == 1
    event = r["received"][0]
    assert event["id"] == r["createdId"]
    assert event["content"].endswith(" match")
    assert event["priority"] == "LOW"
    assert "Connected" in r["states"]


def test_on_update_and_on_delete_deliver_the_changed_records(server: Server) -> None:
    r = run_scenario(server, "updateDelete")
    assert r["events"] == [
        {"kind": "update", "id": r["id"], "isDone": True},
        {"kind": "delete", "id": r["id"], "isDone": True},
    ]


def test_observe_query_syncs_then_follows_create_update_delete(server: Server) -> None:
    r = run_scenario(server, "observe")
    assert r["synced"] == ["seed 0", "seed 1", "seed 2"]
    assert r["final"] == ["seed 0", "seed 1", "seed 2"]
    assert r["snapshotCount"] >= 4


def test_http_url_serves_posts_in_plain_http_and_subscriptions_over_wss(plain_http_server: Server) -> None:
    outputs = json.loads(plain_http_server.outputs.read_text())
    assert outputs["data"]["url"].startswith("http://")
    crud = run_scenario(plain_http_server, "crud")
    assert crud["got"] == crud["created"]
    sub = run_scenario(plain_http_server, "subscribe")
    assert [e["id"] for e in sub["received"]] == [sub["createdId"]]
