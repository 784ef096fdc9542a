"""Amplify GraphQL SDL → the *declared* IR.

Reads what a user writes for the Amplify transformer (``@model``, ``@primaryKey``, ``@index``,
``@hasOne``/``@hasMany``/``@belongsTo``/``@manyToMany``, ``@default``, ``@auth``, ``@function``,
``@aws_subscribe``, ``input AMPLIFY { globalAuthRule }``, custom ``Query``/``Mutation``/
``Subscription`` fields, enums and non-model types) from a string, a ``.graphql`` file or a
directory of them (types may be split across files; ``extend type Query`` adds fields).

The result is what the user *declared*; :func:`ampbase.schema.resolve.resolve_schema`
normalises it. ``@model`` arguments are kept verbatim in ``ModelOperations.model_attribute``
(names are derived during resolution) and ``@model(timestamps:)`` sets ``ModelDef.timestamps``.

Exception to the "schema is pure, no graphql-core" rule: graphql-core's *parser*
(``graphql.language.parse``) is used for the syntax only, so error positions and string/value
handling match GraphQL exactly. Nothing else from graphql-core is used here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphql.error import GraphQLSyntaxError
from graphql.language import DirectiveDefinitionNode as _DirectiveDefinitionNode
from graphql.language import (
    DirectiveNode,
    EnumTypeDefinitionNode,
    FieldDefinitionNode,
    InputObjectTypeDefinitionNode,
    InputValueDefinitionNode,
    ListTypeNode,
    Node,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ScalarTypeDefinitionNode,
    TypeNode,
    parse,
)
from graphql.utilities import value_from_ast_untyped

from ampbase.errors import SchemaDefinitionError
from ampbase.schema.ir import (
    SCALARS,
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

__all__ = ["infer_auth_config", "load_sdl", "load_sdl_path", "parse_auth_rules"]

_ROOTS = {k.value: k for k in OperationKind}
_RELATION_DIRECTIVES = {
    "hasOne": RelationKind.HAS_ONE,
    "hasMany": RelationKind.HAS_MANY,
    "belongsTo": RelationKind.BELONGS_TO,
    "manyToMany": RelationKind.MANY_TO_MANY,
}
_KNOWN_FIELD_DIRECTIVES = {
    "primaryKey",
    "index",
    "default",
    "auth",
    "function",
    "aws_subscribe",
    *_RELATION_DIRECTIVES,
}
# Auth directives AppSync itself understands; tolerated on custom operations and types.
_AWS_AUTH_DIRECTIVES: dict[str, tuple[AuthAllow, AuthProvider]] = {
    "aws_api_key": (AuthAllow.PUBLIC, AuthProvider.API_KEY),
    "aws_iam": (AuthAllow.PRIVATE, AuthProvider.IAM),
    "aws_cognito_user_pools": (AuthAllow.PRIVATE, AuthProvider.USER_POOLS),
    "aws_oidc": (AuthAllow.PRIVATE, AuthProvider.OIDC),
    "aws_lambda": (AuthAllow.CUSTOM, AuthProvider.FUNCTION),
}
_MODEL_ARGS = {"queries", "mutations", "subscriptions", "timestamps"}


def load_sdl(
    text: str | dict[str, str],
    *,
    filename: str = "<schema>",
    flavour: str = "gen1",
    auth: AuthConfig | None = None,
) -> SchemaDef:
    """Parse SDL (one string, or ``{filename: text}`` for a multi-file schema) into declared IR."""
    sources = {filename: text} if isinstance(text, str) else dict(text)
    return _Loader(flavour).load(sources, auth)


def load_sdl_path(path: str | Path, *, flavour: str = "gen1", auth: AuthConfig | None = None) -> SchemaDef:
    """Load a ``.graphql`` file, or every ``*.graphql`` file under a directory (sorted)."""
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.rglob("*.graphql") if f.is_file())
        if not files:
            raise SchemaDefinitionError(
                "No .graphql files found in the schema directory",
                source=SourceLocation(str(p)),
                hint="Put your types in one or more *.graphql files.",
            )
    elif p.is_file():
        files = [p]
    else:
        raise SchemaDefinitionError(
            "Schema file not found", source=SourceLocation(str(p)), hint="Check the path."
        )
    sources = {str(f): f.read_text(encoding="utf-8") for f in files}
    return _Loader(flavour).load(sources, auth)


def infer_auth_config(schema: SchemaDef) -> AuthConfig:
    """Authorization modes an SDL schema needs: those of its rules (default: the first, API key first)."""
    from ampbase.schema.auth import rule_mode

    modes: list[str] = []

    def add(rules: tuple[AuthRule, ...] | None) -> None:
        for r in rules or ():
            mode = rule_mode(r)
            if mode not in modes:
                modes.append(mode)

    add(schema.schema_auth_rules)
    for m in schema.models:
        add(m.auth_rules)
        for f in m.fields:
            add(f.auth_rules)
    for op in schema.operations:
        add(op.auth_rules)
    if not modes:
        modes = ["apiKey"]
    default = "apiKey" if "apiKey" in modes else modes[0]
    return AuthConfig(default_mode=default, modes=tuple(modes))


# --------------------------------------------------------------------------- helpers


def _loc(file: str, node: Node | None) -> SourceLocation:
    if node is None or node.loc is None:
        return SourceLocation(file)
    tok = node.loc.start_token
    return SourceLocation(file, tok.line, tok.column)


def _args(directive: DirectiveNode) -> dict[str, Any]:
    return {a.name.value: value_from_ast_untyped(a.value) for a in directive.arguments}


def _str_list(value: Any, what: str, file: str, node: Node) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise SchemaDefinitionError(
        f"{what} must be a list of strings", source=_loc(file, node), hint=f'Write {what}: ["a", "b"].'
    )


def parse_auth_rules(value: Any, *, file: str, node: Node | None = None) -> tuple[AuthRule, ...]:
    """``@auth(rules: [...])`` values (already plain Python) → :class:`AuthRule` tuple."""
    source = _loc(file, node)
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise SchemaDefinitionError(
            "@auth rules must be a list of objects",
            source=source,
            hint="Write @auth(rules: [{ allow: public }]).",
        )
    rules: list[AuthRule] = []
    for raw in value:
        if not isinstance(raw, dict) or "allow" not in raw:
            raise SchemaDefinitionError(
                "Every @auth rule needs an 'allow' strategy",
                source=source,
                hint="Use allow: public, private, owner, groups or custom.",
            )
        try:
            allow = AuthAllow(raw["allow"])
        except ValueError:
            raise SchemaDefinitionError(
                f"Unknown auth strategy 'allow: {raw['allow']}'",
                source=source,
                hint="Use allow: public, private, owner, groups or custom.",
            ) from None
        provider: AuthProvider | None = None
        if raw.get("provider") is not None:
            try:
                provider = AuthProvider(raw["provider"])
            except ValueError:
                raise SchemaDefinitionError(
                    f"Unknown auth provider '{raw['provider']}'",
                    source=source,
                    hint="Use apiKey, iam, identityPool, userPools, oidc or function.",
                ) from None
        operations = raw.get("operations")
        groups = raw.get("groups") or ()
        for key, val in (("operations", operations), ("groups", groups)):
            if val is not None and not (
                isinstance(val, list | tuple) and all(isinstance(v, str) for v in val)
            ):
                raise SchemaDefinitionError(
                    f"@auth '{key}' must be a list of names",
                    source=source,
                    hint=f"Write {key}: [a, b].",
                )
        unknown = set(raw) - {
            "allow",
            "provider",
            "operations",
            "ownerField",
            "identityClaim",
            "identityField",
            "groupClaim",
            "groups",
            "groupsField",
            "mutations",
            "queries",
        }
        if unknown:
            raise SchemaDefinitionError(
                f"Unknown @auth rule argument(s): {', '.join(sorted(unknown))}",
                source=source,
                hint="Rules accept allow, provider, operations, ownerField, identityClaim, "
                "groupClaim, groups and groupsField.",
            )
        rules.append(
            AuthRule(
                allow=allow,
                provider=provider,
                operations=tuple(operations) if operations is not None else None,
                owner_field=raw.get("ownerField"),
                identity_claim=raw.get("identityClaim") or raw.get("identityField"),
                group_claim=raw.get("groupClaim"),
                groups=tuple(groups),
                groups_field=raw.get("groupsField"),
                source=source,
            )
        )
    return tuple(rules)


@dataclass
class _TypeEntry:
    node: ObjectTypeDefinitionNode
    file: str
    is_model: bool


@dataclass
class _RootEntry:
    fields: list[tuple[FieldDefinitionNode, str]] = field(default_factory=list)
    declared: bool = False


class _Loader:
    def __init__(self, flavour: str) -> None:
        if flavour not in ("gen1", "gen2"):
            raise SchemaDefinitionError(
                f"Unknown schema flavour '{flavour}'", hint="Use flavour 'gen1' or 'gen2'."
            )
        self.flavour = flavour
        self.types: dict[str, _TypeEntry] = {}
        self.enums: dict[str, tuple[EnumTypeDefinitionNode, str]] = {}
        self.inputs: dict[str, tuple[InputObjectTypeDefinitionNode, str]] = {}
        self.roots: dict[str, _RootEntry] = {name: _RootEntry() for name in _ROOTS}
        self.schema_rules: tuple[AuthRule, ...] = ()
        self.first_file = "<schema>"

    # ------------------------------------------------------------------ collection

    def load(self, sources: dict[str, str], auth: AuthConfig | None) -> SchemaDef:
        for file, text in sources.items():
            self._collect(file, text)
        if sources:
            self.first_file = next(iter(sources))
        enums = tuple(
            EnumDef(name, tuple(v.name.value for v in node.values), source=_loc(file, node))
            for name, (node, file) in self.enums.items()
        )
        models: list[ModelDef] = []
        custom_types: list[CustomTypeDef] = []
        for name, entry in self.types.items():
            if entry.is_model:
                models.append(self._model(name, entry))
            else:
                custom_types.append(
                    CustomTypeDef(
                        name,
                        tuple(self._plain_field(f, entry.file, name) for f in entry.node.fields),
                        source=_loc(entry.file, entry.node),
                    )
                )
        for name, (input_node, file) in self.inputs.items():
            input_fields = tuple(self._plain_field(f, file, name) for f in input_node.fields)
            for f in input_fields:
                if f.type.kind is TypeKind.MODEL or (
                    f.type.kind is TypeKind.CUSTOM and f.type.name not in self.inputs
                ):
                    raise SchemaDefinitionError(
                        f"Input field {name}.{f.name} cannot have the object type '{f.type.name}'",
                        source=f.source,
                        hint="Input fields take scalars, enums and other input types.",
                    )
            custom_types.append(
                CustomTypeDef(name, input_fields, source=_loc(file, input_node), is_input=True)
            )
        for entry_name, entry in self.types.items():
            for field_node in entry.node.fields:
                type_name = _named_type(field_node.type)
                if type_name in self.inputs:
                    raise SchemaDefinitionError(
                        f"Field {entry_name}.{field_node.name.value} cannot have the input type "
                        f"'{type_name}'",
                        source=_loc(entry.file, field_node),
                        hint="Use an object type (type ...) for fields; inputs are for arguments.",
                    )
        operations: list[CustomOperationDef] = []
        for root_name, root in self.roots.items():
            for node, file in root.fields:
                operations.append(self._operation(_ROOTS[root_name], node, file))
        schema = SchemaDef(
            models=tuple(models),
            enums=enums,
            custom_types=tuple(custom_types),
            operations=tuple(operations),
            schema_auth_rules=self.schema_rules,
            flavour=self.flavour,
            source=SourceLocation(self.first_file),
        )
        return _replace_auth(schema, auth if auth is not None else infer_auth_config(schema))

    def _collect(self, file: str, text: str) -> None:
        try:
            document = parse(text, no_location=False)
        except GraphQLSyntaxError as exc:
            line = exc.locations[0].line if exc.locations else None
            column = exc.locations[0].column if exc.locations else None
            raise SchemaDefinitionError(
                f"GraphQL syntax error: {exc.message}",
                source=SourceLocation(file, line, column),
                hint="Fix the SDL syntax at this position.",
            ) from None
        for definition in document.definitions:
            self._collect_definition(file, definition)

    def _taken(self, name: str) -> bool:
        return (
            name in self.types
            or name in self.enums
            or name in self.inputs
            or (name in _ROOTS and self.roots[name].declared)
        )

    def _collect_definition(self, file: str, node: Node) -> None:
        if isinstance(node, ObjectTypeExtensionNode):
            name = node.name.value
            if name not in _ROOTS:
                raise SchemaDefinitionError(
                    f"'extend type {name}' is not supported",
                    source=_loc(file, node),
                    hint="Only Query, Mutation and Subscription may be extended; "
                    f"declare all fields of {name} in one type.",
                )
            if node.directives:
                raise SchemaDefinitionError(
                    f"Directives are not supported on 'extend type {name}' itself",
                    source=_loc(file, node),
                    hint="Put @auth / @function on the fields instead.",
                )
            self._add_root_fields(name, node.fields, file, extension=True)
            return
        if isinstance(node, ObjectTypeDefinitionNode):
            name = node.name.value
            if name in _ROOTS:
                if self.roots[name].declared:
                    raise SchemaDefinitionError(
                        f"There can be only one type named '{name}'",
                        source=_loc(file, node),
                        hint=f"Use 'extend type {name}' to add fields from another file.",
                    )
                self.roots[name].declared = True
                self._add_root_fields(name, node.fields, file, extension=False)
                return
            self._check_new_name(name, file, node)
            is_model = any(d.name.value == "model" for d in node.directives)
            for d in node.directives:
                dname = d.name.value
                if dname not in ("model", "auth") and dname not in _AWS_AUTH_DIRECTIVES:
                    raise SchemaDefinitionError(
                        f"Unknown directive @{dname} on type {name}",
                        source=_loc(file, d),
                        hint="Types accept @model and @auth.",
                    )
                if dname == "auth" and not is_model:
                    raise SchemaDefinitionError(
                        f"@auth on type {name} requires @model",
                        source=_loc(file, d),
                        hint=f"Add @model to {name}, or authorize the operations that return it.",
                    )
            self.types[name] = _TypeEntry(node, file, is_model)
            return
        if isinstance(node, EnumTypeDefinitionNode):
            name = node.name.value
            self._check_new_name(name, file, node)
            self.enums[name] = (node, file)
            return
        if isinstance(node, InputObjectTypeDefinitionNode):
            if node.name.value == "AMPLIFY":
                self._amplify_input(node, file)
                return
            self._check_new_name(node.name.value, file, node)
            self.inputs[node.name.value] = (node, file)
            return
        if isinstance(node, ScalarTypeDefinitionNode) and node.name.value in SCALARS:
            return
        if isinstance(node, _DirectiveDefinitionNode):
            return
        raise SchemaDefinitionError(
            f"Unsupported definition '{type(node).__name__.removesuffix('Node')}'",
            source=_loc(file, node),
            hint="Amplify schemas contain object types, enums and the AMPLIFY input.",
        )

    def _check_new_name(self, name: str, file: str, node: Node) -> None:
        if self._taken(name) or name in SCALARS:
            raise SchemaDefinitionError(
                f"There can be only one type named '{name}'",
                source=_loc(file, node),
                hint="Rename one of the definitions, or merge them into one type.",
            )

    def _add_root_fields(
        self, root: str, fields: tuple[FieldDefinitionNode, ...], file: str, *, extension: bool
    ) -> None:
        entry = self.roots[root]
        existing = {f.name.value for f, _ in entry.fields}
        for f in fields:
            if f.name.value in existing:
                kind = "Object type extension" if extension else "Object type"
                raise SchemaDefinitionError(
                    f"{kind} '{root}' cannot redeclare field {f.name.value}",
                    source=_loc(file, f),
                    hint=f"Each {root} field may be declared once across all schema files.",
                )
            existing.add(f.name.value)
            entry.fields.append((f, file))

    def _amplify_input(self, node: InputObjectTypeDefinitionNode, file: str) -> None:
        for f in node.fields:
            if f.name.value == "globalAuthRule":
                if f.default_value is None:
                    raise SchemaDefinitionError(
                        "globalAuthRule needs a default value",
                        source=_loc(file, f),
                        hint="Write globalAuthRule: AuthRule = { allow: public }.",
                    )
                self.schema_rules = parse_auth_rules(
                    value_from_ast_untyped(f.default_value), file=file, node=f
                )

    # ------------------------------------------------------------------ types

    def _type_ref(self, node: TypeNode, file: str, owner: str, field_name: str) -> TypeRef:
        required = isinstance(node, NonNullTypeNode)
        inner: TypeNode = node.type if isinstance(node, NonNullTypeNode) else node
        is_list = isinstance(inner, ListTypeNode)
        item_required = False
        if isinstance(inner, ListTypeNode):
            item = inner.type
            item_required = isinstance(item, NonNullTypeNode)
            if isinstance(item, NonNullTypeNode):
                item = item.type
            if isinstance(item, ListTypeNode):
                raise SchemaDefinitionError(
                    f"Nested lists are not supported ({owner}.{field_name})",
                    source=_loc(file, node),
                    hint="Use AWSJSON for nested arrays.",
                )
            inner = item
        assert not isinstance(inner, ListTypeNode | NonNullTypeNode)
        name = inner.name.value  # type: ignore[attr-defined]
        return TypeRef(
            name,
            self._kind(name, file, inner, owner, field_name),
            required=required,
            is_list=is_list,
            item_required=item_required,
        )

    def _kind(self, name: str, file: str, node: Node, owner: str, field_name: str) -> TypeKind:
        if name in SCALARS:
            return TypeKind.SCALAR
        if name in self.enums:
            return TypeKind.ENUM
        entry = self.types.get(name)
        if entry is not None:
            return TypeKind.MODEL if entry.is_model else TypeKind.CUSTOM
        if name in self.inputs:
            return TypeKind.CUSTOM
        raise SchemaDefinitionError(
            f"Unknown type '{name}' for field {owner}.{field_name}",
            source=_loc(file, node),
            hint="Declare the type or enum, or use one of the AppSync scalars "
            "(String, Int, Float, Boolean, ID, AWSDateTime, AWSJSON, ...).",
        )

    def _plain_field(
        self, node: FieldDefinitionNode | InputValueDefinitionNode, file: str, owner: str
    ) -> FieldDef:
        name = node.name.value
        for d in node.directives:
            if d.name.value not in _AWS_AUTH_DIRECTIVES:
                raise SchemaDefinitionError(
                    f"Directive @{d.name.value} is not supported on {owner}.{name}",
                    source=_loc(file, d),
                    hint="Amplify directives are only supported on @model types and on "
                    "Query/Mutation/Subscription fields.",
                )
        if isinstance(node, FieldDefinitionNode) and node.arguments:
            raise SchemaDefinitionError(
                f"Field arguments are not supported on {owner}.{name}",
                source=_loc(file, node),
                hint="Only Query, Mutation and Subscription fields take arguments.",
            )
        return FieldDef(name, self._type_ref(node.type, file, owner, name), source=_loc(file, node))

    # ------------------------------------------------------------------ models

    def _model(self, name: str, entry: _TypeEntry) -> ModelDef:
        file, node = entry.file, entry.node
        model_args: dict[str, Any] = {}
        auth_rules: tuple[AuthRule, ...] = ()
        for d in node.directives:
            if d.name.value == "model":
                model_args = _args(d)
                unknown = set(model_args) - _MODEL_ARGS
                if unknown:
                    raise SchemaDefinitionError(
                        f"Unknown @model argument(s) on {name}: {', '.join(sorted(unknown))}",
                        source=_loc(file, d),
                        hint="@model accepts queries, mutations, subscriptions and timestamps.",
                    )
            elif d.name.value == "auth":
                auth_rules = self._auth_directive(d, file)
        timestamps = _timestamps(model_args, name, file, node)

        fields: list[FieldDef] = []
        primary_key: tuple[str, ...] = ("id",)
        custom_pk = False
        indexes: list[IndexDef] = []
        seen: set[str] = set()
        for f in node.fields:
            fname = f.name.value
            if fname in seen:
                raise SchemaDefinitionError(
                    f"Field {name}.{fname} is declared twice",
                    source=_loc(file, f),
                    hint="Remove or rename one of the fields.",
                )
            seen.add(fname)
            if f.arguments:
                raise SchemaDefinitionError(
                    f"Field arguments are not supported on model field {name}.{fname}",
                    source=_loc(file, f),
                    hint="Arguments of relationship fields are generated; remove them.",
                )
            type_ref = self._type_ref(f.type, file, name, fname)
            relation: RelationDef | None = None
            default: Any = None
            has_default = False
            field_rules: tuple[AuthRule, ...] | None = None
            for d in f.directives:
                dname = d.name.value
                if dname not in _KNOWN_FIELD_DIRECTIVES or dname in ("function", "aws_subscribe"):
                    raise SchemaDefinitionError(
                        f"Unknown directive @{dname} on field {name}.{fname}",
                        source=_loc(file, d),
                        hint="Model fields accept @primaryKey, @index, @hasOne, @hasMany, "
                        "@belongsTo, @manyToMany, @default and @auth.",
                    )
                args = _args(d)
                if dname == "primaryKey":
                    if custom_pk:
                        raise SchemaDefinitionError(
                            f"Model {name} has more than one @primaryKey",
                            source=_loc(file, d),
                            hint="A model has exactly one primary key; use @index for the others.",
                        )
                    sort = _str_list(args.get("sortKeyFields", []), "sortKeyFields", file, d)
                    primary_key = (fname, *sort)
                    custom_pk = True
                elif dname == "index":
                    sort = _str_list(args.get("sortKeyFields", []), "sortKeyFields", file, d)
                    idx_name = args.get("name")
                    query_field = args.get("queryField")
                    indexes.append(
                        IndexDef(
                            name=idx_name or "",
                            partition_key=fname,
                            sort_keys=sort,
                            query_field=query_field,
                            query_field_declared=query_field is not None,
                            name_declared=idx_name is not None,
                            source=_loc(file, d),
                        )
                    )
                elif dname in _RELATION_DIRECTIVES:
                    if relation is not None:
                        raise SchemaDefinitionError(
                            f"Field {name}.{fname} has more than one relationship directive",
                            source=_loc(file, d),
                            hint="Use one of @hasOne, @hasMany, @belongsTo or @manyToMany.",
                        )
                    relation = self._relation(
                        _RELATION_DIRECTIVES[dname], type_ref, args, file, d, name, fname
                    )
                elif dname == "default":
                    if "value" not in args:
                        raise SchemaDefinitionError(
                            f"@default on {name}.{fname} needs a value",
                            source=_loc(file, d),
                            hint='Write @default(value: "...").',
                        )
                    default = self._default_value(args["value"], type_ref, file, d, name, fname)
                    has_default = True
                elif dname == "auth":
                    field_rules = self._auth_directive(d, file)
            fields.append(
                FieldDef(
                    fname,
                    type_ref,
                    relation=relation,
                    default=default,
                    has_default=has_default,
                    auth_rules=field_rules,
                    source=_loc(file, f),
                )
            )
        return ModelDef(
            name=name,
            fields=tuple(fields),
            primary_key=primary_key,
            custom_primary_key=custom_pk,
            indexes=tuple(indexes),
            auth_rules=auth_rules,
            timestamps=timestamps,
            operations=ModelOperations(None, None, None, None, None, model_attribute=model_args),
            source=_loc(file, node),
        )

    def _auth_directive(self, d: DirectiveNode, file: str) -> tuple[AuthRule, ...]:
        args = _args(d)
        if "rules" not in args:
            raise SchemaDefinitionError(
                "@auth needs a 'rules' argument", source=_loc(file, d), hint="Write @auth(rules: [...])."
            )
        return parse_auth_rules(args["rules"], file=file, node=d)

    def _relation(
        self,
        kind: RelationKind,
        type_ref: TypeRef,
        args: dict[str, Any],
        file: str,
        d: DirectiveNode,
        model: str,
        fname: str,
    ) -> RelationDef:
        directive = "@" + next(k for k, v in _RELATION_DIRECTIVES.items() if v is kind)
        if type_ref.kind is not TypeKind.MODEL:
            raise SchemaDefinitionError(
                f"{directive} field {model}.{fname} must reference a @model type, not '{type_ref.name}'",
                source=_loc(file, d),
                hint=f"Add @model to {type_ref.name} or remove {directive}.",
            )
        many = kind in (RelationKind.HAS_MANY, RelationKind.MANY_TO_MANY)
        if many and not type_ref.is_list:
            raise SchemaDefinitionError(
                f"{directive} field {model}.{fname} must be a list",
                source=_loc(file, d),
                hint=f"Declare it as {fname}: [{type_ref.name}].",
            )
        if not many and type_ref.is_list:
            raise SchemaDefinitionError(
                f"{directive} field {model}.{fname} cannot be a list",
                source=_loc(file, d),
                hint=f"Use @hasMany for {fname}: [{type_ref.name}], or make it a single {type_ref.name}.",
            )
        allowed = {
            RelationKind.HAS_MANY: {"indexName", "fields", "references", "limit"},
            RelationKind.HAS_ONE: {"fields", "references"},
            RelationKind.BELONGS_TO: {"fields", "references", "overrideIndexName"},
            RelationKind.MANY_TO_MANY: {"relationName", "limit"},
        }[kind]
        unknown = set(args) - allowed
        if unknown:
            raise SchemaDefinitionError(
                f"Unknown {directive} argument(s) on {model}.{fname}: {', '.join(sorted(unknown))}",
                source=_loc(file, d),
                hint=f"{directive} accepts {', '.join(sorted(allowed))}.",
            )
        fields = _str_list(args.get("fields", []), "fields", file, d)
        references = _str_list(args.get("references", []), "references", file, d)
        if fields and references:
            raise SchemaDefinitionError(
                f"{directive} on {model}.{fname} uses both 'fields' and 'references'",
                source=_loc(file, d),
                hint="Use references (recommended) or fields, not both.",
            )
        relation_name = args.get("relationName")
        if kind is RelationKind.MANY_TO_MANY and not isinstance(relation_name, str):
            raise SchemaDefinitionError(
                f"@manyToMany on {model}.{fname} needs a relationName",
                source=_loc(file, d),
                hint='Write @manyToMany(relationName: "PostTags") on both sides.',
            )
        return RelationDef(
            kind=kind,
            related_model=type_ref.name,
            references=references,
            fields=fields,
            index_name=args.get("indexName"),
            relation_name=relation_name,
        )

    def _default_value(
        self, value: Any, type_ref: TypeRef, file: str, d: DirectiveNode, model: str, fname: str
    ) -> Any:
        where = f"{model}.{fname}"
        if not isinstance(value, str):
            raise SchemaDefinitionError(
                f"@default value of {where} must be a string",
                source=_loc(file, d),
                hint='Quote the value: @default(value: "0").',
            )
        if type_ref.is_list or type_ref.kind in (TypeKind.MODEL, TypeKind.CUSTOM):
            raise SchemaDefinitionError(
                f"@default is not supported on {where} ({type_ref.to_sdl()})",
                source=_loc(file, d),
                hint="@default applies to scalar and enum fields.",
            )
        bad = SchemaDefinitionError(
            f"@default value '{value}' is not a valid {type_ref.name} for {where}",
            source=_loc(file, d),
            hint=f"Give a value of type {type_ref.name}.",
        )
        if type_ref.kind is TypeKind.ENUM:
            enum_node, _ = self.enums[type_ref.name]
            if value not in {v.name.value for v in enum_node.values}:
                raise bad
            return value
        name = type_ref.name
        try:
            if name in ("Int", "AWSTimestamp"):
                return int(value)
            if name == "Float":
                return float(value)
        except ValueError:
            raise bad from None
        if name == "Boolean":
            if value not in ("true", "false"):
                raise bad
            return value == "true"
        if name == "AWSJSON":
            try:
                json.loads(value)
            except ValueError:
                raise bad from None
        return value

    # ------------------------------------------------------------------ custom operations

    def _operation(self, kind: OperationKind, node: FieldDefinitionNode, file: str) -> CustomOperationDef:
        name = node.name.value
        returns = self._type_ref(node.type, file, kind.value, name)
        arguments = tuple(self._plain_field(a, file, f"{kind.value}.{name}") for a in node.arguments)
        seen: set[str] = set()
        for a in arguments:
            if a.name in seen:
                raise SchemaDefinitionError(
                    f"Argument '{a.name}' of {kind.value}.{name} is declared twice",
                    source=a.source,
                    hint="Remove or rename one of the arguments.",
                )
            seen.add(a.name)
        rules: list[AuthRule] = []
        handlers: list[HandlerDef] = []
        subscribe_to: tuple[str, ...] = ()
        for d in node.directives:
            dname = d.name.value
            args = _args(d)
            if dname == "auth":
                rules.extend(self._auth_directive(d, file))
            elif dname == "function":
                fn = args.get("name")
                if not isinstance(fn, str):
                    raise SchemaDefinitionError(
                        f"@function on {kind.value}.{name} needs a name",
                        source=_loc(file, d),
                        hint='Write @function(name: "myFunction-${env}").',
                    )
                invocation = args.get("invocationType") or "RequestResponse"
                handlers.append(HandlerDef("function", function_name=fn, invocation_type=invocation))
            elif dname == "aws_subscribe":
                if kind is not OperationKind.SUBSCRIPTION:
                    raise SchemaDefinitionError(
                        f"@aws_subscribe is only valid on Subscription fields ({kind.value}.{name})",
                        source=_loc(file, d),
                        hint="Move the field to type Subscription.",
                    )
                subscribe_to = _str_list(args.get("mutations", []), "mutations", file, d)
            elif dname in _AWS_AUTH_DIRECTIVES:
                allow, provider = _AWS_AUTH_DIRECTIVES[dname]
                groups = args.get("cognito_groups") or ()
                if groups:
                    allow = AuthAllow.GROUPS
                rules.append(AuthRule(allow, provider, groups=tuple(groups), source=_loc(file, d)))
            else:
                raise SchemaDefinitionError(
                    f"Unsupported directive @{dname} on {kind.value}.{name}",
                    source=_loc(file, d),
                    hint="Custom operations accept @function, @auth and @aws_subscribe "
                    "(and AppSync's @aws_* auth directives).",
                )
        return CustomOperationDef(
            name=name,
            kind=kind,
            returns=returns,
            arguments=arguments,
            auth_rules=tuple(rules),
            handlers=tuple(handlers),
            subscribe_to=subscribe_to,
            source=_loc(file, node),
        )


def _named_type(node: TypeNode) -> str:
    while isinstance(node, NonNullTypeNode | ListTypeNode):
        node = node.type
    return node.name.value  # type: ignore[attr-defined, no-any-return]


def _timestamps(args: dict[str, Any], model: str, file: str, node: Node) -> tuple[str | None, str | None]:
    if "timestamps" not in args:
        return ("createdAt", "updatedAt")
    value = args["timestamps"]
    if value is None:
        return (None, None)
    if not isinstance(value, dict) or set(value) - {"createdAt", "updatedAt"}:
        raise SchemaDefinitionError(
            f"Invalid @model(timestamps:) on {model}",
            source=_loc(file, node),
            hint='Write timestamps: { createdAt: "createdOn", updatedAt: "updatedOn" } or null.',
        )
    created = value.get("createdAt", "createdAt")
    updated = value.get("updatedAt", "updatedAt")
    for v in (created, updated):
        if v is not None and not isinstance(v, str):
            raise SchemaDefinitionError(
                f"Timestamp names of {model} must be strings or null",
                source=_loc(file, node),
                hint='Write timestamps: { createdAt: "createdOn" }.',
            )
    return (created, updated)


def _replace_auth(schema: SchemaDef, auth: AuthConfig) -> SchemaDef:
    from dataclasses import replace

    return replace(schema, auth=auth)
