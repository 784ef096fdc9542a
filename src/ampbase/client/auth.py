"""Authorization modes: request headers per mode, and AWS Signature Version 4 for ``iam``.

Modes (the JS client's names): ``apiKey`` (``x-api-key``), ``userPool`` and ``oidc`` (the raw
token in ``authorization``, from ``auth_token`` or a ``token_provider``), ``lambda``
(``authorization: <auth_token>``), ``iam`` / ``identityPool`` (SigV4 with the given AWS
credentials, service ``appsync``) and ``none``. Header shapes and the realtime variants follow
``specs/client-wire-contract.md`` §4 and §6.2.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from ampbase.errors import ConfigError

__all__ = [
    "AUTH_MODES",
    "AuthMode",
    "AuthSettings",
    "AwsCredentials",
    "TokenProvider",
    "auth_headers",
    "outputs_auth_mode",
    "realtime_auth",
    "resolve_credentials",
    "signing_key",
    "sigv4_headers",
]

AuthMode = Literal["apiKey", "userPool", "oidc", "iam", "identityPool", "lambda", "none"]
AUTH_MODES: tuple[str, ...] = ("apiKey", "userPool", "oidc", "iam", "identityPool", "lambda", "none")

# ``default_authorization_type`` of amplify_outputs.json → the client's mode name.
_OUTPUTS_MODES: Mapping[str, str] = {
    "API_KEY": "apiKey",
    "AMAZON_COGNITO_USER_POOLS": "userPool",
    "AWS_IAM": "iam",
    "OPENID_CONNECT": "oidc",
    "AWS_LAMBDA": "lambda",
}

SERVICE = "appsync"
DEFAULT_REGION = "us-east-1"
_ALGORITHM = "AWS4-HMAC-SHA256"
_JSON_CONTENT_TYPE = "application/json; charset=UTF-8"

TokenProvider = Callable[[], "str | Awaitable[str | None] | None"]


def outputs_auth_mode(authorization_type: str | None) -> str:
    """``API_KEY`` → ``apiKey``; missing or unknown falls back to ``iam`` as the JS client does."""
    return _OUTPUTS_MODES.get(authorization_type or "", "iam")


@dataclass(frozen=True, slots=True)
class AwsCredentials:
    """AWS credentials for ``iam`` requests (``session_token`` for temporary credentials)."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


CredentialsProvider = Callable[[], "AwsCredentials | Awaitable[AwsCredentials]"]


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """The auth a request is made with, after per-call options override the client's."""

    mode: str
    api_key: str | None = None
    auth_token: str | None = None
    token_provider: TokenProvider | None = None
    credentials: AwsCredentials | CredentialsProvider | None = None
    region: str | None = None

    def with_overrides(self, mode: str | None, auth_token: str | None) -> AuthSettings:
        if mode is None and auth_token is None:
            return self
        return AuthSettings(
            mode=mode or self.mode,
            api_key=self.api_key,
            auth_token=auth_token or self.auth_token,
            token_provider=self.token_provider,
            credentials=self.credentials,
            region=self.region,
        )


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value


async def _token(settings: AuthSettings) -> str:
    if settings.token_provider is not None:
        token = await _maybe_await(settings.token_provider())
        if token:
            return str(token)
    if settings.auth_token:
        return settings.auth_token
    raise ConfigError(
        f"NoValidAuthTokens: authorization mode {settings.mode} needs a token: pass auth_token=... "
        "or token_provider=... to generate_client (or auth_token=... to the call)"
    )


async def resolve_credentials(settings: AuthSettings) -> AwsCredentials:
    creds = settings.credentials
    if creds is None:
        raise ConfigError("NoCredentials: authorization mode iam needs credentials=AwsCredentials(...)")
    if isinstance(creds, AwsCredentials):
        return creds
    resolved = await _maybe_await(creds())
    if not isinstance(resolved, AwsCredentials):
        raise ConfigError("NoCredentials: the credentials provider returned no AwsCredentials")
    return resolved


def _check_mode(mode: str) -> None:
    if mode not in AUTH_MODES:
        raise ConfigError(f"Unknown authorization mode {mode!r}; expected one of {', '.join(AUTH_MODES)}")


async def auth_headers(settings: AuthSettings) -> dict[str, str]:
    """The HTTP auth headers of every mode but ``iam`` (signed later, over the final request)."""
    mode = settings.mode
    _check_mode(mode)
    if mode == "apiKey":
        if not settings.api_key:
            raise ConfigError("NoApiKey: No api-key configured (api_key=... or amplify_outputs.json)")
        return {"x-api-key": settings.api_key}
    if mode in ("userPool", "oidc"):
        return {"authorization": await _token(settings)}
    if mode == "lambda":
        if not settings.auth_token:
            raise ConfigError("NoAuthorizationHeader: No auth token specified (auth_token=...)")
        return {"authorization": settings.auth_token}
    return {}


# ---------------------------------------------------------------------------- SigV4


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret_access_key: str, date: str, region: str, service: str) -> bytes:
    """The SigV4 signing key for ``date`` (``YYYYMMDD``)."""
    key = _hmac(("AWS4" + secret_access_key).encode("utf-8"), date)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    pairs = []
    for part in query.split("&"):
        name, _, value = part.partition("=")
        pairs.append((quote(name, safe="-_.~"), quote(value, safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def sigv4_headers(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: AwsCredentials,
    *,
    region: str,
    service: str = SERVICE,
    now: dt.datetime | None = None,
) -> dict[str, str]:
    """Sign a request: ``headers`` plus ``host``, ``x-amz-date``, ``x-amz-security-token`` and
    ``authorization``. Every given header is signed (names lower-cased, values trimmed)."""
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    parts = urlsplit(url)
    signed: dict[str, str] = {k.lower(): " ".join(str(v).split()) for k, v in headers.items()}
    signed.setdefault("host", parts.netloc)
    signed["x-amz-date"] = amz_date
    if credentials.session_token:
        signed["x-amz-security-token"] = credentials.session_token
    names = sorted(signed)
    canonical_headers = "".join(f"{n}:{signed[n]}\n" for n in names)
    signed_headers = ";".join(names)
    canonical_request = "\n".join(
        [
            method.upper(),
            quote(parts.path or "/", safe="/-_.~"),
            _canonical_query(parts.query),
            canonical_headers,
            signed_headers,
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        [_ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()]
    )
    key = signing_key(credentials.secret_access_key, date, region, service)
    signature = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    out = dict(signed)
    out["authorization"] = (
        f"{_ALGORITHM} Credential={credentials.access_key_id}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )
    return out


# ---------------------------------------------------------------------------- realtime


async def realtime_auth(
    settings: AuthSettings,
    graphql_url: str,
    *,
    body: str | None,
    additional: Mapping[str, str] | None = None,
    now: dt.datetime | None = None,
) -> dict[str, str]:
    """The realtime auth object: the handshake header (``body=None``) or a ``start`` message's
    ``extensions.authorization`` (``body`` = the exact ``payload.data`` string).

    ``host`` is the host[:port] of the GraphQL URL. For ``iam`` the handshake signs
    ``POST <path>/connect`` with body ``{}``, a ``start`` signs ``POST <path>`` with its data.
    """
    mode = settings.mode
    _check_mode(mode)
    host = urlsplit(graphql_url).netloc
    extra = dict(additional or {})
    if mode == "apiKey":
        if not settings.api_key:
            raise ConfigError("NoApiKey: No api-key configured (api_key=... or amplify_outputs.json)")
        stamp = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        return {"host": host, "x-amz-date": stamp, "x-api-key": settings.api_key, **extra}
    if mode in ("userPool", "oidc"):
        return {"Authorization": await _token(settings), "host": host, **extra}
    if mode == "lambda":
        token = settings.auth_token or extra.pop("Authorization", None)
        if not token:
            raise ConfigError("NoAuthorizationHeader: No auth token specified (auth_token=...)")
        return {"Authorization": token, "host": host, **extra}
    if mode in ("iam", "identityPool"):
        creds = await resolve_credentials(settings)
        url = graphql_url + "/connect" if body is None else graphql_url
        headers = {
            "accept": "application/json, text/javascript",
            "content-encoding": "amz-1.0",
            "content-type": _JSON_CONTENT_TYPE,
        }
        payload = b"{}" if body is None else body.encode("utf-8")
        region = settings.region or DEFAULT_REGION
        signed = sigv4_headers("POST", url, headers, payload, creds, region=region, now=now)
        signed["host"] = host
        return {**signed, **extra}
    return dict(extra)
