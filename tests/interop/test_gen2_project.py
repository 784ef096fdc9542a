"""The real aws-amplify JS client against ``ampbase serve`` of an Amplify Gen 2 project root.

The project is made in a temporary folder: ``amplify/data/resource.ts`` (a Todo model with
``allow.publicApiKey()`` and a custom query served by a ``defineFunction`` Lambda),
``amplify/data/handlers.py`` (the Python stand-in for that Lambda) and ``node_modules`` linked
to ``tests/fixtures/gen2-project/node_modules``. ``ampbase serve <project root>`` reads
``resource.ts`` with node; ``gen2_project.mjs`` creates, lists and calls the custom query.
Needs node and the packages of ``make interop-deps``; skipped otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from tests.interop.harness import HERE, Server, run_node, skip_without_node, start_server, stop

pytestmark = pytest.mark.interop

skip_without_node()
GEN2_NODE_MODULES = HERE.parent / "fixtures" / "gen2-project" / "node_modules"
if (
    not (GEN2_NODE_MODULES / "@aws-amplify" / "data-schema").is_dir()
    or not (GEN2_NODE_MODULES / "tsx").is_dir()
):
    pytest.skip(
        "tests/fixtures/gen2-project/node_modules is missing: run `make interop-deps`",
        allow_module_level=True,
    )

RESOURCE_TS = """\
import { type ClientSchema, a, defineData, defineFunction } from '@aws-amplify/backend';

const shout = defineFunction({ name: 'shout', entry: './shout/handler.ts' });

const schema = a.schema({
  Todo: a
    .model({ content: a.string(), isDone: a.boolean() })
    .authorization((allow) => [allow.publicApiKey()]),
  shout: a
    .query()
    .arguments({ text: a.string().required() })
    .returns(a.string())
    .authorization((allow) => [allow.publicApiKey()])
    .handler(a.handler.function(shout)),
});

export type Schema = ClientSchema<typeof schema>;

export const data = defineData({
  schema,
  authorizationModes: { defaultAuthorizationMode: 'apiKey', apiKeyAuthorizationMode: { expiresInDays: 30 } },
});
"""

HANDLERS_PY = """\
def shout(event):
    return event["arguments"]["text"].upper() + "!"


handlers = {"shout": shout}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("gen2-interop")
    project = tmp / "app"
    (project / "amplify" / "data").mkdir(parents=True)
    (project / "package.json").write_text('{"name": "app", "private": true}\n', encoding="utf-8")
    (project / "amplify" / "package.json").write_text('{"type": "module"}\n', encoding="utf-8")
    (project / "amplify" / "data" / "resource.ts").write_text(RESOURCE_TS, encoding="utf-8")
    (project / "amplify" / "data" / "handlers.py").write_text(HANDLERS_PY, encoding="utf-8")
    (project / "node_modules").symlink_to(GEN2_NODE_MODULES, target_is_directory=True)
    srv = start_server(tmp, project)
    try:
        yield srv
    finally:
        stop(srv.process)


def test_the_js_client_creates_and_lists_against_a_served_gen2_project(server: Server) -> None:
    outputs = json.loads(server.outputs.read_text(encoding="utf-8"))
    assert outputs["data"]["default_authorization_type"] == "API_KEY"
    assert set(outputs["data"]["model_introspection"]["models"]) == {"Todo"}
    assert "shout" in outputs["data"]["model_introspection"]["queries"]

    r = run_node(server, HERE / "gen2_project.mjs", "create-list")
    assert r["createErrors"] == []
    assert r["created"]["content"] == "from a Gen 2 project"
    assert r["created"]["isDone"] is False
    assert r["listErrors"] == []
    assert [t["id"] for t in r["listed"]] == [r["created"]["id"]]
    assert r["shoutErrors"] == []
    assert r["shouted"] == "HELLO!"
