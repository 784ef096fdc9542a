"""AppSync's AWS scalars: input validation and output serialisation.

:func:`install_scalars` gives the ``AWS*`` scalar types of a compiled
``GraphQLSchema`` their ``parse_value`` / ``parse_literal`` / ``serialize``
functions, so a malformed value (``"not-a-date"`` for ``AWSDate``) is rejected
by graphql-core's variable coercion or document validation, before any
resolver runs, with a message naming the scalar.

Values keep their wire form: dates and times as the string the client sent,
``AWSTimestamp`` as an ``int`` (epoch seconds), ``AWSJSON`` as a JSON *string*
(an object given in variables is accepted as a harmless extension and stored
as its compact JSON text). The built-in ``ID/String/Int/Float/Boolean`` keep
graphql-core's behaviour (``Int`` is 32-bit there already).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLError,
    GraphQLID,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    ValueNode,
    print_ast,
)
from graphql.language import IntValueNode, StringValueNode
from graphql.utilities import value_from_ast_untyped

__all__ = [
    "AWS_SCALARS",
    "PASSTHROUGH_SERIALIZERS",
    "install_scalars",
    "parse_aws_date",
    "parse_aws_datetime",
    "parse_aws_email",
    "parse_aws_ip_address",
    "parse_aws_json",
    "parse_aws_phone",
    "parse_aws_time",
    "parse_aws_timestamp",
    "parse_aws_url",
]

_TZ = r"(?:Z|[+-]\d{2}:\d{2}(?::\d{2})?)"
_TIME = r"\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?"
_DATE_RE = re.compile(rf"(\d{{4}})-(\d{{2}})-(\d{{2}}){_TZ}?")
_TIME_RE = re.compile(rf"({_TIME}){_TZ}?")
_DATETIME_RE = re.compile(rf"(\d{{4}})-(\d{{2}})-(\d{{2}})T({_TIME}){_TZ}")
_EMAIL_RE = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
)
_PHONE_RE = re.compile(r"\+?[0-9][0-9 ()\-.]*[0-9)]|\+?[0-9]")
_URL_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):(\S+)")


def _invalid(scalar: str, value: Any) -> GraphQLError:
    shown = value if isinstance(value, str) else json.dumps(value, default=str)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return GraphQLError(f"Invalid {scalar} value: {shown!r}.")


def _require_str(scalar: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _invalid(scalar, value)
    return value


def _check_time(scalar: str, value: str, text: str) -> None:
    hour, minute = int(text[0:2]), int(text[3:5])
    second = int(text[6:8]) if len(text) >= 8 else 0
    if hour > 23 or minute > 59 or second > 59:
        raise _invalid(scalar, value)


def _check_date(scalar: str, value: str, year: str, month: str, day: str) -> None:
    try:
        date(int(year), int(month), int(day))
    except ValueError:
        raise _invalid(scalar, value) from None


def parse_aws_date(value: Any) -> str:
    """``YYYY-MM-DD`` with an optional time zone offset (``1970-01-01Z``)."""
    text = _require_str("AWSDate", value)
    match = _DATE_RE.fullmatch(text)
    if match is None:
        raise _invalid("AWSDate", value)
    _check_date("AWSDate", text, *match.group(1, 2, 3))
    return text


def parse_aws_time(value: Any) -> str:
    """``hh:mm[:ss[.sss]]`` with an optional time zone offset."""
    text = _require_str("AWSTime", value)
    match = _TIME_RE.fullmatch(text)
    if match is None:
        raise _invalid("AWSTime", value)
    _check_time("AWSTime", text, match.group(1))
    return text


def parse_aws_datetime(value: Any) -> str:
    """``YYYY-MM-DDThh:mm[:ss[.sss]]`` followed by a mandatory ``Z`` or offset."""
    text = _require_str("AWSDateTime", value)
    match = _DATETIME_RE.fullmatch(text)
    if match is None:
        raise _invalid("AWSDateTime", value)
    _check_date("AWSDateTime", text, *match.group(1, 2, 3))
    _check_time("AWSDateTime", text, match.group(4))
    return text


def parse_aws_timestamp(value: Any) -> int:
    """Seconds since the epoch, an integer (64-bit; not limited to GraphQL's 32-bit ``Int``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid("AWSTimestamp", value)
    if isinstance(value, float):
        if not value.is_integer():
            raise _invalid("AWSTimestamp", value)
        value = int(value)
    result = int(value)
    if not -(2**63) <= result < 2**63:
        raise _invalid("AWSTimestamp", value)
    return result


def parse_aws_email(value: Any) -> str:
    text = _require_str("AWSEmail", value)
    if _EMAIL_RE.fullmatch(text) is None or len(text) > 320:
        raise _invalid("AWSEmail", value)
    return text


def parse_aws_phone(value: Any) -> str:
    """Digits with optional ``+`` country prefix, separated by spaces, hyphens, dots or parentheses."""
    text = _require_str("AWSPhone", value)
    digits = sum(ch.isdigit() for ch in text)
    if _PHONE_RE.fullmatch(text) is None or not 3 <= digits <= 20:
        raise _invalid("AWSPhone", value)
    return text


def parse_aws_url(value: Any) -> str:
    """A URL with a scheme (``https://…``, ``mailto:…``); no whitespace, no ``//`` in the path."""
    text = _require_str("AWSURL", value)
    match = _URL_RE.fullmatch(text)
    if match is None:
        raise _invalid("AWSURL", value)
    rest = match.group(2)
    if rest.startswith("//"):
        authority_and_path = rest[2:]
        host, _, path = authority_and_path.partition("/")
        if not host or "//" in "/" + path:
            raise _invalid("AWSURL", value)
    return text


def parse_aws_ip_address(value: Any) -> str:
    """An IPv4 or IPv6 address, optionally in CIDR notation (``10.0.0.0/8``)."""
    text = _require_str("AWSIPAddress", value)
    try:
        ipaddress.ip_interface(text)
    except ValueError:
        raise _invalid("AWSIPAddress", value) from None
    return text


def parse_aws_json(value: Any) -> str:
    """A JSON document given as a string (kept verbatim), or an object/list (stored compact)."""
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            raise _invalid("AWSJSON", value) from None
        return value
    if isinstance(value, dict | list | int | float | bool) or value is None:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    raise _invalid("AWSJSON", value)


def _serialize_json(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _serialize_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        text: str = value.astimezone(UTC).isoformat(timespec="milliseconds")
        return text.replace("+00:00", "Z")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


# Serializers that return a value of this exact type unchanged (the execution fast path skips them).
PASSTHROUGH_SERIALIZERS: dict[Callable[[Any], Any], type] = {
    GraphQLString.serialize: str,
    GraphQLID.serialize: str,
    GraphQLBoolean.serialize: bool,
    _serialize_str: str,
    _serialize_json: str,
}


def _serialize_timestamp(value: Any) -> int:
    if isinstance(value, bool):
        raise GraphQLError(f"AWSTimestamp cannot represent {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    raise GraphQLError(f"AWSTimestamp cannot represent {value!r}")


def _string_literal(scalar: str, parse: Callable[[Any], Any]) -> Callable[..., Any]:
    def parse_literal(node: ValueNode, _variables: dict[str, Any] | None = None) -> Any:
        if not isinstance(node, StringValueNode):
            raise GraphQLError(f"Invalid {scalar} value: {print_ast(node)}; expected a string.")
        return parse(node.value)

    return parse_literal


def _timestamp_literal(node: ValueNode, _variables: dict[str, Any] | None = None) -> int:
    if not isinstance(node, IntValueNode):
        raise GraphQLError(f"Invalid AWSTimestamp value: {print_ast(node)}; expected an integer.")
    return parse_aws_timestamp(int(node.value))


def _json_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> str:
    if isinstance(node, StringValueNode):
        return parse_aws_json(node.value)
    return parse_aws_json(value_from_ast_untyped(node, variables))


_STRING_PARSERS: dict[str, Callable[[Any], str]] = {
    "AWSDate": parse_aws_date,
    "AWSTime": parse_aws_time,
    "AWSDateTime": parse_aws_datetime,
    "AWSEmail": parse_aws_email,
    "AWSPhone": parse_aws_phone,
    "AWSURL": parse_aws_url,
    "AWSIPAddress": parse_aws_ip_address,
}

AWS_SCALARS: frozenset[str] = frozenset({*_STRING_PARSERS, "AWSTimestamp", "AWSJSON"})


def _configure(
    scalar: GraphQLScalarType,
    parse_value: Callable[[Any], Any],
    parse_literal: Callable[..., Any],
    serialize: Callable[[Any], Any],
) -> None:
    scalar.parse_value = parse_value  # type: ignore[method-assign,assignment]
    scalar.parse_literal = parse_literal  # type: ignore[method-assign]
    scalar.serialize = serialize  # type: ignore[method-assign,assignment]


def install_scalars(schema: GraphQLSchema) -> None:
    """Give every ``AWS*`` scalar type in ``schema`` its validation and serialisation."""
    for name, parse in _STRING_PARSERS.items():
        scalar = schema.type_map.get(name)
        if isinstance(scalar, GraphQLScalarType):
            _configure(scalar, parse, _string_literal(name, parse), _serialize_str)
    scalar = schema.type_map.get("AWSTimestamp")
    if isinstance(scalar, GraphQLScalarType):
        _configure(scalar, parse_aws_timestamp, _timestamp_literal, _serialize_timestamp)
    scalar = schema.type_map.get("AWSJSON")
    if isinstance(scalar, GraphQLScalarType):
        _configure(scalar, parse_aws_json, _json_literal, _serialize_json)
