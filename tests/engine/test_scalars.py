"""AWS scalar validation, unit and through the engine (bad values are GraphQL validation errors)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from graphql import GraphQLError

from ampbase.engine import scalars
from tests.engine.conftest import HarnessFactory
from tests.engine.harness import oracle_schema

CASES: dict[str, tuple[Callable[[Any], Any], list[Any], list[Any]]] = {
    "AWSDate": (
        scalars.parse_aws_date,
        ["1970-01-01", "2024-02-29", "1970-01-01Z", "1970-01-01-07:00", "1970-01-01+05:30:00"],
        ["1970-1-1", "2023-02-29", "1970-13-01", "19700101", "1970-01-01T00:00Z", 20240101, ""],
    ),
    "AWSTime": (
        scalars.parse_aws_time,
        ["12:30", "12:30:15", "12:30:15.123", "12:30:15Z", "23:59:59.999999999-08:00"],
        ["24:00", "12:60", "7:30", "12:30:15.", "noon", 1230],
    ),
    "AWSDateTime": (
        scalars.parse_aws_datetime,
        ["2026-11-22T05:34:15.846Z", "1970-01-01T12:30Z", "1970-01-01T12:30:00+01:00"],
        ["2026-11-22T05:34:15", "2026-11-22 05:34:15Z", "2026-02-30T00:00Z", "2026-11-22", 0],
    ),
    "AWSTimestamp": (
        scalars.parse_aws_timestamp,
        [0, 1700000000, -1, 4102444800000, 12.0],
        ["1700000000", True, 1.5, None, 2**70],
    ),
    "AWSEmail": (
        scalars.parse_aws_email,
        ["a@b.co", "first.last+tag@example.org", "x@localhost"],
        ["plain", "a@", "@b.co", "a b@c.d", "a@b..c", 5],
    ),
    "AWSPhone": (
        scalars.parse_aws_phone,
        ["+1 555 123 4567", "555-123-4567", "+31 (0)15 278 9111", "112"],
        ["phone", "+", "12", "555-CALL-NOW", "1" * 25],
    ),
    "AWSURL": (
        scalars.parse_aws_url,
        ["https://example.com/a?b=c", "http://localhost:8080", "mailto:a@b.co", "ftp://x.y/z"],
        ["example.com", "https://", "http://x.y//double", "https://a b.com", "://x"],
    ),
    "AWSIPAddress": (
        scalars.parse_aws_ip_address,
        ["127.0.0.1", "10.0.0.0/8", "::1", "2001:db8::/32"],
        ["256.0.0.1", "1.2.3", "host", "10.0.0.0/33"],
    ),
}


@pytest.mark.parametrize("scalar", sorted(CASES))
def test_valid_and_invalid_values(scalar: str) -> None:
    parse, good, bad = CASES[scalar]
    for value in good:
        parse(value)
    for value in bad:
        with pytest.raises(GraphQLError, match=f"Invalid {scalar} value"):
            parse(value)


def test_json_accepts_strings_verbatim_and_objects_compactly() -> None:
    assert scalars.parse_aws_json('{"a": 1}') == '{"a": 1}'
    assert scalars.parse_aws_json({"a": [1, "é"]}) == '{"a":[1,"é"]}'
    assert scalars.parse_aws_json([1]) == "[1]"
    with pytest.raises(GraphQLError, match="Invalid AWSJSON"):
        scalars.parse_aws_json("{not json")


CREATE = """mutation ($input: CreateEverythingInput!) { createEverything(input: $input) {
  id aString anInt aFloat aBoolean aDate aTime aDateTime aTimestamp anEmail aJson aPhone aUrl anIp
  dates emails requiredJson
} }"""

GOOD: dict[str, Any] = {
    "aString": "s",
    "anInt": 2147483647,
    "aFloat": 1.5,
    "aBoolean": True,
    "aDate": "2024-01-01",
    "aTime": "12:00:00",
    "aDateTime": "2024-01-01T12:00:00.000Z",
    "aTimestamp": 4102444800000,
    "anEmail": "a@b.co",
    "aJson": '{"k": [1, 2]}',
    "aPhone": "+1 555 123 4567",
    "aUrl": "https://example.com",
    "anIp": "10.0.0.1",
    "dates": ["2024-01-01", None],
    "emails": ["a@b.co"],
    "requiredJson": {"as": "object"},
}


@pytest.mark.anyio
async def test_every_scalar_round_trips_through_the_api(make_engine: HarnessFactory) -> None:
    h = await make_engine(oracle_schema("aws-scalars"))
    data = (await h.ok(CREATE, {"input": GOOD}))["createEverything"]
    expected = dict(GOOD, requiredJson='{"as":"object"}')
    assert {k: data[k] for k in expected} == expected
    literal = (
        'mutation { createEverything(input: {requiredJson: "[1]", aDate: "2024-01-01", '
        "aTimestamp: 5, aJson: {nested: true}}) { aDate aTimestamp aJson requiredJson } }"
    )
    data = (await h.ok(literal))["createEverything"]
    assert data == {"aDate": "2024-01-01", "aTimestamp": 5, "aJson": '{"nested":true}', "requiredJson": "[1]"}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("anInt", 2147483648),
        ("anInt", "1"),
        ("aFloat", "x"),
        ("aBoolean", "true"),
        ("aDate", "01/01/2024"),
        ("aTime", "25:00"),
        ("aDateTime", "2024-01-01T12:00:00"),
        ("aTimestamp", "now"),
        ("anEmail", "nobody"),
        ("aJson", "{bad"),
        ("aPhone", "call me"),
        ("aUrl", "example.com"),
        ("anIp", "999.1.1.1"),
        ("dates", ["2024-13-01"]),
        ("emails", ["ok@x.y", "bad"]),
    ],
)
async def test_bad_scalar_values_are_validation_errors(
    make_engine: HarnessFactory, field: str, value: Any
) -> None:
    h = await make_engine(oracle_schema("aws-scalars"))
    body = await h.run(CREATE, {"input": {"requiredJson": "{}", field: value}})
    assert body["data"] is None
    error = body["errors"][0]
    assert error["errorType"] == "ValidationError"
    assert field in error["message"]
    assert h.storage.stats.statements == 0


@pytest.mark.anyio
async def test_bad_literal_is_a_document_validation_error(make_engine: HarnessFactory) -> None:
    h = await make_engine(oracle_schema("aws-scalars"))
    body = await h.run(
        'mutation { createEverything(input: {requiredJson: "{}", aDate: "yesterday"}) { id } }'
    )
    assert body["data"] is None
    assert "Invalid AWSDate value" in body["errors"][0]["message"]


def test_temporal_objects_from_storage_serialize_to_wire_strings() -> None:
    from datetime import UTC, date, datetime, time, timedelta, timezone

    from graphql import GraphQLScalarType, GraphQLSchema

    from ampbase.engine.scalars import install_scalars

    dt = GraphQLScalarType("AWSDateTime")
    schema = GraphQLSchema(types=[dt])
    install_scalars(schema)
    moment = datetime(2026, 1, 2, 3, 4, 5, 678900, tzinfo=timezone(timedelta(hours=1)))
    assert dt.serialize(moment) == "2026-01-02T02:04:05.678Z"
    assert dt.serialize(datetime(2026, 1, 2, tzinfo=UTC)) == "2026-01-02T00:00:00.000Z"
    assert dt.serialize(date(2026, 1, 2)) == "2026-01-02"
    assert dt.serialize(time(7, 8)) == "07:08:00"
