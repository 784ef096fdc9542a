"""AWS Signature Version 4 for AppSync (service ``appsync``): verify incoming requests, sign test ones.

The server knows a set of :class:`IamCredential` (access key → secret, plus which principal it
stands for: the identity pool's authenticated role, its unauthenticated (guest) role, or a plain
IAM principal that Gen 2's generic IAM access lets through). :class:`SigV4Verifier` rebuilds the
canonical request exactly as the Amplify client signs it (``client-wire-contract.md`` §4.1, §6.2):

- HTTP: ``POST <graphql path>``, body = the exact request body bytes;
- realtime connect: ``POST <graphql path>/connect`` with body ``{}``, headers from the decoded
  handshake header object;
- realtime ``start``: ``POST <graphql path>``, body = ``payload.data``, headers =
  ``payload.extensions.authorization``.

Checks: the ``Authorization`` header parses, the algorithm is ``AWS4-HMAC-SHA256``, the scope is
``<date>/<region>/appsync/aws4_request`` with the date of ``x-amz-date`` (and the configured
region, if any), ``host`` is signed, the request time is within ``max_skew`` seconds, the access
key is known, a configured session token matches, and the signature (constant-time compare).
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote

from ampbase.auth.policy import IamSettings
from ampbase.engine.identity import Identity
from ampbase.errors import AuthenticationError

__all__ = [
    "ALGORITHM",
    "IamCredential",
    "SigV4Verifier",
    "canonical_request",
    "is_sigv4",
    "sign_headers",
]

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "appsync"
_KINDS = ("authenticated", "unauthenticated", "iam")


def is_sigv4(authorization: str | None) -> bool:
    return bool(authorization) and str(authorization).startswith(ALGORITHM + " ")


@dataclass(frozen=True, slots=True)
class IamCredential:
    """One access key the server accepts and the principal it represents.

    ``kind``: ``authenticated`` (identity-pool auth role; ``allow.authenticated('identityPool')``),
    ``unauthenticated`` (guest role; ``allow.guest()``) or ``iam`` (an IAM user / service role
    without identity-pool attributes: bypasses rules under generic IAM access). ``identity_id`` is
    the Cognito identity id of pool principals; ``user_arn`` overrides the ARN of ``iam`` ones.
    """

    access_key_id: str
    secret_access_key: str
    kind: str = "iam"
    session_token: str | None = None
    identity_id: str | None = None
    user_arn: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"IamCredential kind must be one of {', '.join(_KINDS)}, got {self.kind!r}")
        if not self.access_key_id or not self.secret_access_key:
            raise ValueError("IamCredential needs an access key id and a secret")

    def identity_fields(self, iam: IamSettings, region: str) -> dict[str, Any]:
        """``$ctx.identity`` of this principal (AppSync's IAM identity shape)."""
        if self.kind == "iam":
            arn = self.user_arn or f"arn:aws:iam::{iam.account_id}:user/{self.access_key_id}"
            return {
                "accountId": iam.account_id,
                "userArn": arn,
                "username": self.access_key_id,
                "cognitoIdentityPoolId": None,
                "cognitoIdentityId": None,
                "cognitoIdentityAuthType": None,
                "cognitoIdentityAuthProvider": None,
            }
        identity_id = self.identity_id or (
            f"{region}:{uuid.uuid5(uuid.NAMESPACE_OID, iam.identity_pool_id + self.access_key_id)}"
        )
        role = iam.auth_role_name if self.kind == "authenticated" else iam.unauth_role_name
        return {
            "accountId": iam.account_id,
            "userArn": iam.role_arn(role),
            "username": f"{role}:CognitoIdentityCredentials",
            "cognitoIdentityPoolId": iam.identity_pool_id,
            "cognitoIdentityId": identity_id,
            "cognitoIdentityAuthType": self.kind,
            "cognitoIdentityAuthProvider": None,
        }


def _lower(headers: Mapping[str, Any]) -> dict[str, str]:
    return {str(k).lower(): " ".join(str(v).split()) for k, v in headers.items()}


def _canonical_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    encoded = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def canonical_request(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, Any],
    signed_headers: Iterable[str],
    body: bytes,
) -> str:
    lower = _lower(headers)
    names = list(signed_headers)
    return "\n".join(
        [
            method.upper(),
            quote(path or "/", safe="/-_.~"),
            _canonical_query(query),
            "".join(f"{name}:{lower.get(name, '')}\n" for name in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ]
    )


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _signature(secret: str, amz_date: str, scope: str, request: str) -> str:
    date, region, service, _ = scope.split("/")
    string_to_sign = "\n".join(
        [ALGORITHM, amz_date, scope, hashlib.sha256(request.encode("utf-8")).hexdigest()]
    )
    return hmac.new(
        _signing_key(secret, date, region, service), string_to_sign.encode("utf-8"), hashlib.sha256
    ).hexdigest()


def sign_headers(
    *,
    method: str,
    url_path: str,
    host: str,
    body: bytes,
    access_key_id: str,
    secret_access_key: str,
    region: str,
    session_token: str | None = None,
    headers: Mapping[str, str] | None = None,
    now: datetime | None = None,
    query: str = "",
) -> dict[str, str]:
    """Headers (``host``, ``x-amz-date``, token, ``authorization`` + given ones) of a signed request."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
    result: dict[str, str] = {k.lower(): v for k, v in (headers or {}).items()}
    result["host"] = host
    result["x-amz-date"] = amz_date
    if session_token:
        result["x-amz-security-token"] = session_token
    signed = sorted(result)
    scope = f"{amz_date[:8]}/{region}/{SERVICE}/aws4_request"
    request = canonical_request(method, url_path, query, result, signed, body)
    signature = _signature(secret_access_key, amz_date, scope, request)
    result["authorization"] = (
        f"{ALGORITHM} Credential={access_key_id}/{scope}, SignedHeaders={';'.join(signed)}, "
        f"Signature={signature}"
    )
    return result


def _parse_authorization(value: str) -> tuple[str, str, list[str], str]:
    if not is_sigv4(value):
        raise AuthenticationError("Authorization header is not an AWS4-HMAC-SHA256 signature.")
    fields: dict[str, str] = {}
    for part in value[len(ALGORITHM) + 1 :].split(","):
        name, sep, item = part.strip().partition("=")
        if sep:
            fields[name] = item.strip()
    try:
        credential = fields["Credential"]
        signed = fields["SignedHeaders"].lower().split(";")
        signature = fields["Signature"]
        access_key, scope = credential.split("/", 1)
    except (KeyError, ValueError):
        raise AuthenticationError(
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'."
        ) from None
    if len(scope.split("/")) != 4:
        raise AuthenticationError("SigV4 credential scope must be <date>/<region>/<service>/aws4_request.")
    return access_key, scope, signed, signature


class SigV4Verifier:
    """Verifies SigV4-signed AppSync requests against configured credentials."""

    def __init__(
        self,
        credentials: Iterable[IamCredential],
        *,
        iam: IamSettings | None = None,
        region: str | None = None,
        max_skew: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.credentials = {c.access_key_id: c for c in credentials}
        self.iam = iam or IamSettings()
        self.region = region
        self.max_skew = max_skew
        self._clock = clock

    def verify(
        self,
        *,
        method: str,
        path: str,
        headers: Mapping[str, Any],
        body: bytes,
        query: str = "",
        source_ip: str | None = None,
    ) -> Identity:
        """The IAM identity of a correctly signed request, or :class:`AuthenticationError`."""
        lower = _lower(headers)
        access_key, scope, signed, signature = _parse_authorization(lower.get("authorization", ""))
        date, region, service, terminal = scope.split("/")
        if service != SERVICE or terminal != "aws4_request":
            raise AuthenticationError(f"SigV4 credential scope must be for service '{SERVICE}'.")
        if self.region is not None and region != self.region:
            raise AuthenticationError(f"SigV4 credential scope region {region!r} is not {self.region!r}.")
        if "host" not in signed:
            raise AuthenticationError("SigV4 signature must sign the 'host' header.")
        amz_date = lower.get("x-amz-date", "")
        try:
            moment = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise AuthenticationError("SigV4 request has no valid 'x-amz-date' header.") from None
        if amz_date[:8] != date:
            raise AuthenticationError("SigV4 credential scope date does not match 'x-amz-date'.")
        if abs(self._clock() - moment.timestamp()) > self.max_skew:
            raise AuthenticationError("Signature expired: the request time is too far from the server time.")
        credential = self.credentials.get(access_key)
        if credential is None:
            raise AuthenticationError("The security token included in the request is invalid.")
        if (
            credential.session_token is not None
            and lower.get("x-amz-security-token") != credential.session_token
        ):
            raise AuthenticationError("The security token included in the request is invalid.")
        request = canonical_request(method, path, query, lower, signed, body)
        expected = _signature(credential.secret_access_key, amz_date, scope, request)
        if not hmac.compare_digest(expected, signature.lower()):
            raise AuthenticationError(
                "The request signature we calculated does not match the signature you provided."
            )
        info = credential.identity_fields(self.iam, region)
        info["sourceIp"] = [source_ip] if source_ip else []
        return Identity(mode="iam", iam=info, source_ip=source_ip)
