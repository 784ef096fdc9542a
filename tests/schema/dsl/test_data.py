from __future__ import annotations

from typing import Any

import pytest

from ampbase import a, define_data
from ampbase.errors import SchemaDefinitionError
from ampbase.schema.ir import AuthConfig
from tests.schema.dsl.helpers import assert_located, lineno

SCHEMA = a.schema({"Todo": a.model({"content": a.string()})}).authorization(
    lambda allow: allow.public_api_key()
)


def authorizer(event: dict[str, Any]) -> dict[str, Any]:
    return {"isAuthorized": True}


def test_the_seed_todo_uses_the_api_key_by_default() -> None:
    data = define_data(
        schema=SCHEMA,
        authorization_modes={
            "default_authorization_mode": "apiKey",
            "api_key_authorization_mode": {"expires_in_days": 30},
        },
    )
    assert data.schema.auth == AuthConfig(
        default_mode="apiKey",
        modes=("apiKey", "userPool", "iam"),
        settings={"api_key_authorization_mode": {"expires_in_days": 30}},
    )
    assert data.schema.flavour == "gen2"


def test_user_pools_and_iam_are_always_enabled() -> None:
    data = define_data(schema=SCHEMA)
    assert data.schema.auth.default_mode == "userPool"
    assert data.schema.auth.modes == ("userPool", "iam")


def test_identity_pool_default_is_iam() -> None:
    data = define_data(schema=SCHEMA, authorization_modes={"default_authorization_mode": "identityPool"})
    assert data.schema.auth.modes == ("iam", "userPool")


def test_a_default_api_key_mode_enables_the_api_key() -> None:
    data = define_data(schema=SCHEMA, authorization_modes={"default_authorization_mode": "apiKey"})
    assert data.schema.auth.modes == ("apiKey", "userPool", "iam")


def test_a_single_explicit_mode_is_the_default() -> None:
    data = define_data(schema=SCHEMA, authorization_modes={"api_key_authorization_mode": {}})
    assert data.schema.auth.default_mode == "apiKey"


def test_all_modes_in_amplify_outputs_order() -> None:
    data = define_data(
        schema=SCHEMA,
        authorization_modes={
            "default_authorization_mode": "lambda",
            "api_key_authorization_mode": {"expires_in_days": 7},
            "oidc_authorization_mode": {"oidc_provider_name": "p", "oidc_issuer_url": "https://issuer"},
            "lambda_authorization_mode": {"function": authorizer, "time_to_live_in_seconds": 60},
        },
    )
    assert data.schema.auth.modes == ("lambda", "userPool", "iam", "apiKey", "oidc")
    assert data.schema.auth.settings["lambda_authorization_mode"]["function"] is authorizer


def test_several_modes_need_a_default() -> None:
    line = lineno(2)
    with pytest.raises(SchemaDefinitionError) as info:
        define_data(
            schema=SCHEMA,
            authorization_modes={
                "api_key_authorization_mode": {},
                "lambda_authorization_mode": {"function": authorizer},
            },
        )
    assert_located(info.value, line, hint="default_authorization_mode")


def test_camel_case_keys_get_a_snake_case_hint() -> None:
    line = lineno(2)
    with pytest.raises(SchemaDefinitionError) as info:
        define_data(schema=SCHEMA, authorization_modes={"defaultAuthorizationMode": "apiKey"})
    assert_located(info.value, line, hint="'default_authorization_mode'")


def test_unknown_default_mode() -> None:
    with pytest.raises(SchemaDefinitionError, match="Unknown default_authorization_mode 'AWS_IAM'"):
        define_data(schema=SCHEMA, authorization_modes={"default_authorization_mode": "AWS_IAM"})


def test_oidc_default_needs_its_settings() -> None:
    with pytest.raises(SchemaDefinitionError, match="needs oidc_authorization_mode"):
        define_data(schema=SCHEMA, authorization_modes={"default_authorization_mode": "oidc"})


def test_api_key_expiry_is_checked() -> None:
    with pytest.raises(SchemaDefinitionError, match="expires_in_days"):
        define_data(
            schema=SCHEMA,
            authorization_modes={"api_key_authorization_mode": {"expires_in_days": 400}},
        )


def test_define_data_needs_a_schema() -> None:
    line = lineno(2)
    with pytest.raises(SchemaDefinitionError) as info:
        define_data(schema={"Todo": a.model({"content": a.string()})})  # type: ignore[arg-type]
    assert_located(info.value, line, hint="a.schema")


def test_a_gen2_sdl_string_schema_is_accepted() -> None:
    sdl = "type Todo @model @auth(rules: [{allow: public, provider: apiKey}]) {\n  content: String\n}\n"
    data = define_data(schema=sdl, authorization_modes={"default_authorization_mode": "apiKey"})
    assert data.schema.flavour == "gen2"
    assert data.schema.auth.modes == ("apiKey", "userPool", "iam")
    assert [f.name for f in data.schema.models[0].fields] == ["content"]
