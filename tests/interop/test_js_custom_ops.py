"""Custom operations served by Python functions, called by the real aws-amplify JS client.

One server per module: ``ampbase serve tests/interop/custom_ops/resource.py`` (its
``handlers.py`` binds ``a.handler.function("shouter")``); each test runs a scenario of
``custom_ops.mjs``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.interop.harness import HERE, Server, run_node, skip_without_node, start_server, stop

pytestmark = pytest.mark.interop

skip_without_node()

SCRIPT = HERE / "custom_ops.mjs"
SCHEMA = HERE / "custom_ops" / "resource.py"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("custom-ops"), SCHEMA)
    try:
        yield srv
    finally:
        stop(srv.process)


def test_the_client_lists_every_custom_operation(server: Server) -> None:
    r = run_node(server, SCRIPT, "operations")
    assert r["names"] == {
        "queries": ["crash", "echo", "noteCount", "shout", "tags"],
        "mutations": ["fail", "publish"],
        "subscriptions": ["receive"],
    }
    assert r["statusValues"] == ["OPEN", "DONE"]


def test_custom_queries_return_custom_types_scalars_and_lists(server: Server) -> None:
    r = run_node(server, SCRIPT, "queries")
    assert r["echoErrors"] == []
    assert r["echo"]["content"] == "Echoing content: hello"
    assert isinstance(r["echo"]["executionDuration"], float)
    assert r["shout"] == "QUIET!"  # a.handler.function("shouter") bound by handlers.py
    assert r["tags"] == ["red", "green"]


def test_custom_mutation_takes_enum_and_custom_type_arguments_and_uses_the_data_client(
    server: Server,
) -> None:
    r = run_node(server, SCRIPT, "mutations")
    assert r["errors"] == []
    published = r["published"]
    assert {k: published[k] for k in ("channel", "text", "status", "at")} == {
        "channel": r["channel"],
        "text": "hi",
        "status": "DONE",
        "at": {"x": 1.5, "y": -2.0},
    }
    assert r["after"] == r["before"] + 1
    assert r["noteBody"] == f"{r['channel']}: hi"


def test_handler_errors_reach_the_client_with_their_type_and_crashes_do_not_leak(server: Server) -> None:
    r = run_node(server, SCRIPT, "errors")
    (failed,) = r["failed"]["errors"]
    assert failed == {"errorType": "QuotaExceeded", "message": "quota exceeded", "errorInfo": {"limit": 3}}
    (crashed,) = r["crashed"]["errors"]
    assert crashed["errorType"] == "InternalFailure"
    assert "hunter2" not in crashed["message"] and "request id" in crashed["message"]
    assert "hunter2" in server.log_text()  # logged for the operator, with the request id
    (bad,) = r["badEnum"]["errors"]
    assert r["badEnum"]["data"] is None and "LATER" in bad["message"]


def test_custom_subscription_receives_the_custom_mutations_results(server: Server) -> None:
    r = run_node(server, SCRIPT, "subscription")
    received = r["received"]
    assert [m["text"] for m in received] == ["one", "two"]
    assert all(m["channel"] == r["channel"] for m in received)
    assert received[0]["status"] == "OPEN" and received[1]["at"] == {"x": 3.0, "y": None}
