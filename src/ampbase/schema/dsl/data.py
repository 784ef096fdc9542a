"""``define_data(schema=..., authorization_modes={...})``: the data resource.

Authorization modes follow Gen 2's ``defineData`` defaults (``specs/auth-spec.md`` §1.9):
user pools and IAM are always enabled; ``api_key_authorization_mode``,
``oidc_authorization_mode`` and ``lambda_authorization_mode`` enable their modes; the
default mode is enabled too. Modes are listed default first, then userPool, iam, apiKey,
oidc, lambda (the order ``amplify_outputs.json`` lists them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ampbase.schema.auth import rule_mode
from ampbase.schema.dsl.schema import SchemaBuilder
from ampbase.schema.dsl.source import caller_location, definition_error, is_text
from ampbase.schema.ir import AuthConfig, AuthRule, SchemaDef, SourceLocation

__all__ = [
    "DataDefinition",
    "default_auth_config",
    "define_data",
    "inferred_auth_config",
    "parse_authorization_modes",
]

_MODE_ORDER = ("userPool", "iam", "apiKey", "oidc", "lambda")
_DEFAULT_MODES = {
    "userPool": "userPool",
    "iam": "iam",
    "identityPool": "iam",
    "apiKey": "apiKey",
    "oidc": "oidc",
    "lambda": "lambda",
}
_MODE_SETTINGS = {
    "api_key_authorization_mode": ("apiKey", {"expires_in_days", "description"}),
    "oidc_authorization_mode": (
        "oidc",
        {
            "oidc_provider_name",
            "oidc_issuer_url",
            "client_id",
            "token_expiry_from_auth_in_seconds",
            "token_expire_from_issued_in_seconds",
        },
    ),
    "lambda_authorization_mode": ("lambda", {"function", "time_to_live_in_seconds"}),
}
_KEYS = {"default_authorization_mode", *_MODE_SETTINGS}


@dataclass(frozen=True, slots=True)
class DataDefinition:
    """What ``define_data`` returns: the declared schema with its authorization modes."""

    schema: SchemaDef
    name: str = "amplifyData"
    source: SourceLocation | None = field(default=None, compare=False)


def define_data(
    *,
    schema: SchemaBuilder | str,
    authorization_modes: Mapping[str, Any] | None = None,
    name: str = "amplifyData",
    handlers: Mapping[str, Any] | None = None,
) -> DataDefinition:
    """The data resource: ``define_data(schema=schema, authorization_modes={...})``.

    ``schema`` is an ``a.schema({...})`` or, as in Gen 2, a string of Amplify GraphQL SDL.
    ``handlers`` maps function names (``a.handler.function("name")``, ``@function(name:)``)
    or operation names to Python functions (:mod:`ampbase.schema.handlers`).
    """
    source = caller_location()
    if isinstance(schema, str):
        from ampbase.schema.sdl import load_sdl  # graphql-core's parser, only when needed

        auth = parse_authorization_modes(authorization_modes, source=source)
        declared = load_sdl(schema, filename=f"<schema string at {source}>", flavour="gen2", auth=auth)
        return DataDefinition(_with_handlers(declared, handlers, source), name=name, source=source)
    if not isinstance(schema, SchemaBuilder):
        raise definition_error(
            f"define_data(schema=...) needs a.schema({{...}}) or an SDL string, got {type(schema).__name__}",
            source=source,
            hint="schema = a.schema({...}); data = define_data(schema=schema)",
        )
    if not is_text(name):
        raise definition_error(
            f"define_data(name=...) must be a non-empty string, got {name!r}", source=source
        )
    auth = parse_authorization_modes(authorization_modes, source=source)
    return DataDefinition(
        _with_handlers(schema.to_schema_def(auth), handlers, source), name=name, source=source
    )


def _with_handlers(
    schema: SchemaDef, handlers: Mapping[str, Any] | None, source: SourceLocation
) -> SchemaDef:
    if handlers is None:
        return schema
    from ampbase.errors import SchemaDefinitionError
    from ampbase.schema.handlers import bind_handlers, check_handlers

    try:
        checked = check_handlers(handlers, "define_data(handlers=...)")
    except SchemaDefinitionError as exc:
        exc.source = source
        raise
    bound, used = bind_handlers(schema, checked)
    unused = sorted(set(checked) - used)
    if unused:
        raise definition_error(
            "define_data(handlers=...): no operation or function is named " + ", ".join(map(repr, unused)),
            source=source,
            hint="keys are a.handler.function('name') names, @function names or operation names",
        )
    return bound


def default_auth_config() -> AuthConfig:
    """``define_data`` without ``authorization_modes``: user pools (default) and IAM."""
    return AuthConfig(default_mode="userPool", modes=("userPool", "iam"), settings={})


def inferred_auth_config(schema: SchemaDef) -> AuthConfig:
    """The modes of a module that has a ``schema`` but no ``define_data``.

    Gen 2 without an auth resource or modes defaults to the API key; here user pools and IAM
    are enabled as always, plus the API key (then the default) when a rule needs it.
    """
    needs_api_key = any(rule_mode(r) == "apiKey" for r in _all_rules(schema))
    if not needs_api_key:
        return default_auth_config()
    return AuthConfig(default_mode="apiKey", modes=("apiKey", "userPool", "iam"), settings={})


def _all_rules(schema: SchemaDef) -> list[AuthRule]:
    rules = list(schema.schema_auth_rules)
    for model in schema.models:
        rules.extend(model.auth_rules)
        for f in model.fields:
            rules.extend(f.auth_rules or ())
    for op in schema.operations:
        rules.extend(op.auth_rules)
    return rules


def _camel_to_snake(key: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in key)


def parse_authorization_modes(modes: Mapping[str, Any] | None, *, source: SourceLocation) -> AuthConfig:
    """``authorization_modes={...}`` (snake_case keys) → :class:`AuthConfig`."""
    if modes is None:
        return default_auth_config()
    if not isinstance(modes, Mapping):
        raise definition_error(
            f"authorization_modes must be a dict, got {type(modes).__name__}",
            source=source,
            hint="authorization_modes={'default_authorization_mode': 'apiKey', "
            "'api_key_authorization_mode': {'expires_in_days': 30}}",
        )
    for key in modes:
        if key not in _KEYS:
            snake = _camel_to_snake(str(key))
            hint = (
                f"use snake_case: {snake!r}" if snake in _KEYS else "known keys: " + ", ".join(sorted(_KEYS))
            )
            raise definition_error(f"Unknown authorization_modes key {key!r}", source=source, hint=hint)
    settings: dict[str, Any] = {}
    enabled = {"userPool", "iam"}
    explicit: list[str] = []
    for key, (mode, allowed) in _MODE_SETTINGS.items():
        if key not in modes:
            continue
        value = modes[key]
        if not isinstance(value, Mapping):
            raise definition_error(
                f"authorization_modes[{key!r}] must be a dict, got {value!r}", source=source
            )
        for sub in value:
            if sub not in allowed:
                snake = _camel_to_snake(str(sub))
                hint = (
                    f"use snake_case: {snake!r}"
                    if snake in allowed
                    else "known keys: " + ", ".join(sorted(allowed))
                )
                raise definition_error(f"Unknown key {sub!r} in {key}", source=source, hint=hint)
        _check_mode_settings(key, value, source)
        settings[key] = dict(value)
        enabled.add(mode)
        explicit.append(mode)
    default_raw = modes.get("default_authorization_mode")
    if default_raw is None:
        if len(explicit) > 1:
            raise definition_error(
                "A default_authorization_mode is required if multiple authorization modes are configured",
                source=source,
                hint="add 'default_authorization_mode': " + repr(explicit[0]),
            )
        default = explicit[0] if explicit else "userPool"
    else:
        mapped = _DEFAULT_MODES.get(default_raw) if isinstance(default_raw, str) else None
        if mapped is None:
            raise definition_error(
                f"Unknown default_authorization_mode {default_raw!r}",
                source=source,
                hint="use one of " + ", ".join(repr(m) for m in _DEFAULT_MODES),
            )
        default = mapped
    if default == "oidc" and "oidc" not in enabled:
        raise definition_error(
            "default_authorization_mode 'oidc' needs oidc_authorization_mode",
            source=source,
            hint="add 'oidc_authorization_mode': {'oidc_provider_name': ..., 'oidc_issuer_url': ...}",
        )
    if default == "lambda" and "lambda" not in enabled:
        raise definition_error(
            "default_authorization_mode 'lambda' needs lambda_authorization_mode",
            source=source,
            hint="add 'lambda_authorization_mode': {'function': my_authorizer}",
        )
    enabled.add(default)
    ordered = (default, *(m for m in _MODE_ORDER if m in enabled and m != default))
    return AuthConfig(default_mode=default, modes=ordered, settings=settings)


def _check_mode_settings(key: str, value: Mapping[str, Any], source: SourceLocation) -> None:
    if key == "api_key_authorization_mode":
        days = value.get("expires_in_days")
        if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365):
            raise definition_error(
                f"api_key_authorization_mode expires_in_days must be an int from 1 to 365, got {days!r}",
                source=source,
            )
    elif key == "oidc_authorization_mode":
        for required in ("oidc_provider_name", "oidc_issuer_url"):
            if not isinstance(value.get(required), str) or not value.get(required):
                raise definition_error(f"oidc_authorization_mode needs {required!r}", source=source)
    elif key == "lambda_authorization_mode":
        fn = value.get("function")
        if fn is None or not (callable(fn) or isinstance(fn, str)):
            raise definition_error(
                "lambda_authorization_mode needs 'function': a callable authorizer (or its name)",
                source=source,
            )
        ttl = value.get("time_to_live_in_seconds")
        if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 <= ttl <= 3600):
            raise definition_error(
                f"lambda_authorization_mode time_to_live_in_seconds must be 0..3600, got {ttl!r}",
                source=source,
            )
