"""Callers and schema helpers of ``auth-spec.md`` §5 (alice, bob, carol (Admin), dave (Blue), ...)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ampbase import a
from ampbase.auth.policy import IamSettings, ModelPolicy, PolicySettings, SchemaPolicy
from ampbase.engine.identity import Identity
from ampbase.schema.dsl import define_data
from ampbase.schema.ir import SchemaDef
from ampbase.schema.resolve import resolve_schema

__all__ = [
    "GUEST",
    "IAM",
    "IAMUSER",
    "KEY",
    "LAMBDA",
    "TRUSTED",
    "idp",
    "policy_for",
    "schema_for",
    "up",
    "upid",
]

IAM = IamSettings(
    account_id="123456789012",
    identity_pool_id="us-east-1:pool",
    auth_role_name="authRole",
    unauth_role_name="unauthRole",
)

_USERS: dict[str, tuple[str, list[str]]] = {
    "alice": ("A-SUB", []),
    "bob": ("B-SUB", []),
    "carol": ("C-SUB", ["Admin"]),
    "dave": ("D-SUB", ["Blue"]),
}


def up(name: str, **extra: Any) -> Identity:
    """A user-pool access token: ``sub``, ``username``, ``cognito:groups`` (no email)."""
    sub, groups = _USERS[name]
    claims: dict[str, Any] = {"sub": sub, "username": name, "token_use": "access", "client_id": "app"}
    if groups:
        claims["cognito:groups"] = groups
    claims.update(extra)
    return Identity(mode="userPool", claims=claims)


def upid(name: str, **extra: Any) -> Identity:
    """A user-pool ID token: ``cognito:username`` and ``email`` instead of ``username``."""
    sub, groups = _USERS[name]
    claims: dict[str, Any] = {
        "sub": sub,
        "cognito:username": name,
        "email": f"{name}@x.com",
        "token_use": "id",
    }
    if groups:
        claims["cognito:groups"] = groups
    claims.update(extra)
    return Identity(mode="userPool", claims=claims)


def idp(name: str) -> Identity:
    """SigV4 with the identity pool's authenticated-role credentials."""
    return Identity(
        mode="iam",
        iam={
            "userArn": IAM.auth_role_arn,
            "cognitoIdentityPoolId": IAM.identity_pool_id,
            "cognitoIdentityId": f"us-east-1:{name}",
            "cognitoIdentityAuthType": "authenticated",
        },
    )


KEY = Identity(mode="apiKey", api_key="da2-valid")
GUEST = Identity(
    mode="iam",
    iam={
        "userArn": IAM.unauth_role_arn,
        "cognitoIdentityPoolId": IAM.identity_pool_id,
        "cognitoIdentityId": "us-east-1:guest",
        "cognitoIdentityAuthType": "unauthenticated",
    },
)
IAMUSER = Identity(
    mode="iam", iam={"userArn": "arn:aws:sts::123456789012:assumed-role/lambda-exec/fn", "accountId": "1"}
)
LAMBDA = Identity(mode="lambda", resolver_context={"u": "1"})
TRUSTED = Identity(mode=None)

_MODES: dict[str, Any] = {
    "default_authorization_mode": "userPool",
    "api_key_authorization_mode": {"expires_in_days": 7},
}


def schema_for(types: Mapping[str, Any], *, schema_rules: Any = None, lambda_mode: bool = False) -> SchemaDef:
    built = a.schema(dict(types))
    if schema_rules is not None:
        built = built.authorization(schema_rules)
    modes = dict(_MODES)
    if lambda_mode:
        modes["lambda_authorization_mode"] = {"function": lambda event: {"isAuthorized": True}}
    return resolve_schema(define_data(schema=built, authorization_modes=modes).schema)


def policy_for(
    types: Mapping[str, Any], *, schema_rules: Any = None, lambda_mode: bool = False, **flags: Any
) -> SchemaPolicy:
    schema = schema_for(types, schema_rules=schema_rules, lambda_mode=lambda_mode)
    settings = PolicySettings.for_schema(schema, iam=IAM)
    if flags:
        from dataclasses import replace

        settings = replace(settings, **flags)
    return SchemaPolicy(schema, settings)


def model_policy(types: Mapping[str, Any], name: str, **kw: Any) -> ModelPolicy:
    return policy_for(types, **kw).model(name)
