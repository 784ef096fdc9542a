"""Model introspection against AWS's generator output for every oracle sample.

Each sample's ``input.graphql`` goes through the SDL front end and ``resolve_schema``; the
result of :func:`build_introspection` must equal the sample's ``introspection.json`` as a
JSON value (object key order is not significant, list order is). The Gen 2 samples are also
checked through the Python DSL (``tests/fixtures/dsl/gen2_*.py``, ports of their
``input.ts``), and the client-study worked examples (``tests/compiler/fixtures``) through both.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ampbase.compiler.introspection import build_introspection

ORACLE = Path(__file__).parents[1] / "fixtures" / "oracle"
DSL = Path(__file__).parents[1] / "fixtures" / "dsl"
FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = sorted(
    p.name
    for p in ORACLE.iterdir()
    if (p / "introspection.json").is_file() and not (p / "error.txt").exists()
)
DSL_SAMPLES = sorted(p.stem for p in DSL.glob("gen2_*.py"))


def json_differences(expected: Any, actual: Any, path: str = "$") -> list[str]:
    """Every difference between two JSON values, as ``path: expected … got …`` lines."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out: list[str] = []
        for key in expected:
            if key not in actual:
                out.append(f"{path}.{key}: missing (expected {json.dumps(expected[key])})")
            else:
                out.extend(json_differences(expected[key], actual[key], f"{path}.{key}"))
        out.extend(
            f"{path}.{key}: unexpected {json.dumps(actual[key])}" for key in actual if key not in expected
        )
        return out
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        out = []
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            out.extend(json_differences(e, a, f"{path}[{i}]"))
        return out
    if expected == actual and type(expected) is type(actual):
        return []
    return [f"{path}: expected {json.dumps(expected)}, got {json.dumps(actual)}"]


def assert_same_json(actual: Any, expected: Any) -> None:
    differences = json_differences(expected, actual)
    if differences:
        shown = "\n  ".join(differences[:15])
        more = f"\n  ... and {len(differences) - 15} more" if len(differences) > 15 else ""
        pytest.fail(f"{len(differences)} difference(s):\n  {shown}{more}", pytrace=False)


def load_resolved(path: Path, flavour: str) -> Any:
    loader = pytest.importorskip("ampbase.schema.loader")
    return loader.load_schema(path, flavour=flavour)


@pytest.mark.parametrize("sample", SAMPLES)
def test_introspection_matches_the_oracle(sample: str) -> None:
    directory = ORACLE / sample
    flavour = "gen2" if sample.startswith("gen2-") else "gen1"
    schema = load_resolved(directory / "input.graphql", flavour)
    expected = json.loads((directory / "introspection.json").read_text(encoding="utf-8"))
    assert_same_json(build_introspection(schema), expected)


@pytest.mark.parametrize("module", DSL_SAMPLES)
def test_dsl_port_of_a_gen2_sample_matches_the_oracle(module: str) -> None:
    loader = pytest.importorskip("ampbase.schema.loader")
    schema = loader.load_schema(DSL / f"{module}.py")
    sample = module.replace("_", "-")
    expected = json.loads((ORACLE / sample / "introspection.json").read_text(encoding="utf-8"))
    assert_same_json(build_introspection(schema), expected)


def test_differences_name_the_json_path() -> None:
    expected = {"models": {"Todo": {"fields": [1, 2], "name": "Todo"}}}
    actual = {"models": {"Todo": {"fields": [1, 3], "extra": True}}}
    assert json_differences(expected, actual) == [
        "$.models.Todo.fields[1]: expected 2, got 3",
        '$.models.Todo.name: missing (expected "Todo")',
        "$.models.Todo.extra: unexpected true",
    ]
    assert json_differences({"a": 1}, {"a": True}) == ["$.a: expected 1, got true"]


def test_client_study_auth_example_matches_the_generator_output() -> None:
    """``specs/client-wire-contract.md`` §2.3's auth/relationship variant (Gen 2 SDL)."""
    schema = load_resolved(FIXTURES / "example-schema-auth.graphql", "gen2")
    expected = json.loads((FIXTURES / "model-introspection-auth.json").read_text(encoding="utf-8"))
    assert_same_json(build_introspection(schema), expected)


def test_client_study_example_matches_the_generator_output() -> None:
    """``specs/client-wire-contract.md`` §2.3's worked example through the SDL front end.

    data-schema writes custom-type arguments as an explicit ``input LocationInput``; the
    SDL front end takes non-model types as arguments instead, so the example is rewritten
    to ``where: Location`` (the generator output is the same for both).
    """
    sdl = pytest.importorskip("ampbase.schema.sdl")
    resolve = pytest.importorskip("ampbase.schema.resolve")
    text = (FIXTURES / "example-schema.graphql").read_text(encoding="utf-8")
    text = re.sub(r"input LocationInput \{[^}]*\}", "", text).replace(
        "where: LocationInput", "where: Location"
    )
    schema = resolve.resolve_schema(sdl.load_sdl(text, flavour="gen2"))
    expected = json.loads((FIXTURES / "model-introspection.json").read_text(encoding="utf-8"))
    assert_same_json(build_introspection(schema), expected)


def test_client_study_example_in_the_python_dsl_matches_the_generator_output() -> None:
    """The same worked example written with ``a.schema`` (the ``resource.ts`` of §2.3)."""
    dsl = pytest.importorskip("ampbase.schema.dsl")
    resolve = pytest.importorskip("ampbase.schema.resolve")
    a = dsl.a

    def handler(event: Any) -> Any:
        return None

    fn = a.handler.function(handler)
    schema = a.schema(
        {
            "Priority": a.enum(["LOW", "MEDIUM", "HIGH"]),
            "Location": a.custom_type({"lat": a.float(), "long": a.float()}),
            "Todo": a.model(
                {
                    "content": a.string(),
                    "isDone": a.boolean(),
                    "priority": a.ref("Priority"),
                    "location": a.ref("Location"),
                }
            ),
            "Team": a.model({"name": a.string().required(), "members": a.has_many("Member", "teamId")}),
            "Member": a.model(
                {"name": a.string().required(), "teamId": a.id(), "team": a.belongs_to("Team", "teamId")}
            ),
            "Customer": a.model(
                {"name": a.string(), "accountRepresentativeId": a.id().required()}
            ).secondary_indexes(lambda index: [index("accountRepresentativeId").sort_keys(["name"])]),
            "Product": a.model(
                {
                    "sku": a.string().required(),
                    "region": a.string().required(),
                    "title": a.string(),
                    "tags": a.string().array(),
                }
            ).identifier(["sku", "region"]),
            "echo": a.query().arguments({"content": a.string().required()}).returns(a.string()).handler(fn),
            "todosByPriority": a.query()
            .arguments({"priority": a.ref("Priority")})
            .returns(a.ref("Todo").array())
            .handler(fn),
            "locate": a.query()
            .arguments({"where": a.ref("Location"), "tags": a.string().required().array()})
            .returns(a.ref("Location"))
            .handler(fn),
            "markDone": a.mutation().arguments({"id": a.id().required()}).returns(a.ref("Todo")).handler(fn),
            "onDone": a.subscription().for_(a.ref("markDone")).handler(fn),
        }
    ).authorization(lambda allow: [allow.public_api_key()])
    data = dsl.define_data(
        schema=schema,
        authorization_modes={
            "default_authorization_mode": "apiKey",
            "api_key_authorization_mode": {"expires_in_days": 30},
        },
    )
    expected = json.loads((FIXTURES / "model-introspection.json").read_text(encoding="utf-8"))
    assert_same_json(build_introspection(resolve.resolve_schema(data.schema)), expected)
