"""``amplify_outputs.json``: the file ``Amplify.configure(outputs)`` reads.

Shape (``specs/client-wire-contract.md`` §1): ``version`` is the *string* ``"1.4"`` (the
client only accepts a string starting with ``"1"``), ``data`` holds ``url``, ``aws_region``,
``api_key``, ``default_authorization_type``, ``authorization_types`` and
``model_introspection``. No top-level key may start with ``aws_``: the client would take
the file for the Gen 1 ``aws-exports`` format and generate no client.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ampbase.compiler.introspection import build_introspection
from ampbase.errors import ConfigError
from ampbase.schema.ir import SchemaDef

__all__ = ["AUTHORIZATION_TYPES", "OUTPUTS_VERSION", "authorization_type", "build_amplify_outputs"]

OUTPUTS_VERSION = "1.4"

# The client's mode names (``AuthConfig.modes``) → the outputs file's authorization types.
AUTHORIZATION_TYPES: Mapping[str, str] = {
    "apiKey": "API_KEY",
    "userPool": "AMAZON_COGNITO_USER_POOLS",
    "iam": "AWS_IAM",
    "oidc": "OPENID_CONNECT",
    "lambda": "AWS_LAMBDA",
}


def authorization_type(mode: str) -> str:
    """``apiKey`` → ``API_KEY`` and so on; an unknown mode is a configuration error."""
    try:
        return AUTHORIZATION_TYPES[mode]
    except KeyError:
        known = ", ".join(AUTHORIZATION_TYPES)
        raise ConfigError(f"Unknown authorization mode {mode!r}; expected one of {known}") from None


def build_amplify_outputs(
    schema: SchemaDef,
    *,
    url: str,
    api_key: str | None,
    region: str = "us-east-1",
    auth: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``amplify_outputs.json`` object for ``schema`` served at ``url``.

    ``url`` is the GraphQL endpoint (absolute, no query string, no trailing slash: the
    client appends ``/realtime`` to it as a string). ``api_key`` is required when API key
    is the default mode (as a secondary mode, only the calls that choose it need one).
    ``region`` is only used by the client to sign IAM requests. ``auth``, when given,
    becomes the top-level ``auth`` section as is (Cognito settings such as
    ``user_pool_id`` for apps that use the stock sign-in flow).
    """
    _check_url(url)
    config = schema.auth
    modes = tuple(dict.fromkeys((config.default_mode, *config.modes)))
    default_type = authorization_type(config.default_mode)
    other_types = [authorization_type(m) for m in modes if m != config.default_mode]
    if config.default_mode == "apiKey" and not api_key:
        raise ConfigError(
            "The default authorization mode is apiKey but no API key was given; "
            "the client refuses apiKey requests without one (NoApiKey)"
        )

    data: dict[str, Any] = {"url": url, "aws_region": region}
    if api_key:
        data["api_key"] = api_key
    data["default_authorization_type"] = default_type
    data["authorization_types"] = other_types
    data["model_introspection"] = build_introspection(schema)

    outputs: dict[str, Any] = {"version": OUTPUTS_VERSION}
    if auth is not None:
        outputs["auth"] = dict(auth)
    outputs["data"] = data
    return outputs


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"The GraphQL URL must be an absolute http(s) URL, got {url!r}")
    if parts.query or parts.fragment or url.endswith("/"):
        raise ConfigError(
            f"The GraphQL URL must have no query string, fragment or trailing slash, got {url!r} "
            "(the client appends '/realtime' to it as a string)"
        )
