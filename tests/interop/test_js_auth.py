"""Owner / group rules with the real aws-amplify JS client signed in through ``ampbase token``.

The client gets its user-pool tokens from a custom ``tokenProvider`` (``docs/authorization.md``),
the server verifies them against the key in its state directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.interop.harness import NODE, Server, node_major, start_server, stop

pytestmark = pytest.mark.interop

HERE = Path(__file__).parent


def _ampbase(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMPBASE_")}
    proc = subprocess.run(
        [sys.executable, "-m", "ampbase.cli.main", *args], capture_output=True, text=True, env=env, check=True
    )
    return proc.stdout.strip()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("interop-auth")
    srv = start_server(tmp, HERE / "auth.graphql")
    try:
        yield srv
    finally:
        stop(srv.process)


def tokens(server: Server) -> dict[str, str]:
    state = str(Path(server.outputs).parent / "state")
    return {
        "TOKEN_ALICE": _ampbase("token", "--state-dir", state, "--username", "alice", "--sub", "A-SUB"),
        "TOKEN_BOB": _ampbase("token", "--state-dir", state, "--username", "bob"),
        "TOKEN_CAROL": _ampbase("token", "--state-dir", state, "--username", "carol", "--groups", "Admin"),
    }


def run(server: Server, scenario: str) -> Any:
    assert NODE is not None
    command = [NODE]
    if node_major() < 22:
        command.append("--experimental-websocket")
    command += [str(HERE / "auth.mjs"), scenario, "--outputs", str(server.outputs)]
    env = {**os.environ, **tokens(server), "NODE_EXTRA_CA_CERTS": str(server.ca), "NODE_NO_WARNINGS": "1"}
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=HERE, env=env)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        pytest.fail(f"{scenario}: no result\n{proc.stdout}\n{proc.stderr}\n{server.log_text()}")
    outcome = json.loads(lines[-1])
    if not outcome["ok"]:
        pytest.fail(f"{scenario}: {outcome['error']}\n{outcome.get('stack')}\n{server.log_text()}")
    return outcome["result"]


def test_outputs_default_to_user_pools(server: Server) -> None:
    data = json.loads(server.outputs.read_text())["data"]
    assert data["default_authorization_type"] == "AMAZON_COGNITO_USER_POOLS"


def test_owners_see_their_own_records_and_admins_all(server: Server) -> None:
    r = run(server, "owner")
    assert r["createErrors"] == []
    assert r["created"]["owner"] == "alice"
    assert r["aliceSees"] == ["alice"] and r["aliceListErrors"] == []
    assert r["bobGet"]["data"] is None
    assert r["bobGet"]["errors"] == [
        {"errorType": "Unauthorized", "message": "Not Authorized to access getTodo on type Query"}
    ]
    assert r["bobUpdate"]["errors"][0]["message"] == "Not Authorized to access updateTodo on type Mutation"
    assert r["carolSees"] == ["alice", "bob"]


def test_owner_subscriptions_receive_only_own_events(server: Server) -> None:
    r = run(server, "subscription")
    assert r["errors"] == []
    assert r["seen"] == ["from alice"]
