"""The client sends byte-for-byte the documents the real JS client sent (captured by the client study)
and maps the captured responses the way the JS client did."""

from __future__ import annotations

from typing import Any

import pytest

from ampbase.client.documents import model_operation, print_operation, selection_from_paths
from ampbase.client.introspection import parse_introspection
from ampbase.client.results import Record
from tests.client.app import REPO
from tests.client.conftest import Recorder, load_fixture, outputs


def outputs_with(mis_path: Any) -> dict[str, Any]:
    out = outputs()
    out["data"]["model_introspection"] = __import__("json").loads(mis_path.read_text())
    return out


pytestmark = pytest.mark.anyio

CAPTURES: dict[str, list[dict[str, Any]]] = load_fixture("captured_http.json")


def replay(scenario: str) -> Recorder:
    return Recorder([row["response"] for row in CAPTURES[scenario]])


def assert_sent_as_captured(recorder: Recorder, scenario: str, rows: slice = slice(None)) -> None:
    expected = [{"query": r["query"], "variables": r["variables"]} for r in CAPTURES[scenario][rows]]
    assert recorder.bodies[rows] == expected


async def test_crud_documents_and_results_match_the_js_client() -> None:
    rec = replay("crud")
    client = rec.client()
    todo = client.models.Todo
    created = await todo.create(
        content="buy milk", isDone=False, priority="HIGH", location={"lat": 1.5, "long": 2.5}
    )
    assert created.errors is None
    assert isinstance(created.data, Record)
    assert created.data["content"] == "buy milk"
    assert created.data.location == {"lat": 1.5, "long": 2.5}
    todo_id = created.data["id"]
    got = await todo.get(id=todo_id)
    assert got.data is not None and got.data["id"] == todo_id
    updated = await todo.update({"id": todo_id, "isDone": True, "createdAt": "ignored-readonly"})
    assert updated.data is not None and updated.data["isDone"] is True
    await todo.create(content="walk dog", isDone=False)
    await todo.create(content="water plants", isDone=True)
    page1 = await todo.list(filter={"isDone": {"eq": True}}, limit=1)
    assert len(page1.data) == 1 and page1.next_token == "eyJvZmZzZXQiOjF9"
    page2 = await todo.list(filter={"isDone": {"eq": True}}, limit=1, next_token=page1.next_token)
    assert page2.next_token is None
    deleted = await todo.delete(id=todo_id)
    assert deleted.data is not None and deleted.data["id"] == todo_id
    missing = await todo.get(id="does-not-exist")
    assert missing.data is None and missing.errors is None
    assert_sent_as_captured(rec, "crud")
    await client.close()


async def test_index_query_by_query_field_and_snake_case_alias() -> None:
    rec = replay("index")
    client = rec.client()
    customers = client.models.Customer
    for name in ("Zed", "Amy", "Max"):
        await customers.create(name=name, accountRepresentativeId="rep-1")
    await customers.create(name="Other", accountRepresentativeId="rep-2")
    page = await customers.list_customer_by_account_representative_id_and_name(
        accountRepresentativeId="rep-1", name={"beginsWith": "M"}, sort_direction="DESC", limit=10
    )
    assert [c["name"] for c in page.data] == ["Max"]
    second = await customers.listCustomerByAccountRepresentativeIdAndName(
        {"accountRepresentativeId": "rep-1"}, sort_direction="ASC"
    )
    assert len(second.data) == 3
    assert_sent_as_captured(rec, "index")
    assert customers.index_queries == ("listCustomerByAccountRepresentativeIdAndName",)


async def test_custom_identifier_documents() -> None:
    rec = replay("cpk")
    products = rec.client().models.Product
    await products.create(sku="SKU-1", region="eu", title="Widget", tags=["a", "b"])
    got = await products.get(sku="SKU-1", region="eu")
    assert got.data is not None and got.data["title"] == "Widget"
    await products.create(sku="SKU-1", region="us", title="Widget US")
    page = await products.list(sku="SKU-1", region={"beginsWith": "u"}, sort_direction="DESC")
    assert [p["region"] for p in page.data] == ["us"]
    await products.update(sku="SKU-1", region="eu", title="Widget v2")
    await products.delete(sku="SKU-1", region="eu")
    assert_sent_as_captured(rec, "cpk")


async def test_custom_selection_sets_return_plain_records_with_flattened_relations() -> None:
    rec = replay("selection")
    client = rec.client()
    team = (await client.models.Team.create(name="Sel")).data
    assert team is not None
    await client.models.Member.create(name="Cy", teamId=team["id"])
    with_members = await client.models.Team.get(id=team["id"], selection_set=["id", "name", "members.*"])
    assert with_members.data is not None
    assert isinstance(with_members.data["members"], list)
    assert with_members.data["members"][0]["name"] == "Cy"
    assert with_members.data.loaders == {}
    members = await client.models.Member.list(selection_set=["name", "team.name"])
    assert members.data[0]["team"] == {"name": "Sel"}
    todos = await client.models.Todo.list(selection_set=["id", "location.*"])
    assert todos.errors is None
    # The creates above used default selection sets; the three reads match the capture.
    assert_sent_as_captured(rec, "selection", slice(2, None))


async def test_lazy_loaders_send_filtered_lists_and_gets() -> None:
    rec = replay("relations")
    client = rec.client()
    team = (await client.models.Team.create(name="Core")).data
    assert team is not None
    ann = (await client.models.Member.create(name="Ann", teamId=team["id"])).data
    assert ann is not None
    await client.models.Member.create(name="Bob", team=team)  # a related record becomes teamId
    members = await team.members()
    assert [m["name"] for m in members.data] == ["Ann", "Bob"]
    parent = await ann.team()
    assert parent.data is not None and parent.data["name"] == "Core"
    paged = await team.load("members", limit=1)
    assert len(paged.data) == 1
    assert_sent_as_captured(rec, "relations")


async def test_has_one_loader_and_owner_field_in_default_selection() -> None:
    rec = replay("hasone")
    client = rec.client(mis_file="model-introspection-auth.json", auth_mode="userPool", auth_token="jwt")
    account = (await client.models.Account.create(email="a@example.com")).data
    assert account is not None
    await client.models.Profile.create(
        accountId=account["id"],
        born="1990-01-31",
        lastSeen="2024-05-01T10:00:00.000Z",
        meta='{"theme":"dark"}',
    )
    profile = await account.profile()
    assert profile.data is not None and profile.data["accountId"] == account["id"]
    await client.models.Note.create(body="mine")
    assert_sent_as_captured(rec, "hasone")
    assert [r.headers["authorization"] for r in rec.requests] == ["jwt"] * 4


async def test_disabled_operations_are_absent() -> None:
    client = Recorder().client(mis_file="model-introspection-auth.json")
    audit = client.models.AuditLog
    assert not hasattr(audit, "delete")
    assert not hasattr(audit, "on_create")
    assert hasattr(audit, "observe_query") and hasattr(audit, "update")
    assert "delete" not in dir(audit)


async def test_custom_operations_documents_and_results() -> None:
    rec = replay("custom")
    client = rec.client()
    echo = await client.queries.echo(content="hi")
    assert echo.data == "echo: hi"
    todo = (await client.models.Todo.create(content="x", priority="LOW")).data
    assert todo is not None
    by_priority = await client.queries.todos_by_priority(priority="LOW")
    assert by_priority.data and all(isinstance(t, Record) for t in by_priority.data)
    done = await client.mutations.markDone({"id": todo["id"]})
    assert done.data is not None and done.data["id"] == todo["id"]
    located = await client.queries.locate(where={"lat": 1.25, "long": 2.5}, tags=["x"])
    assert located.errors is None
    assert_sent_as_captured(rec, "custom")
    with pytest.raises(TypeError, match="echo requires arguments 'content'"):
        client.queries.echo()
    assert len(rec.requests) == 5


def test_custom_subscription_document_without_arguments() -> None:
    mis = parse_introspection(load_fixture("model-introspection.json"))
    from ampbase.client.documents import custom_operation

    op = custom_operation(mis, mis.subscriptions["onDone"], {})
    assert op.query.startswith("subscription {\n  onDone {\n    id\n")


def test_subscription_document_matches_capture() -> None:
    mis = parse_introspection(load_fixture("model-introspection.json"))
    op = model_operation(mis, mis.models["Todo"], "onCreate", {})
    assert op.query == (
        "subscription ($filter: ModelSubscriptionTodoFilterInput) {\n  onCreateTodo(filter: $filter) {\n"
        "    id\n    content\n    isDone\n    priority\n    location {\n      lat\n      long\n    }\n"
        "    createdAt\n    updatedAt\n  }\n}\n"
    )
    assert op.variables == {}
    filtered = model_operation(
        mis, mis.models["Todo"], "onCreate", {"filter": {"content": {"contains": "g"}}}
    )
    assert filtered.variables == {"filter": {"content": {"contains": "g"}}}


def test_bad_selection_paths_are_rejected_before_sending() -> None:
    mis = parse_introspection(load_fixture("model-introspection.json"))
    team = mis.models["Team"]
    with pytest.raises(ValueError, match="bogus is not a field of model Team"):
        selection_from_paths(mis, team, ["bogus"])
    with pytest.raises(ValueError, match="members must declare a wildcard"):
        selection_from_paths(mis, team, ["members"])
    with pytest.raises(ValueError, match="nope is not a field of model Member"):
        selection_from_paths(mis, team, ["members.nope"])


def test_long_argument_lists_are_broken_like_graphql_js() -> None:
    printed = print_operation("query", "f", {"a": "Int", "b": "Int"}, None)
    assert printed == "query ($a: Int, $b: Int) {\n  f(a: $a, b: $b)\n}\n"
    long = {f"argument{i}": "String" for i in range(5)}
    wrapped = print_operation("query", "someRootField", long, None)
    assert "  someRootField(\n    argument0: $argument0\n" in wrapped


async def test_gen1_loaders_use_target_names_and_composite_references() -> None:
    rec = Recorder()
    rec.default = lambda request: __import__("httpx").Response(200, json={"data": {"x": None}})
    oracle = REPO / "tests" / "fixtures" / "oracle"
    has_one = rec.client(outputs=outputs_with(oracle / "has-one" / "introspection.json"))
    project = has_one.models.Project.record({"id": "p1", "projectTeamId": "t1"})
    await project.team()
    composite = rec.client(
        outputs=outputs_with(oracle / "relations-references-composite" / "introspection.json")
    )
    account = composite.models.Account.record({"tenant": "acme", "accountNo": 7})
    await account.invoices()
    implicit = rec.client(outputs=outputs_with(oracle / "has-many-implicit" / "introspection.json"))
    post = implicit.models.Post.record({"id": "p9"})
    await post.comments()
    sent = rec.bodies
    assert sent[0]["query"].startswith("query ($id: ID!) {\n  getTeam(id: $id)")
    assert sent[0]["variables"] == {"id": "t1"}
    assert sent[1]["variables"]["filter"] == {
        "and": [{"accountTenant": {"eq": "acme"}}, {"accountNo": {"eq": 7}}]
    }
    assert sent[2]["variables"]["filter"] == {"and": [{"postCommentsId": {"eq": "p9"}}]}
