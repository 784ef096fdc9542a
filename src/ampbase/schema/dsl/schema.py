"""``a.schema({...})``: turns the builders into the declared :class:`~ampbase.schema.ir.SchemaDef`.

The result is what AWS's data-schema would write as SDL for the same ``resource.ts``: inline
enums/custom types become named types (``<Parent><Field>``, ``<Operation>ReturnType``) listed
after the top-level ones, index query fields are written out (``list<Model>By<Pk>And<Sk>``) and
indexes ordered by their partition key's field, function handlers are named ``Fn<Operation>``,
rules of JS-resolver operations become the AppSync directive rules, and operations are listed
Query, Mutation, Subscription (the order the SDL front end gives). Schema-level rules stay in
``schema_auth_rules`` (the resolver applies them to models without rules).
Cross-model checks that need the normalised schema (reference field types, relationship
counterparts, key types) are left to :func:`ampbase.schema.resolve.resolve_schema`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ampbase.schema.dsl.auth import FIELD_OPERATIONS, AuthCallback, ResourceAccess, RuleBuilder, collect_rules
from ampbase.schema.dsl.fields import RefField, ScalarField, TypedField
from ampbase.schema.dsl.model import ModelBuilder, model_attribute
from ampbase.schema.dsl.operations import CustomHandler, CustomOperationBuilder, FunctionHandler
from ampbase.schema.dsl.relationships import Relationship
from ampbase.schema.dsl.source import caller_location, definition_error
from ampbase.schema.dsl.types import CustomTypeBuilder, EnumBuilder, check_name
from ampbase.schema.ir import (
    AuthAllow,
    AuthConfig,
    AuthProvider,
    AuthRule,
    CustomOperationDef,
    CustomTypeDef,
    EnumDef,
    FieldDef,
    HandlerDef,
    IndexDef,
    ModelDef,
    ModelOperations,
    OperationKind,
    RelationDef,
    RelationKind,
    SchemaDef,
    SourceLocation,
    TypeKind,
    TypeRef,
)
from ampbase.schema.naming import gen2_index_query_field, upper_first

__all__ = ["SchemaBuilder", "make_schema"]

_KIND_ORDER = (OperationKind.QUERY, OperationKind.MUTATION, OperationKind.SUBSCRIPTION)


@dataclass(frozen=True, slots=True)
class SchemaBuilder:
    """The value of ``a.schema({...})``; ``.authorization()`` adds schema-level rules."""

    models: tuple[ModelDef, ...]
    enums: tuple[EnumDef, ...]
    custom_types: tuple[CustomTypeDef, ...]
    operations: tuple[CustomOperationDef, ...]
    source: SourceLocation
    schema_rules: tuple[AuthRule, ...] = ()
    resource_access: tuple[ResourceAccess, ...] = ()
    rules_set: bool = field(default=False, compare=False)

    def authorization(self, callback: AuthCallback) -> SchemaBuilder:
        """Fallback rules for every model and custom operation without rules of their own."""
        source = caller_location()
        if self.rules_set:
            raise definition_error("This a.schema() already has .authorization()", source=source)
        collected = collect_rules(callback, where="a.schema()", source=source)
        rules = tuple(_rule(r) for r in collected if isinstance(r, RuleBuilder))
        access = tuple(r for r in collected if isinstance(r, ResourceAccess))
        return dataclasses.replace(self, schema_rules=rules, resource_access=access, rules_set=True)

    def to_schema_def(self, auth: AuthConfig) -> SchemaDef:
        """The declared IR with the given authorization modes."""
        if self.resource_access:
            settings = dict(auth.settings or {})
            settings["resource_access"] = tuple(
                {"function": r.function, "operations": r.operations} for r in self.resource_access
            )
            auth = dataclasses.replace(auth, settings=settings)
        return SchemaDef(
            models=self.models,
            enums=self.enums,
            custom_types=self.custom_types,
            operations=self.operations,
            schema_auth_rules=self.schema_rules,
            auth=auth,
            flavour="gen2",
            source=self.source,
        )


def make_schema(types: Mapping[str, Any]) -> SchemaBuilder:
    source = caller_location()
    if not isinstance(types, Mapping):
        raise definition_error(
            f"a.schema() needs a dict of types, got {type(types).__name__}",
            source=source,
            hint='a.schema({"Todo": a.model({...})})',
        )
    return _Compiler(source).compile(types)


def _rule(builder: RuleBuilder) -> AuthRule:
    return dataclasses.replace(builder.rule, source=builder.source)


def _builder_hint(value: Any) -> str:
    if callable(value) and not isinstance(value, type):
        return "did you forget the parentheses, e.g. a.string instead of a.string()?"
    return "use a.model(), a.enum(), a.custom_type(), a.query(), a.mutation() or a.subscription()"


class _Compiler:
    def __init__(self, source: SourceLocation) -> None:
        self.source = source
        self.models: dict[str, ModelBuilder] = {}
        self.enums: dict[str, EnumBuilder] = {}
        self.custom_types: dict[str, CustomTypeBuilder] = {}
        self.operations: dict[str, CustomOperationBuilder] = {}

    # ------------------------------------------------------------------ registration

    def compile(self, types: Mapping[str, Any]) -> SchemaBuilder:
        for name, value in types.items():
            check_name(name, "Schema entry", self.source)
            if isinstance(value, ModelBuilder):
                self.models[name] = value
            elif isinstance(value, EnumBuilder):
                self.enums[name] = value
            elif isinstance(value, CustomTypeBuilder):
                self.custom_types[name] = value
            elif isinstance(value, CustomOperationBuilder):
                self.operations[name] = value
            else:
                raise definition_error(
                    f"Schema entry {name!r} is {value!r}, not a model, enum, custom type or operation",
                    source=self.source,
                    hint=_builder_hint(value),
                )
        # inline enums / custom types follow the top-level ones, in declaration order
        for name, value in types.items():
            if isinstance(value, ModelBuilder | CustomTypeBuilder):
                self._register_inline(name, value.fields)
            elif isinstance(value, CustomOperationBuilder):
                self._register_inline(upper_first(name), value.args)
                if isinstance(value.return_type, CustomTypeBuilder):
                    self._add_inline(upper_first(name) + "ReturnType", value.return_type)
        return SchemaBuilder(
            models=tuple(self._model(n, m) for n, m in self.models.items()),
            enums=tuple(EnumDef(n, e.values, source=e.source) for n, e in self.enums.items()),
            custom_types=tuple(self._custom_type(n, t) for n, t in self.custom_types.items()),
            operations=tuple(
                self._operation(n, op)
                for kind in _KIND_ORDER
                for n, op in self.operations.items()
                if op.kind is kind
            ),
            source=self.source,
        )

    def _register_inline(self, parent: str, fields: tuple[tuple[str, Any], ...]) -> None:
        for fname, value in fields:
            if isinstance(value, EnumBuilder | CustomTypeBuilder):
                self._add_inline(parent + upper_first(fname), value)

    def _add_inline(self, name: str, value: EnumBuilder | CustomTypeBuilder) -> None:
        if self._taken(name):
            raise definition_error(
                f"The inline type {name!r} clashes with another type of the same name",
                source=value.source,
                hint=f"rename the field, or declare the type at the top level and use a.ref({name!r})",
            )
        if isinstance(value, EnumBuilder):
            self.enums[name] = value
        else:
            self.custom_types[name] = value
            self._register_inline(name, value.fields)

    def _taken(self, name: str) -> bool:
        return name in self.models or name in self.enums or name in self.custom_types

    # ------------------------------------------------------------------ types

    def _ref_kind(self, ref: RefField, where: str) -> TypeKind:
        if ref.target in self.enums:
            return TypeKind.ENUM
        if ref.target in self.custom_types:
            return TypeKind.CUSTOM
        if ref.target in self.models:
            return TypeKind.MODEL
        if ref.target in self.operations:
            raise definition_error(
                f"{where} refers to the custom operation {ref.target!r} with a.ref()",
                source=ref.source,
                hint="a.ref() of an operation is only valid in a.subscription().for_()",
            )
        known = sorted((*self.enums, *self.custom_types, *self.models))
        raise definition_error(
            f"{where} refers to unknown type {ref.target!r}",
            source=ref.source,
            hint=("known types: " + ", ".join(known)) if known else "declare it in a.schema({...})",
        )

    def _field_type(self, value: Any, where: str, *, allow_models: bool, inline_name: str) -> TypeRef:
        """The type of a field; an inline enum / custom type is named ``inline_name``."""
        if isinstance(value, ScalarField):
            return value.type_ref(value.scalar, TypeKind.SCALAR)
        if isinstance(value, RefField):
            kind = self._ref_kind(value, where)
            if kind is TypeKind.MODEL and not allow_models:
                raise definition_error(
                    f"{where} refers to the model {value.target!r} with a.ref()",
                    source=value.source,
                    hint=f"relate models with a.belongs_to({value.target!r}, 'fieldId'), "
                    "a.has_one() or a.has_many()",
                )
            return value.type_ref(value.target, kind)
        if isinstance(value, EnumBuilder):
            return TypeRef(inline_name, TypeKind.ENUM)
        if isinstance(value, CustomTypeBuilder):
            return TypeRef(inline_name, TypeKind.CUSTOM)
        raise definition_error(
            f"{where} is {value!r}, not a field type",
            source=self.source,
            hint=_builder_hint(value),
        )

    def _plain_field(
        self, name: str, value: Any, where: str, *, allow_models: bool, inline_name: str
    ) -> FieldDef:
        """A custom-type field or an operation argument (no rules, no relationships)."""
        if isinstance(value, Relationship):
            raise definition_error(
                f"{where} is a relationship; relationships are only allowed in a.model()",
                source=value.source,
            )
        if isinstance(value, TypedField) and value.rules is not None:
            raise definition_error(
                f"{where} has .authorization(); field-level rules are only allowed on model fields",
                source=value.rules_source,
            )
        type_ref = self._field_type(value, where, allow_models=allow_models, inline_name=inline_name)
        default, has_default = _default(value)
        return FieldDef(name, type_ref, default=default, has_default=has_default, source=_source(value))

    def _custom_type(self, name: str, ctype: CustomTypeBuilder) -> CustomTypeDef:
        fields = tuple(
            self._plain_field(
                fname,
                value,
                f"Field {name}.{fname}",
                allow_models=True,
                inline_name=name + upper_first(fname),
            )
            for fname, value in ctype.fields
        )
        return CustomTypeDef(name, fields, source=ctype.source)

    # ------------------------------------------------------------------ models

    def _model(self, name: str, model: ModelBuilder) -> ModelDef:
        fields = tuple(self._model_field(name, fname, value) for fname, value in model.fields)
        declared = {f.name: f for f in fields}
        primary_key: tuple[str, ...] = ("id",)
        custom_pk = False
        if model.identifier_fields is not None:
            for key in model.identifier_fields:
                f = declared.get(key)
                if f is None and key != "id":
                    raise definition_error(
                        f"Model {name}: identifier field {key!r} is not declared",
                        source=model.identifier_source,
                        hint=f"declare it, e.g. {key!r}: a.id().required()",
                    )
                if f is not None and (not f.type.required or f.type.is_list or f.is_relation):
                    raise definition_error(
                        f"Model {name}: identifier field {key!r} must be a required, non-list scalar",
                        source=model.identifier_source,
                        hint=f"declare it with .required(), e.g. {key!r}: a.id().required()",
                    )
            primary_key = model.identifier_fields
            custom_pk = primary_key != ("id",)
        rules: tuple[AuthRule, ...] = ()
        if model.rules is not None:
            rules = self._model_rules(name, model.rules)
        position = {fname: i for i, (fname, _) in enumerate(model.fields)}
        indexes = sorted(model.indexes, key=lambda ix: position.get(ix.partition_key, len(position)))
        return ModelDef(
            name=name,
            fields=fields,
            primary_key=primary_key,
            custom_primary_key=custom_pk,
            indexes=tuple(
                IndexDef(
                    name=ix.index_name or "",
                    partition_key=ix.partition_key,
                    sort_keys=ix.sort_key_fields,
                    query_field=ix.query_field_name
                    or gen2_index_query_field(name, (ix.partition_key, *ix.sort_key_fields)),
                    query_field_declared=True,
                    name_declared=ix.index_name is not None,
                    source=ix.source,
                )
                for ix in indexes
            ),
            auth_rules=rules,
            operations=ModelOperations(None, None, None, None, None, model_attribute=_attr(model)),
            source=model.source,
        )

    def _model_rules(
        self, model: str, rules: tuple[RuleBuilder | ResourceAccess, ...]
    ) -> tuple[AuthRule, ...]:
        result: list[AuthRule] = []
        for r in rules:
            if isinstance(r, ResourceAccess):
                raise definition_error(
                    f"Model {model}: allow.resource() is only allowed in a.schema(...).authorization()",
                    source=r.source,
                    hint="move it to the schema-level rules",
                )
            result.append(_rule(r))
        return tuple(result)

    def _model_field(self, model: str, fname: str, value: Any) -> FieldDef:
        where = f"Field {model}.{fname}"
        if isinstance(value, Relationship):
            if value.related_model not in self.models:
                hint = (
                    f"{value.related_model!r} is not a model; relationships connect a.model() types"
                    if self._taken(value.related_model) or value.related_model in self.operations
                    else "known models: " + ", ".join(self.models)
                )
                raise definition_error(
                    f"{where} relates to unknown model {value.related_model!r}",
                    source=value.source,
                    hint=hint,
                )
            many = value.kind is RelationKind.HAS_MANY
            return FieldDef(
                fname,
                TypeRef(value.related_model, TypeKind.MODEL, is_list=many),
                relation=RelationDef(value.kind, value.related_model, references=value.references),
                auth_rules=self._field_rules(where, value.rules),
                source=value.source,
            )
        type_ref = self._field_type(value, where, allow_models=False, inline_name=model + upper_first(fname))
        default, has_default = _default(value)
        rules = self._field_rules(where, value.rules) if isinstance(value, TypedField) else None
        return FieldDef(
            fname,
            type_ref,
            default=default,
            has_default=has_default,
            auth_rules=rules,
            source=_source(value),
        )

    def _field_rules(
        self, where: str, rules: tuple[RuleBuilder | ResourceAccess, ...] | None
    ) -> tuple[AuthRule, ...] | None:
        if rules is None:
            return None
        result: list[AuthRule] = []
        for r in rules:
            if isinstance(r, ResourceAccess):
                raise definition_error(
                    f"{where}: allow.resource() is only allowed in a.schema(...).authorization()",
                    source=r.source,
                )
            for op in r.rule.operations or ():
                if op not in FIELD_OPERATIONS:
                    raise definition_error(
                        f"{where}: '{op}' operation is not allowed at the field level",
                        source=r.source,
                        hint="field rules use create, update, delete and read",
                    )
            result.append(_rule(r))
        return tuple(result)

    # ------------------------------------------------------------------ custom operations

    def _operation(self, name: str, op: CustomOperationBuilder) -> CustomOperationDef:
        where = f"{op.kind.value}.{name}"
        arguments = tuple(
            self._plain_field(
                aname,
                value,
                f"Argument {aname!r} of {where}",
                allow_models=False,
                inline_name=upper_first(name) + upper_first(aname),
            )
            for aname, value in op.args
        )
        subscribe_to = tuple(self._subscribed_mutation(where, ref) for ref in op.subscribe_to)
        returns = self._returns(name, op, where, subscribe_to)
        rules: list[AuthRule] = []
        for r in op.rules or ():
            if isinstance(r, ResourceAccess):
                raise definition_error(
                    f"{where}: allow.resource() is only allowed in a.schema(...).authorization()",
                    source=r.source,
                )
            if r.is_dynamic:
                raise definition_error(
                    f"{where}: allow.{r.builder}() depends on a record and cannot protect a custom operation",
                    source=r.source,
                    hint="use public_api_key, guest, authenticated, group(s) or custom",
                )
            if r.rule.operations is not None:
                raise definition_error(
                    f"{where}: rules of custom operations cannot use .to()",
                    source=r.source,
                    hint="a custom operation is a single operation: remove .to(...)",
                )
            rules.append(_rule(r))
        if op.handlers and all(isinstance(h, CustomHandler) for h in op.handlers):
            rules = _directive_rules(where, rules)
        handlers: list[HandlerDef] = []
        for i, h in enumerate(op.handlers):
            if isinstance(h, CustomHandler):
                handlers.append(HandlerDef("custom"))
                continue
            assert isinstance(h, FunctionHandler)
            if isinstance(h.function, str):
                handlers.append(
                    HandlerDef("function", function_name=h.function, invocation_type=h.invocation_type)
                )
            else:
                fn_name = "Fn" + upper_first(name) + (str(i + 1) if i else "")
                handlers.append(
                    HandlerDef(
                        "function",
                        function_name=fn_name,
                        callable=h.function,
                        invocation_type=h.invocation_type,
                    )
                )
        if op.kind is OperationKind.SUBSCRIPTION and not subscribe_to:
            raise definition_error(
                f"{where} does not say which mutations it listens to",
                source=op.source,
                hint="add .for_(a.ref('myMutation'))",
            )
        return CustomOperationDef(
            name=name,
            kind=op.kind,
            returns=returns,
            arguments=arguments,
            auth_rules=tuple(rules),
            handlers=tuple(handlers),
            subscribe_to=subscribe_to,
            source=op.source,
        )

    def _subscribed_mutation(self, where: str, ref: RefField) -> str:
        target = self.operations.get(ref.target)
        if target is None or target.kind is not OperationKind.MUTATION:
            mutations = [n for n, o in self.operations.items() if o.kind is OperationKind.MUTATION]
            raise definition_error(
                f"{where}.for_() refers to {ref.target!r}, which is not a custom mutation of this schema",
                source=ref.source,
                hint=("mutations: " + ", ".join(mutations)) if mutations else "declare it with a.mutation()",
            )
        if ref.is_list or ref.item_required or ref.rules is not None:
            raise definition_error(
                f"{where}.for_(a.ref({ref.target!r})) takes a plain reference",
                source=ref.source,
                hint="remove .required() / .array() / .authorization()",
            )
        return ref.target

    def _returns(
        self, name: str, op: CustomOperationBuilder, where: str, subscribe_to: tuple[str, ...]
    ) -> TypeRef:
        value = op.return_type
        if value is None:
            if op.kind is OperationKind.SUBSCRIPTION and subscribe_to:
                types = {self._returns(m, self.operations[m], m, ()) for m in subscribe_to}
                if len(types) > 1:
                    raise definition_error(
                        f"{where} listens to mutations with different return types",
                        source=op.source,
                        hint="give the subscription its own .returns(...)",
                    )
                return types.pop()
            raise definition_error(
                f"{where} has no return type",
                source=op.source,
                hint=".returns(a.ref('MyType')) or .returns(a.string())",
            )
        if isinstance(value, Relationship | EnumBuilder):
            raise definition_error(
                f"{where}.returns() got {value!r}",
                source=op.source,
                hint="return a.ref('Name'), a scalar like a.string() or an inline a.custom_type({...})",
            )
        if isinstance(value, TypedField) and value.rules is not None:
            raise definition_error(
                f"{where}.returns() type has .authorization(); put the rules on the operation",
                source=value.rules_source,
            )
        return self._field_type(
            value,
            f"The return type of {where}",
            allow_models=True,
            inline_name=upper_first(name) + "ReturnType",
        )


def _directive_rules(where: str, rules: list[AuthRule]) -> list[AuthRule]:
    """Rules of an operation served by JS resolvers, as the AppSync directives data-schema emits.

    Such operations get no auth pipeline function, only ``@aws_api_key``, ``@aws_cognito_user_pools``
    (with ``cognito_groups`` only when no plain signed-in rule exists), ``@aws_oidc`` and
    ``@aws_lambda`` (``specs/auth-spec.md`` §2.3.4); guest/identity-pool and OIDC group rules are
    rejected.
    """
    result: list[AuthRule] = []
    plain_user_pools = any(
        r.allow is AuthAllow.PRIVATE and r.provider in (None, AuthProvider.USER_POOLS) for r in rules
    )
    groups: list[str] = []
    group_rule: AuthRule | None = None
    for r in rules:
        if r.provider is AuthProvider.IDENTITY_POOL or (
            r.allow is AuthAllow.GROUPS and r.provider is AuthProvider.OIDC
        ):
            raise definition_error(
                f"{where}: this rule is not supported with a.handler.custom()",
                source=r.source,
                hint="JS resolvers support public_api_key, authenticated('userPools' or 'oidc'), "
                "user-pool group(s) and custom",
            )
        if r.allow is AuthAllow.GROUPS:
            groups.extend(g for g in r.groups if g not in groups)
            if group_rule is None and not plain_user_pools:
                group_rule = AuthRule(AuthAllow.GROUPS, AuthProvider.USER_POOLS, source=r.source)
                result.append(group_rule)
            continue
        provider = r.provider
        if provider is None:
            provider = AuthProvider.USER_POOLS if r.allow is AuthAllow.PRIVATE else AuthProvider.FUNCTION
        directive = AuthRule(r.allow, provider, source=r.source)
        if directive not in result:
            result.append(directive)
    return [dataclasses.replace(r, groups=tuple(groups)) if r is group_rule else r for r in result]


def _default(value: Any) -> tuple[Any, bool]:
    if isinstance(value, ScalarField) and value.has_default:
        return value.default_value, True
    return None, False


def _source(value: Any) -> SourceLocation | None:
    source = getattr(value, "source", None)
    return source if isinstance(source, SourceLocation) else None


def _attr(model: ModelBuilder) -> dict[str, Any]:
    return model_attribute(model.disabled) or {}
