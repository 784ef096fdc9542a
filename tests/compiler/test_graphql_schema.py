from __future__ import annotations

from graphql import graphql_sync

from ampbase.compiler.graphql_schema import build_graphql_schema, compile_sdl
from ampbase.schema.resolve import resolve_schema
from ampbase.schema.sdl import load_sdl

SDL = """
type Note @model @auth(rules: [{ allow: public }]) {
  id: ID!
  body: AWSJSON
  at: AWSDateTime
  n: AWSTimestamp
}
type Query { ping(payload: AWSJSON): AWSJSON @function(name: "ping") }
"""


def test_sdl_declares_aws_scalars_and_the_subscribe_directive() -> None:
    sdl = compile_sdl(resolve_schema(load_sdl(SDL)))
    assert "scalar AWSDateTime" in sdl
    assert "directive @aws_subscribe(mutations: [String]) on FIELD_DEFINITION" in sdl
    assert (
        "onCreateNote(filter: ModelSubscriptionNoteFilterInput): Note "
        '@aws_subscribe(mutations: ["createNote"])' in sdl
    )
    assert "@aws_api_key" not in sdl


def test_aws_scalars_parse_and_serialize_values() -> None:
    gql = build_graphql_schema(resolve_schema(load_sdl(SDL)))
    gql.query_type.fields["ping"].resolve = lambda _root, _info, payload: payload  # type: ignore[union-attr]
    result = graphql_sync(gql, 'query { ping(payload: "{\\"a\\":[1,2]}") }')
    assert result.errors is None
    assert result.data == {"ping": '{"a":[1,2]}'}
    result = graphql_sync(
        gql, "query($p: AWSJSON) { ping(payload: $p) }", variable_values={"p": '{"b":true}'}
    )
    assert result.errors is None and result.data == {"ping": '{"b":true}'}


def test_aws_timestamp_rejects_non_integers() -> None:
    gql = build_graphql_schema(resolve_schema(load_sdl(SDL)))
    scalar = gql.type_map["AWSTimestamp"]
    assert scalar.parse_value(1700000000) == 1700000000  # type: ignore[attr-defined]
    result = graphql_sync(
        gql,
        'mutation { createNote(input: {n: "x"}) { id } }',
    )
    assert result.errors is not None


def test_declared_input_types_are_printed_as_written_and_used_by_arguments() -> None:
    sdl = compile_sdl(
        resolve_schema(
            load_sdl(
                """
                type Loc { lat: Float }
                input PaintInput { coats: Int }
                type Query {
                  paint(input: PaintInput!, at: Loc): Boolean @function(name: "paint")
                }
                """
            )
        )
    )
    assert "input PaintInput {\n  coats: Int\n}" in sdl
    assert "paint(input: PaintInput!, at: LocInput): Boolean" in sdl
    assert "input LocInput {\n  lat: Float\n}" in sdl
    assert "PaintInputInput" not in sdl


def test_fields_with_defaults_are_optional_on_create_only() -> None:
    sdl = compile_sdl(
        resolve_schema(
            load_sdl(
                'type T @model @auth(rules: [{ allow: public }]) { id: ID! n: String! @default(value: "x") }'
            )
        )
    )
    assert "input CreateTInput {\n  id: ID\n  n: String\n}" in sdl
    assert "type T {\n  id: ID!\n  n: String!\n" in sdl
