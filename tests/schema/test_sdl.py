from __future__ import annotations

from pathlib import Path

import pytest

from ampbase.errors import SchemaDefinitionError
from ampbase.schema.ir import (
    AuthAllow,
    AuthProvider,
    AuthRule,
    OperationKind,
    RelationKind,
    TypeKind,
    TypeRef,
)
from ampbase.schema.sdl import infer_auth_config, load_sdl, load_sdl_path

BLOG = """
enum Status { DRAFT PUBLISHED }

type Location { lat: Float! lng: Float! }

type Post @model(timestamps: { updatedAt: null })
  @auth(rules: [{ allow: owner, operations: [create, read] }]) {
  id: ID!
  title: String! @default(value: "untitled")
  status: Status @default(value: "DRAFT")
  views: Int @default(value: "0")
  tags: [String!]!
  where: Location
  blogId: ID! @index(name: "byBlog", sortKeyFields: ["title"], queryField: "postsByBlog")
  comments: [Comment] @hasMany(indexName: "byPost", fields: ["id"])
}

type Comment @model {
  id: ID!
  postId: ID! @index(name: "byPost")
  post: Post @belongsTo(fields: ["postId"])
}
"""


def test_model_fields_directives_and_types_become_declared_ir() -> None:
    schema = load_sdl(BLOG, filename="blog.graphql")
    post = schema.get_model("Post")
    assert post is not None
    assert [f.name for f in post.fields] == [
        "id",
        "title",
        "status",
        "views",
        "tags",
        "where",
        "blogId",
        "comments",
    ]
    assert post.get_field("tags").type == TypeRef("String", TypeKind.SCALAR, True, True, True)  # type: ignore[union-attr]
    assert post.get_field("where").type.kind is TypeKind.CUSTOM  # type: ignore[union-attr]
    assert post.get_field("status").type.kind is TypeKind.ENUM  # type: ignore[union-attr]
    assert post.timestamps == ("createdAt", None)
    assert post.operations is not None
    assert post.operations.model_attribute == {"timestamps": {"updatedAt": None}}
    assert post.auth_rules == (AuthRule(AuthAllow.OWNER, operations=("create", "read")),)
    (index,) = post.indexes
    assert (index.name, index.partition_key, index.sort_keys, index.query_field) == (
        "byBlog",
        "blogId",
        ("title",),
        "postsByBlog",
    )
    relation = post.get_field("comments").relation  # type: ignore[union-attr]
    assert relation is not None
    assert (relation.kind, relation.related_model, relation.index_name, relation.fields) == (
        RelationKind.HAS_MANY,
        "Comment",
        "byPost",
        ("id",),
    )
    assert schema.get_enum("Status") is not None
    assert schema.get_custom_type("Location") is not None


def test_defaults_are_typed_for_their_field() -> None:
    post = load_sdl(BLOG).get_model("Post")
    assert post is not None
    defaults = {f.name: f.default for f in post.fields if f.has_default}
    assert defaults == {"title": "untitled", "status": "DRAFT", "views": 0}
    assert isinstance(defaults["views"], int)


def test_source_locations_point_at_the_declaration() -> None:
    post = load_sdl(BLOG, filename="blog.graphql").get_model("Post")
    assert post is not None
    assert str(post.source) == "blog.graphql:6:1"
    assert post.get_field("title").source.line == 9  # type: ignore[union-attr]


def test_unnamed_index_keeps_an_empty_name_for_resolution() -> None:
    model = load_sdl("type A @model { id: ID! email: String @index }").get_model("A")
    assert model is not None
    (index,) = model.indexes
    assert (index.name, index.name_declared, index.query_field, index.query_field_declared) == (
        "",
        False,
        None,
        False,
    )


def test_primary_key_directive_sets_key_and_custom_flag() -> None:
    model = load_sdl(
        'type A @model { t: ID! @primaryKey(sortKeyFields: ["c", "d"]) c: String! d: Int! }'
    ).get_model("A")
    assert model is not None
    assert model.primary_key == ("t", "c", "d")
    assert model.custom_primary_key


def test_sandbox_global_auth_rule_becomes_a_schema_rule() -> None:
    schema = load_sdl(
        "input AMPLIFY { globalAuthRule: AuthRule = { allow: public } }\ntype T @model { id: ID! }"
    )
    assert schema.schema_auth_rules == (AuthRule(AuthAllow.PUBLIC),)


def test_custom_operations_with_function_auth_and_subscribe() -> None:
    schema = load_sdl(
        """
        type R { message: String }
        type Todo @model { id: ID! }
        type Query { echo(msg: String!): R @function(name: "echo-${env}") @auth(rules: [{ allow: public }]) }
        type Subscription {
          onNamed(name: String): Todo @aws_subscribe(mutations: ["createTodo"]) @aws_api_key
        }
        """
    )
    echo, on_named = schema.operations
    assert (echo.name, echo.kind, echo.returns.name) == ("echo", OperationKind.QUERY, "R")
    assert echo.handlers[0].function_name == "echo-${env}"
    assert echo.auth_rules == (AuthRule(AuthAllow.PUBLIC),)
    assert [a.name for a in echo.arguments] == ["msg"]
    assert on_named.subscribe_to == ("createTodo",)
    assert on_named.auth_rules == (AuthRule(AuthAllow.PUBLIC, AuthProvider.API_KEY),)


def test_auth_config_is_inferred_from_the_rules() -> None:
    schema = load_sdl(
        "type A @model @auth(rules: [{ allow: owner }, { allow: public, provider: iam }]) { id: ID! }"
    )
    assert infer_auth_config(schema).modes == ("userPool", "iam")
    assert schema.auth.default_mode == "userPool"


def test_schema_split_across_files_with_extend_type_query(tmp_path: Path) -> None:
    (tmp_path / "a.graphql").write_text("type Todo @model { id: ID! }\ntype Query { one: Int }\n")
    (tmp_path / "b.graphql").write_text("extend type Query { two: Int }\n")
    schema = load_sdl_path(tmp_path)
    assert [op.name for op in schema.operations] == ["one", "two"]
    assert [m.name for m in schema.models] == ["Todo"]


def test_redeclared_query_field_in_another_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.graphql").write_text("type Query { getBlogById: Int }\n")
    (tmp_path / "b.graphql").write_text("\nextend type Query {\n  getBlogById: Int\n}\n")
    with pytest.raises(SchemaDefinitionError) as info:
        load_sdl_path(tmp_path)
    assert "Object type extension 'Query' cannot redeclare field getBlogById" in info.value.message
    assert info.value.source is not None
    assert info.value.source.file.endswith("b.graphql")
    assert info.value.source.line == 3


def test_query_type_declared_twice_is_an_error() -> None:
    with pytest.raises(SchemaDefinitionError, match="only one type named 'Query'") as info:
        load_sdl({"a.graphql": "type Query { a: Int }", "b.graphql": "type Query { b: Int }"})
    assert "extend type Query" in (info.value.hint or "")


def test_extending_a_model_is_rejected() -> None:
    with pytest.raises(SchemaDefinitionError, match="'extend type Todo' is not supported"):
        load_sdl("type Todo @model { id: ID! }\nextend type Todo { name: String }")


def test_duplicate_model_field_is_an_error() -> None:
    with pytest.raises(SchemaDefinitionError, match=r"Todo\.name is declared twice") as info:
        load_sdl("type Todo @model {\n  id: ID!\n  name: String\n  name: Int\n}", filename="s.graphql")
    assert str(info.value.source) == "s.graphql:4:3"


def test_unknown_type_is_named_with_its_field() -> None:
    with pytest.raises(SchemaDefinitionError, match=r"Unknown type 'Strin' for field Todo.name") as info:
        load_sdl("type Todo @model {\n  id: ID!\n  name: Strin\n}")
    assert info.value.source is not None and info.value.source.line == 3


def test_syntax_errors_carry_their_position() -> None:
    with pytest.raises(SchemaDefinitionError, match="GraphQL syntax error") as info:
        load_sdl("type Todo @model {\n  id: ID!\n  name String\n}", filename="bad.graphql")
    assert info.value.source is not None
    assert (info.value.source.file, info.value.source.line) == ("bad.graphql", 3)


@pytest.mark.parametrize(
    ("sdl", "fragment"),
    [
        ('type A @model { n: Int @default(value: "x") }', "not a valid Int"),
        ("type A @model { n: Int @default }", "needs a value"),
        ("type A @model { b: B @hasMany }\ntype B @model { id: ID! }", "must be a list"),
        ("type A @model { b: [B] @hasOne }\ntype B @model { id: ID! }", "cannot be a list"),
        ("type A @model { b: B @hasOne }\ntype B { id: ID! }", "must reference a @model type"),
        ("type A @model { b: [B] @manyToMany }\ntype B @model { id: ID! }", "needs a relationName"),
        ("type A @model @auth(rules: [{ allow: everyone }]) { id: ID! }", "Unknown auth strategy"),
        ("type A @model(query: null) { id: ID! }", "Unknown @model argument"),
        ("type A @model { id: ID! @searchable }", "Unknown directive @searchable"),
        ("type A @auth(rules: [{ allow: public }]) { id: ID! }", "requires @model"),
        ("interface A { id: ID! }", "Unsupported definition"),
    ],
)
def test_invalid_declarations_are_reported(sdl: str, fragment: str) -> None:
    with pytest.raises(SchemaDefinitionError, match=fragment) as info:
        load_sdl(sdl)
    assert info.value.hint


def test_missing_schema_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SchemaDefinitionError, match="not found"):
        load_sdl_path(tmp_path / "nope.graphql")
    with pytest.raises(SchemaDefinitionError, match=r"No \.graphql files"):
        load_sdl_path(tmp_path)


def test_input_types_are_kept_for_custom_operation_arguments() -> None:
    schema = load_sdl(
        """
        enum Color { RED }
        input PaintInput { color: Color! coats: Int }
        type Query { paint(input: PaintInput!): Boolean @function(name: "paint") }
        """
    )
    paint_input = schema.get_custom_type("PaintInput")
    assert paint_input is not None and paint_input.is_input
    (op,) = schema.operations
    assert op.arguments[0].type == TypeRef("PaintInput", TypeKind.CUSTOM, required=True)


def test_input_types_cannot_be_used_as_field_types() -> None:
    with pytest.raises(SchemaDefinitionError, match="cannot have the input type 'P'"):
        load_sdl("input P { a: Int }\ntype T @model { id: ID! p: P }")
    with pytest.raises(SchemaDefinitionError, match="cannot have the object type 'O'"):
        load_sdl("type O { a: Int }\ninput P { o: O }")
