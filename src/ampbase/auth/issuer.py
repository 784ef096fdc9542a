"""The sandbox's local token issuer: Cognito-shaped JWTs signed with a key kept in the state dir.

``LocalIssuer.load_or_create(state_dir)`` keeps an RSA-2048 private key in
``<state_dir>/jwt-signing-key.pem`` (mode 0600) and publishes its public half as a JWKS
(:meth:`LocalIssuer.jwks`, served at ``/.well-known/jwks.json``). :meth:`LocalIssuer.issue_token`
returns RS256 access (or ID) tokens shaped like Cognito's: ``sub``, ``username`` (access) /
``cognito:username`` (ID), ``cognito:groups``, ``client_id`` (access) / ``aud`` (ID),
``token_use``, ``iss``, ``iat``/``exp``, ``jti``. The issuer URL is :data:`LOCAL_ISSUER`, so
the server's user-pool verifier accepts exactly these tokens (and real Cognito ones when a user
pool is configured instead).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ampbase.auth.jwt import JwkSet, JwtVerifier, b64url_encode
from ampbase.errors import ConfigError

__all__ = ["KEY_FILE", "LOCAL_CLIENT_ID", "LOCAL_ISSUER", "LocalIssuer"]

LOCAL_ISSUER = "https://cognito-idp.local/ampbase"
LOCAL_CLIENT_ID = "ampbase-local"
KEY_FILE = "jwt-signing-key.pem"


def _int_b64(value: int) -> str:
    return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big"))


class LocalIssuer:
    """Signs Cognito-shaped tokens; ``jwks()`` is the matching public key set."""

    def __init__(
        self,
        private_key: rsa.RSAPrivateKey,
        *,
        issuer: str = LOCAL_ISSUER,
        client_id: str = LOCAL_CLIENT_ID,
    ) -> None:
        self.private_key = private_key
        self.issuer = issuer
        self.client_id = client_id
        numbers = private_key.public_key().public_numbers()
        self._jwk = {
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "n": _int_b64(numbers.n),
            "e": _int_b64(numbers.e),
        }
        thumbprint = json.dumps(
            {"e": self._jwk["e"], "kty": "RSA", "n": self._jwk["n"]}, separators=(",", ":"), sort_keys=True
        )
        self.kid = b64url_encode(hashlib.sha256(thumbprint.encode("ascii")).digest())
        self._jwk["kid"] = self.kid

    @classmethod
    def generate(cls, **kw: Any) -> LocalIssuer:
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048), **kw)

    @classmethod
    def load_or_create(cls, state_dir: str | Path, **kw: Any) -> LocalIssuer:
        """The issuer whose key is ``<state_dir>/jwt-signing-key.pem`` (created on first use)."""
        directory = Path(state_dir)
        path = directory / KEY_FILE
        if path.exists():
            try:
                key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            except (OSError, ValueError) as exc:
                raise ConfigError(f"cannot read the token signing key {path}: {exc}") from exc
            if not isinstance(key, rsa.RSAPrivateKey):
                raise ConfigError(f"{path} is not an RSA private key")
            return cls(key, **kw)
        directory.mkdir(parents=True, exist_ok=True)
        issuer = cls.generate(**kw)
        pem = issuer.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        os.replace(tmp, path)
        return issuer

    def jwks(self) -> dict[str, Any]:
        """The public JWKS document (``{"keys": [...]}``)."""
        return {"keys": [dict(self._jwk)]}

    def verifier(self, **kw: Any) -> JwtVerifier:
        """A verifier that accepts this issuer's tokens (access and ID)."""
        return JwtVerifier(
            issuer=self.issuer,
            jwks=JwkSet(self.jwks()),
            token_uses=("access", "id"),
            client_id=kw.pop("client_id", None),
            **kw,
        )

    def sign(self, claims: Mapping[str, Any]) -> str:
        header = {"kid": self.kid, "alg": "RS256", "typ": "JWT"}
        segments = [
            b64url_encode(json.dumps(header, separators=(",", ":")).encode()),
            b64url_encode(json.dumps(dict(claims), separators=(",", ":")).encode()),
        ]
        signing_input = ".".join(segments).encode("ascii")
        signature = self.private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return ".".join([*segments, b64url_encode(signature)])

    def issue_token(
        self,
        username: str,
        *,
        sub: str | None = None,
        groups: Iterable[str] = (),
        ttl: int = 3600,
        token_use: str = "access",
        extra_claims: Mapping[str, Any] | None = None,
        now: float | None = None,
    ) -> str:
        """A signed access (``token_use="access"``) or ID (``"id"``) token for ``username``.

        ``sub`` defaults to a UUID derived from the username, so the same user keeps the same
        ``sub`` (and owner value ``<sub>::<username>``) across tokens.
        """
        if token_use not in ("access", "id"):
            raise ValueError("token_use must be 'access' or 'id'")
        if not username:
            raise ValueError("username must not be empty")
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        issued = int(time.time() if now is None else now)
        subject = sub or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.issuer}/{username}"))
        claims: dict[str, Any] = {"sub": subject}
        group_list = list(groups)
        if group_list:
            claims["cognito:groups"] = group_list
        claims["iss"] = self.issuer
        if token_use == "access":
            claims.update(
                {
                    "client_id": self.client_id,
                    "token_use": "access",
                    "scope": "aws.cognito.signin.user.admin",
                    "auth_time": issued,
                    "username": username,
                }
            )
        else:
            claims.update(
                {
                    "aud": self.client_id,
                    "token_use": "id",
                    "auth_time": issued,
                    "cognito:username": username,
                }
            )
        claims.update({"iat": issued, "exp": issued + ttl, "jti": str(uuid.uuid4())})
        if extra_claims:
            claims.update(extra_claims)
        return self.sign(claims)
