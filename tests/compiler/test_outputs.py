from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from ampbase.compiler.introspection import build_introspection
from ampbase.compiler.outputs import authorization_type, build_amplify_outputs
from ampbase.errors import ConfigError
from ampbase.schema.ir import AuthConfig, FieldDef, FieldOrigin, ModelDef, SchemaDef, TypeKind, TypeRef

URL = "https://127.0.0.1:4443/graphql"
FIXTURES = Path(__file__).parent / "fixtures"


def schema_with(auth: AuthConfig) -> SchemaDef:
    todo = ModelDef(
        "Todo",
        (
            FieldDef("id", TypeRef("ID", TypeKind.SCALAR, required=True), origin=FieldOrigin.ID),
            FieldDef("content", TypeRef("String", TypeKind.SCALAR)),
        ),
        plural_name="Todos",
    )
    return SchemaDef(models=(todo,), auth=auth)


def test_api_key_schema_gives_the_recommended_file() -> None:
    schema = schema_with(AuthConfig("apiKey", ("apiKey",)))
    outputs = build_amplify_outputs(schema, url=URL, api_key="da2-fakeapikey00000000000000")
    assert outputs == {
        "version": "1.4",
        "data": {
            "url": URL,
            "aws_region": "us-east-1",
            "api_key": "da2-fakeapikey00000000000000",
            "default_authorization_type": "API_KEY",
            "authorization_types": [],
            "model_introspection": build_introspection(schema),
        },
    }


def test_version_is_a_string_starting_with_1() -> None:
    outputs = build_amplify_outputs(schema_with(AuthConfig()), url=URL, api_key="k")
    assert isinstance(outputs["version"], str)
    assert outputs["version"].startswith("1")


def test_no_top_level_key_starts_with_aws() -> None:
    outputs = build_amplify_outputs(
        schema_with(AuthConfig()), url=URL, api_key="k", auth={"aws_region": "us-east-1"}
    )
    assert not [key for key in outputs if key.startswith("aws_")]
    assert outputs["auth"] == {"aws_region": "us-east-1"}


def test_other_enabled_modes_are_listed_in_authorization_types() -> None:
    auth = AuthConfig("apiKey", ("apiKey", "userPool", "iam", "oidc", "lambda"))
    data = build_amplify_outputs(schema_with(auth), url=URL, api_key="k")["data"]
    # the same list the client-study fixture (written by AWS's tooling) carries
    fixture = json.loads((FIXTURES / "amplify_outputs.json").read_text())["data"]
    assert data["default_authorization_type"] == fixture["default_authorization_type"] == "API_KEY"
    assert data["authorization_types"] == fixture["authorization_types"]


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("apiKey", "API_KEY"),
        ("userPool", "AMAZON_COGNITO_USER_POOLS"),
        ("iam", "AWS_IAM"),
        ("oidc", "OPENID_CONNECT"),
        ("lambda", "AWS_LAMBDA"),
    ],
)
def test_default_mode_maps_to_its_authorization_type(mode: str, expected: str) -> None:
    schema = schema_with(AuthConfig(mode, (mode,)))
    data = build_amplify_outputs(schema, url=URL, api_key="k" if mode == "apiKey" else None)["data"]
    assert data["default_authorization_type"] == expected
    assert data["authorization_types"] == []


def test_user_pool_default_with_iam_lists_only_iam_as_other() -> None:
    auth = AuthConfig("userPool", ("userPool", "iam"))
    data = build_amplify_outputs(schema_with(auth), url=URL, api_key=None, region="eu-west-1")["data"]
    assert data["default_authorization_type"] == "AMAZON_COGNITO_USER_POOLS"
    assert data["authorization_types"] == ["AWS_IAM"]
    assert data["aws_region"] == "eu-west-1"
    assert "api_key" not in data


def test_api_key_default_mode_without_a_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="API key"):
        build_amplify_outputs(
            schema_with(AuthConfig("apiKey", ("apiKey", "userPool"))), url=URL, api_key=None
        )


def test_secondary_api_key_mode_without_a_key_omits_api_key() -> None:
    schema = schema_with(AuthConfig("userPool", ("userPool", "apiKey")))
    data = build_amplify_outputs(schema, url=URL, api_key=None)["data"]
    assert "api_key" not in data
    assert data["authorization_types"] == ["API_KEY"]


def test_unknown_mode_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="Unknown authorization mode 'none'"):
        authorization_type("none")


@pytest.mark.parametrize(
    "url",
    ["/graphql", "127.0.0.1:4000/graphql", "ws://127.0.0.1/graphql", URL + "?x=1", URL + "/", URL + "#f"],
)
def test_url_must_be_absolute_http_without_query_or_trailing_slash(url: str) -> None:
    with pytest.raises(ConfigError, match="GraphQL URL"):
        build_amplify_outputs(schema_with(AuthConfig()), url=url, api_key="k")


def test_outputs_are_json_serialisable() -> None:
    outputs = build_amplify_outputs(
        schema_with(AuthConfig()), url="http://127.0.0.1:4000/graphql", api_key="k"
    )
    assert json.loads(json.dumps(outputs)) == outputs


def test_client_study_outputs_file_is_reproduced_exactly() -> None:
    """``fixtures/amplify_outputs.json`` (written by AWS's tooling for the worked example)."""
    sdl = pytest.importorskip("ampbase.schema.sdl")
    resolve = pytest.importorskip("ampbase.schema.resolve")
    text = (FIXTURES / "example-schema.graphql").read_text(encoding="utf-8")
    text = re.sub(r"input LocationInput \{[^}]*\}", "", text).replace(
        "where: LocationInput", "where: Location"
    )
    schema = resolve.resolve_schema(sdl.load_sdl(text, flavour="gen2"))
    schema = dataclasses.replace(
        schema, auth=AuthConfig("apiKey", ("apiKey", "userPool", "iam", "oidc", "lambda"))
    )
    expected = json.loads((FIXTURES / "amplify_outputs.json").read_text(encoding="utf-8"))
    assert build_amplify_outputs(schema, url=URL, api_key="da2-fakeapikey00000000000000") == expected
