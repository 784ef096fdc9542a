"""Scalar fields (``a.string()``...) and type references (``a.ref("Name")``).

Gen 2 nullability: ``.required()`` before ``.array()`` makes the items non-null, after it
the list itself: ``a.string().required().array()`` is ``[String!]``,
``a.string().array().required()`` is ``[String]!``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Any, Self

from ampbase.schema.dsl.auth import AuthCallback, ResourceAccess, RuleBuilder, collect_rules
from ampbase.schema.dsl.source import caller_location, definition_error
from ampbase.schema.ir import SourceLocation, TypeKind, TypeRef

__all__ = ["SCALAR_BUILDERS", "FieldRules", "RefField", "ScalarField", "TypedField"]

# builder name → AppSync scalar
SCALAR_BUILDERS: dict[str, str] = {
    "id": "ID",
    "string": "String",
    "integer": "Int",
    "float": "Float",
    "boolean": "Boolean",
    "date": "AWSDate",
    "time": "AWSTime",
    "datetime": "AWSDateTime",
    "timestamp": "AWSTimestamp",
    "email": "AWSEmail",
    "json": "AWSJSON",
    "phone": "AWSPhone",
    "url": "AWSURL",
    "ip_address": "AWSIPAddress",
}

FieldRules = tuple[RuleBuilder | ResourceAccess, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class TypedField:
    """What scalar fields and refs share: nullability, lists and field-level rules."""

    source: SourceLocation
    item_required: bool = False  # .required() before .array() (or without .array())
    is_list: bool = False
    list_required: bool = False  # .required() after .array()
    rules: FieldRules | None = None
    rules_source: SourceLocation | None = None

    def _describe(self) -> str:
        raise NotImplementedError

    def required(self) -> Self:
        """Non-null: the value, or (after ``.array()``) the list."""
        if self.is_list:
            return dataclasses.replace(self, list_required=True)
        return dataclasses.replace(self, item_required=True)

    def array(self) -> Self:
        """A list of this type; ``.required()`` so far applies to the items."""
        if self.is_list:
            raise definition_error(
                f"{self._describe()}.array() is already a list",
                hint="lists of lists are not supported by Amplify Data",
            )
        return dataclasses.replace(self, is_list=True)

    def authorization(self, callback: AuthCallback) -> Self:
        """Field-level rules; they replace the model's rules for this field."""
        source = caller_location()
        if self.rules is not None:
            raise definition_error(f"{self._describe()} already has .authorization()", source=source)
        rules = collect_rules(callback, where=f"field {self._describe()}", source=source)
        return dataclasses.replace(self, rules=rules, rules_source=source)

    def type_ref(self, name: str, kind: TypeKind) -> TypeRef:
        if self.is_list:
            return TypeRef(
                name, kind, required=self.list_required, is_list=True, item_required=self.item_required
            )
        return TypeRef(name, kind, required=self.item_required)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScalarField(TypedField):
    """``a.string()``, ``a.integer()``... ``builder`` is the DSL name, ``scalar`` the GraphQL one."""

    builder: str
    scalar: str
    default_value: Any = None
    has_default: bool = False

    def _describe(self) -> str:
        return f"a.{self.builder}()"

    def default(self, value: Any) -> ScalarField:
        """A value stored on create when the field is not given (``@default(value:)``)."""
        source = caller_location()
        if self.is_list:
            raise definition_error(
                f"{self._describe()}.array() cannot have a default",
                source=source,
                hint="defaults are only supported on non-list fields",
            )
        if value is None:
            raise definition_error(
                f"{self._describe()}.default() needs a value",
                source=source,
                hint="leave .default() out for fields without a default",
            )
        typed = _typed_default(self.scalar, self.builder, value, source)
        return dataclasses.replace(self, default_value=typed, has_default=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class RefField(TypedField):
    """``a.ref("Name")``: an enum, custom type or (in custom operations) a model."""

    target: str

    def _describe(self) -> str:
        return f"a.ref({self.target!r})"


_STRING_SCALARS = frozenset(
    {"ID", "String", "AWSDate", "AWSTime", "AWSDateTime", "AWSEmail", "AWSPhone", "AWSURL", "AWSIPAddress"}
)


def _typed_default(scalar: str, builder: str, value: Any, source: SourceLocation) -> Any:
    def bad(expected: str) -> Exception:
        return definition_error(
            f"a.{builder}().default({value!r}): expected {expected}, got {type(value).__name__}",
            source=source,
        )

    if scalar in _STRING_SCALARS:
        if not isinstance(value, str):
            raise bad("a string")
        return value
    if scalar in ("Int", "AWSTimestamp"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("an int")
        return value
    if scalar == "Float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad("a number")
        if not math.isfinite(value):
            raise bad("a finite number")
        return float(value)
    if scalar == "Boolean":
        if not isinstance(value, bool):
            raise bad("True or False")
        return value
    # AWSJSON: kept as the JSON text
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            raise definition_error(
                f"a.json().default({value!r}) is not valid JSON",
                source=source,
                hint="pass a JSON string or a dict/list, which is serialised for you",
            ) from None
        return value
    try:
        return json.dumps(value, separators=(",", ":"))
    except (TypeError, ValueError):
        raise bad("a JSON-serialisable value") from None
