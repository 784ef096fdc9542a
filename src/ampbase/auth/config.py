"""Build an API's credential verifiers from the schema's modes, the environment and the state dir.

==================================  ===================================================================
``AMPBASE_USER_POOL_ISSUER``        a Cognito user pool's issuer
                                    (``https://cognito-idp.<region>.amazonaws.com/<poolId>``); its JWKS
                                    is ``<issuer>/.well-known/jwks.json`` unless
                                    ``AMPBASE_USER_POOL_JWKS`` (URL or file) says otherwise
``AMPBASE_USER_POOL_CLIENT_ID``     regex the token's app client id must match (``appIdClientRegex``)
``AMPBASE_LOCAL_ISSUER``            ``0`` to stop accepting the sandbox's own tokens (``ampbase token``)
``AMPBASE_OIDC_JWKS``               JWKS URL or file of the OIDC provider (default: discovered from
                                    ``<oidc_issuer_url>/.well-known/openid-configuration``)
``AMPBASE_IAM_CONFIG``              JSON file: ``region``, ``accountId``, ``identityPoolId``,
                                    ``authRoleName``, ``unauthRoleName``, ``adminRoleNames``,
                                    ``enableIamAccess`` and ``credentials`` (a list of
                                    ``{accessKeyId, secretAccessKey, kind, sessionToken?,
                                    identityId?, userArn?}``, kind ``authenticated`` /
                                    ``unauthenticated`` / ``iam``)
``AMPBASE_LAMBDA_AUTHORIZER_URL``   HTTP endpoint of the Lambda authorizer when the schema names none
                                    it can run (no ``function``, or a function *name* such as a
                                    Gen 2 ``defineFunction``'s)
==================================  ===================================================================

The OIDC issuer, client id and TTLs come from ``oidc_authorization_mode``; the Lambda authorizer
(a callable, or an ``http(s)://`` URL) and its TTL from ``lambda_authorization_mode``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ampbase.auth.credentials import CredentialVerifiers
from ampbase.auth.issuer import LocalIssuer
from ampbase.auth.jwt import JwkSet, JwtVerifier
from ampbase.auth.lambda_authorizer import DEFAULT_TTL, LambdaAuthorizer
from ampbase.auth.policy import IamSettings
from ampbase.auth.sigv4 import IamCredential, SigV4Verifier
from ampbase.errors import ConfigError
from ampbase.schema.ir import SchemaDef

__all__ = ["AuthSetup", "build_auth", "load_iam_config"]


@dataclass(frozen=True, slots=True)
class AuthSetup:
    """Everything authentication needs: verifiers, IAM settings, the local issuer (if any)."""

    verifiers: CredentialVerifiers
    iam: IamSettings
    issuer: LocalIssuer | None
    region: str


def _setting(schema: SchemaDef, key: str) -> Mapping[str, Any]:
    settings = schema.auth.settings
    if isinstance(settings, Mapping):
        value = settings.get(key)
        if isinstance(value, Mapping):
            return value
    return {}


def load_iam_config(path: str | Path) -> tuple[IamSettings, list[IamCredential], str | None]:
    """Parse an ``AMPBASE_IAM_CONFIG`` file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the IAM config {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the IAM config is a JSON object")
    defaults = IamSettings()
    admin = data.get("adminRoleNames", [])
    if not isinstance(admin, list) or not all(isinstance(a, str) for a in admin):
        raise ConfigError(f"{path}: adminRoleNames must be a list of strings")
    iam = IamSettings(
        account_id=str(data.get("accountId", defaults.account_id)),
        identity_pool_id=str(data.get("identityPoolId", defaults.identity_pool_id)),
        auth_role_name=str(data.get("authRoleName", defaults.auth_role_name)),
        unauth_role_name=str(data.get("unauthRoleName", defaults.unauth_role_name)),
        admin_role_names=tuple(admin),
        enable_iam_access=bool(data.get("enableIamAccess", True)),
    )
    credentials: list[IamCredential] = []
    for entry in data.get("credentials", []):
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: every credential is an object")
        try:
            credentials.append(
                IamCredential(
                    access_key_id=str(entry["accessKeyId"]),
                    secret_access_key=str(entry["secretAccessKey"]),
                    kind=str(entry.get("kind", "iam")),
                    session_token=entry.get("sessionToken"),
                    identity_id=entry.get("identityId"),
                    user_arn=entry.get("userArn"),
                )
            )
        except (KeyError, ValueError) as exc:
            raise ConfigError(f"{path}: bad credential entry: {exc}") from exc
    region = data.get("region")
    return iam, credentials, region if isinstance(region, str) else None


def _runnable_authorizer(target: Any) -> bool:
    """A Python callable or an ``http(s)://`` URL (not a function name ampbase cannot run)."""
    return callable(target) or (isinstance(target, str) and target.startswith(("http://", "https://")))


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.lower() in ("1", "true", "yes", "on")


def build_auth(
    schema: SchemaDef,
    *,
    state_dir: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> AuthSetup:
    """The verifiers for the schema's enabled modes (``state_dir`` holds the local issuer's key)."""
    env = os.environ if environ is None else environ
    modes = set(schema.auth.modes) | {schema.auth.default_mode}
    region = env.get("AMPBASE_AWS_REGION") or "us-east-1"

    issuer: LocalIssuer | None = None
    user_pools: list[JwtVerifier] = []
    if "userPool" in modes:
        if state_dir is not None and _flag(env.get("AMPBASE_LOCAL_ISSUER"), True):
            issuer = LocalIssuer.load_or_create(state_dir)
            user_pools.append(issuer.verifier())
        pool_issuer = env.get("AMPBASE_USER_POOL_ISSUER")
        if pool_issuer:
            jwks_source = (
                env.get("AMPBASE_USER_POOL_JWKS") or pool_issuer.rstrip("/") + "/.well-known/jwks.json"
            )
            user_pools.append(
                JwtVerifier(
                    issuer=pool_issuer,
                    jwks=JwkSet(jwks_source),
                    token_uses=("access", "id"),
                    client_id=env.get("AMPBASE_USER_POOL_CLIENT_ID") or None,
                )
            )

    oidc: list[JwtVerifier] = []
    if "oidc" in modes:
        conf = _setting(schema, "oidc_authorization_mode")
        oidc_issuer = conf.get("oidc_issuer_url")
        if isinstance(oidc_issuer, str) and oidc_issuer:
            jwks_env = env.get("AMPBASE_OIDC_JWKS")
            jwks = JwkSet(jwks_env) if jwks_env else JwkSet(oidc_issuer, discover=True)
            client_id = conf.get("client_id")
            oidc.append(
                JwtVerifier(
                    issuer=oidc_issuer,
                    jwks=jwks,
                    client_id=str(client_id) if client_id else None,
                    iat_ttl=float(conf.get("token_expire_from_issued_in_seconds") or 0),
                    auth_ttl=float(conf.get("token_expiry_from_auth_in_seconds") or 0),
                )
            )

    iam = IamSettings(enable_iam_access=schema.flavour == "gen2")
    sigv4: SigV4Verifier | None = None
    iam_path = env.get("AMPBASE_IAM_CONFIG")
    if iam_path:
        iam, credentials, iam_region = load_iam_config(iam_path)
        region = iam_region or region
        if "iam" in modes:
            sigv4 = SigV4Verifier(credentials, iam=iam, region=region)

    authorizer: LambdaAuthorizer | None = None
    if "lambda" in modes:
        conf = _setting(schema, "lambda_authorization_mode")
        target: Any = conf.get("function")
        if not _runnable_authorizer(target):  # e.g. the name of a Gen 2 defineFunction
            target = env.get("AMPBASE_LAMBDA_AUTHORIZER_URL")
        ttl = conf.get("time_to_live_in_seconds")
        if _runnable_authorizer(target):
            authorizer = LambdaAuthorizer(target, ttl=int(ttl) if isinstance(ttl, int) else DEFAULT_TTL)

    verifiers = CredentialVerifiers(
        user_pools=user_pools, oidc=oidc, sigv4=sigv4, lambda_authorizer=authorizer
    )
    return AuthSetup(verifiers=verifiers, iam=iam, issuer=issuer, region=region)
