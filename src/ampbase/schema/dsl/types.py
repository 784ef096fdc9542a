"""``a.enum([...])`` and ``a.custom_type({...})``, top-level or inline in a model.

An inline enum or custom type becomes a named type ``<Parent><UpperFirstField>``
(``Everything.inlineEnum`` → ``EverythingInlineEnum``), as data-schema names it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from ampbase.schema.dsl.source import caller_location, definition_error, is_list
from ampbase.schema.ir import SourceLocation

__all__ = ["NAME_RE", "CustomTypeBuilder", "EnumBuilder", "check_name", "field_items"]

NAME_RE = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")


def check_name(name: object, what: str, source: SourceLocation) -> str:
    """A GraphQL name (``[_A-Za-z][_0-9A-Za-z]*``), or a located error."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise definition_error(
            f"{what} {name!r} is not a valid GraphQL name",
            source=source,
            hint="names start with a letter or _, followed by letters, digits or _",
        )
    if name.startswith("__"):
        raise definition_error(f"{what} {name!r} starts with '__', which GraphQL reserves", source=source)
    return name


@dataclass(frozen=True, slots=True)
class EnumBuilder:
    values: tuple[str, ...]
    source: SourceLocation

    def required(self) -> NoReturn:
        raise _use_ref("a.enum()", "required()")

    def array(self) -> NoReturn:
        raise _use_ref("a.enum()", "array()")

    def authorization(self, callback: Any) -> NoReturn:
        raise _use_ref("a.enum()", "authorization()")


@dataclass(frozen=True, slots=True)
class CustomTypeBuilder:
    fields: tuple[tuple[str, Any], ...]
    source: SourceLocation

    def required(self) -> NoReturn:
        raise _use_ref("a.custom_type()", "required()")

    def array(self) -> NoReturn:
        raise _use_ref("a.custom_type()", "array()")

    def authorization(self, callback: Any) -> NoReturn:
        raise _use_ref("a.custom_type()", "authorization()")


def _use_ref(builder: str, method: str) -> Exception:
    return definition_error(
        f"An inline {builder} has no .{method}",
        hint=f"declare it at the top level of a.schema({{...}}) and use a.ref('Name').{method}",
    )


def make_enum(values: Sequence[str]) -> EnumBuilder:
    source = caller_location()
    if not is_list(values):
        raise definition_error(
            f"a.enum() needs a non-empty list of values, got {values!r}",
            source=source,
            hint="a.enum(['LOW', 'MEDIUM', 'HIGH'])",
        )
    seen: list[str] = []
    for value in values:
        check_name(value, "Enum value", source)
        if value in ("true", "false", "null"):
            raise definition_error(f"Enum value {value!r} is reserved by GraphQL", source=source)
        if value in seen:
            raise definition_error(f"Enum value {value!r} is listed twice", source=source)
        seen.append(value)
    return EnumBuilder(tuple(seen), source)


def make_custom_type(fields: Mapping[str, Any]) -> CustomTypeBuilder:
    source = caller_location()
    return CustomTypeBuilder(field_items(fields, "a.custom_type()", source), source)


def field_items(fields: object, what: str, source: SourceLocation) -> tuple[tuple[str, Any], ...]:
    """The ``{name: builder}`` dict of a model or custom type as ordered pairs, names checked."""
    if not isinstance(fields, Mapping):
        raise definition_error(
            f"{what} needs a dict of fields, got {type(fields).__name__}",
            source=source,
            hint='e.g. {"content": a.string(), "done": a.boolean()}',
        )
    if not fields:
        raise definition_error(f"{what} has no fields", source=source)
    items: list[tuple[str, Any]] = []
    for name, value in fields.items():
        check_name(name, f"Field of {what}", source)
        items.append((name, value))
    return tuple(items)
