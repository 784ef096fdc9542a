"""``ampbase sandbox`` at the root of an Amplify Gen 2 project (``amplify/data/resource.ts``).

The sandbox picks up ``resource.ts`` by itself, writes ``amplify_outputs.json`` at the project root
(a cloud one is kept aside as ``amplify_outputs.cloud.json`` and put back on exit), and reloads when
anything under ``amplify/`` changes, keeping data. Needs node and the Gen 2 fixture packages in
``tests/fixtures/gen2-project/node_modules`` (``make interop-deps``); skipped otherwise.
"""

from __future__ import annotations

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

from ampbase.cli.main import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NODE_MODULES = FIXTURES / "gen2-project" / "node_modules"
RESOURCE_TS = (FIXTURES / "oracle" / "gen2-todo-apikey" / "input.ts").read_text(encoding="utf-8")
WITH_NOTE = RESOURCE_TS.replace(
    "const schema = a.schema({\n",
    "const schema = a.schema({\n"
    "  Note: a.model({ body: a.string().required() }).authorization((allow) => [allow.publicApiKey()]),\n",
)
CLOUD = {"version": "1.4", "data": {"url": "https://abc.appsync-api.us-east-1.amazonaws.com/graphql"}}

needs_gen2_packages = pytest.mark.skipif(
    not (NODE_MODULES / "@aws-amplify" / "data-schema").is_dir() or not (NODE_MODULES / "tsx").is_dir(),
    reason="needs node and tests/fixtures/gen2-project/node_modules (make interop-deps)",
)


@dataclass
class Sandbox:
    root: Path
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/graphql"

    @property
    def outputs(self) -> Path:
        return self.root / "amplify_outputs.json"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def graphql(self, query: str) -> Any:
        key = json.loads(self.outputs.read_text())["data"]["api_key"]
        ca = self.root / ".ampbase" / "tls" / "ca.pem"
        with httpx.Client(verify=ssl.create_default_context(cafile=str(ca))) as http:
            response = http.post(self.url, json={"query": query}, headers={"x-api-key": key})
        assert response.status_code == 200, response.text
        return response.json()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait(condition: Callable[[], bool], sandbox: Sandbox, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sandbox.process.poll() is not None:
            pytest.fail(f"sandbox exited while waiting for {what}:\n{sandbox.output()}")
        try:
            if condition():
                return
        except (OSError, ValueError, KeyError, httpx.HTTPError):
            pass
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}:\n{sandbox.output()}")


def _stop(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
    return process.returncode


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    root = tmp_path / "app"
    (root / "amplify" / "data").mkdir(parents=True)
    (root / "package.json").write_text('{"name": "app", "private": true}\n', encoding="utf-8")
    (root / "amplify" / "package.json").write_text('{"type": "module"}\n', encoding="utf-8")
    (root / "amplify" / "data" / "resource.ts").write_text(RESOURCE_TS, encoding="utf-8")
    (root / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
    (root / "amplify_outputs.json").write_text(json.dumps(CLOUD), encoding="utf-8")
    port = _free_port()
    log = tmp_path / "sandbox.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMPBASE_")}
    command = [sys.executable, "-m", "ampbase.cli.main", "sandbox", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=root, stdout=out, stderr=subprocess.STDOUT, env=env)
    box = Sandbox(root, port, process, log)
    try:
        _wait(lambda: "Press Ctrl-C" in box.output(), box, "the sandbox banner")
        yield box
    finally:
        _stop(process)


def _models(sandbox: Sandbox) -> set[str]:
    return set(json.loads(sandbox.outputs.read_text())["data"]["model_introspection"]["models"])


@needs_gen2_packages
def test_sandbox_serves_resource_ts_and_puts_the_cloud_outputs_back_on_exit(sandbox: Sandbox) -> None:
    assert "amplify/data/resource.ts" in sandbox.output()
    outputs = json.loads(sandbox.outputs.read_text())
    assert outputs["data"]["url"] == sandbox.url
    assert outputs["data"]["default_authorization_type"] == "API_KEY"
    assert json.loads((sandbox.root / "amplify_outputs.cloud.json").read_text()) == CLOUD
    created = sandbox.graphql('mutation { createTodo(input: {content: "hi"}) { id content } }')
    assert created["data"]["createTodo"]["content"] == "hi"

    assert _stop(sandbox.process) == 0
    assert json.loads(sandbox.outputs.read_text()) == CLOUD
    assert not (sandbox.root / "amplify_outputs.cloud.json").exists()


@needs_gen2_packages
def test_editing_resource_ts_reloads_the_api_and_keeps_data(sandbox: Sandbox) -> None:
    sandbox.graphql('mutation { createTodo(input: {content: "kept"}) { id } }')
    (sandbox.root / "amplify" / "data" / "resource.ts").write_text(WITH_NOTE, encoding="utf-8")
    _wait(lambda: "Note" in _models(sandbox), sandbox, "the reload")
    note = sandbox.graphql('mutation { createNote(input: {body: "new"}) { id body } }')
    assert note["data"]["createNote"]["body"] == "new"
    todos = sandbox.graphql("{ listTodos { items { content } } }")
    assert [t["content"] for t in todos["data"]["listTodos"]["items"]] == ["kept"]


@needs_gen2_packages
def test_a_broken_resource_ts_keeps_the_previous_schema(sandbox: Sandbox) -> None:
    (sandbox.root / "amplify" / "data" / "resource.ts").write_text(
        RESOURCE_TS + "\nthrow new Error('oops in resource');\n", encoding="utf-8"
    )
    _wait(lambda: "still serving the previous schema" in sandbox.output(), sandbox, "the schema error")
    assert "oops in resource" in sandbox.output()
    listed = sandbox.graphql("{ listTodos { items { id } } }")
    assert listed["data"]["listTodos"]["items"] == []


def test_restore_outputs_puts_the_cloud_file_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "amplify" / "data").mkdir(parents=True)
    (tmp_path / "amplify" / "data" / "resource.ts").write_text(RESOURCE_TS, encoding="utf-8")
    (tmp_path / "amplify_outputs.cloud.json").write_text(json.dumps(CLOUD), encoding="utf-8")
    (tmp_path / "amplify_outputs.json").write_text('{"data": {"url": "https://127.0.0.1:4443/graphql"}}')
    monkeypatch.chdir(tmp_path)
    assert main(["sandbox", "--restore-outputs"]) == 0
    assert json.loads((tmp_path / "amplify_outputs.json").read_text()) == CLOUD
    assert not (tmp_path / "amplify_outputs.cloud.json").exists()
    assert "restored" in capsys.readouterr().out
    assert main(["sandbox", "--restore-outputs"]) == 0
    assert "nothing to restore" in capsys.readouterr().out
    assert json.loads((tmp_path / "amplify_outputs.json").read_text()) == CLOUD
