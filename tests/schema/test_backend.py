"""define_backend: the backend.py customisations and how the loader finds them."""

from __future__ import annotations

from pathlib import Path

import pytest

from ampbase import a, define_backend, define_data
from ampbase.errors import SchemaDefinitionError
from ampbase.schema.backend import apply_backend
from ampbase.schema.ir import ResourceConfig, TableConfig
from ampbase.schema.loader import load_schema

SCHEMA = a.schema(
    {
        "Todo": a.model({"content": a.string(), "ttl": a.timestamp()}).authorization(
            lambda allow: [allow.public_api_key()]
        ),
        "Tag": a.model({"name": a.string()}).authorization(lambda allow: [allow.public_api_key()]),
    }
)
DATA = define_data(schema=SCHEMA, authorization_modes={"default_authorization_mode": "apiKey"})


def test_the_seed_customisations_become_the_schemas_resource_config() -> None:
    backend = define_backend(data=DATA)
    tables = backend.data.resources.tables
    assert sorted(tables) == ["Tag", "Todo"]
    tables["Todo"].time_to_live_attribute = {"attribute_name": "ttl", "enabled": True}
    tables["Todo"].point_in_time_recovery_enabled = True
    tables["Tag"].billing_mode = "PROVISIONED"
    tables["Tag"].provisioned_throughput = {"read_capacity_units": 5, "write_capacity_units": 2}
    backend.data.resources.graphql_api.tracing_enabled = True
    schema = apply_backend(DATA.schema, backend)
    assert schema.resources == ResourceConfig(
        tables=(
            TableConfig("Todo", ttl_attribute="ttl", point_in_time_recovery=True),
            TableConfig("Tag", read_capacity=5.0, write_capacity=2.0),
        ),
        tracing=True,
    )


def test_gen2_l1_names_reach_the_same_objects() -> None:
    backend = define_backend(data=DATA)
    cfn = backend.data.resources.cfn_resources
    for table in cfn.amplify_dynamo_db_tables.values():
        table.point_in_time_recovery_enabled = True
    cfn.cfn_graphql_api.xray_enabled = True
    assert backend.data.resources.graphql_api.tracing_enabled
    schema = apply_backend(DATA.schema, backend)
    assert [t.point_in_time_recovery for t in schema.resources.tables] == [True, True]
    assert schema.resources.tracing


def test_a_disabled_ttl_and_untouched_tables_add_nothing() -> None:
    backend = define_backend(data=DATA)
    backend.data.resources.tables["Todo"].time_to_live_attribute = {"attribute_name": "ttl", "enabled": False}
    assert apply_backend(DATA.schema, backend).resources == ResourceConfig()


@pytest.mark.parametrize(
    ("table", "attribute", "value", "message"),
    [
        ("Nope", "point_in_time_recovery_enabled", True, "the schema has no model 'Nope'"),
        ("Todo", "time_to_live_attribute", {"enabled": True}, "must be a dict with 'attribute_name'"),
        ("Todo", "time_to_live_attribute", {"attribute_name": "expires"}, "Todo has no field 'expires'"),
        ("Todo", "provisioned_throughput", {"read_capacity_units": 0}, "must be a positive number"),
        ("Todo", "billing_mode", "CHEAP", "billing_mode must be"),
    ],
)
def test_bad_customisations_are_definition_errors(
    table: str, attribute: str, value: object, message: str
) -> None:
    backend = define_backend(data=DATA)
    setattr(backend.data.resources.tables[table], attribute, value)
    with pytest.raises(SchemaDefinitionError, match=message) as info:
        apply_backend(DATA.schema, backend)
    assert info.value.source is not None and info.value.source.file == __file__


def test_throughput_needs_provisioned_billing() -> None:
    backend = define_backend(data=DATA)
    todo = backend.data.resources.tables["Todo"]
    todo.billing_mode = "PAY_PER_REQUEST"
    todo.provisioned_throughput = {"read_capacity_units": 5, "write_capacity_units": 5}
    with pytest.raises(SchemaDefinitionError, match="needs billing_mode 'PROVISIONED'"):
        apply_backend(DATA.schema, backend)


def test_define_backend_rejects_what_is_not_define_data() -> None:
    with pytest.raises(SchemaDefinitionError, match="needs define_data"):
        define_backend(data=SCHEMA)  # type: ignore[arg-type]


RESOURCE = """
from ampbase import a, define_data
schema = a.schema({"Todo": a.model({"content": a.string(), "ttl": a.timestamp()})
                   .authorization(lambda allow: [allow.public_api_key()])})
data = define_data(schema=schema, authorization_modes={"default_authorization_mode": "apiKey"})
"""
BACKEND = """
from ampbase import define_backend
{import_line}
backend = define_backend({args})
backend.data.resources.tables["Todo"].time_to_live_attribute = {{"attribute_name": "ttl"}}
"""


def test_backend_in_the_resource_module_itself(tmp_path: Path) -> None:
    resource = tmp_path / "resource.py"
    resource.write_text(RESOURCE + BACKEND.format(import_line="", args="data=data"))
    assert load_schema(resource).resources.table("Todo") == TableConfig("Todo", ttl_attribute="ttl")


def test_backend_py_next_to_the_schema_or_one_level_up(tmp_path: Path) -> None:
    data_dir = tmp_path / "amplify" / "data"
    data_dir.mkdir(parents=True)
    resource = data_dir / "resource.py"
    resource.write_text(RESOURCE)
    assert load_schema(resource).resources == ResourceConfig()
    (tmp_path / "amplify" / "backend.py").write_text(
        BACKEND.format(import_line="from data.resource import data", args="data=data")
    )
    assert load_schema(resource).resources.table("Todo") == TableConfig("Todo", ttl_attribute="ttl")


def test_backend_py_for_an_sdl_schema_needs_no_data(tmp_path: Path) -> None:
    (tmp_path / "schema.graphql").write_text(
        "type Todo @model @auth(rules: [{allow: public}]) { content: String ttl: AWSTimestamp }"
    )
    (tmp_path / "backend.py").write_text(BACKEND.format(import_line="", args=""))
    assert load_schema(tmp_path / "schema.graphql").resources.table("Todo") == TableConfig(
        "Todo", ttl_attribute="ttl"
    )
    (tmp_path / "backend.py").write_text("x = 1\n")
    with pytest.raises(SchemaDefinitionError, match="defines no `backend`"):
        load_schema(tmp_path / "schema.graphql")
