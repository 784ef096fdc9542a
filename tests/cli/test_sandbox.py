"""``ampbase sandbox`` as a user runs it: a subprocess serving TLS, reloading on schema changes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import ampbase.cli.sandbox
from ampbase.cli.main import main

TODO_SCHEMA = """
type Todo @model @auth(rules: [{allow: public}]) {
  content: String
}
"""
WITH_NOTE = (
    TODO_SCHEMA
    + """
type Note @model @auth(rules: [{allow: public}]) {
  body: String!
}
"""
)


@dataclass
class Sandbox:
    cwd: Path
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/graphql"

    @property
    def ca(self) -> Path:
        return self.cwd / ".ampbase" / "tls" / "ca.pem"

    @property
    def outputs(self) -> Path:
        return self.cwd / "amplify_outputs.json"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        key = json.loads(self.outputs.read_text())["data"]["api_key"]
        with httpx.Client(verify=ssl.create_default_context(cafile=str(self.ca))) as http:
            response = http.post(
                self.url, json={"query": query, "variables": variables or {}}, headers={"x-api-key": key}
            )
        assert response.status_code == 200, response.text
        return response.json()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait(condition: Callable[[], bool], sandbox: Sandbox, what: str, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sandbox.process.poll() is not None:
            pytest.fail(f"sandbox exited while waiting for {what}:\n{sandbox.output()}")
        try:
            if condition():
                return
        except (OSError, ValueError, httpx.HTTPError):
            pass
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}:\n{sandbox.output()}")


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    schema_dir = tmp_path / "amplify" / "data"
    schema_dir.mkdir(parents=True)
    (schema_dir / "schema.graphql").write_text(TODO_SCHEMA)
    port = _free_port()
    log = tmp_path / "sandbox.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMPBASE_")}
    command = [
        sys.executable,
        "-m",
        "ampbase.cli.main",
        "sandbox",
        "amplify/data/schema.graphql",
        "--port",
        str(port),
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, env=env)
    box = Sandbox(tmp_path, port, process, log)
    try:
        _wait(lambda: "Press Ctrl-C" in box.output(), box, "the sandbox banner")
        yield box
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()


def _models(sandbox: Sandbox) -> set[str]:
    return set(json.loads(sandbox.outputs.read_text())["data"]["model_introspection"]["models"])


def test_sandbox_serves_tls_writes_outputs_and_prints_the_trust_hint(sandbox: Sandbox) -> None:
    outputs = json.loads(sandbox.outputs.read_text())
    assert outputs["data"]["url"] == sandbox.url
    assert outputs["data"]["api_key"].startswith("da2-")
    banner = sandbox.output()
    assert outputs["data"]["api_key"] in banner
    assert sandbox.url in banner
    assert f"NODE_EXTRA_CA_CERTS={sandbox.ca.resolve()}" in banner
    assert (sandbox.cwd / ".ampbase" / "sandbox.db").exists()
    created = sandbox.graphql('mutation { createTodo(input: {content: "hi"}) { id content } }')
    assert created["data"]["createTodo"]["content"] == "hi"


def test_schema_change_reloads_the_api_and_keeps_data(sandbox: Sandbox) -> None:
    sandbox.graphql('mutation { createTodo(input: {content: "kept"}) { id } }')
    (sandbox.cwd / "amplify" / "data" / "schema.graphql").write_text(WITH_NOTE)
    _wait(lambda: "Note" in _models(sandbox), sandbox, "the reload")
    note = sandbox.graphql('mutation { createNote(input: {body: "new"}) { id body } }')
    assert note["data"]["createNote"]["body"] == "new"
    todos = sandbox.graphql("{ listTodos { items { content } } }")
    assert [t["content"] for t in todos["data"]["listTodos"]["items"]] == ["kept"]


def test_broken_schema_keeps_the_previous_one_in_service(sandbox: Sandbox) -> None:
    (sandbox.cwd / "amplify" / "data" / "schema.graphql").write_text(
        "type Todo @model {\n  content: Nope\n}\n"
    )
    _wait(lambda: "still serving the previous schema" in sandbox.output(), sandbox, "the schema error")
    assert "Nope" in sandbox.output()
    assert "Traceback" not in sandbox.output()
    listed = sandbox.graphql("{ listTodos { items { id } } }")
    assert listed["data"]["listTodos"]["items"] == []
    assert _models(sandbox) == {"Todo"}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_the_sandbox_cleanly(sandbox: Sandbox, sig: signal.Signals) -> None:
    os.kill(sandbox.process.pid, sig)
    assert sandbox.process.wait(timeout=20) == 0
    assert "stopped" in sandbox.output()


def test_key_created_with_the_cli_is_accepted_at_once(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "create", "--db", str(sandbox.cwd / ".ampbase" / "sandbox.db")]) == 0
    key = capsys.readouterr().out.strip()
    query = {"query": "{ listTodos { items { id } } }", "variables": {}}
    with httpx.Client(verify=ssl.create_default_context(cafile=str(sandbox.ca))) as http:
        accepted = http.post(sandbox.url, json=query, headers={"x-api-key": key})
        refused = http.post(sandbox.url, json=query, headers={"x-api-key": key + "x"})
    assert accepted.status_code == 200
    assert accepted.json() == {"data": {"listTodos": {"items": []}}}
    assert refused.status_code == 401


def test_the_configured_region_is_written_and_kept_across_reloads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process (no HTTP server): the stand-in for ``serve_app`` changes the schema and waits for
    the watcher to rewrite amplify_outputs.json, then returns as if stopped."""
    for name in list(os.environ):
        if name.startswith("AMPBASE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AMPBASE_AWS_REGION", "eu-south-1")
    monkeypatch.chdir(tmp_path)
    schema = tmp_path / "amplify" / "data" / "schema.graphql"
    schema.parent.mkdir(parents=True)
    schema.write_text(TODO_SCHEMA)
    outputs = tmp_path / "amplify_outputs.json"
    seen: list[dict[str, Any]] = []

    async def serve_app(app: Any, settings: Any, *, on_started: Any = None, **_: Any) -> None:
        seen.append(json.loads(outputs.read_text())["data"])
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            schema.write_text(WITH_NOTE)  # again and again: the watcher may not be watching yet
            await asyncio.sleep(0.5)
            data = json.loads(outputs.read_text())["data"]
            if "Note" in data["model_introspection"]["models"]:
                seen.append(data)
                return
        pytest.fail("the sandbox did not rewrite amplify_outputs.json after the schema change")

    monkeypatch.setattr(ampbase.cli.sandbox, "serve_app", serve_app)
    assert main(["sandbox", "amplify/data/schema.graphql"]) == 0
    assert [d["aws_region"] for d in seen] == ["eu-south-1", "eu-south-1"]
    assert set(seen[1]["model_introspection"]["models"]) == {"Todo", "Note"}
