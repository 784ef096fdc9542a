from __future__ import annotations

import pytest

from ampbase import a
from ampbase.errors import SchemaDefinitionError
from ampbase.schema.dsl.fields import SCALAR_BUILDERS
from ampbase.schema.ir import TypeKind, TypeRef
from tests.schema.dsl.helpers import assert_located, lineno


def _type(field: object) -> TypeRef:
    schema = a.schema({"M": a.model({"f": field}).authorization(lambda allow: allow.public_api_key())})
    model = schema.models[0]
    return model.fields[0].type


@pytest.mark.parametrize(("builder", "scalar"), sorted(SCALAR_BUILDERS.items()))
def test_every_scalar_builder_maps_to_its_appsync_scalar(builder: str, scalar: str) -> None:
    assert _type(getattr(a, builder)()) == TypeRef(scalar, TypeKind.SCALAR)


def test_required_before_array_makes_the_items_non_null() -> None:
    assert _type(a.string().required().array()).to_sdl() == "[String!]"


def test_required_after_array_makes_the_list_non_null() -> None:
    assert _type(a.string().array().required()).to_sdl() == "[String]!"


def test_required_on_both_sides_of_array() -> None:
    assert _type(a.string().required().array().required()).to_sdl() == "[String!]!"


def test_plain_required_and_plain_array() -> None:
    assert _type(a.integer().required()).to_sdl() == "Int!"
    assert _type(a.integer().array()).to_sdl() == "[Int]"


def test_builders_are_immutable_so_a_field_can_be_reused() -> None:
    base = a.string()
    required = base.required()
    assert not base.item_required
    assert required.item_required


def test_array_of_array_is_rejected_at_the_users_line() -> None:
    field = a.string().array()
    line = lineno(2)
    with pytest.raises(SchemaDefinitionError) as info:
        field.array()
    assert_located(info.value, line, hint="lists of lists")


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        (a.string(), "hello", "hello"),
        (a.integer(), 42, 42),
        (a.float(), 1, 1.0),
        (a.float(), 0.5, 0.5),
        (a.boolean(), False, False),
        (a.date(), "2024-01-01", "2024-01-01"),
        (a.timestamp(), 1700000000, 1700000000),
        (a.json(), {"a": 1}, '{"a":1}'),
        (a.json(), '{"a": 1}', '{"a": 1}'),
    ],
)
def test_defaults_are_typed_for_the_field(field: object, value: object, expected: object) -> None:
    schema = a.schema(
        {"M": a.model({"f": field.default(value)}).authorization(lambda allow: allow.public_api_key())}  # type: ignore[attr-defined]
    )
    f = schema.models[0].fields[0]
    assert f.has_default
    assert f.default == expected
    assert type(f.default) is type(expected)


def test_no_default_is_distinguished_from_a_default() -> None:
    schema = a.schema({"M": a.model({"f": a.string()}).authorization(lambda allow: allow.public_api_key())})
    assert not schema.models[0].fields[0].has_default


@pytest.mark.parametrize(
    ("field", "value"),
    [(a.integer(), "42"), (a.integer(), True), (a.string(), 1), (a.boolean(), 1), (a.float(), "x")],
)
def test_a_default_of_the_wrong_type_names_the_builder_and_line(field: object, value: object) -> None:
    line = lineno(2)
    with pytest.raises(SchemaDefinitionError) as info:
        field.default(value)  # type: ignore[attr-defined]
    assert_located(info.value, line)
    assert ".default(" in info.value.message


def test_invalid_json_default_is_rejected() -> None:
    line = lineno(2)
    with pytest.raises(SchemaDefinitionError) as info:
        a.json().default("{nope")
    assert_located(info.value, line, hint="JSON")


def test_defaults_are_not_allowed_on_lists() -> None:
    line = lineno(2)
    with pytest.raises(SchemaDefinitionError) as info:
        a.string().array().default("x")
    assert_located(info.value, line)


def test_ref_nullability_follows_the_same_rules() -> None:
    schema = a.schema(
        {
            "Loc": a.custom_type({"lat": a.float()}),
            "M": a.model(
                {"one": a.ref("Loc").required(), "many": a.ref("Loc").required().array()}
            ).authorization(lambda allow: allow.public_api_key()),
        }
    )
    one, many = schema.models[0].fields
    assert one.type == TypeRef("Loc", TypeKind.CUSTOM, required=True)
    assert many.type == TypeRef("Loc", TypeKind.CUSTOM, is_list=True, item_required=True)


def test_field_sources_are_the_lines_that_created_them() -> None:
    line = lineno(3)
    schema = a.schema(
        {
            "M": a.model({"f": a.string()}).authorization(lambda allow: allow.public_api_key()),
        }
    )
    model = schema.models[0]
    assert model.source is not None and model.source.line == line
    assert model.fields[0].source is not None and model.fields[0].source.line == line
    assert model.fields[0].source.file == __file__


def test_camel_case_names_suggest_the_snake_case_builder() -> None:
    with pytest.raises(AttributeError, match=r"did you mean a\.ip_address"):
        a.ipAddress  # noqa: B018
