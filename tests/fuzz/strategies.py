"""Hypothesis strategies that write GraphQL requests from a compiled schema.

:func:`requests` draws one request body for a random root field (query or mutation) of a
``GraphQLSchema``: arguments as variables holding values of the right type (recursively, filters
with random operators and ``and``/``or``/``not`` nesting) or, now and then, of a wrong type;
sometimes an argument written inline, sometimes a variable declared with a wrong type; and a
random selection set that follows object fields (relationship fields included) a few levels deep.
:func:`garbage_bodies` draws bodies that are not valid requests at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
)
from hypothesis import strategies as st

__all__ = ["garbage_bodies", "json_values", "requests"]

MAX_INPUT_DEPTH = 4
MAX_SELECTION_DEPTH = 4

_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
    max_size=12,
)
_NASTY_TEXT = st.sampled_from(
    ["", " ", "'", '"', "%", "_", "\\", "\x00", "' OR '1'='1", "🙂", "\u202e", "a" * 300, "null", "{}", "$x"]
)
_STRINGS = st.one_of(_TEXT, _NASTY_TEXT)
_INTS = st.one_of(st.integers(-5, 5), st.integers(-(2**31), 2**31 - 1), st.integers(-(2**70), 2**70))
_FLOATS = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([0.0, -0.0, 1e308, 5e-324])

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | _INTS | _FLOATS | _STRINGS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_STRINGS, inner, max_size=3),
    max_leaves=8,
)

_DATES = st.sampled_from(
    ["2026-11-22", "2026-11-22Z", "2026-02-30", "1970-01-01+05:30", "-0001-01-01", "9999-12-31"]
)
_TIMES = st.sampled_from(["12:30", "12:30:15.123Z", "25:00", "23:59:60", "00:00:00+14:00"])
_DATETIMES = st.sampled_from(
    ["2026-11-22T05:34:15.846Z", "2026-11-22T05:34:15+01:00", "2026-11-22T05:34", "2026-13-01T00:00:00Z"]
)


_VALID_SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "Int": st.integers(-(2**31), 2**31 - 1) | st.integers(-5, 5),
    "AWSTimestamp": st.integers(0, 2**40),
    "Float": _FLOATS | st.integers(-5, 5),
    "Boolean": st.booleans(),
    "AWSJSON": json_values.map(lambda v: json.dumps(v)),
    "AWSDate": st.sampled_from(["2026-11-22", "2026-11-22Z", "1970-01-01+05:30"]),
    "AWSTime": st.sampled_from(["12:30", "12:30:15.123Z", "00:00:00+14:00"]),
    "AWSDateTime": st.sampled_from(["2026-11-22T05:34:15.846Z", "2026-11-22T05:34:15+01:00"]),
    "AWSEmail": st.sampled_from(["a@example.com", "first.last+tag@sub.example.org"]),
    "AWSURL": st.sampled_from(["https://example.com/x?y=1", "http://127.0.0.1:4443/graphql"]),
    "AWSPhone": st.sampled_from(["+1 555 0100", "+44 20 7946 0958"]),
    "AWSIPAddress": st.sampled_from(["127.0.0.1", "::1", "10.0.0.0/8"]),
}


def _scalar(name: str, valid: bool) -> st.SearchStrategy[Any]:
    good = _VALID_SCALARS.get(name, _STRINGS)
    if valid:
        return good
    if name in ("Int", "AWSTimestamp"):
        return good | _INTS | st.integers(-(2**63), 2**63)
    if name == "AWSJSON":
        return good | _STRINGS
    if name in ("AWSDate", "AWSTime", "AWSDateTime"):
        return good | _DATES | _TIMES | _DATETIMES | _STRINGS
    return good | _STRINGS


@dataclass
class _Inputs:
    """Value strategies per (type, depth), built lazily (filter inputs are recursive)."""

    valid: bool
    cache: dict[tuple[str, int], st.SearchStrategy[Any]] = field(default_factory=dict)

    def value(self, t: GraphQLInputType, depth: int = 0) -> st.SearchStrategy[Any]:
        if isinstance(t, GraphQLNonNull):
            return self.value(t.of_type, depth)
        if isinstance(t, GraphQLList):
            inner = self.value(t.of_type, depth + 1)
            return st.lists(inner, max_size=3) | inner  # a single value is coerced to a list
        key = (str(t), depth)
        found = self.cache.get(key)
        if found is not None:
            return found
        strategy: st.SearchStrategy[Any]
        if isinstance(t, GraphQLEnumType):
            strategy = st.sampled_from(sorted(t.values))
        elif isinstance(t, GraphQLScalarType):
            strategy = _scalar(t.name, self.valid)
        elif isinstance(t, GraphQLInputObjectType):
            optional: dict[str, st.SearchStrategy[Any]] = {}
            required: dict[str, st.SearchStrategy[Any]] = {}
            for name, f in t.fields.items():
                nested = isinstance(get_named_type(f.type), GraphQLInputObjectType)
                if nested and depth >= MAX_INPUT_DEPTH:
                    continue
                target = required if isinstance(f.type, GraphQLNonNull) else optional
                if name == "between" and self.valid and isinstance(f.type, GraphQLList):
                    pair = self.value(f.type.of_type, depth + 1)
                    target[name] = st.lists(pair, min_size=2, max_size=2)
                else:
                    target[name] = self.value(f.type, depth + 1)
            strategy = st.fixed_dictionaries(required, optional=optional)
        else:  # pragma: no cover - no other input types exist
            strategy = json_values
        self.cache[key] = strategy
        return strategy

    def maybe_wrong(self, t: GraphQLInputType, depth: int = 0) -> st.SearchStrategy[Any]:
        """A value of type ``t``; when hostile, sometimes any JSON value at all."""
        if self.valid:
            return self.value(t, depth)
        return st.one_of(self.value(t, depth), self.value(t, depth), json_values)


class _Document:
    """Collects variable definitions and values while a document is drawn."""

    def __init__(self) -> None:
        self.definitions: list[str] = []
        self.variables: dict[str, Any] = {}

    def variable(self, type_text: str, value: Any) -> str:
        name = f"v{len(self.definitions)}"
        self.definitions.append(f"${name}: {type_text}")
        self.variables[name] = value
        return f"${name}"


_WRONG_TYPES = ["String", "Int", "Boolean", "ID!", "[String]", "ModelSortDirection", "AWSJSON", "Float!"]


def _arguments(
    draw: st.DrawFn, inputs: _Inputs, doc: _Document, args: dict[str, GraphQLArgument], *, nested: bool
) -> str:
    parts: list[str] = []
    for name, arg in args.items():
        required = isinstance(arg.type, GraphQLNonNull)
        if inputs.valid:
            if name == "nextToken" or (not required and not draw(st.booleans())):
                continue
            if name == "limit":
                parts.append(f"{name}: {doc.variable('Int', draw(st.integers(1, 30)))}")
                continue
        elif not draw(st.booleans()) and not (required and draw(st.integers(0, 9)) > 0):
            continue
        if nested and not required and draw(st.booleans()):
            continue
        mode = draw(st.integers(0, 9)) if not inputs.valid else 9
        if mode == 0:  # written inline, as a JSON-ish literal (often invalid GraphQL)
            literal = draw(
                st.sampled_from(["null", "1", '"x"', "true", "[]", "{}", "ASC", '{eq: "x"}', "$nope"])
            )
            parts.append(f"{name}: {literal}")
            continue
        type_text = str(arg.type) if mode != 1 else draw(st.sampled_from(_WRONG_TYPES))
        value = draw(inputs.maybe_wrong(arg.type))
        parts.append(f"{name}: {doc.variable(type_text, value)}")
    return f"({', '.join(parts)})" if parts else ""


def _selection(draw: st.DrawFn, inputs: _Inputs, doc: _Document, t: GraphQLObjectType, depth: int) -> str:
    leaves = [n for n, f in t.fields.items() if is_leaf_type(get_named_type(f.type))]
    objects = [(n, f) for n, f in t.fields.items() if isinstance(get_named_type(f.type), GraphQLObjectType)]
    chosen = draw(st.lists(st.sampled_from(leaves), max_size=4, unique=True)) if leaves else []
    parts = list(chosen)
    if not inputs.valid and draw(st.integers(0, 4)) == 0:
        parts.append(
            draw(st.sampled_from(["__typename", "bogusField", "id { x }", "__schema { types { name } }"]))
        )
    if depth < MAX_SELECTION_DEPTH and objects:
        for name, f in draw(st.lists(st.sampled_from(objects), max_size=2, unique_by=lambda p: p[0])):
            parts.append(_field(draw, inputs, doc, name, f, depth + 1, nested=True))
    if not parts:
        parts.append("__typename")
    return "{ " + " ".join(parts) + " }"


def _field(
    draw: st.DrawFn,
    inputs: _Inputs,
    doc: _Document,
    name: str,
    f: GraphQLField,
    depth: int,
    *,
    nested: bool,
) -> str:
    args = _arguments(draw, inputs, doc, f.args, nested=nested)
    target = get_named_type(f.type)
    selection = _selection(draw, inputs, doc, target, depth) if isinstance(target, GraphQLObjectType) else ""
    return f"{name}{args} {selection}".strip()


def requests(
    schema: GraphQLSchema, operations: tuple[str, ...] = ("query", "mutation"), *, hostile: bool = True
) -> st.SearchStrategy[dict[str, Any]]:
    """Request bodies ``{"query", "variables"}`` for random root fields of ``schema``.

    Three in four are well typed (they reach the resolvers and storage); the rest (none when
    ``hostile`` is false) are hostile: wrong value types, out-of-range numbers, inline junk,
    wrongly typed variables, bogus fields.
    """
    typed, hostile_inputs = _Inputs(valid=True), _Inputs(valid=False)
    roots: list[tuple[str, str, GraphQLField]] = []
    types = {
        "query": schema.query_type,
        "mutation": schema.mutation_type,
        "subscription": schema.subscription_type,
    }
    for keyword in operations:
        root = types[keyword]
        if root is not None:
            roots.extend((keyword, name, f) for name, f in root.fields.items())

    @st.composite
    def draw_request(draw: st.DrawFn) -> dict[str, Any]:
        inputs = hostile_inputs if hostile and draw(st.integers(0, 3)) == 0 else typed
        keyword, _, _ = draw(st.sampled_from(roots))
        same_kind = [r for r in roots if r[0] == keyword]
        doc = _Document()
        fields = []
        for n, (_, name, f) in enumerate(draw(st.lists(st.sampled_from(same_kind), min_size=1, max_size=2))):
            fields.append(f"a{n}: {_field(draw, inputs, doc, name, f, 1, nested=False)}")
        definitions = f"({', '.join(doc.definitions)})" if doc.definitions else ""
        return {"query": f"{keyword} {definitions} {{ {' '.join(fields)} }}", "variables": doc.variables}

    return draw_request()


_TOKENS = [
    *("{", "}", "(", ")", ":", "$", "...", "!", "[", "]", '"', "#", ",", "=", "\\u0000", "@include"),
    *("query", "mutation", "subscription", "fragment", "on", "listTodos", "items", "id", "filter"),
]


def garbage_bodies() -> st.SearchStrategy[bytes]:
    """Bodies that are not valid requests: random bytes, JSON of the wrong shape, token soup."""
    token_soup = st.lists(st.sampled_from(_TOKENS), max_size=30).map(" ".join)
    shaped = st.fixed_dictionaries(
        {},
        optional={
            "query": st.one_of(token_soup, _STRINGS, json_values),
            "variables": json_values,
            "operationName": json_values,
            "extensions": json_values,
        },
    )
    return st.one_of(
        st.binary(max_size=64),
        json_values.map(lambda v: json.dumps(v).encode()),
        shaped.map(lambda v: json.dumps(v).encode()),
        token_soup.map(lambda q: json.dumps({"query": q}).encode()),
    )
