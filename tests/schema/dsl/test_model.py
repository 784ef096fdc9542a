from __future__ import annotations

import pytest

from ampbase import a
from ampbase.errors import SchemaDefinitionError
from ampbase.schema.ir import (
    CustomTypeDef,
    EnumDef,
    FieldDef,
    IndexDef,
    ModelOperations,
    RelationDef,
    RelationKind,
    TypeKind,
    TypeRef,
)
from tests.schema.dsl.helpers import assert_located, line_of, lineno


def _public(model: object) -> object:
    return model.authorization(lambda allow: allow.public_api_key())  # type: ignore[attr-defined]


def test_a_model_without_identifier_keeps_the_implicit_id_key() -> None:
    schema = a.schema({"Todo": _public(a.model({"content": a.string()}))})
    (todo,) = schema.models
    assert todo.primary_key == ("id",)
    assert not todo.custom_primary_key
    assert [f.name for f in todo.fields] == ["content"]
    assert todo.operations == ModelOperations(None, None, None, None, None, model_attribute={})


def test_identifier_sets_a_custom_composite_primary_key() -> None:
    schema = a.schema(
        {
            "StoreBranch": _public(
                a.model({"geoId": a.id().required(), "name": a.string().required()}).identifier(
                    ["geoId", "name"]
                )
            )
        }
    )
    (branch,) = schema.models
    assert branch.primary_key == ("geoId", "name")
    assert branch.custom_primary_key


def test_identifier_fields_must_be_declared_and_required() -> None:
    line = lineno(1)
    model = a.model({"code": a.string()}).identifier(["code"])
    with pytest.raises(SchemaDefinitionError) as info:
        a.schema({"M": _public(model)})
    assert_located(info.value, line, hint=".required()")
    assert "Model M" in info.value.message

    line = lineno(1)
    model = a.model({"code": a.string()}).identifier(["nope"])
    with pytest.raises(SchemaDefinitionError) as info:
        a.schema({"M": _public(model)})
    assert_located(info.value, line)
    assert "'nope' is not declared" in info.value.message


def test_secondary_indexes_write_the_gen2_query_field_and_keep_declared_names() -> None:
    schema = a.schema(
        {
            "Order": _public(
                a.model(
                    {"customerId": a.id().required(), "status": a.string(), "placedAt": a.datetime()}
                ).secondary_indexes(
                    lambda index: [
                        index("status").sort_keys(["placedAt"]).name("byStatus"),
                        index("customerId"),
                        index("customerId").sort_keys(["status"]).query_field("ordersOfCustomer"),
                    ]
                )
            )
        }
    )
    (order,) = schema.models
    # ordered by the partition key's field position, as data-schema writes @index on the fields
    assert order.indexes == (
        IndexDef("", "customerId", (), "listOrderByCustomerId", True, name_declared=False),
        IndexDef("", "customerId", ("status",), "ordersOfCustomer", True, name_declared=False),
        IndexDef(
            "byStatus", "status", ("placedAt",), "listOrderByStatusAndPlacedAt", True, name_declared=True
        ),
    )
    line = line_of('index("status").sort_keys(["placedAt"]).name("byStatus")')
    assert order.indexes[2].source is not None and order.indexes[2].source.line == line


def test_secondary_indexes_callback_must_return_index_builders() -> None:
    line = lineno(2)
    with pytest.raises(SchemaDefinitionError) as info:
        a.model({"f": a.string()}).secondary_indexes(lambda index: ["f"])  # type: ignore[list-item]
    assert_located(info.value, line)


@pytest.mark.parametrize(
    ("disabled", "attribute"),
    [
        (["mutations", "subscriptions"], {"mutations": None, "subscriptions": None}),
        (["queries"], {"queries": None}),
        (
            ["list", "delete", "onUpdate"],
            {"queries": {"list": None}, "mutations": {"delete": None}, "subscriptions": {"onUpdate": None}},
        ),
        (["on_create", "get"], {"queries": {"get": None}, "subscriptions": {"onCreate": None}}),
        (["list", "queries"], {"queries": None}),
    ],
)
def test_disable_operations_becomes_the_model_directive_arguments(
    disabled: list[str], attribute: dict[str, object]
) -> None:
    schema = a.schema({"M": _public(a.model({"f": a.string()}).disable_operations(disabled))})
    operations = schema.models[0].operations
    assert operations is not None
    assert operations.model_attribute == attribute


def test_disable_operations_rejects_unknown_names() -> None:
    line = lineno(2)
    with pytest.raises(SchemaDefinitionError) as info:
        a.model({"f": a.string()}).disable_operations(["listen"])
    assert_located(info.value, line, hint="onCreate")


def test_relationships_use_references() -> None:
    schema = a.schema(
        {
            "Member": a.model({"teamId": a.id(), "team": a.belongs_to("Team", "teamId")}),
            "Team": a.model(
                {"members": a.has_many("Member", "teamId"), "lead": a.has_one("Member", ["teamId"])}
            ),
        }
    ).authorization(lambda allow: allow.public_api_key())
    member, team = schema.models
    assert member.fields[1] == FieldDef(
        "team",
        TypeRef("Team", TypeKind.MODEL),
        relation=RelationDef(RelationKind.BELONGS_TO, "Team", references=("teamId",)),
    )
    assert team.fields[0] == FieldDef(
        "members",
        TypeRef("Member", TypeKind.MODEL, is_list=True),
        relation=RelationDef(RelationKind.HAS_MANY, "Member", references=("teamId",)),
    )
    assert team.fields[1].relation == RelationDef(RelationKind.HAS_ONE, "Member", references=("teamId",))


def test_composite_references() -> None:
    rel = a.has_many("Post", ["authorName", "authorDoB"])
    assert rel.references == ("authorName", "authorDoB")


def test_relationship_to_an_unknown_model_is_located() -> None:
    line = lineno(1)
    rel = a.belongs_to("Teem", "teamId")
    with pytest.raises(SchemaDefinitionError) as info:
        a.schema(
            {
                "Member": _public(a.model({"teamId": a.id(), "team": rel})),
                "Team": _public(a.model({"x": a.string()})),
            }
        )
    assert_located(info.value, line, hint="known models: Member, Team")
    assert "Field Member.team" in info.value.message


def test_required_relationships_explain_reference_fields() -> None:
    line = lineno(2)
    with pytest.raises(SchemaDefinitionError) as info:
        a.belongs_to("Team", "teamId").required()
    assert_located(info.value, line, hint="a.id().required()")


def test_enums_and_custom_types_top_level_then_inline() -> None:
    schema = a.schema(
        {
            "Priority": a.enum(["LOW", "HIGH"]),
            "Location": a.custom_type({"lat": a.float().required(), "tag": a.enum(["X"])}),
            "Everything": _public(
                a.model(
                    {
                        "priority": a.ref("Priority"),
                        "inlineEnum": a.enum(["A", "B"]),
                        "location": a.ref("Location").required(),
                        "inlineType": a.custom_type({"x": a.integer()}),
                    }
                )
            ),
        }
    )
    assert schema.enums == (
        EnumDef("Priority", ("LOW", "HIGH")),
        EnumDef("LocationTag", ("X",)),
        EnumDef("EverythingInlineEnum", ("A", "B")),
    )
    assert [t.name for t in schema.custom_types] == ["Location", "EverythingInlineType"]
    assert schema.custom_types[1] == CustomTypeDef(
        "EverythingInlineType", (FieldDef("x", TypeRef("Int", TypeKind.SCALAR)),)
    )
    fields = {f.name: f.type for f in schema.models[0].fields}
    assert fields == {
        "priority": TypeRef("Priority", TypeKind.ENUM),
        "inlineEnum": TypeRef("EverythingInlineEnum", TypeKind.ENUM),
        "location": TypeRef("Location", TypeKind.CUSTOM, required=True),
        "inlineType": TypeRef("EverythingInlineType", TypeKind.CUSTOM),
    }


def test_inline_type_names_must_not_clash() -> None:
    line = lineno(4)
    with pytest.raises(SchemaDefinitionError) as info:
        a.schema(
            {
                "MStatus": a.enum(["A"]),
                "M": _public(a.model({"status": a.enum(["B"])})),
            }
        )
    assert "'MStatus'" in info.value.message
    assert info.value.source is not None and info.value.source.line == line + 1


def test_unknown_ref_is_reported_at_the_ref() -> None:
    line = lineno(1)
    field = a.ref("Priorty")
    with pytest.raises(SchemaDefinitionError) as info:
        a.schema({"Priority": a.enum(["LOW"]), "M": _public(a.model({"p": field}))})
    assert_located(info.value, line, hint="known types: M, Priority")
    assert "Field M.p refers to unknown type 'Priorty'" in info.value.message


def test_a_model_field_cannot_ref_a_model() -> None:
    line = lineno(1)
    field = a.ref("Other")
    with pytest.raises(SchemaDefinitionError) as info:
        a.schema({"Other": _public(a.model({"f": a.string()})), "M": _public(a.model({"o": field}))})
    assert_located(info.value, line, hint="a.belongs_to('Other'")


def test_a_field_builder_without_parentheses_is_explained() -> None:
    line = lineno(2)
    with pytest.raises(SchemaDefinitionError) as info:
        a.schema({"M": _public(a.model({"f": a.string}))})
    assert_located(info.value, line, hint="parentheses")
    assert "Field M.f" in info.value.message


def test_schema_entries_must_be_builders() -> None:
    line = lineno(2)
    with pytest.raises(SchemaDefinitionError) as info:
        a.schema({"Todo": {"content": a.string()}})
    assert_located(info.value, line)
    assert "'Todo'" in info.value.message


def test_invalid_names_are_rejected() -> None:
    with pytest.raises(SchemaDefinitionError, match="not a valid GraphQL name"):
        a.model({"bad-name": a.string()})
    with pytest.raises(SchemaDefinitionError, match="not a valid GraphQL name"):
        a.enum(["ok", "not ok"])
    with pytest.raises(SchemaDefinitionError, match="listed twice"):
        a.enum(["A", "A"])


def test_custom_type_fields_cannot_have_rules() -> None:
    line = lineno(2)
    with pytest.raises(SchemaDefinitionError) as info:
        a.schema({"T": a.custom_type({"f": a.string().authorization(lambda allow: allow.owner())})})
    assert_located(info.value, line)


def test_inline_enums_have_no_modifiers_and_point_to_ref() -> None:
    line = lineno(2)
    with pytest.raises(SchemaDefinitionError) as info:
        a.enum(["A"]).required()
    assert_located(info.value, line, hint="a.ref('Name').required()")


def test_inline_types_nest_inside_inline_custom_types() -> None:
    schema = a.schema(
        {
            "M": _public(
                a.model(
                    {"meta": a.custom_type({"kind": a.enum(["A"]), "pos": a.custom_type({"x": a.float()})})}
                )
            )
        }
    )
    assert [e.name for e in schema.enums] == ["MMetaKind"]
    assert [t.name for t in schema.custom_types] == ["MMeta", "MMetaPos"]
    meta = schema.custom_types[0]
    assert [(f.name, f.type.name) for f in meta.fields] == [("kind", "MMetaKind"), ("pos", "MMetaPos")]
