"""The model introspection schema (MIS) as the client reads it.

The ``model_introspection`` section of ``amplify_outputs.json``
(``specs/client-wire-contract.md`` §2) is everything the client knows about the API: models,
their fields and keys, relations, secondary indexes, disabled operations, owner fields,
custom types and custom operations. :func:`parse_introspection` turns the JSON into frozen
values; nothing else in the client looks at the raw JSON.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ArgumentInfo",
    "CustomOperationInfo",
    "FieldInfo",
    "IndexInfo",
    "Introspection",
    "ModelInfo",
    "capitalize",
    "parse_introspection",
    "snake_case",
]

# Operation names per disable-group, as ``model().disable_operations`` records them.
_GROUPS: Mapping[str, tuple[str, ...]] = {
    "queries": ("list", "get", "observeQuery"),
    "mutations": ("create", "update", "delete"),
    "subscriptions": ("onCreate", "onUpdate", "onDelete"),
}
MODEL_OPERATIONS: tuple[str, ...] = (
    "create",
    "get",
    "update",
    "delete",
    "list",
    "onCreate",
    "onUpdate",
    "onDelete",
    "observeQuery",
)


def capitalize(name: str) -> str:
    """First letter upper-cased (the transformer's PascalCase of a model name)."""
    return name[:1].upper() + name[1:]


_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(name: str) -> str:
    """``listCustomerByAccountRepresentativeId`` → ``list_customer_by_account_representative_id``."""
    return _CAMEL_BOUNDARY.sub("_", name).lower()


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """One field of a model or custom type.

    ``kind`` is ``scalar`` (``type_name`` an AppSync scalar), ``enum``, ``nonModel``,
    ``model`` or ``input``; ``type_name`` names the scalar, enum, type or model.
    """

    name: str
    kind: str
    type_name: str
    is_array: bool = False
    is_required: bool = False
    is_array_nullable: bool = False
    is_read_only: bool = False
    connection_type: str | None = None
    associated_with: tuple[str, ...] = ()
    target_names: tuple[str, ...] = ()

    @property
    def is_relation(self) -> bool:
        return self.kind == "model"

    @property
    def graphql_type(self) -> str:
        """The named GraphQL type: scalar/enum/input name as is."""
        return self.type_name


@dataclass(frozen=True, slots=True)
class IndexInfo:
    """A secondary index queried through ``query_field``."""

    name: str
    query_field: str
    partition_key: str
    sort_keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ModelInfo:
    name: str
    plural_name: str
    fields: Mapping[str, FieldInfo]
    primary_key: str
    sort_keys: tuple[str, ...]
    is_custom_primary_key: bool
    indexes: tuple[IndexInfo, ...]
    owner_fields: tuple[str, ...]
    enabled_operations: frozenset[str]

    @property
    def key_fields(self) -> tuple[str, ...]:
        return (self.primary_key, *self.sort_keys)

    @property
    def pascal_name(self) -> str:
        return capitalize(self.name)

    @property
    def pascal_plural(self) -> str:
        return capitalize(self.plural_name)

    def relation_fields(self) -> tuple[FieldInfo, ...]:
        return tuple(f for f in self.fields.values() if f.is_relation)


@dataclass(frozen=True, slots=True)
class ArgumentInfo:
    name: str
    kind: str
    type_name: str
    is_array: bool = False
    is_required: bool = False
    is_array_nullable: bool = False

    @property
    def required(self) -> bool:
        """Whether the argument must be given (the list itself for array arguments)."""
        return not self.is_array_nullable if self.is_array else self.is_required


@dataclass(frozen=True, slots=True)
class CustomOperationInfo:
    name: str
    operation: str  # query | mutation | subscription
    kind: str
    type_name: str
    is_array: bool
    is_required: bool
    is_array_nullable: bool
    arguments: Mapping[str, ArgumentInfo]


@dataclass(frozen=True, slots=True)
class Introspection:
    models: Mapping[str, ModelInfo]
    enums: Mapping[str, tuple[str, ...]]
    non_models: Mapping[str, Mapping[str, FieldInfo]]
    queries: Mapping[str, CustomOperationInfo]
    mutations: Mapping[str, CustomOperationInfo]
    subscriptions: Mapping[str, CustomOperationInfo]
    inputs: Mapping[str, Mapping[str, FieldInfo]]

    def model(self, name: str) -> ModelInfo:
        try:
            return self.models[name]
        except KeyError:
            raise KeyError(f"no model named {name!r} in the model introspection") from None


def _type_of(raw: Any) -> tuple[str, str]:
    if isinstance(raw, str):
        return "scalar", raw
    if isinstance(raw, Mapping):
        for kind in ("enum", "nonModel", "model", "input"):
            value = raw.get(kind)
            if isinstance(value, str):
                return kind, value
    raise ValueError(f"unsupported field type in the model introspection: {raw!r}")


def _field(raw: Mapping[str, Any]) -> FieldInfo:
    kind, type_name = _type_of(raw.get("type"))
    association = raw.get("association") or {}
    return FieldInfo(
        name=str(raw["name"]),
        kind=kind,
        type_name=type_name,
        is_array=bool(raw.get("isArray")),
        is_required=bool(raw.get("isRequired")),
        is_array_nullable=bool(raw.get("isArrayNullable")),
        is_read_only=bool(raw.get("isReadOnly")),
        connection_type=association.get("connectionType"),
        associated_with=tuple(association.get("associatedWith") or ()),
        target_names=tuple(association.get("targetNames") or ()),
    )


def _owner_fields(attributes: list[Mapping[str, Any]]) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for attr in attributes:
        if attr.get("type") != "auth":
            continue
        rules = (attr.get("properties") or {}).get("rules") or []
        if not all(isinstance(r, Mapping) and r.get("allow") for r in rules):
            continue
        for rule in rules:
            if rule["allow"] == "owner":
                found[rule.get("ownerField") or "owner"] = None
            elif rule["allow"] == "groups" and rule.get("groupsField") is not None:
                found[rule["groupsField"]] = None
    return tuple(found)


def _enabled_operations(attributes: list[Mapping[str, Any]]) -> frozenset[str]:
    disabled: set[str] = set()
    for attr in attributes:
        if attr.get("type") != "model":
            continue
        for group, value in (attr.get("properties") or {}).items():
            if group not in _GROUPS:
                continue
            if value is None:
                disabled.update(_GROUPS[group])
            elif isinstance(value, Mapping):
                disabled.update(str(k) for k in value)
    if "list" in disabled:
        disabled.add("observeQuery")
    return frozenset(op for op in MODEL_OPERATIONS if op not in disabled)


def _model(raw: Mapping[str, Any]) -> ModelInfo:
    attributes = list(raw.get("attributes") or [])
    pk_info = raw.get("primaryKeyInfo") or {}
    indexes = tuple(
        IndexInfo(
            name=str(props["name"]),
            query_field=str(props["queryField"]),
            partition_key=str(props["fields"][0]),
            sort_keys=tuple(str(f) for f in props["fields"][1:]),
        )
        for attr in attributes
        if attr.get("type") == "key"
        and (props := attr.get("properties") or {}).get("name")
        and props.get("queryField")
        and props.get("fields")
    )
    return ModelInfo(
        name=str(raw["name"]),
        plural_name=str(raw.get("pluralName") or raw["name"] + "s"),
        fields={name: _field(f) for name, f in (raw.get("fields") or {}).items()},
        primary_key=str(pk_info.get("primaryKeyFieldName") or "id"),
        sort_keys=tuple(pk_info.get("sortKeyFieldNames") or ()),
        is_custom_primary_key=bool(pk_info.get("isCustomPrimaryKey")),
        indexes=indexes,
        owner_fields=_owner_fields(attributes),
        enabled_operations=_enabled_operations(attributes),
    )


def _operation(raw: Mapping[str, Any], operation: str) -> CustomOperationInfo:
    kind, type_name = _type_of(raw.get("type"))
    arguments: dict[str, ArgumentInfo] = {}
    for name, arg in (raw.get("arguments") or {}).items():
        arg_kind, arg_type = _type_of(arg.get("type"))
        arguments[name] = ArgumentInfo(
            name=str(arg.get("name") or name),
            kind=arg_kind,
            type_name=arg_type,
            is_array=bool(arg.get("isArray")),
            is_required=bool(arg.get("isRequired")),
            is_array_nullable=bool(arg.get("isArrayNullable")),
        )
    return CustomOperationInfo(
        name=str(raw["name"]),
        operation=operation,
        kind=kind,
        type_name=type_name,
        is_array=bool(raw.get("isArray")),
        is_required=bool(raw.get("isRequired")),
        is_array_nullable=bool(raw.get("isArrayNullable")),
        arguments=arguments,
    )


def parse_introspection(raw: Any) -> Introspection:
    """Read a ``model_introspection`` object (``models``, ``enums``, ``nonModels`` ...)."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("models"), Mapping):
        raise ValueError("the model introspection must be an object with a 'models' object")
    return Introspection(
        models={name: _model(m) for name, m in raw["models"].items()},
        enums={name: tuple(e.get("values") or ()) for name, e in (raw.get("enums") or {}).items()},
        non_models={
            name: {f: _field(v) for f, v in (t.get("fields") or {}).items()}
            for name, t in (raw.get("nonModels") or {}).items()
        },
        queries={n: _operation(op, "query") for n, op in (raw.get("queries") or {}).items()},
        mutations={n: _operation(op, "mutation") for n, op in (raw.get("mutations") or {}).items()},
        subscriptions={
            n: _operation(op, "subscription") for n, op in (raw.get("subscriptions") or {}).items()
        },
        inputs={
            name: {f: _field(v) for f, v in (t.get("attributes") or {}).items()}
            for name, t in (raw.get("inputs") or {}).items()
        },
    )
