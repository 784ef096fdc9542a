"""A standard ``graphql-transport-ws`` client (the graphql-ws npm package) against `ampbase serve`.

``graphql_ws_client.mjs`` connects over ``wss://`` (Node's WebSocket, the test CA through
``NODE_EXTRA_CA_CERTS``) with the API key in ``connectionParams``, subscribes to onCreateTodo
and receives an event; a wrong key is refused with close code 4403. Needs ``node`` 20+ and
``npm ci`` in tests/interop; skipped otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.interop.harness import HERE, Server, run_node, skip_without_node, start_server, stop

pytestmark = pytest.mark.interop

skip_without_node()
if not (HERE / "node_modules" / "graphql-ws").is_dir():
    pytest.skip("graphql-ws is not installed: run `npm ci` in tests/interop", allow_module_level=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("interop-graphql-ws"), HERE / "schema.graphql")
    try:
        yield srv
    finally:
        stop(srv.process)


def test_graphql_ws_client_receives_on_create(server: Server) -> None:
    r = run_node(server, HERE / "graphql_ws_client.mjs", "onCreate")
    assert r["started"] is True
    assert r["errors"] == [] and r["createErrors"] == []
    assert len(r["seen"]) == 1 and r["seen"][0].endswith(" via graphql-ws")


def test_graphql_ws_client_with_a_wrong_key_is_refused(server: Server) -> None:
    r = run_node(server, HERE / "graphql_ws_client.mjs", "badKey")
    assert r["closes"] == [4403]
