"""Model introspection: the ``model_introspection`` section of ``amplify_outputs.json``.

:func:`build_introspection` turns the normalised :class:`~ampbase.schema.ir.SchemaDef`
into exactly the JSON AWS's generator (``@aws-amplify/graphql-generator``, target
``introspection``) writes for the same schema (``specs/generated-schema.md`` §11,
``specs/client-wire-contract.md`` §2). The JS client builds ``client.models``,
``client.enums`` and ``client.queries``/``mutations``/``subscriptions`` from it.

The generator reads the *input* schema, so a few things follow the declaration rather
than the resolved model:

- an implicit ``id`` is listed first, managed timestamps (``isReadOnly``, never
  required) after the declared fields and Gen 1 implicit relationship keys last;
- implicit owner fields are not listed;
- ``@model(timestamps: {updatedAt: null})`` still lists ``updatedAt`` (the generator
  falls back to the default name);
- auth rules keep the operations and (for ``public``/``private``/``custom``) the
  provider exactly as written, while owner and group rules get their defaults filled in;
- index attributes carry a ``queryField`` only when the user wrote one, and the default
  ``gsi-Parent.field`` index of a Gen 1 implicit ``@hasMany`` only appears when no
  ``@belongsTo`` on the child already pairs with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ampbase.schema import naming
from ampbase.schema.auth import (
    DEFAULT_GROUP_CLAIM,
    DEFAULT_IDENTITY_CLAIM,
    DEFAULT_OWNER_FIELD,
    normalised_operations,
)
from ampbase.schema.ir import (
    AuthAllow,
    AuthProvider,
    AuthRule,
    CustomOperationDef,
    CustomTypeDef,
    FieldDef,
    FieldOrigin,
    IndexDef,
    IndexOrigin,
    ModelDef,
    OperationKind,
    RelationDef,
    RelationKind,
    SchemaDef,
    TypeKind,
    TypeRef,
)

__all__ = ["INTROSPECTION_VERSION", "build_introspection"]

INTROSPECTION_VERSION = 1

_DEFAULT_TIMESTAMPS: tuple[str, str] = ("createdAt", "updatedAt")
_SECTIONS: tuple[tuple[OperationKind, str], ...] = (
    (OperationKind.QUERY, "queries"),
    (OperationKind.MUTATION, "mutations"),
    (OperationKind.SUBSCRIPTION, "subscriptions"),
)

JSON = dict[str, Any]


def build_introspection(schema: SchemaDef) -> JSON:
    """The model introspection schema (MIS) of a normalised schema, as a JSON-ready dict."""
    result: JSON = {
        "version": INTROSPECTION_VERSION,
        "models": {model.name: _model(schema, model) for model in schema.models},
        "enums": {enum.name: {"name": enum.name, "values": list(enum.values)} for enum in schema.enums},
        "nonModels": {
            custom.name: {
                "name": custom.name,
                "fields": {f.name: _field(f) for f in custom.fields},
            }
            for custom in schema.custom_types
            if not custom.is_input
        },
    }
    inputs: dict[str, JSON] = {}
    for kind, section in _SECTIONS:
        operations = [op for op in schema.operations if op.kind is kind]
        if operations:
            result[section] = {op.name: _operation(schema, op, inputs) for op in operations}
    if inputs:
        result["inputs"] = inputs
    return result


# --------------------------------------------------------------------------- types


def _type(ref: TypeRef) -> str | JSON:
    if ref.kind is TypeKind.SCALAR:
        return ref.name
    if ref.kind is TypeKind.ENUM:
        return {"enum": ref.name}
    if ref.kind is TypeKind.MODEL:
        return {"model": ref.name}
    return {"nonModel": ref.name}


def _shape(ref: TypeRef, *, required: bool | None = None) -> JSON:
    """``isArray``/``isRequired``/``isArrayNullable``; a list's ``isRequired`` is its items'."""
    if ref.is_list:
        return {
            "isArray": True,
            "isRequired": ref.item_required if required is None else required,
            "isArrayNullable": not ref.required,
        }
    return {"isArray": False, "isRequired": ref.required if required is None else required}


def _field(
    field: FieldDef,
    *,
    type_: str | JSON | None = None,
    required: bool | None = None,
) -> JSON:
    shape = _shape(field.type, required=required)
    out: JSON = {
        "name": field.name,
        "isArray": shape["isArray"],
        "type": _type(field.type) if type_ is None else type_,
        "isRequired": shape["isRequired"],
        "attributes": [],
    }
    if "isArrayNullable" in shape:
        out["isArrayNullable"] = shape["isArrayNullable"]
    return out


def _timestamp_field(name: str) -> JSON:
    return {
        "name": name,
        "isArray": False,
        "type": "AWSDateTime",
        "isRequired": False,
        "attributes": [],
        "isReadOnly": True,
    }


# --------------------------------------------------------------------------- models


def _model(schema: SchemaDef, model: ModelDef) -> JSON:
    return {
        "name": model.name,
        "fields": _model_fields(schema, model),
        "syncable": True,
        "pluralName": model.plural_name or naming.pluralize(model.name),
        "attributes": _model_attributes(schema, model),
        "primaryKeyInfo": {
            "isCustomPrimaryKey": model.custom_primary_key,
            "primaryKeyFieldName": model.partition_key,
            "sortKeyFieldNames": list(model.sort_keys),
        },
    }


def _model_attribute(model: ModelDef) -> Any:
    return model.operations.model_attribute if model.operations is not None else None


def _timestamp_names(model: ModelDef) -> tuple[str, ...]:
    """The managed timestamps the generator lists, following ``@model(timestamps:)`` as written."""
    attribute = _model_attribute(model)
    if isinstance(attribute, dict) and "timestamps" in attribute:
        given = attribute["timestamps"]
        if given is None:
            return ()
        if isinstance(given, dict):
            # A ``null`` entry falls back to the default name, as in AWS's generator.
            return tuple(given.get(key) or key for key in _DEFAULT_TIMESTAMPS)
    return tuple(name for name in model.timestamps if name is not None)


def _model_fields(schema: SchemaDef, model: ModelDef) -> dict[str, JSON]:
    timestamps = _timestamp_names(model)
    listed = [f for f in model.fields if f.origin is FieldOrigin.ID]
    if model.generated:
        # A join model is synthesised whole: key fields, then its two relationships.
        rest = [
            f
            for f in model.fields
            if f.origin not in (FieldOrigin.ID, FieldOrigin.TIMESTAMP, FieldOrigin.OWNER)
            and f.name not in timestamps
        ]
        listed += [f for f in rest if f.relation is None] + [f for f in rest if f.relation is not None]
    else:
        listed += [f for f in model.fields if f.origin is FieldOrigin.DECLARED]
    fields = {f.name: _model_field(schema, model, f) for f in listed}
    for name in timestamps:
        fields.setdefault(name, _timestamp_field(name))
    for f in model.fields:
        if f.origin is FieldOrigin.IMPLICIT_KEY:
            fields.setdefault(f.name, _field(f))
    return fields


def _model_field(schema: SchemaDef, model: ModelDef, field: FieldDef) -> JSON:
    relation = field.relation
    if relation is None:
        if model.generated and _is_foreign_key(model, field.name):
            # AWS's generator lists a join model's reference fields as optional.
            return _field(field, required=False)
        return _field(field)
    out = _field(field, type_={"model": relation.related_model})
    out["association"] = _association(schema, model, relation)
    return out


def _is_foreign_key(model: ModelDef, name: str) -> bool:
    return any(f.relation is not None and name in f.relation.local_fields for f in model.fields)


def _association(schema: SchemaDef, model: ModelDef, relation: RelationDef) -> JSON:
    if relation.kind is RelationKind.BELONGS_TO:
        return {"connectionType": "BELONGS_TO", "targetNames": list(relation.local_fields)}
    if relation.kind is RelationKind.HAS_ONE:
        return {
            "connectionType": "HAS_ONE",
            "associatedWith": list(relation.remote_fields),
            "targetNames": [] if relation.references else list(relation.local_fields),
        }
    return {
        "connectionType": "HAS_MANY",
        "associatedWith": _has_many_associated_with(schema, model, relation),
    }


def _has_many_associated_with(schema: SchemaDef, model: ModelDef, relation: RelationDef) -> list[str]:
    related = schema.get_model(relation.related_model)
    if relation.relation_name is not None and related is not None:
        # @manyToMany: the join model's belongsTo field that points back at this model.
        for f in related.fields:
            if (
                f.relation is not None
                and f.relation.kind is RelationKind.BELONGS_TO
                and f.relation.related_model == model.name
            ):
                return [f.name]
        return [naming.join_model_field(model.name)]
    if relation.references or not (relation.fields or relation.index_name):
        return list(relation.remote_fields)
    # ``@hasMany(indexName:, fields:)``: the related model's relationship field back to this
    # model keyed on the index's partition key, else that key field itself.
    key = relation.remote_fields[:1]
    if related is not None and key:
        for f in related.fields:
            if (
                f.relation is not None
                and f.relation.related_model == model.name
                and f.relation.fields[:1] == key
            ):
                return [f.name]
    return list(key)


# --------------------------------------------------------------------------- attributes


def _model_attributes(schema: SchemaDef, model: ModelDef) -> list[JSON]:
    attribute = _model_attribute(model)
    attributes: list[JSON] = [
        {"type": "model", "properties": dict(attribute) if isinstance(attribute, dict) else {}}
    ]
    if model.custom_primary_key:
        attributes.append({"type": "key", "properties": {"fields": list(model.primary_key)}})
    attributes.extend(
        _index_attribute(index) for index in model.indexes if _index_is_listed(schema, model, index)
    )
    if model.auth_rules:
        rules = [_auth_rule(rule) for rule in model.auth_rules]
        attributes.append({"type": "auth", "properties": {"rules": rules}})
    return attributes


def _index_attribute(index: IndexDef) -> JSON:
    properties: JSON = {"name": index.name}
    if index.query_field is not None and index.query_field_declared:
        properties["queryField"] = index.query_field
    properties["fields"] = list(index.key_fields)
    return {"type": "key", "properties": properties}


def _index_is_listed(schema: SchemaDef, model: ModelDef, index: IndexDef) -> bool:
    """Declared and join-model indexes always; a relationship's default GSI only for a lone
    Gen 1 implicit ``@hasMany`` (AWS's generator adds it while inventing the child's key)."""
    if index.origin is not IndexOrigin.RELATION:
        return True
    for parent, relation in _relations_into(schema, model.name):
        if relation.remote_index != index.name:
            continue
        implicit = not (relation.references or relation.fields or relation.index_name)
        if relation.kind is not RelationKind.HAS_MANY or not implicit:
            return False
        return not any(
            f.relation is not None
            and f.relation.kind is RelationKind.BELONGS_TO
            and f.relation.related_model == parent.name
            and f.relation.local_fields == relation.remote_fields
            for f in model.fields
        )
    return False


def _relations_into(schema: SchemaDef, model_name: str) -> Iterable[tuple[ModelDef, RelationDef]]:
    for parent in schema.models:
        for f in parent.fields:
            if f.relation is not None and f.relation.related_model == model_name:
                yield parent, f.relation


def _auth_rule(rule: AuthRule) -> JSON:
    operations = list(normalised_operations(rule))
    if rule.allow is AuthAllow.OWNER:
        claim = rule.identity_claim
        return {
            "provider": str(rule.provider or AuthProvider.USER_POOLS),
            "ownerField": rule.owner_field or DEFAULT_OWNER_FIELD,
            "allow": "owner",
            # Gen 1's ``username`` is written back as the Cognito claim name.
            "identityClaim": DEFAULT_IDENTITY_CLAIM if claim in (None, "username") else claim,
            "operations": operations,
        }
    if rule.allow is AuthAllow.GROUPS:
        out: JSON = {
            "groupClaim": rule.group_claim or DEFAULT_GROUP_CLAIM,
            "provider": str(rule.provider or AuthProvider.USER_POOLS),
            "allow": "groups",
        }
        if rule.groups_field is not None:
            out["groupsField"] = rule.groups_field
            out["groupField"] = "groups"
        else:
            out["groups"] = list(rule.groups)
        out["operations"] = operations
        return out
    out = {"allow": str(rule.allow)}
    if rule.provider is not None:
        out["provider"] = str(rule.provider)
    out["operations"] = operations
    return out


# --------------------------------------------------------------------------- custom operations


def _operation(schema: SchemaDef, op: CustomOperationDef, inputs: dict[str, JSON]) -> JSON:
    shape = _shape(op.returns)
    out: JSON = {
        "name": op.name,
        "isArray": shape["isArray"],
        "type": _type(op.returns),
        "isRequired": shape["isRequired"],
    }
    if "isArrayNullable" in shape:
        out["isArrayNullable"] = shape["isArrayNullable"]
    if op.arguments:
        out["arguments"] = {arg.name: _argument(schema, arg.type, arg.name, inputs) for arg in op.arguments}
    return out


def _argument(schema: SchemaDef, ref: TypeRef, name: str, inputs: dict[str, JSON]) -> JSON:
    """An argument or input attribute: custom types become their ``<T>Input`` twins."""
    if ref.kind is TypeKind.CUSTOM:
        type_: str | JSON = {"input": naming.non_model_input(ref.name)}
        custom = schema.get_custom_type(ref.name)
        if custom is not None:
            _register_input(schema, custom, inputs)
    else:
        type_ = _type(ref)
    shape = _shape(ref)
    out: JSON = {"name": name, "isArray": shape["isArray"], "type": type_, "isRequired": shape["isRequired"]}
    if "isArrayNullable" in shape:
        out["isArrayNullable"] = shape["isArrayNullable"]
    return out


def _register_input(schema: SchemaDef, custom: CustomTypeDef, inputs: dict[str, JSON]) -> None:
    name = naming.non_model_input(custom.name)
    if name in inputs:
        return
    entry: JSON = {"name": name, "attributes": {}}
    inputs[name] = entry  # registered first so recursive types terminate
    entry["attributes"] = {f.name: _argument(schema, f.type, f.name, inputs) for f in custom.fields}
