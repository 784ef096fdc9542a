"""The 6.5.x real-time handshake with the real aws-amplify 6.5.4 client against `ampbase serve`.

That client (installed as the npm alias ``aws-amplify-65``) puts the connection auth in the
``header`` query parameter with ``payload=e30=``; ``legacy.mjs`` subscribes onCreate through it
and receives an event. Needs ``node`` 20+ and ``npm ci`` in tests/interop; skipped otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.interop.harness import HERE, Server, run_node, skip_without_node, start_server, stop

pytestmark = pytest.mark.interop

skip_without_node()
if not (HERE / "node_modules" / "aws-amplify-65").is_dir():
    pytest.skip("aws-amplify-65 is not installed: run `npm ci` in tests/interop", allow_module_level=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("interop-legacy"), HERE / "schema.graphql")
    try:
        yield srv
    finally:
        stop(srv.process)


def test_legacy_client_subscribes_through_the_query_string_handshake(server: Server) -> None:
    r = run_node(server, HERE / "legacy.mjs", "onCreate")
    assert r["payloadParam"] == "e30="
    assert "x-api-key" in r["headerKeys"] and "host" in r["headerKeys"]
    assert r["createErrors"] == [] and r["errors"] == []
    assert len(r["seen"]) == 1 and r["seen"][0].endswith(" legacy")
