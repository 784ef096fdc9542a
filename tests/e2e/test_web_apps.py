"""The example web apps and the admin console in a real browser, against a real ampbase server.

Each module-scoped fixture starts ``ampbase sandbox`` (TLS from its own local CA) on a free
127.0.0.1 port; the apps in ``examples/`` are built with Vite against the ``amplify_outputs.json``
it writes and served by a small static server; ``scenarios.mjs`` drives Debian's Chromium with
playwright-core. Chromium trusts exactly the sandbox's server key
(``--ignore-certificate-errors-spki-list``), the browser-side equivalent of trusting the local CA.
Screenshots of every step land in ``tests/artifacts/e2e/``.

Needs ``node`` 20+, ``/usr/bin/chromium`` and ``make interop-deps`` (the npm installs of
``tests/e2e`` and the example apps); skipped with a reason otherwise.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import http.server
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

pytestmark = pytest.mark.e2e

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts" / "e2e"
VUE_APP = ROOT / "examples" / "vue-todo"
REACT_APP = ROOT / "examples" / "react-realestate"
TODO_SCHEMA = ROOT / "examples" / "todo" / "amplify" / "data" / "resource.py"
REALESTATE_SCHEMA = REACT_APP / "amplify" / "data" / "resource.py"
NODE = shutil.which("node")
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


def _missing() -> str | None:
    if NODE is None:
        return "node is not installed: the e2e suite needs Node 20+"
    if CHROMIUM is None:
        return "chromium is not installed (apt-get install -y chromium)"
    for folder, package in (
        (HERE, "playwright-core"),
        (HERE, "axe-core"),
        (VUE_APP, "vite"),
        (REACT_APP, "vite"),
    ):
        if not (folder / "node_modules" / package).is_dir():
            return f"{folder.relative_to(ROOT)}/node_modules is missing: run `make interop-deps`"
    return None


if (_reason := _missing()) is not None:
    pytest.skip(_reason, allow_module_level=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Sandbox:
    """``ampbase sandbox SCHEMA`` in a subprocess on a free port, stopped by pid."""

    def __init__(self, schema: Path, tmp: Path) -> None:
        self.schema = schema
        self.tmp = tmp
        self.port = _free_port()
        self.outputs = tmp / "amplify_outputs.json"
        self.log = tmp / "sandbox.log"
        self.ca = tmp / ".ampbase" / "tls" / "ca.pem"
        self.server_cert = tmp / ".ampbase" / "tls" / "server.pem"
        self.url = f"https://127.0.0.1:{self.port}/graphql"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "ampbase.cli.main",
            "sandbox",
            str(self.schema),
            "--port",
            str(self.port),
            "--outputs",
            str(self.outputs),
            "--db",
            str(self.tmp / "sandbox.db"),
            "--no-watch",
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AMPBASE_")}
        env["PYTHONUNBUFFERED"] = "1"
        with self.log.open("ab") as log_file:
            self.process = subprocess.Popen(
                command, stdout=log_file, stderr=subprocess.STDOUT, env=env, cwd=self.tmp
            )
        self._wait_healthy()

    def _wait_healthy(self, timeout: float = 60.0) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ampbase sandbox exited early:\n{self.log_text()}")
            if self.ca.exists() and self.outputs.exists():
                try:
                    with httpx.Client(verify=ssl.create_default_context(cafile=str(self.ca))) as http:
                        if http.get(self.url.replace("/graphql", "/health"), timeout=2).status_code == 200:
                            return
                except (httpx.HTTPError, ssl.SSLError, OSError):
                    pass
            time.sleep(0.1)
        raise RuntimeError(f"ampbase sandbox did not become healthy:\n{self.log_text()}")

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

    @property
    def api_key(self) -> str:
        key: str = json.loads(self.outputs.read_text())["data"]["api_key"]
        return key

    @property
    def console_token(self) -> str:
        match = re.search(r"/console/#token=(\S+)", self.log_text())
        if match is None:
            raise AssertionError(f"the sandbox printed no console link:\n{self.log_text()}")
        return match.group(1)

    @property
    def spki(self) -> str:
        """base64(SHA-256(SubjectPublicKeyInfo)) of the server certificate, for Chromium's pin list."""
        cert = x509.load_pem_x509_certificate(self.server_cert.read_bytes())
        der = cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(hashlib.sha256(der).digest()).decode()

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        with httpx.Client(verify=ssl.create_default_context(cafile=str(self.ca))) as http:
            response = http.post(
                self.url,
                json={"query": query, "variables": variables or {}},
                headers={"x-api-key": self.api_key},
                timeout=10,
            )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class StaticSite:
    """A built app served from 127.0.0.1 on a free port (a thread in this process)."""

    def __init__(self, directory: Path) -> None:
        handler = functools.partial(_QuietHandler, directory=str(directory))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def build_app(app: Path, outputs: Path, out_dir: Path) -> Path:
    """``vite build`` of an example app against ``outputs`` (the AMPLIFY_OUTPUTS hook in vite.config.js)."""
    assert NODE is not None
    result = subprocess.run(
        [NODE, str(app / "node_modules" / "vite" / "bin" / "vite.js"), "build", "--outDir", str(out_dir)],
        cwd=app,
        env={**os.environ, "AMPLIFY_OUTPUTS": str(outputs)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, f"vite build of {app.name} failed:\n{result.stdout}\n{result.stderr}"
    assert (out_dir / "index.html").is_file()
    return out_dir


def run_scenario(name: str, sandbox: Sandbox, **config: Any) -> dict[str, Any]:
    assert NODE is not None and CHROMIUM is not None
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    full = {
        "chromium": CHROMIUM,
        "spki": sandbox.spki,
        "graphqlUrl": sandbox.url,
        "apiKey": sandbox.api_key,
        "artifacts": str(ARTIFACTS),
        **config,
    }
    env = {**os.environ, "NODE_EXTRA_CA_CERTS": str(sandbox.ca), "NODE_NO_WARNINGS": "1"}
    proc = subprocess.run(
        [NODE, str(HERE / "scenarios.mjs"), name, json.dumps(full)],
        cwd=HERE,
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert proc.returncode == 0, (
        f"scenario {name} failed (screenshots in {ARTIFACTS}):\n{proc.stdout}\n{proc.stderr}\n"
        f"--- server log ---\n{sandbox.log_text()}"
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith('{"scenario"')]
    assert lines, proc.stdout
    result: dict[str, Any] = json.loads(lines[-1])["result"]
    return result


@pytest.fixture(scope="module")
def todo_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sandbox = Sandbox(TODO_SCHEMA, tmp_path_factory.mktemp("e2e-todo"))
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture(scope="module")
def realestate_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sandbox = Sandbox(REALESTATE_SCHEMA, tmp_path_factory.mktemp("e2e-realestate"))
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture(scope="module")
def vue_site(todo_sandbox: Sandbox) -> Iterator[StaticSite]:
    site = StaticSite(build_app(VUE_APP, todo_sandbox.outputs, todo_sandbox.tmp / "vue-dist"))
    try:
        yield site
    finally:
        site.close()


@pytest.fixture(scope="module")
def react_site(realestate_sandbox: Sandbox) -> Iterator[StaticSite]:
    site = StaticSite(build_app(REACT_APP, realestate_sandbox.outputs, realestate_sandbox.tmp / "react-dist"))
    try:
        yield site
    finally:
        site.close()


def test_vue_todo_created_on_one_page_appears_on_another_without_reload(
    todo_sandbox: Sandbox, vue_site: StaticSite
) -> None:
    result = run_scenario("vue-live", todo_sandbox, appUrl=vue_site.url)

    assert result["noReload"] is True
    assert result["errors"] == []
    assert result["a11y"] == []
    # it was created, updated and deleted through the app; the server agrees it is gone
    listed = todo_sandbox.graphql("query { listTodos(limit: 1000) { items { content } } }")
    assert result["content"] not in [t["content"] for t in listed["data"]["listTodos"]["items"]]
    assert result["content"] not in " ".join(result["bItems"])


def test_react_optimistic_create_shows_at_once_and_rolls_back_when_the_server_rejects_it(
    realestate_sandbox: Sandbox, react_site: StaticSite
) -> None:
    result = run_scenario("react-optimistic", realestate_sandbox, appUrl=react_site.url)

    assert result["heldRequests"] == 1
    assert result["optimisticShown"] is True
    assert "Invalid AWSEmail value: 'not-an-email'" in result["alert"]
    assert result["bad"] not in result["listAfter"]
    assert result["good"] in result["listAfter"]
    assert result["updatedAddress"].endswith(" Main St")
    assert result["errors"] == []
    assert result["a11y"] == []

    listed = realestate_sandbox.graphql(
        "query { listRealEstateProperties(limit: 1000) { items { name address contactEmail } } }"
    )
    by_name = {p["name"]: p for p in listed["data"]["listRealEstateProperties"]["items"]}
    assert result["bad"] not in by_name
    assert result["doomed"] not in by_name
    assert result["doomed"] not in result["listAfter"]
    assert by_name[result["good"]]["contactEmail"] == "agent@example.com"
    assert by_name[result["good"]]["address"] == result["updatedAddress"]


def test_console_lists_filters_edits_deletes_and_reflects_api_changes(realestate_sandbox: Sandbox) -> None:
    for n in range(1, 13):
        realestate_sandbox.graphql(
            "mutation ($input: CreateRealEstatePropertyInput!) "
            "{ createRealEstateProperty(input: $input) { id } }",
            {"input": {"name": f"Console Home {n:02d}", "address": f"{n} Console Rd"}},
        )
    console_url = f"https://127.0.0.1:{realestate_sandbox.port}/console/"

    result = run_scenario(
        "console", realestate_sandbox, consoleUrl=console_url, consoleToken=realestate_sandbox.console_token
    )

    assert result["firstPage"] == 10
    assert result["secondPage"] >= 2
    assert result["filtered"] == ["Console Home 10", "Console Home 11", "Console Home 12"]
    assert result["invalid"] == "true"
    assert result["focusedField"] == "field-id"  # the dialog opens with focus on its first field
    assert result["errors"] == []
    assert result["a11y"] == []
    names = [i["name"] for i in result["explorerResult"]["data"]["listRealEstateProperties"]["items"]]
    assert result["viaApi"] in names
    assert (
        "listRealEstateProperties(filter: $filter, limit: $limit, nextToken: $nextToken)"
        in result["generated"]
    )
    admin_items = result["adminResult"]["data"]["listRealEstateProperties"]["items"]
    assert {i["name"] for i in admin_items} == set(names)

    listed = realestate_sandbox.graphql(
        "query { listRealEstateProperties(limit: 1000) { items { name address contactEmail } } }"
    )
    by_name = {p["name"]: p for p in listed["data"]["listRealEstateProperties"]["items"]}
    assert "Console Home 11" not in by_name
    assert by_name["Console Home 10"]["address"] == "10 Edited Ave"
    assert by_name["Console Home 10"]["contactEmail"] == "agent@example.com"
    assert by_name[result["viaApi"]]["address"] == "100 Socket St"
