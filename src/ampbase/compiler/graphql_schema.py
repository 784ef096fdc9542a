"""The resolved IR → AWS AppSync's GraphQL API, as SDL and as a graphql-core schema.

:func:`compile_sdl` prints what AWS's Amplify transformer generates for a schema
(``specs/generated-schema.md`` §1-§7): model types with relationship fields, connections,
Filter/Condition/SubscriptionFilter inputs, Create/Update/Delete inputs, key-condition and
composite-key inputs, the Query/Mutation/Subscription fields with their exact arguments,
custom operations, non-model types with their ``Input`` twins, enums, the always-present
base inputs, the AWS scalar declarations and ``@aws_subscribe(mutations:)``. AppSync's
``@aws_*`` auth directives are omitted; clients do not need them.

Operation field names come from the IR only (``ModelOperations``, ``IndexDef.query_field``,
relation fields), so resolvers can be bound by those names.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from graphql import (
    GraphQLScalarType,
    GraphQLSchema,
    build_ast_schema,
    parse,
)
from graphql.language import ValueNode
from graphql.utilities import value_from_ast_untyped

from ampbase.compiler.inputs import (
    AWS_SCALARS,
    add_base_inputs,
    add_enum_filter_inputs,
    add_key_condition_input,
    filter_input_for,
    key_scalar,
    subscription_filter_input_for,
)
from ampbase.compiler.printer import Arg, Document, Field, TypeDefinition
from ampbase.schema import naming
from ampbase.schema.auth import allows, owner_field
from ampbase.schema.ir import (
    AuthAllow,
    CustomOperationDef,
    FieldDef,
    FieldOrigin,
    IndexDef,
    ModelDef,
    OperationKind,
    RelationKind,
    SchemaDef,
    SubscriptionLevel,
    TypeKind,
    TypeRef,
)

__all__ = ["AWS_SUBSCRIBE_DIRECTIVE", "build_graphql_schema", "compile_sdl"]

AWS_SUBSCRIBE_DIRECTIVE = "directive @aws_subscribe(mutations: [String]) on FIELD_DEFINITION"

_PAGING = (Arg("limit", "Int"), Arg("nextToken", "String"))


def compile_sdl(schema: SchemaDef) -> str:
    """The AppSync API of a *resolved* schema, as SDL."""
    return _Compiler(schema).compile().render()


def build_graphql_schema(schema: SchemaDef) -> GraphQLSchema:
    """A graphql-core schema of the AppSync API (AWS scalars with basic parse/serialize)."""
    gql = build_ast_schema(parse(compile_sdl(schema)))
    for name in AWS_SCALARS:
        scalar = gql.type_map.get(name)
        if isinstance(scalar, GraphQLScalarType):
            _configure_scalar(scalar)
    return gql


# --------------------------------------------------------------------------- scalars


def _configure_scalar(scalar: GraphQLScalarType) -> None:
    if scalar.name in ("AWSTimestamp",):
        scalar.serialize = _serialize_int  # type: ignore[method-assign]
        scalar.parse_value = _parse_int  # type: ignore[method-assign]
        scalar.parse_literal = _parse_literal_int  # type: ignore[method-assign]
    elif scalar.name == "AWSJSON":
        scalar.serialize = _serialize_json  # type: ignore[method-assign]
        scalar.parse_value = _parse_json  # type: ignore[method-assign]
        scalar.parse_literal = _parse_literal_json  # type: ignore[method-assign]
    else:
        scalar.serialize = _serialize_str  # type: ignore[method-assign]
        scalar.parse_value = _parse_str  # type: ignore[method-assign]
        scalar.parse_literal = _parse_literal_str  # type: ignore[method-assign]


def _serialize_str(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return str(value)


def _parse_str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def _parse_literal_str(node: ValueNode, variables: dict[str, Any] | None = None) -> str:
    return _parse_str(value_from_ast_untyped(node, variables))


def _serialize_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"expected an integer timestamp, got {value!r}")
    return int(value)


def _parse_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer timestamp, got {value!r}")
    return value


def _parse_literal_int(node: ValueNode, variables: dict[str, Any] | None = None) -> int:
    return _parse_int(value_from_ast_untyped(node, variables))


def _serialize_json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _parse_json(value: Any) -> Any:
    if isinstance(value, str):
        return json.loads(value)
    return value


def _parse_literal_json(node: ValueNode, variables: dict[str, Any] | None = None) -> Any:
    return _parse_json(value_from_ast_untyped(node, variables))


# --------------------------------------------------------------------------- compiler


def _nullable(ref: TypeRef) -> TypeRef:
    return TypeRef(ref.name, ref.kind, required=False, is_list=ref.is_list, item_required=ref.item_required)


def _required(ref: TypeRef) -> TypeRef:
    return TypeRef(ref.name, ref.kind, required=True, is_list=ref.is_list, item_required=ref.item_required)


class _Compiler:
    def __init__(self, schema: SchemaDef) -> None:
        self.schema = schema
        self.doc = Document()
        self.query = TypeDefinition("type", "Query")
        self.mutation = TypeDefinition("type", "Mutation")
        self.subscription = TypeDefinition("type", "Subscription")
        self.input_twins: set[str] = set()

    # ------------------------------------------------------------------ driver

    def compile(self) -> Document:
        doc = self.doc
        doc.preamble.append(AWS_SUBSCRIBE_DIRECTIVE)
        doc.preamble.append("\n".join(f"scalar {scalar}" for scalar in AWS_SCALARS))
        for model in self.schema.models:
            doc.add(self._object_type(model))
        for custom in self.schema.custom_types:
            keyword = "input" if custom.is_input else "type"
            doc.add(TypeDefinition(keyword, custom.name, [self._plain_field(f) for f in custom.fields]))
        for enum in self.schema.enums:
            doc.add(TypeDefinition("enum", enum.name, values=enum.values))
        add_base_inputs(doc)
        for op in self.schema.operations:
            self._custom_operation(op)
        for model in self.schema.models:
            self._model_api(model)
        for root in (self.query, self.mutation, self.subscription):
            if root.fields:
                doc.add(root)
        return doc

    # ------------------------------------------------------------------ object types

    def _plain_field(self, f: FieldDef) -> Field:
        return Field(f.name, f.type.to_sdl())

    def _object_type(self, model: ModelDef) -> TypeDefinition:
        fields: list[Field] = []
        for f in model.fields:
            rel = f.relation
            if rel is not None and rel.kind is RelationKind.HAS_MANY:
                fields.append(self._has_many_field(f))
            else:
                fields.append(self._plain_field(f))
        return TypeDefinition("type", model.name, fields)

    def _has_many_field(self, f: FieldDef) -> Field:
        rel = f.relation
        assert rel is not None
        child = self.schema.get_model(rel.related_model)
        assert child is not None
        self._connection(child)
        args: list[Arg] = []
        if rel.remote_index is not None and rel.index_name is not None:
            index = next((i for i in child.indexes if i.name == rel.remote_index), None)
            if index is not None:
                sort_keys = index.key_fields[len(rel.remote_fields) :]
                if sort_keys:
                    args.append(self._sort_condition_arg(child, index.name, sort_keys))
        args += [
            Arg("filter", naming.filter_input(child.name)),
            Arg("sortDirection", "ModelSortDirection"),
            *_PAGING,
        ]
        return Field(f.name, naming.connection_type(child.name), tuple(args))

    # ------------------------------------------------------------------ model API

    def _model_api(self, model: ModelDef) -> None:
        ops = model.operations
        assert ops is not None, "compile_sdl needs a resolved schema"
        name = model.name
        if ops.get:
            args = tuple(Arg(k, _required(self._field(model, k).type).to_sdl()) for k in model.primary_key)
            self.query.add(Field(ops.get, name, args))
        if ops.list:
            self._connection(model)
            args_list: list[Arg] = []
            if model.custom_primary_key:
                args_list.append(
                    Arg(model.partition_key, _nullable(self._field(model, model.partition_key).type).to_sdl())
                )
                if model.sort_keys:
                    args_list.append(self._sort_condition_arg(model, None, model.sort_keys))
            args_list += [Arg("filter", naming.filter_input(name)), *_PAGING]
            if model.custom_primary_key:
                args_list.append(Arg("sortDirection", "ModelSortDirection"))
            self.query.add(Field(ops.list, naming.connection_type(name), tuple(args_list)))
        for index in model.indexes:
            if index.query_field:
                self._index_query(model, index)
        mutations = [
            (ops.create, naming.create_input(name)),
            (ops.update, naming.update_input(name)),
            (ops.delete, naming.delete_input(name)),
        ]
        if any(m for m, _ in mutations):
            condition = self._condition_input(model)
            for i, (mutation, input_name) in enumerate(mutations):
                if not mutation:
                    continue
                [self._create_input, self._update_input, self._delete_input][i](model)
                self.mutation.add(
                    Field(mutation, name, (Arg("input", f"{input_name}!"), Arg("condition", condition)))
                )
        subscriptions = [
            (ops.on_create, ops.create),
            (ops.on_update, ops.update),
            (ops.on_delete, ops.delete),
        ]
        if any(names for names, _ in subscriptions):
            sub_filter = self._subscription_filter_input(model)
            owner_args = self._owner_subscription_args(model)
            for names, mutation in subscriptions:
                for sub in names:
                    directive = f"@aws_subscribe(mutations: {json.dumps([mutation])})"
                    self.subscription.add(
                        Field(sub, name, (Arg("filter", sub_filter), *owner_args), directives=directive)
                    )

    def _field(self, model: ModelDef, name: str) -> FieldDef:
        f = model.get_field(name)
        assert f is not None, f"{model.name}.{name}"
        return f

    def _connection(self, model: ModelDef) -> None:
        name = naming.connection_type(model.name)
        if name not in self.doc:
            self.doc.add(
                TypeDefinition(
                    "type", name, [Field("items", f"[{model.name}]!"), Field("nextToken", "String")]
                )
            )
        self._filter_input(model)

    def _index_query(self, model: ModelDef, index: IndexDef) -> None:
        assert index.query_field is not None
        self._connection(model)
        hash_field = self._field(model, index.partition_key)
        args: list[Arg] = [Arg(index.partition_key, _required(hash_field.type).to_sdl())]
        if index.sort_keys:
            args.append(self._sort_condition_arg(model, index.name, index.sort_keys))
        args += [
            Arg("sortDirection", "ModelSortDirection"),
            Arg("filter", naming.filter_input(model.name)),
            *_PAGING,
        ]
        self.query.add(Field(index.query_field, naming.connection_type(model.name), tuple(args)))

    def _sort_condition_arg(self, model: ModelDef, index_name: str | None, sort_keys: tuple[str, ...]) -> Arg:
        if len(sort_keys) == 1:
            scalar = key_scalar(self._field(model, sort_keys[0]).type)
            return Arg(sort_keys[0], add_key_condition_input(self.doc, scalar))
        key_input = naming.composite_key_input(model.name, index_name)
        cond_input = naming.composite_key_condition_input(model.name, index_name)
        parts = []
        for key in sort_keys:
            if key in model.timestamps:
                parts.append(Field(key, "String"))
            else:
                parts.append(Field(key, _nullable(self._field(model, key).type).to_sdl()))
        self.doc.add(TypeDefinition("input", key_input, parts))
        ops = [Field(op, key_input) for op in ("eq", "le", "lt", "ge", "gt")]
        ops.insert(5, Field("between", f"[{key_input}]"))
        ops.append(Field("beginsWith", key_input))
        self.doc.add(TypeDefinition("input", cond_input, ops))
        return Arg(naming.composite_key_argument(sort_keys), cond_input)

    # ------------------------------------------------------------------ inputs

    def _filterable(self, f: FieldDef) -> str | None:
        if f.relation is not None:
            return None
        input_name = filter_input_for(f.type)
        if input_name is not None and f.type.kind is TypeKind.ENUM:
            add_enum_filter_inputs(self.doc, f.type.name, is_list=f.type.is_list)
        return input_name

    def _filter_input(self, model: ModelDef) -> str:
        name = naming.filter_input(model.name)
        if name in self.doc:
            return name
        definition = self.doc.add(TypeDefinition("input", name))
        head, tail = self._split_appended(model)
        assert model.operations is not None
        for f in head:
            # quirk: managed timestamps are added to the filter by the list query only
            if f.origin is FieldOrigin.TIMESTAMP and not model.operations.list:
                continue
            input_name = self._filterable(f)
            if input_name:
                definition.add(Field(f.name, input_name))
        if model.get_field("id") is None:
            definition.add(Field("id", "ModelIDInput"))
        definition.add(Field("and", f"[{name}]"))
        definition.add(Field("or", f"[{name}]"))
        definition.add(Field("not", name))
        for f in tail:
            input_name = self._filterable(f)
            if input_name:
                definition.add(Field(f.name, input_name))
        return name

    def _split_appended(self, model: ModelDef) -> tuple[list[FieldDef], list[FieldDef]]:
        head = [f for f in model.fields if f.origin not in (FieldOrigin.IMPLICIT_KEY, FieldOrigin.OWNER)]
        tail = [f for f in model.fields if f.origin in (FieldOrigin.IMPLICIT_KEY, FieldOrigin.OWNER)]
        return head, tail

    def _condition_input(self, model: ModelDef) -> str:
        name = naming.condition_input(model.name)
        if name in self.doc:
            return name
        definition = self.doc.add(TypeDefinition("input", name))
        head, tail = self._split_appended(model)
        skip = {*model.primary_key, "id"}
        later: list[Field] = []
        for f in head:
            if f.name in skip:
                continue
            input_name = self._filterable(f)
            if not input_name:
                continue
            if f.origin is FieldOrigin.TIMESTAMP:
                later.append(Field(f.name, input_name))
            else:
                definition.add(Field(f.name, input_name))
        definition.add(Field("and", f"[{name}]"))
        definition.add(Field("or", f"[{name}]"))
        definition.add(Field("not", name))
        for fld in later:
            definition.add(fld)
        for f in tail:
            input_name = self._filterable(f)
            if input_name and f.name not in skip:
                definition.add(Field(f.name, input_name))
        return name

    def _input_type(self, ref: TypeRef) -> TypeRef:
        """Object-typed input fields use the ``<Type>Input`` twin."""
        if ref.kind is TypeKind.CUSTOM:
            custom = self.schema.get_custom_type(ref.name)
            if custom is not None and custom.is_input:
                return ref
            self._input_twin(ref.name)
            return TypeRef(
                naming.non_model_input(ref.name),
                TypeKind.CUSTOM,
                ref.required,
                ref.is_list,
                ref.item_required,
            )
        return ref

    def _input_twin(self, type_name: str) -> None:
        name = naming.non_model_input(type_name)
        if name in self.input_twins:
            return
        self.input_twins.add(name)
        custom = self.schema.get_custom_type(type_name)
        assert custom is not None
        definition = TypeDefinition("input", name)
        self.doc.add(definition)
        for f in custom.fields:
            if f.type.kind is TypeKind.MODEL:
                continue  # a model cannot be written through an input
            definition.add(Field(f.name, self._input_type(f.type).to_sdl()))

    def _writable(self, model: ModelDef) -> Iterable[FieldDef]:
        for f in model.fields:
            if f.relation is not None or f.origin in (FieldOrigin.TIMESTAMP, FieldOrigin.OWNER):
                continue
            if f.type.kind is TypeKind.MODEL:
                continue
            yield f

    def _create_input(self, model: ModelDef) -> None:
        definition = self.doc.add(TypeDefinition("input", naming.create_input(model.name)))
        for f in self._writable(model):
            ref = self._input_type(f.type)
            generated_id = f.name == "id" and not model.custom_primary_key
            # auto-populated on create: the id, managed timestamps, and @default fields
            if generated_id or f.name in model.timestamps or f.has_default:
                ref = _nullable(ref)
            definition.add(Field(f.name, ref.to_sdl()))

    def _update_input(self, model: ModelDef) -> None:
        definition = self.doc.add(TypeDefinition("input", naming.update_input(model.name)))
        for f in self._writable(model):
            ref = self._input_type(f.type)
            ref = _required(ref) if f.name in model.primary_key else _nullable(ref)
            definition.add(Field(f.name, ref.to_sdl()))

    def _delete_input(self, model: ModelDef) -> None:
        definition = self.doc.add(TypeDefinition("input", naming.delete_input(model.name)))
        for key in model.primary_key:
            definition.add(Field(key, _required(self._field(model, key).type).to_sdl()))

    def _owner_field_names(self, model: ModelDef) -> list[str]:
        names: list[str] = []
        for rule in model.auth_rules:
            name = owner_field(rule)
            if name is not None and name not in names:
                names.append(name)
        return names

    def _subscription_filter_input(self, model: ModelDef) -> str:
        name = naming.subscription_filter_input(model.name)
        if name in self.doc:
            return name
        definition = self.doc.add(TypeDefinition("input", name))
        owners = self._owner_field_names(model)
        dynamic_groups = {
            r.groups_field for r in model.auth_rules if r.allow is AuthAllow.GROUPS and r.groups_field
        }
        foreign_keys = self._has_many_implicit_keys_into(model)
        for f in model.fields:
            if f.name in owners or f.name in dynamic_groups or f.name in foreign_keys:
                continue
            if f.relation is not None:
                continue
            input_name = subscription_filter_input_for(f.type)
            if input_name:
                definition.add(Field(f.name, input_name))
        if model.get_field("id") is None:
            definition.add(Field("id", "ModelSubscriptionIDInput"))
        definition.add(Field("and", f"[{name}]"))
        definition.add(Field("or", f"[{name}]"))
        # quirk: a hasMany's implicit child keys land in the *parent's* subscription filter
        for f in model.fields:
            rel = f.relation
            if (
                rel is None
                or rel.kind is not RelationKind.HAS_MANY
                or rel.references
                or rel.fields
                or rel.index_name
            ):
                continue
            if rel.relation_name is not None:
                continue
            child = self.schema.get_model(rel.related_model)
            assert child is not None
            for key in rel.remote_fields:
                kf = child.get_field(key)
                if kf is not None and kf.origin is FieldOrigin.IMPLICIT_KEY:
                    input_name = subscription_filter_input_for(kf.type)
                    if input_name:
                        definition.add(Field(key, input_name))
        for owner in owners:
            if model.get_field(owner) is not None:
                definition.add(Field(owner, "ModelStringInput"))
        return name

    def _has_many_implicit_keys_into(self, model: ModelDef) -> set[str]:
        keys: set[str] = set()
        for other in self.schema.models:
            for f in other.fields:
                rel = f.relation
                if rel is None or rel.kind is not RelationKind.HAS_MANY or rel.related_model != model.name:
                    continue
                for key in rel.remote_fields:
                    kf = model.get_field(key)
                    if kf is not None and kf.origin is FieldOrigin.IMPLICIT_KEY:
                        keys.add(key)
        return keys

    def _owner_subscription_args(self, model: ModelDef) -> tuple[Arg, ...]:
        ops = model.operations
        assert ops is not None
        if ops.subscription_level is SubscriptionLevel.PUBLIC:
            return ()
        args: list[Arg] = []
        for rule in model.auth_rules:
            name = owner_field(rule)
            if name is None or not (allows(rule, "listen")):
                continue
            f = model.get_field(name)
            if f is None or f.type.is_list:
                continue
            if all(a.name != name for a in args):
                args.append(Arg(name, "String"))
        return tuple(args)

    # ------------------------------------------------------------------ custom operations

    def _custom_operation(self, op: CustomOperationDef) -> None:
        root = {
            OperationKind.QUERY: self.query,
            OperationKind.MUTATION: self.mutation,
            OperationKind.SUBSCRIPTION: self.subscription,
        }[op.kind]
        args = tuple(Arg(a.name, self._input_type(a.type).to_sdl()) for a in op.arguments)
        directives = ""
        if op.subscribe_to:
            directives = f"@aws_subscribe(mutations: {json.dumps(list(op.subscribe_to))})"
        root.add(Field(op.name, op.returns.to_sdl(), args, directives))
