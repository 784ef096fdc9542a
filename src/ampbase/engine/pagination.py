"""Opaque, signed ``nextToken`` values.

A token carries the keyset position of the last item of a page
(``Page.last_key``) and a digest of the exact query it belongs to (model,
index, key condition, filter, direction, and for relationship fields the
parent's key). It is ``base64url(payload) "." base64url(HMAC-SHA256(secret,
payload))``. A token that was forged or altered, or that is replayed against a
different query, is refused with a ``ValidationError`` and the query returns
no data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from ampbase.errors import ValidationError

__all__ = ["TokenCodec", "query_binding"]

_INVALID = "Invalid nextToken: it is malformed, was altered, or was not issued by this API."
_MISMATCH = (
    "Invalid nextToken: it belongs to a different query. Pass the nextToken back with the same "
    "field, key arguments, filter and sortDirection that produced it."
)


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def query_binding(*parts: Any) -> str:
    """A short digest identifying one query (its arguments except ``limit`` and ``nextToken``)."""
    return hashlib.sha256(_canonical(list(parts))).hexdigest()[:32]


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenCodec:
    """Signs and verifies page tokens with the engine secret."""

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes) -> None:
        if not secret:
            raise ValueError("the token secret must not be empty")
        self._secret = secret

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()

    def encode(self, binding: str, last_key: tuple[Any, ...]) -> str:
        payload = _canonical({"b": binding, "k": list(last_key)})
        return f"{_b64encode(payload)}.{_b64encode(self._mac(payload))}"

    def decode(self, token: str, binding: str) -> tuple[Any, ...]:
        """The keyset position in ``token``, which must have been issued for ``binding``."""
        head, dot, tail = token.partition(".")
        if not dot or not head or not tail or len(token) > 8192:
            raise ValidationError(_INVALID)
        try:
            payload = _b64decode(head)
            mac = _b64decode(tail)
        except (binascii.Error, ValueError):
            raise ValidationError(_INVALID) from None
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise ValidationError(_INVALID)
        try:
            data = json.loads(payload)
        except ValueError:
            raise ValidationError(_INVALID) from None
        if not isinstance(data, dict) or not isinstance(data.get("k"), list):
            raise ValidationError(_INVALID)
        if data.get("b") != binding:
            raise ValidationError(_MISMATCH)
        return tuple(data["k"])
