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
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from tests.interop.harness import HERE, NODE, Server, node_major, skip_without_node, start_server, stop

pytestmark = pytest.mark.interop

SCHEMA = HERE / "schema.graphql"

skip_without_node()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("interop"), SCHEMA)
    try:
        yield srv
    finally:
        stop(srv.process)


@pytest.fixture(scope="module")
def plain_http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``data.url`` is ``http://``: POSTs go in plain HTTP, the client still opens ``wss://``."""
    srv = start_server(tmp_path_factory.mktemp("interop-http"), SCHEMA, plain_http=True)
    try:
        yield srv
    finally:
        stop(srv.process)


def run_scenario(server: Server, name: str, timeout: float = 120) -> Any:
    assert NODE is not None
    command = [NODE]
    if node_major() < 22:
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
