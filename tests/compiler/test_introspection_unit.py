"""Model introspection from hand-built, already normalised IR.

The worked example of ``specs/client-wire-contract.md`` §2.3 is rebuilt here as the IR
``resolve_schema`` produces for it, so the generator is checked without any front end;
``test_introspection.py`` covers the same code through the SDL goldens.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ampbase.compiler.introspection import build_introspection
from ampbase.schema.ir import (
    AuthAllow,
    AuthProvider,
    AuthRule,
    CustomOperationDef,
    CustomTypeDef,
    EnumDef,
    FieldDef,
    FieldOrigin,
    IndexDef,
    IndexOrigin,
    ModelDef,
    ModelOperations,
    OperationKind,
    RelationDef,
    RelationKind,
    SchemaDef,
    TypeKind,
    TypeRef,
)

FIXTURES = Path(__file__).parent / "fixtures"

API_KEY_RULE = AuthRule(AuthAllow.PUBLIC, provider=AuthProvider.API_KEY)
ALL_OPERATIONS = ["create", "update", "delete", "read"]


def scalar(name: str, *, required: bool = False) -> TypeRef:
    return TypeRef(name, TypeKind.SCALAR, required=required)


def field(name: str, type_: TypeRef, **kwargs: Any) -> FieldDef:
    return FieldDef(name, type_, **kwargs)


def managed() -> tuple[FieldDef, ...]:
    """Implicit ``id`` plus timestamps, as ``resolve_schema`` materialises them."""
    return (
        field("id", scalar("ID", required=True), origin=FieldOrigin.ID),
        field("createdAt", scalar("AWSDateTime", required=True), origin=FieldOrigin.TIMESTAMP),
        field("updatedAt", scalar("AWSDateTime", required=True), origin=FieldOrigin.TIMESTAMP),
    )


def operations(model: str, plural: str, attribute: Any = None) -> ModelOperations:
    return ModelOperations(
        get=f"get{model}",
        list=f"list{plural}",
        create=f"create{model}",
        update=f"update{model}",
        delete=f"delete{model}",
        on_create=(f"onCreate{model}",),
        on_update=(f"onUpdate{model}",),
        on_delete=(f"onDelete{model}",),
        model_attribute=attribute,
    )


def model(
    name: str,
    declared: tuple[FieldDef, ...],
    *,
    plural: str | None = None,
    rules: tuple[AuthRule, ...] = (API_KEY_RULE,),
    extra: tuple[FieldDef, ...] = (),
    with_id: bool = True,
    attribute: Any = None,
    **kwargs: Any,
) -> ModelDef:
    plural = plural or f"{name}s"
    id_field, created, updated = managed()
    fields = ((id_field,) if with_id else ()) + declared + (created, updated) + extra
    return ModelDef(
        name=name,
        fields=fields,
        auth_rules=rules,
        operations=operations(name, plural, attribute),
        plural_name=plural,
        **kwargs,
    )


def worked_example() -> SchemaDef:
    priority = TypeRef("Priority", TypeKind.ENUM)
    location = TypeRef("Location", TypeKind.CUSTOM)
    todo = model(
        "Todo",
        (
            field("content", scalar("String")),
            field("isDone", scalar("Boolean")),
            field("priority", priority),
            field("location", location),
        ),
    )
    team = model(
        "Team",
        (
            field("name", scalar("String", required=True)),
            field(
                "members",
                TypeRef("Member", TypeKind.MODEL, is_list=True),
                relation=RelationDef(
                    RelationKind.HAS_MANY,
                    "Member",
                    references=("teamId",),
                    local_fields=("id",),
                    remote_fields=("teamId",),
                    remote_index="gsi-Team.members",
                ),
            ),
        ),
    )
    member = model(
        "Member",
        (
            field("name", scalar("String", required=True)),
            field("teamId", scalar("ID")),
            field(
                "team",
                TypeRef("Team", TypeKind.MODEL),
                relation=RelationDef(
                    RelationKind.BELONGS_TO,
                    "Team",
                    references=("teamId",),
                    local_fields=("teamId",),
                    remote_fields=("id",),
                ),
            ),
        ),
        indexes=(IndexDef("gsi-Team.members", "teamId", origin=IndexOrigin.RELATION),),
    )
    customer = model(
        "Customer",
        (
            field("name", scalar("String")),
            field("accountRepresentativeId", scalar("ID", required=True)),
        ),
        indexes=(
            IndexDef(
                "customersByAccountRepresentativeIdAndName",
                "accountRepresentativeId",
                ("name",),
                query_field="listCustomerByAccountRepresentativeIdAndName",
                query_field_declared=True,
                name_declared=False,
            ),
        ),
    )
    product = model(
        "Product",
        (
            field("sku", scalar("String", required=True)),
            field("region", scalar("String", required=True)),
            field("title", scalar("String")),
            field("tags", TypeRef("String", TypeKind.SCALAR, is_list=True)),
        ),
        with_id=False,
        primary_key=("sku", "region"),
        custom_primary_key=True,
    )
    handler_rules = (API_KEY_RULE,)
    custom_ops = (
        CustomOperationDef(
            "echo",
            OperationKind.QUERY,
            scalar("String"),
            arguments=(field("content", scalar("String", required=True)),),
            auth_rules=handler_rules,
        ),
        CustomOperationDef(
            "todosByPriority",
            OperationKind.QUERY,
            TypeRef("Todo", TypeKind.MODEL, is_list=True),
            arguments=(field("priority", priority),),
            auth_rules=handler_rules,
        ),
        CustomOperationDef(
            "locate",
            OperationKind.QUERY,
            location,
            arguments=(
                field("where", location),
                field("tags", TypeRef("String", TypeKind.SCALAR, is_list=True, item_required=True)),
            ),
            auth_rules=handler_rules,
        ),
        CustomOperationDef(
            "markDone",
            OperationKind.MUTATION,
            TypeRef("Todo", TypeKind.MODEL),
            arguments=(field("id", scalar("ID", required=True)),),
            auth_rules=handler_rules,
        ),
        CustomOperationDef(
            "onDone",
            OperationKind.SUBSCRIPTION,
            TypeRef("Todo", TypeKind.MODEL),
            subscribe_to=("markDone",),
        ),
    )
    return SchemaDef(
        models=(todo, team, member, customer, product),
        enums=(EnumDef("Priority", ("LOW", "MEDIUM", "HIGH")),),
        custom_types=(
            CustomTypeDef("Location", (field("lat", scalar("Float")), field("long", scalar("Float")))),
        ),
        operations=custom_ops,
        flavour="gen2",
    )


def test_worked_example_matches_the_generator_output() -> None:
    expected = json.loads((FIXTURES / "model-introspection.json").read_text())
    assert build_introspection(worked_example()) == expected


def test_result_survives_a_json_round_trip() -> None:
    built = build_introspection(worked_example())
    assert json.loads(json.dumps(built)) == built


def test_implicit_id_is_listed_first_and_timestamps_are_read_only() -> None:
    todo = build_introspection(worked_example())["models"]["Todo"]
    names = list(todo["fields"])
    assert names[0] == "id"
    assert names[-2:] == ["createdAt", "updatedAt"]
    assert todo["fields"]["createdAt"]["isReadOnly"] is True
    assert todo["fields"]["createdAt"]["isRequired"] is False


def test_references_relationship_gsi_is_not_a_key_attribute() -> None:
    member = build_introspection(worked_example())["models"]["Member"]
    assert [a["type"] for a in member["attributes"]] == ["model", "auth"]


def test_custom_type_argument_becomes_an_input_twin() -> None:
    mis = build_introspection(worked_example())
    assert mis["queries"]["locate"]["arguments"]["where"]["type"] == {"input": "LocationInput"}
    assert list(mis["inputs"]) == ["LocationInput"]
    assert "attributes" in mis["inputs"]["LocationInput"]


def test_sections_for_absent_custom_operations_are_omitted() -> None:
    schema = SchemaDef(models=(model("Todo", (field("content", scalar("String")),)),))
    mis = build_introspection(schema)
    assert set(mis) == {"version", "models", "enums", "nonModels"}


def test_owner_and_group_rules_get_their_defaults_filled_in() -> None:
    note = model(
        "Note",
        (field("body", scalar("String")),),
        rules=(
            AuthRule(AuthAllow.OWNER, owner_field="owner"),
            AuthRule(AuthAllow.GROUPS, groups=("Admins",)),
            AuthRule(AuthAllow.PRIVATE, provider=AuthProvider.IDENTITY_POOL, operations=("read",)),
            AuthRule(AuthAllow.PUBLIC, provider=AuthProvider.IDENTITY_POOL, operations=("read",)),
            AuthRule(AuthAllow.GROUPS, groups_field="team"),
            AuthRule(AuthAllow.CUSTOM),
        ),
        extra=(field("owner", scalar("String"), origin=FieldOrigin.OWNER),),
    )
    built = build_introspection(SchemaDef(models=(note,)))["models"]["Note"]
    assert "owner" not in built["fields"]
    rules = built["attributes"][-1]["properties"]["rules"]
    assert rules == [
        {
            "provider": "userPools",
            "ownerField": "owner",
            "allow": "owner",
            "identityClaim": "cognito:username",
            "operations": ALL_OPERATIONS,
        },
        {
            "groupClaim": "cognito:groups",
            "provider": "userPools",
            "allow": "groups",
            "groups": ["Admins"],
            "operations": ALL_OPERATIONS,
        },
        {"allow": "private", "provider": "identityPool", "operations": ["read"]},
        {"allow": "public", "provider": "identityPool", "operations": ["read"]},
        {
            "groupClaim": "cognito:groups",
            "provider": "userPools",
            "allow": "groups",
            "groupsField": "team",
            "groupField": "groups",
            "operations": ALL_OPERATIONS,
        },
        {"allow": "custom", "operations": ALL_OPERATIONS},
    ]


def test_model_without_rules_has_no_auth_attribute() -> None:
    todo = model("Todo", (field("content", scalar("String")),), rules=())
    built = build_introspection(SchemaDef(models=(todo,)))["models"]["Todo"]
    assert built["attributes"] == [{"type": "model", "properties": {}}]


def test_model_attribute_properties_are_the_model_arguments_as_given() -> None:
    audit = model(
        "AuditLog",
        (field("message", scalar("String")),),
        attribute={"subscriptions": None, "mutations": {"delete": None}},
    )
    built = build_introspection(SchemaDef(models=(audit,)))["models"]["AuditLog"]
    assert built["attributes"][0] == {
        "type": "model",
        "properties": {"subscriptions": None, "mutations": {"delete": None}},
    }


def test_list_nullability_maps_to_is_required_and_is_array_nullable() -> None:
    def shape(ref: TypeRef) -> tuple[bool, bool]:
        custom = CustomTypeDef("T", (field("f", ref),))
        out = build_introspection(SchemaDef(custom_types=(custom,)))["nonModels"]["T"]["fields"]["f"]
        return out["isRequired"], out["isArrayNullable"]

    def list_of(*, required: bool, item_required: bool) -> TypeRef:
        return TypeRef(
            "String", TypeKind.SCALAR, required=required, is_list=True, item_required=item_required
        )

    assert shape(list_of(required=False, item_required=False)) == (False, True)
    assert shape(list_of(required=False, item_required=True)) == (True, True)
    assert shape(list_of(required=True, item_required=False)) == (False, False)
    assert shape(list_of(required=True, item_required=True)) == (True, False)
