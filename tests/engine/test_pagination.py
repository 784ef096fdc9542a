"""Signed nextToken values."""

from __future__ import annotations

import base64
import json

import pytest

from ampbase.engine.pagination import TokenCodec, query_binding
from ampbase.errors import ValidationError

CODEC = TokenCodec(b"secret")
BINDING = query_binding("listTodos", "Todo", {"filter": {"done": {"eq": True}}})


def test_round_trip() -> None:
    token = CODEC.encode(BINDING, ("2026-01-01", 3, None))
    assert CODEC.decode(token, BINDING) == ("2026-01-01", 3, None)


def test_binding_depends_on_arguments() -> None:
    assert query_binding("f", {"a": 1, "b": 2}) == query_binding("f", {"b": 2, "a": 1})
    assert query_binding("f", {"a": 1}) != query_binding("f", {"a": 2})


def test_tampered_payload_is_refused() -> None:
    token = CODEC.encode(BINDING, ("a",))
    head, tail = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    payload["k"] = ["z"]
    forged_head = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    with pytest.raises(ValidationError, match="malformed, was altered"):
        CODEC.decode(f"{forged_head}.{tail}", BINDING)


@pytest.mark.parametrize("token", ["", "abc", "eyJvZmZzZXQiOjF9", "a.b", "!!.??", "x" * 9000])
def test_garbage_is_refused(token: str) -> None:
    with pytest.raises(ValidationError, match="Invalid nextToken"):
        CODEC.decode(token, BINDING)


def test_token_of_another_secret_is_refused() -> None:
    token = TokenCodec(b"other").encode(BINDING, ("a",))
    with pytest.raises(ValidationError, match="malformed, was altered"):
        CODEC.decode(token, BINDING)


def test_token_replayed_against_another_query_is_refused() -> None:
    token = CODEC.encode(BINDING, ("a",))
    with pytest.raises(ValidationError, match="different query"):
        CODEC.decode(token, query_binding("listTodos", "Todo", {}))


def test_empty_secret_is_rejected() -> None:
    with pytest.raises(ValueError):
        TokenCodec(b"")
