"""Golden parity with AWS's transformer: every oracle sample compiles to the same API.

For each ``tests/fixtures/oracle/<sample>/`` with an ``output.graphql``: load ``input.graphql``
(flavour ``gen2`` for ``gen2-*`` samples, auth modes from ``meta.json``), resolve, compile, and
compare *structurally* with ``output.graphql``: the same types, fields, arguments (names, types,
nullability), input fields, enum values and ``@aws_subscribe`` mutations; ordering, ``@aws_*``
auth directives, descriptions and ``AmplifyAIConversationTurnErrorInput`` are ignored.
The ``error-*`` samples must raise :class:`SchemaDefinitionError` instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from graphql.language import (
    DirectiveNode,
    EnumTypeDefinitionNode,
    InputObjectTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    parse,
    print_ast,
)
from graphql.type import validate_schema
from graphql.utilities import value_from_ast_untyped

from ampbase.compiler.graphql_schema import build_graphql_schema, compile_sdl
from ampbase.errors import SchemaDefinitionError
from ampbase.schema.ir import AuthConfig
from ampbase.schema.resolve import resolve_schema
from ampbase.schema.sdl import load_sdl

ORACLE = Path(__file__).resolve().parents[1] / "fixtures" / "oracle"
IGNORED_TYPES = {"AmplifyAIConversationTurnErrorInput"}
_MODES = {
    "API_KEY": "apiKey",
    "AWS_IAM": "iam",
    "AMAZON_COGNITO_USER_POOLS": "userPool",
    "OPENID_CONNECT": "oidc",
    "AWS_LAMBDA": "lambda",
}

GOLDEN = sorted(p.name for p in ORACLE.iterdir() if (p / "output.graphql").is_file())
# SDL samples also ran through the Gen 2 preset: same API, different auth directives only
GOLDEN_GEN2_PRESET = sorted(p.name for p in ORACLE.iterdir() if (p / "output.gen2.graphql").is_file())
ERRORS = sorted(p.name for p in ORACLE.iterdir() if (p / "error.txt").is_file())


def load_sample(sample: str) -> Any:
    folder = ORACLE / sample
    meta = json.loads((folder / "meta.json").read_text())
    modes = meta.get("authModes")
    auth = None
    if modes:  # error samples have none: the modes the rules need are inferred
        auth = AuthConfig(
            default_mode=_MODES[modes["default"]],
            modes=tuple(_MODES[m] for m in modes["enabled"]),
        )
    flavour = "gen2" if sample.startswith("gen2-") else "gen1"
    filename = str(folder / "input.graphql")
    return load_sdl((folder / "input.graphql").read_text(), filename=filename, flavour=flavour, auth=auth)


Shape = dict[str, tuple[str, dict[str, Any]]]


def _subscribe(directives: tuple[DirectiveNode, ...]) -> str:
    for d in directives:
        if d.name.value == "aws_subscribe":
            args = {a.name.value: value_from_ast_untyped(a.value) for a in d.arguments}
            return f" @aws_subscribe(mutations: {json.dumps(sorted(args.get('mutations') or []))})"
    return ""


def shape(sdl: str) -> Shape:
    """type name → (kind, {member: signature}) ignoring order and auth directives."""
    result: Shape = {}
    for node in parse(sdl).definitions:
        members: dict[str, str] = {}
        if isinstance(node, ObjectTypeDefinitionNode):
            kind = "type"
            for f in node.fields:
                args = ", ".join(sorted(f"{a.name.value}: {print_ast(a.type)}" for a in f.arguments))
                sig = f"({args})" if args else ""
                members[f.name.value] = f"{sig}: {print_ast(f.type)}{_subscribe(f.directives)}"
        elif isinstance(node, InputObjectTypeDefinitionNode):
            kind = "input"
            for value in node.fields:
                members[value.name.value] = f": {print_ast(value.type)}"
        elif isinstance(node, EnumTypeDefinitionNode):
            kind = "enum"
            for v in node.values:
                members[v.name.value] = ""
        else:
            continue
        if node.name.value in IGNORED_TYPES:
            continue
        result[node.name.value] = (kind, members)
    return result


def diff(expected: Shape, actual: Shape) -> list[str]:
    lines: list[str] = []
    for name in sorted(set(expected) | set(actual)):
        if name not in actual:
            kind, members = expected[name]
            lines.append(f"- missing {kind} {name} {{{', '.join(f'{k}{v}' for k, v in members.items())}}}")
            continue
        if name not in expected:
            kind, members = actual[name]
            lines.append(f"+ extra {kind} {name} {{{', '.join(f'{k}{v}' for k, v in members.items())}}}")
            continue
        (ekind, emembers), (akind, amembers) = expected[name], actual[name]
        if ekind != akind:
            lines.append(f"~ {name}: expected {ekind}, got {akind}")
        for member in sorted(set(emembers) | set(amembers)):
            if member not in amembers:
                lines.append(f"- {name}.{member}{emembers[member]}")
            elif member not in emembers:
                lines.append(f"+ {name}.{member}{amembers[member]}")
            elif emembers[member] != amembers[member]:
                lines.append(f"~ {name}.{member}: expected {emembers[member]!r}, got {amembers[member]!r}")
    return lines


@pytest.mark.parametrize(
    ("sample", "output"),
    [
        *((s, "output.graphql") for s in GOLDEN),
        *((s, "output.gen2.graphql") for s in GOLDEN_GEN2_PRESET),
    ],
)
def test_compiled_api_matches_aws_transformer_output(sample: str, output: str) -> None:
    schema = resolve_schema(load_sample(sample))
    actual = compile_sdl(schema)
    expected = (ORACLE / sample / output).read_text()
    problems = diff(shape(expected), shape(actual))
    assert not problems, f"{sample}/{output}: compiled API differs from AWS's output:\n" + "\n".join(problems)


@pytest.mark.parametrize("sample", GOLDEN)
def test_compiled_api_builds_a_valid_graphql_core_schema_with_ir_names(sample: str) -> None:
    schema = resolve_schema(load_sample(sample))
    gql = build_graphql_schema(schema)
    assert validate_schema(gql) == []
    roots = {
        "Query": set(gql.query_type.fields) if gql.query_type else set(),
        "Mutation": set(gql.mutation_type.fields) if gql.mutation_type else set(),
        "Subscription": set(gql.subscription_type.fields) if gql.subscription_type else set(),
    }
    expected: dict[str, set[str]] = {"Query": set(), "Mutation": set(), "Subscription": set()}
    for model in schema.models:
        ops = model.operations
        assert ops is not None
        expected["Query"] |= {n for n in (ops.get, ops.list) if n}
        expected["Query"] |= {i.query_field for i in model.indexes if i.query_field}
        expected["Mutation"] |= {n for n in (ops.create, ops.update, ops.delete) if n}
        expected["Subscription"] |= {*ops.on_create, *ops.on_update, *ops.on_delete}
    for op in schema.operations:
        expected[op.kind.value].add(op.name)
    assert roots == expected


_ERROR_EXPECTATIONS = {
    "error-belongs-to-without-parent": ("Uni-directional relationships are not supported", 5),
    "error-field-auth-required-fields": ('required fields ["id"] missing field-level authorization rules', 2),
    "error-index-sortkey-missing": (
        "Can't find field 'nope' in Order, but it was specified in index 'byCustomer'.",
        4,
    ),
    "error-primary-key-nullable": ("The primary key on type 'Customer' must reference non-null fields.", 3),
}


def test_every_error_sample_has_an_expectation() -> None:
    assert set(ERRORS) == set(_ERROR_EXPECTATIONS)


@pytest.mark.parametrize("sample", ERRORS)
def test_error_sample_is_rejected_with_a_located_message(sample: str) -> None:
    fragment, line = _ERROR_EXPECTATIONS[sample]
    with pytest.raises(SchemaDefinitionError) as info:
        resolve_schema(load_sample(sample))
    error = info.value
    assert fragment in error.message
    assert fragment in (ORACLE / sample / "error.txt").read_text()
    assert error.source is not None
    assert error.source.file.endswith("input.graphql")
    assert error.source.line == line
    assert error.hint


def test_shape_diff_reports_missing_extra_and_changed_members() -> None:
    expected = shape("type Query { a(x: Int): String b: Int }\ninput I { f: Int }")
    actual = shape("type Query { a(x: Int!): String c: Int }\nenum E { A }")
    assert diff(expected, actual) == [
        "+ extra enum E {A}",
        "- missing input I {f: Int}",
        "~ Query.a: expected '(x: Int): String', got '(x: Int!): String'",
        "- Query.b: Int",
        "+ Query.c: Int",
    ]


@pytest.mark.parametrize("sample", GOLDEN)
def test_resolving_a_resolved_schema_changes_nothing(sample: str) -> None:
    resolved = resolve_schema(load_sample(sample))
    assert resolve_schema(resolved) == resolved
