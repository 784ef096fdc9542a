"""Mixed auth modes with the real aws-amplify JS client (6.22.1) against `ampbase serve`.

``realtime_modes.mjs`` holds the scenarios: an apiKey and a userPool subscription on one socket
both receive a create, and per-request ``authMode``/``authToken`` on create and list. The
user-pool token comes from ``ampbase token`` through a custom ``tokenProvider``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from tests.interop.harness import HERE, Server, run_node, skip_without_node, start_server, stop

pytestmark = pytest.mark.interop

skip_without_node()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("interop-modes"), HERE / "modes.graphql")
    try:
        yield srv
    finally:
        stop(srv.process)


def _token(server: Server, username: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMPBASE_")}
    state = str(server.outputs.parent / "state")
    command = [
        sys.executable,
        "-m",
        "ampbase.cli.main",
        "token",
        "--state-dir",
        state,
        "--username",
        username,
    ]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout.strip()


def run(server: Server, scenario: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("TOKEN_ALICE", _token(server, "alice"))
    return run_node(server, HERE / "realtime_modes.mjs", scenario)


def test_api_key_and_user_pool_subscriptions_share_one_socket(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = run(server, "twoModes", monkeypatch)
    assert r["errors"] == [] and r["createErrors"] == []
    assert r["owner"] == "alice"
    assert len(r["viaKey"]) == 1 and r["viaKey"] == r["viaPool"]
    assert r["sockets"] == 1


def test_per_request_auth_mode_and_token(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    r = run(server, "perRequest", monkeypatch)
    assert r["createErrors"] == [] and r["created"]["owner"] == "alice"
    assert r["poolErrors"] == [] and r["keyErrors"] == [] and r["keyCreateErrors"] == []
    token_row = r["created"]["content"]
    assert r["poolSees"] == [token_row]
    assert sorted(r["keySees"]) == [token_row]
