"""Which authorization mode an ``Authorization`` header uses, and verifying it (``auth-spec.md`` §1.7).

AppSync infers the mode from the credential (the API-key header is handled by the server's
API-key store before this is reached):

1. ``AWS4-HMAC-SHA256 …`` and IAM enabled → SigV4 (needs the request's method, path and body);
2. a JWT whose ``iss`` is a configured user pool → user pools; whose ``iss`` is the OIDC issuer
   (trailing ``/`` ignored) → OIDC;
3. anything else, if a Lambda authorizer is enabled → the authorizer, token = the header value;
4. otherwise → HTTP 401 ``UnauthorizedException``.

A SigV4 string or a JWT of a configured issuer is never handed to the Lambda authorizer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ampbase.auth.jwt import JwtVerifier, decode_unverified
from ampbase.auth.lambda_authorizer import LambdaAuthorizer, RequestInfo
from ampbase.auth.sigv4 import SigV4Verifier, is_sigv4
from ampbase.engine.identity import Identity
from ampbase.errors import AuthenticationError

__all__ = ["NOT_AUTHORIZED", "CredentialVerifiers", "RequestFacts", "detect_mode"]

NOT_AUTHORIZED = "You are not authorized to make this call."


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What SigV4 and Lambda authorizers need beyond the headers.

    ``body`` is the exact signed body (HTTP: the request body; realtime connect: ``b"{}"``;
    realtime ``start``: ``payload.data``), ``path`` the signed path (``/graphql``,
    ``/graphql/connect``).
    """

    method: str = "POST"
    path: str = "/graphql"
    body: bytes = b""
    query_string: str = ""
    graphql_query: str = ""
    operation_name: str | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)

    def with_graphql_fields(self) -> RequestFacts:
        """Fill ``graphql_query``/``operation_name``/``variables`` from a JSON body if not given."""
        if self.graphql_query or not self.body:
            return self
        try:
            payload = json.loads(self.body)
        except ValueError:
            return self
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return self
        name = payload.get("operationName")
        variables = payload.get("variables")
        return replace(
            self,
            graphql_query=payload["query"],
            operation_name=name if isinstance(name, str) else None,
            variables=variables if isinstance(variables, dict) else {},
        )


def _jwt_issuer(token: str) -> str | None:
    try:
        _header, claims, _input, _sig = decode_unverified(token)
    except AuthenticationError:
        return None
    iss = claims.get("iss")
    return iss if isinstance(iss, str) else None


def detect_mode(
    authorization: str,
    *,
    modes: Sequence[str],
    user_pools: Sequence[JwtVerifier] = (),
    oidc: Sequence[JwtVerifier] = (),
) -> str | None:
    """The mode an ``Authorization`` value belongs to (``None``: no enabled mode takes it)."""
    if is_sigv4(authorization):
        return "iam" if "iam" in modes else None
    issuer = _jwt_issuer(authorization)
    if issuer is not None:
        claims = {"iss": issuer}
        if "userPool" in modes and any(v.issued_by(claims) for v in user_pools):
            return "userPool"
        if "oidc" in modes and any(v.issued_by(claims) for v in oidc):
            return "oidc"
    if "lambda" in modes:
        return "lambda"
    return None


class CredentialVerifiers:
    """The token modes of one API: user-pool and OIDC issuers, SigV4 keys, a Lambda authorizer."""

    def __init__(
        self,
        *,
        user_pools: Sequence[JwtVerifier] = (),
        oidc: Sequence[JwtVerifier] = (),
        sigv4: SigV4Verifier | None = None,
        lambda_authorizer: LambdaAuthorizer | None = None,
    ) -> None:
        self.user_pools = tuple(user_pools)
        self.oidc = tuple(oidc)
        self.sigv4 = sigv4
        self.lambda_authorizer = lambda_authorizer

    def configured_modes(self) -> tuple[str, ...]:
        modes: list[str] = []
        if self.user_pools:
            modes.append("userPool")
        if self.oidc:
            modes.append("oidc")
        if self.sigv4 is not None:
            modes.append("iam")
        if self.lambda_authorizer is not None:
            modes.append("lambda")
        return tuple(modes)

    async def verify(
        self,
        authorization: str,
        headers: Mapping[str, Any],
        *,
        modes: Sequence[str],
        request: RequestFacts | None = None,
        source_ip: str | None = None,
    ) -> Identity:
        """The identity behind an ``Authorization`` header, or :class:`AuthenticationError` (401)."""
        enabled = [m for m in modes if m in self.configured_modes()]
        mode = detect_mode(authorization, modes=enabled, user_pools=self.user_pools, oidc=self.oidc)
        if mode == "iam" and self.sigv4 is not None:
            facts = request or RequestFacts()
            return self.sigv4.verify(
                method=facts.method,
                path=facts.path,
                headers=headers,
                body=facts.body,
                query=facts.query_string,
                source_ip=source_ip,
            )
        if mode in ("userPool", "oidc"):
            verifiers = self.user_pools if mode == "userPool" else self.oidc
            token = authorization.strip()
            claims = {"iss": _jwt_issuer(token)}
            verifier = next(v for v in verifiers if v.issued_by(claims))
            verified = await verifier.verify(token)
            return Identity(mode=mode, claims=verified, source_ip=source_ip)
        if mode == "lambda" and self.lambda_authorizer is not None:
            facts = (request or RequestFacts()).with_graphql_fields()
            info = RequestInfo(
                query=facts.graphql_query,
                operation_name=facts.operation_name,
                variables=facts.variables,
                headers={str(k).lower(): str(v) for k, v in headers.items()},
            )
            return await self.lambda_authorizer.identity(authorization, info, source_ip=source_ip)
        if is_sigv4(authorization):
            raise AuthenticationError(NOT_AUTHORIZED)
        if authorization.count(".") == 2 and _jwt_issuer(authorization) is None:
            raise AuthenticationError("Unable to parse JWT token.")
        raise AuthenticationError(NOT_AUTHORIZED)
