"""Verify Cognito user-pool and OpenID Connect JWTs (RS256/384/512, ES256/384) against a JWKS.

:class:`JwkSet` holds public keys from a dict, a file or a URL (fetched with httpx, cached for a
TTL, re-fetched at most every ``min_refresh`` seconds when a token names an unknown ``kid``).
:class:`JwtVerifier` checks, in this order: the token parses (three base64url parts, JSON header
and payload), the algorithm is an allowed asymmetric one (``none`` and HMAC are refused, so a
public key can never be used as an HMAC secret), the ``kid`` is known and its key type matches
the algorithm, the signature, then ``iss``, ``exp``/``nbf``/``iat`` (with a small leeway),
``token_use`` (Cognito: ``access`` or ``id``), the client id (``client_id`` of access tokens,
``aud`` of ID/OIDC tokens) against a regex, and OIDC's ``iatTTL``/``authTTL`` (milliseconds).
Every failure is an :class:`~ampbase.errors.AuthenticationError` (HTTP 401) with a clear message.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from ampbase.errors import AuthenticationError, ConfigError

__all__ = [
    "ALGORITHMS",
    "JwkSet",
    "JwtVerifier",
    "b64url_decode",
    "b64url_encode",
    "decode_unverified",
    "public_key_from_jwk",
]

# algorithm → (key type, hash, EC curve name or None)
ALGORITHMS: dict[str, tuple[str, type[hashes.HashAlgorithm], str | None]] = {
    "RS256": ("RSA", hashes.SHA256, None),
    "RS384": ("RSA", hashes.SHA384, None),
    "RS512": ("RSA", hashes.SHA512, None),
    "ES256": ("EC", hashes.SHA256, "P-256"),
    "ES384": ("EC", hashes.SHA384, "P-384"),
}
_CURVES: dict[str, ec.EllipticCurve] = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1()}
_CURVE_BYTES = {"P-256": 32, "P-384": 48}

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _malformed() -> AuthenticationError:
    return AuthenticationError("Unable to parse JWT token.")


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """``(header, claims, signing_input, signature)`` of a compact JWS, without verifying it."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise _malformed()
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise _malformed() from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise _malformed()
    return header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature


def _int_from_b64(value: Any) -> int:
    if not isinstance(value, str):
        raise ValueError("missing key parameter")
    return int.from_bytes(b64url_decode(value), "big")


def public_key_from_jwk(jwk: Mapping[str, Any]) -> PublicKey:
    """An RSA (``n``, ``e``) or EC (``crv``, ``x``, ``y``) public key from its JWK form."""
    kty = jwk.get("kty")
    if kty == "RSA":
        return rsa.RSAPublicNumbers(_int_from_b64(jwk.get("e")), _int_from_b64(jwk.get("n"))).public_key()
    if kty == "EC":
        crv = jwk.get("crv")
        if crv not in _CURVES:
            raise ValueError(f"unsupported EC curve {crv!r}")
        numbers = ec.EllipticCurvePublicNumbers(
            _int_from_b64(jwk.get("x")), _int_from_b64(jwk.get("y")), _CURVES[str(crv)]
        )
        return numbers.public_key()
    raise ValueError(f"unsupported key type {kty!r}")


@dataclass(frozen=True, slots=True)
class _Key:
    kid: str | None
    kty: str
    alg: str | None
    crv: str | None
    key: PublicKey


def _parse_jwks(document: Any) -> list[_Key]:
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise ConfigError("a JWKS document is a JSON object with a 'keys' list")
    keys: list[_Key] = []
    for jwk in document["keys"]:
        if not isinstance(jwk, Mapping) or jwk.get("use", "sig") != "sig":
            continue
        try:
            key = public_key_from_jwk(jwk)
        except ValueError:
            continue  # keys of other types are ignored, as JOSE libraries do
        kid = jwk.get("kid")
        alg = jwk.get("alg")
        crv = jwk.get("crv")
        keys.append(
            _Key(
                kid if isinstance(kid, str) else None,
                str(jwk["kty"]),
                alg if isinstance(alg, str) else None,
                crv if isinstance(crv, str) else None,
                key,
            )
        )
    return keys


class JwkSet:
    """Public signing keys: a JWKS dict, a JSON file, or an HTTPS URL cached for ``ttl`` seconds.

    With ``discover=True`` the URL is an OpenID issuer whose ``/.well-known/openid-configuration``
    names the ``jwks_uri``.
    """

    def __init__(
        self,
        source: Mapping[str, Any] | str | Path,
        *,
        ttl: float = 3600.0,
        min_refresh: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        http: httpx.AsyncClient | None = None,
        timeout: float = 5.0,
        discover: bool = False,
    ) -> None:
        self._source = source
        self._discover = discover
        self._ttl = ttl
        self._min_refresh = min_refresh
        self._clock = clock
        self._http = http
        self._timeout = timeout
        self._keys: list[_Key] = []
        self._loaded_at = float("-inf")
        self._lock = asyncio.Lock()
        if isinstance(source, Mapping):
            self._keys = _parse_jwks(source)
            self._loaded_at = float("inf")

    @property
    def url(self) -> str | None:
        src = self._source
        if isinstance(src, str) and src.startswith(("http://", "https://")):
            return src
        return None

    async def _load(self) -> list[_Key]:
        src = self._source
        if isinstance(src, Mapping):
            return _parse_jwks(src)
        url = self.url
        if url is None:
            try:
                text = await asyncio.to_thread(Path(src).read_text, encoding="utf-8")
                document = json.loads(text)
            except (OSError, ValueError) as exc:
                raise ConfigError(f"cannot read JWKS file {src}: {exc}") from exc
            return _parse_jwks(document)
        try:
            if self._discover:
                config = await self._get_json(url.rstrip("/") + "/.well-known/openid-configuration")
                jwks_uri = config.get("jwks_uri") if isinstance(config, Mapping) else None
                if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("http://", "https://")):
                    raise ValueError("the OpenID configuration has no jwks_uri")
                url = jwks_uri
            return _parse_jwks(await self._get_json(url))
        except (httpx.HTTPError, ValueError, ConfigError) as exc:
            raise AuthenticationError(f"Unable to fetch the signing keys from {url}.") from exc

    async def _get_json(self, url: str) -> Any:
        if self._http is not None:
            response = await self._http.get(url, timeout=self._timeout)
        else:
            async with httpx.AsyncClient() as client:
                response = await client.get(url, timeout=self._timeout)
        response.raise_for_status()
        return response.json()

    async def refresh(self, *, force: bool = False) -> None:
        async with self._lock:
            now = self._clock()
            if not force and now - self._loaded_at < self._min_refresh:
                return
            self._keys = await self._load()
            self._loaded_at = self._clock()

    async def keys(self) -> list[_Key]:
        if self._clock() - self._loaded_at > self._ttl:
            await self.refresh(force=True)
        return self._keys

    async def find(self, kid: str | None) -> _Key | None:
        """The key with ``kid``; an unknown kid triggers one rate-limited re-fetch (key rotation)."""
        for attempt in range(2):
            keys = await self.keys()
            if kid is None:
                if len(keys) == 1:
                    return keys[0]
                return None
            for key in keys:
                if key.kid == kid:
                    return key
            if attempt == 0 and not isinstance(self._source, Mapping):
                before = self._loaded_at
                await self.refresh()
                if self._loaded_at == before:
                    return None
        return None


def _verify_signature(key: _Key, alg: str, signing_input: bytes, signature: bytes) -> bool:
    kty, hash_type, curve = ALGORITHMS[alg]
    try:
        if kty == "RSA" and isinstance(key.key, rsa.RSAPublicKey):
            key.key.verify(signature, signing_input, padding.PKCS1v15(), hash_type())
            return True
        if kty == "EC" and isinstance(key.key, ec.EllipticCurvePublicKey) and curve is not None:
            size = _CURVE_BYTES[curve]
            if len(signature) != 2 * size or key.key.curve.name != _CURVES[curve].name:
                return False
            r = int.from_bytes(signature[:size], "big")
            s = int.from_bytes(signature[size:], "big")
            key.key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(hash_type()))
            return True
    except InvalidSignature:
        return False
    return False


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclass(frozen=True, slots=True)
class JwtVerifier:
    """Verifies tokens of one issuer.

    ``token_uses``: accepted ``token_use`` claim values (``()`` = do not check; Cognito
    verifiers use ``("access", "id")``). ``client_id``: a regex matched (fully) against
    ``client_id`` (access tokens) or any ``aud`` value (ID / OIDC tokens); ``None`` = any.
    ``iat_ttl`` / ``auth_ttl``: seconds a token stays valid after ``iat`` / ``auth_time``
    (0 = no limit beyond ``exp``).
    """

    issuer: str
    jwks: JwkSet
    token_uses: tuple[str, ...] = ()
    client_id: str | None = None
    leeway: float = 60.0
    iat_ttl: float = 0.0
    auth_ttl: float = 0.0
    algorithms: tuple[str, ...] = tuple(ALGORITHMS)
    clock: Callable[[], float] = field(default=time.time)

    def issued_by(self, claims: Mapping[str, Any]) -> bool:
        """Whether ``claims['iss']`` is this verifier's issuer (a trailing ``/`` is ignored)."""
        iss = claims.get("iss")
        return isinstance(iss, str) and iss.rstrip("/") == self.issuer.rstrip("/")

    async def verify(self, token: str) -> dict[str, Any]:
        """The verified claims, or :class:`AuthenticationError`."""
        header, claims, signing_input, signature = decode_unverified(token)
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.algorithms or alg not in ALGORITHMS:
            raise AuthenticationError(f"Unsupported JWT algorithm {alg!r}; expected one of RS256, ES256.")
        if header.get("crit"):
            raise AuthenticationError("JWT has unsupported critical header parameters.")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise _malformed()
        key = await self.jwks.find(kid)
        if key is None:
            raise AuthenticationError("JWT signing key (kid) is not in the issuer's key set.")
        kty, _hash, curve = ALGORITHMS[alg]
        if key.kty != kty or (key.alg is not None and key.alg != alg) or (curve and key.crv != curve):
            raise AuthenticationError(f"JWT algorithm {alg} does not match the signing key.")
        if not _verify_signature(key, alg, signing_input, signature):
            raise AuthenticationError("Invalid JWT signature.")
        self.check_claims(claims)
        return claims

    def check_claims(self, claims: Mapping[str, Any]) -> None:
        if not self.issued_by(claims):
            raise AuthenticationError("JWT issuer is not accepted by this API.")
        now = self.clock()
        exp = _number(claims.get("exp"))
        if exp is None:
            raise AuthenticationError("JWT has no expiry (exp).")
        if now > exp + self.leeway:
            raise AuthenticationError("Token has expired.")
        nbf = _number(claims.get("nbf"))
        if nbf is not None and now + self.leeway < nbf:
            raise AuthenticationError("Token is not valid yet.")
        iat = _number(claims.get("iat"))
        if iat is not None and now + self.leeway < iat:
            raise AuthenticationError("Token was issued in the future.")
        if self.iat_ttl > 0 and (iat is None or now > iat + self.iat_ttl + self.leeway):
            raise AuthenticationError("Token has expired.")
        if self.auth_ttl > 0:
            auth_time = _number(claims.get("auth_time"))
            if auth_time is None or now > auth_time + self.auth_ttl + self.leeway:
                raise AuthenticationError("Token has expired.")
        if self.token_uses:
            use = claims.get("token_use")
            if use not in self.token_uses:
                raise AuthenticationError(f"Token use {use!r} is not accepted (expected access or id).")
        if self.client_id is not None:
            candidates: list[Any] = []
            if claims.get("token_use") == "access" or "client_id" in claims:
                candidates.append(claims.get("client_id"))
            aud = claims.get("aud")
            candidates.extend(aud if isinstance(aud, list) else [aud])
            pattern = re.compile(self.client_id)
            if not any(isinstance(c, str) and pattern.fullmatch(c) for c in candidates):
                raise AuthenticationError("JWT client id (aud / client_id) is not accepted by this API.")
