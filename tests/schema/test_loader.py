from __future__ import annotations

from pathlib import Path

import pytest

from ampbase.errors import SchemaDefinitionError
from ampbase.schema.loader import load_declared_schema, load_schema


def test_graphql_file_is_loaded_and_resolved(tmp_path: Path) -> None:
    path = tmp_path / "schema.graphql"
    path.write_text("type Todo @model @auth(rules: [{ allow: public }]) { name: String }\n")
    schema = load_schema(path)
    todo = schema.get_model("Todo")
    assert todo is not None and todo.operations is not None
    assert [f.name for f in todo.fields] == ["name", "id", "createdAt", "updatedAt"]
    assert todo.operations.list == "listTodos"
    assert load_declared_schema(path).get_model("Todo").operations.get is None  # type: ignore[union-attr]


def test_directory_of_graphql_files_is_one_schema(tmp_path: Path) -> None:
    (tmp_path / "models.graphql").write_text("type Todo @model { id: ID! }\n")
    (tmp_path / "queries.graphql").write_text('type Query { count: Int @function(name: "count") }\n')
    schema = load_schema(tmp_path)
    assert [m.name for m in schema.models] == ["Todo"]
    assert [op.name for op in schema.operations] == ["count"]


def test_unknown_file_kind_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "schema.yaml"
    path.write_text("")
    with pytest.raises(SchemaDefinitionError, match="Don't know how to load"):
        load_schema(path)


def test_missing_python_schema_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(SchemaDefinitionError, match="not found"):
        load_schema(tmp_path / "resource.py")
