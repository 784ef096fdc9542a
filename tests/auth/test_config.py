"""Building the verifiers from the schema's modes, the environment and the state dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ampbase import a
from ampbase.auth.config import build_auth, load_iam_config
from ampbase.auth.issuer import KEY_FILE
from ampbase.errors import ConfigError
from ampbase.schema.dsl import define_data
from ampbase.schema.ir import SchemaDef
from ampbase.schema.resolve import resolve_schema


def schema(**modes: object) -> SchemaDef:
    built = a.schema({"Todo": a.model({"c": a.string()}).authorization(lambda allow: [allow.owner()])})
    return resolve_schema(define_data(schema=built, authorization_modes=modes or None).schema)


def test_user_pools_use_the_local_issuer_kept_in_the_state_dir(tmp_path: Path) -> None:
    setup = build_auth(schema(), state_dir=tmp_path, environ={})
    assert setup.issuer is not None and (tmp_path / KEY_FILE).exists()
    assert setup.verifiers.configured_modes() == ("userPool",)
    disabled = build_auth(schema(), state_dir=tmp_path, environ={"AMPBASE_LOCAL_ISSUER": "0"})
    assert disabled.issuer is None and disabled.verifiers.configured_modes() == ()


def test_a_cognito_pool_oidc_and_lambda_from_settings(tmp_path: Path) -> None:
    s = schema(
        default_authorization_mode="userPool",
        oidc_authorization_mode={
            "oidc_provider_name": "idp",
            "oidc_issuer_url": "https://idp.example",
            "client_id": "app",
            "token_expire_from_issued_in_seconds": 600,
        },
        lambda_authorization_mode={
            "function": lambda e: {"isAuthorized": True},
            "time_to_live_in_seconds": 30,
        },
    )
    env = {"AMPBASE_USER_POOL_ISSUER": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X"}
    setup = build_auth(s, state_dir=tmp_path, environ=env)
    v = setup.verifiers
    assert [p.issuer for p in v.user_pools] == [
        "https://cognito-idp.local/ampbase",
        env["AMPBASE_USER_POOL_ISSUER"],
    ]
    assert (
        v.oidc[0].issuer == "https://idp.example"
        and v.oidc[0].iat_ttl == 600
        and v.oidc[0].client_id == "app"
    )
    assert v.lambda_authorizer is not None and v.lambda_authorizer.ttl == 30


def test_iam_credentials_come_from_a_config_file(tmp_path: Path) -> None:
    path = tmp_path / "iam.json"
    path.write_text(
        json.dumps(
            {
                "region": "eu-west-1",
                "accountId": "123",
                "identityPoolId": "eu-west-1:pool",
                "authRoleName": "auth",
                "unauthRoleName": "unauth",
                "credentials": [{"accessKeyId": "AK", "secretAccessKey": "SK", "kind": "unauthenticated"}],
            }
        )
    )
    setup = build_auth(schema(), state_dir=tmp_path, environ={"AMPBASE_IAM_CONFIG": str(path)})
    assert setup.region == "eu-west-1" and setup.iam.unauth_role_arn.endswith(
        "assumed-role/unauth/CognitoIdentityCredentials"
    )
    assert setup.verifiers.sigv4 is not None and "AK" in setup.verifiers.sigv4.credentials
    assert setup.verifiers.sigv4.region == "eu-west-1"  # signatures for another region are refused
    path.write_text(json.dumps({"credentials": [{"accessKeyId": "AK"}]}))
    with pytest.raises(ConfigError, match="bad credential"):
        load_iam_config(path)


def test_a_named_lambda_function_falls_back_to_the_authorizer_url(tmp_path: Path) -> None:
    s = schema(
        default_authorization_mode="lambda",
        lambda_authorization_mode={"function": "myAuthorizer", "time_to_live_in_seconds": 0},
    )
    url = "http://127.0.0.1:9/authorize"
    setup = build_auth(s, state_dir=tmp_path, environ={"AMPBASE_LAMBDA_AUTHORIZER_URL": url})
    authorizer = setup.verifiers.lambda_authorizer
    assert authorizer is not None and authorizer.target == url and authorizer.ttl == 0
    assert build_auth(s, state_dir=tmp_path, environ={}).verifiers.lambda_authorizer is None


def test_a_callable_or_url_in_the_schema_wins_over_the_environment(tmp_path: Path) -> None:
    def authorize(event: object) -> dict[str, bool]:
        return {"isAuthorized": True}

    env = {"AMPBASE_LAMBDA_AUTHORIZER_URL": "http://127.0.0.1:9/env"}
    for target in (authorize, "https://authorizer.example/check"):
        s = schema(default_authorization_mode="lambda", lambda_authorization_mode={"function": target})
        authorizer = build_auth(s, state_dir=tmp_path, environ=env).verifiers.lambda_authorizer
        assert authorizer is not None and authorizer.target == target
