"""Validate the declared IR and normalise it the way AWS's Amplify transformer does.

:func:`resolve_schema` takes what a front end declared and returns the normalised
:class:`~ampbase.schema.ir.SchemaDef` (``specs/generated-schema.md`` §1-§10):

* the implicit ``id: ID!`` (after the declared fields) unless a ``@primaryKey`` is declared;
* managed ``createdAt``/``updatedAt`` (renamed / disabled by ``@model(timestamps:)``) unless
  declared;
* Gen 1 implicit relationship key fields (``postCommentsId``, ``projectTeamId``, ``shelfBooksStore``)
  and the default ``gsi-<Parent>.<field>`` indexes of hasMany/hasOne;
* ``@manyToMany`` join models (``generated=True``) and their ``by<Model>`` indexes;
* implicit owner fields of owner rules;
* default index names and query fields;
* :class:`~ampbase.schema.ir.ModelOperations` (renamed / disabled operations, subscription level)
  computed from the ``@model`` arguments kept in ``operations.model_attribute``;
* the resolved join of every relationship (``local_fields``, ``remote_fields``, ``remote_index``).

Declared-IR contract for front ends: ``ModelDef.operations`` is ``None`` or carries only
``model_attribute`` (the ``@model`` arguments, e.g. ``{"queries": {"list": None}}``); names are
always derived here. ``IndexDef.name`` may be ``""`` with ``name_declared=False`` for an unnamed
index. ``ModelDef.timestamps`` is set by the front end from ``@model(timestamps:)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from ampbase.errors import SchemaDefinitionError
from ampbase.schema import naming
from ampbase.schema.auth import READ_OPERATIONS, allows, effective_provider, owner_field, provider_mode
from ampbase.schema.ir import (
    SCALARS,
    AuthAllow,
    AuthProvider,
    AuthRule,
    CustomOperationDef,
    FieldDef,
    FieldOrigin,
    IndexDef,
    IndexOrigin,
    ModelDef,
    ModelOperations,
    RelationDef,
    RelationKind,
    SchemaDef,
    SourceLocation,
    SubscriptionLevel,
    TypeKind,
    TypeRef,
)

__all__ = ["resolve_schema"]

_PROVIDERS_FOR: dict[AuthAllow, tuple[AuthProvider, ...]] = {
    AuthAllow.PUBLIC: (AuthProvider.API_KEY, AuthProvider.IAM, AuthProvider.IDENTITY_POOL),
    AuthAllow.PRIVATE: (
        AuthProvider.USER_POOLS,
        AuthProvider.OIDC,
        AuthProvider.IAM,
        AuthProvider.IDENTITY_POOL,
    ),
    AuthAllow.OWNER: (AuthProvider.USER_POOLS, AuthProvider.OIDC),
    AuthAllow.GROUPS: (AuthProvider.USER_POOLS, AuthProvider.OIDC),
    AuthAllow.CUSTOM: (AuthProvider.FUNCTION,),
}
_MODE_TITLES = {
    "apiKey": "API Key",
    "userPool": "Cognito User Pool",
    "iam": "IAM",
    "oidc": "OpenID Connect",
    "lambda": "Lambda",
}
_RULE_OPERATIONS = ("create", "update", "delete", "read", "get", "list", "listen", "sync", "search")
_FIELD_AUTH_DOCS = "https://docs.amplify.aws/cli/graphql/authorization-rules/#field-level-authorization-rules"


def resolve_schema(declared: SchemaDef) -> SchemaDef:
    """Validate ``declared`` and return the normalised schema every later layer reads."""
    return _Resolver(declared).run()


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _err(message: str, source: SourceLocation | None, hint: str) -> SchemaDefinitionError:
    return SchemaDefinitionError(message, source=source, hint=hint)


@dataclass
class _Work:
    """A model being resolved (mutable scratch state)."""

    model: ModelDef
    fields: list[FieldDef]
    appended: list[FieldDef] = field(default_factory=list)  # implicit keys / owner fields
    indexes: list[IndexDef] = field(default_factory=list)

    def has_field(self, name: str) -> bool:
        return any(f.name == name for f in self.fields) or any(f.name == name for f in self.appended)

    def get(self, name: str) -> FieldDef | None:
        for f in (*self.fields, *self.appended):
            if f.name == name:
                return f
        return None

    def add(self, f: FieldDef) -> None:
        if not self.has_field(f.name):
            self.appended.append(f)


class _Resolver:
    def __init__(self, declared: SchemaDef) -> None:
        self.declared = declared
        self.work: dict[str, _Work] = {}
        self.join_models: list[_Work] = []

    # ------------------------------------------------------------------ driver

    def run(self) -> SchemaDef:
        schema = self.declared
        self._check_names()
        operations = tuple(self._operation_rules(op) for op in schema.operations)
        schema = replace(schema, operations=operations)
        for m in schema.models:
            m = self._apply_schema_auth(m)
            self._check_model_fields(m)
            self._check_model_rules(m)
            self.work[m.name] = _Work(m, list(m.fields), indexes=list(m.indexes))
        for w in self.work.values():
            self._base_fields(w)
            self._check_primary_key(w)
        self._many_to_many()
        for w in list(self.work.values()):
            self._relations(w)
        for w in (*self.work.values(), *self.join_models):
            self._owner_fields(w)
            self._indexes(w)
            self._check_field_auth(w)
        models = tuple(self._finish(w) for w in (*self.work.values(), *self.join_models))
        _check_root_fields(models, schema.operations)
        return replace(schema, models=models)

    # ------------------------------------------------------------------ auth rule validation

    def _available_modes(self) -> set[str]:
        modes = set(self.declared.auth.modes) | {self.declared.auth.default_mode}
        if self.declared.flavour == "gen2":
            modes |= {"userPool", "iam"}  # defineData always has the user pool and IAM
        return modes

    def _check_rule(
        self, rule: AuthRule, where: str, *, field_level: bool, fallback: SourceLocation | None
    ) -> None:
        source = rule.source or fallback
        provider = effective_provider(rule)
        allowed = _PROVIDERS_FOR[rule.allow]
        if provider not in allowed:
            raise _err(
                f"@auth on {where}: provider '{provider.value}' is not allowed for "
                f"'allow: {rule.allow.value}'",
                source,
                f"Use one of: {', '.join(p.value for p in allowed)}.",
            )
        mode = provider_mode(provider)
        if mode not in self._available_modes():
            raise _err(
                f"@auth directive with '{provider.value}' provider found, but the project has no "
                f"{_MODE_TITLES[mode]} authentication provider configured.",
                source,
                f"Add the '{mode}' authorization mode to the API, or change the rule on {where}.",
            )
        if rule.allow is AuthAllow.GROUPS:
            if rule.groups and rule.groups_field:
                raise _err(
                    f"@auth on {where}: a groups rule cannot have both 'groups' and 'groupsField'",
                    source,
                    "Split it into a static groups rule and a dynamic groupsField rule.",
                )
            if not rule.groups and not rule.groups_field:
                raise _err(
                    f"@auth on {where}: a groups rule needs 'groups' or 'groupsField'",
                    source,
                    'Write { allow: groups, groups: ["Admin"] } or { allow: groups, groupsField: "group" }.',
                )
            if rule.identity_claim:
                raise _err(
                    f"@auth on {where}: 'identityClaim' is only valid on owner rules",
                    source,
                    "Use 'groupClaim' to name the claim holding the groups.",
                )
        if rule.allow is AuthAllow.OWNER and rule.group_claim:
            raise _err(
                f"@auth on {where}: 'groupClaim' is only valid on groups rules",
                source,
                "Use 'identityClaim' to name the claim holding the owner.",
            )
        ops = rule.operations
        if ops is None:
            return
        unknown = [op for op in ops if op not in _RULE_OPERATIONS]
        if unknown:
            raise _err(
                f"@auth on {where}: unknown operation(s) {', '.join(unknown)}",
                source,
                f"Operations are {', '.join(_RULE_OPERATIONS)}.",
            )
        if "read" in ops and set(ops) & set(READ_OPERATIONS):
            raise _err(
                f"@auth on {where}: 'read' cannot be combined with get, list, listen, sync or search",
                source,
                "Use either 'read' or the fine-grained read operations.",
            )
        if field_level:
            bad = [op for op in ops if op not in ("create", "update", "delete", "read")]
            if bad:
                raise _err(
                    f"'{bad[0]}' operation is not allowed at the field level ({where}).",
                    source,
                    "Field-level rules accept create, update, delete and read.",
                )

    def _check_model_rules(self, m: ModelDef) -> None:
        for rule in m.auth_rules:
            self._check_rule(rule, m.name, field_level=False, fallback=m.source)
        for f in m.fields:
            if f.auth_rules is None:
                continue
            if not f.auth_rules:
                raise _err(
                    f"@auth on {m.name}.{f.name} does not have any auth rules.",
                    f.source or m.source,
                    "Add at least one rule, or remove the directive.",
                )
            for rule in f.auth_rules:
                self._check_rule(rule, f"{m.name}.{f.name}", field_level=True, fallback=f.source or m.source)
        for rule in self.declared.schema_auth_rules:
            self._check_rule(rule, "the schema", field_level=False, fallback=self.declared.source)

    def _operation_rules(self, op: CustomOperationDef) -> CustomOperationDef:
        where = f"{op.kind.value}.{op.name}"
        kept: list[AuthRule] = []
        for rule in op.auth_rules:
            if rule.operations is not None:
                raise _err(
                    f"@auth on {where}: rules of custom operations cannot list operations",
                    rule.source or op.source,
                    "Remove 'operations' from the rule.",
                )
            dynamic = rule.allow is AuthAllow.OWNER or rule.groups_field is not None
            if dynamic:
                if self.declared.flavour == "gen2":
                    raise _err(
                        f"{where} cannot use owner or dynamic group rules",
                        rule.source or op.source,
                        "Custom operations accept publicApiKey, guest, authenticated, group(s) and custom.",
                    )
                continue  # the Gen 1 transformer silently drops dynamic rules on custom operations
            self._check_rule(rule, where, field_level=False, fallback=op.source)
            kept.append(rule)
        if not kept and self.declared.flavour == "gen2" and self.declared.schema_auth_rules:
            kept = [r for r in self.declared.schema_auth_rules if r.allow is not AuthAllow.OWNER]
        return replace(op, auth_rules=tuple(kept))

    # ------------------------------------------------------------------ validation

    def _check_names(self) -> None:
        seen: dict[str, SourceLocation | None] = {}
        items: list[tuple[str, SourceLocation | None]] = [
            *((m.name, m.source) for m in self.declared.models),
            *((e.name, e.source) for e in self.declared.enums),
            *((t.name, t.source) for t in self.declared.custom_types),
        ]
        for name, source in items:
            if name in seen or name in SCALARS:
                raise _err(
                    f"There can be only one type named '{name}'",
                    source,
                    "Rename one of the definitions.",
                )
            seen[name] = source
        for t in self.declared.custom_types:
            for f in t.fields:
                self._check_type(f.type, f"{t.name}.{f.name}", f.source or t.source)
        for op in self.declared.operations:
            self._check_type(op.returns, f"{op.kind.value}.{op.name}", op.source)
            for a in op.arguments:
                self._check_type(a.type, f"{op.kind.value}.{op.name}({a.name})", a.source or op.source)
                if a.type.kind is TypeKind.MODEL:
                    raise _err(
                        f"Argument '{a.name}' of {op.kind.value}.{op.name} has the model type "
                        f"'{a.type.name}'",
                        a.source or op.source,
                        "Arguments must be scalars, enums or custom types.",
                    )

    def _check_type(self, ref: TypeRef, where: str, source: SourceLocation | None) -> None:
        schema = self.declared
        ok = {
            TypeKind.SCALAR: ref.name in SCALARS,
            TypeKind.ENUM: schema.get_enum(ref.name) is not None,
            TypeKind.CUSTOM: schema.get_custom_type(ref.name) is not None,
            TypeKind.MODEL: schema.get_model(ref.name) is not None,
        }[ref.kind]
        if not ok:
            raise _err(
                f"Unknown {ref.kind.value} type '{ref.name}' used by {where}",
                source,
                "Declare it in the schema, or fix the spelling.",
            )

    def _apply_schema_auth(self, m: ModelDef) -> ModelDef:
        schema = self.declared
        if schema.flavour != "gen2" or m.auth_rules:
            return m
        if schema.schema_auth_rules:
            return replace(m, auth_rules=schema.schema_auth_rules)
        raise _err(
            f"Model `{m.name}` is missing authorization rules",
            m.source,
            f"Add .authorization(allow => [...]) to {m.name}, or a schema-level .authorization().",
        )

    def _check_model_fields(self, m: ModelDef) -> None:
        seen: set[str] = set()
        for f in m.fields:
            if f.name in seen:
                raise _err(
                    f"Field {m.name}.{f.name} is declared twice",
                    f.source or m.source,
                    "Remove or rename one of the fields.",
                )
            seen.add(f.name)
            self._check_type(f.type, f"{m.name}.{f.name}", f.source or m.source)

    def _check_primary_key(self, w: _Work) -> None:
        m = w.model
        if not m.primary_key:
            raise _err(f"Model {m.name} has an empty primary key", m.source, "Give it at least one field.")
        for name in m.primary_key:
            f = w.get(name)
            if f is None:
                raise _err(
                    f"Can't find field '{name}' in {m.name}, but it was specified in the primary key.",
                    m.source,
                    f"Declare '{name}' on {m.name} or remove it from the primary key.",
                )
            if not f.type.is_list and not f.type.required:
                raise _err(
                    f"The primary key on type '{m.name}' must reference non-null fields.",
                    f.source or m.source,
                    f"Declare {m.name}.{name} as non-null, e.g. '{name}: {f.type.name}!'.",
                )
            self._check_key_type(m, f, "the primary key")

    def _check_key_type(self, m: ModelDef, f: FieldDef, what: str) -> None:
        if (
            f.type.is_list
            or f.type.kind in (TypeKind.MODEL, TypeKind.CUSTOM)
            or f.type.name
            in (
                "Boolean",
                "AWSJSON",
            )
        ):
            raise _err(
                f"Field {m.name}.{f.name} of type '{f.type.to_sdl()}' cannot be used in {what}",
                f.source or m.source,
                "Key fields must be scalars (ID, String, Int, Float, AWS date/time types) or enums.",
            )

    # ------------------------------------------------------------------ fields

    def _base_fields(self, w: _Work) -> None:
        """Implicit ``id`` and managed timestamps, appended after the declared fields."""
        m = w.model
        tail: list[FieldDef] = []
        if not m.custom_primary_key and not w.has_field("id"):
            tail.append(FieldDef("id", TypeRef("ID", TypeKind.SCALAR, required=True), FieldOrigin.ID))
        for ts in m.timestamps:
            if ts is not None and not w.has_field(ts):
                tail.append(
                    FieldDef(
                        ts, TypeRef("AWSDateTime", TypeKind.SCALAR, required=True), FieldOrigin.TIMESTAMP
                    )
                )
        w.fields.extend(tail)

    def _owner_fields(self, w: _Work) -> None:
        rules: list[AuthRule] = list(w.model.auth_rules)
        for f in w.fields:
            rules.extend(f.auth_rules or ())
        for rule in rules:
            name = owner_field(rule)
            if name is None:
                continue
            existing = w.get(name)
            if existing is None:
                w.add(FieldDef(name, TypeRef("String", TypeKind.SCALAR), FieldOrigin.OWNER))
            elif existing.type.kind is not TypeKind.SCALAR or existing.type.name not in ("String", "ID"):
                raise _err(
                    f"Owner field {w.model.name}.{name} must be a String or [String]",
                    existing.source or w.model.source,
                    f"Declare '{name}: String' (or '[String]' for several owners).",
                )
        # Undeclared dynamic-group fields are *not* added (AWS behaviour; the rule then never matches).

    # ------------------------------------------------------------------ indexes

    def _indexes(self, w: _Work) -> None:
        m = w.model
        resolved: list[IndexDef] = []
        for idx in w.indexes:
            name = idx.name or naming.default_index_name(m.name, idx.key_fields)
            for key in idx.key_fields:
                f = w.get(key)
                if f is None:
                    raise _err(
                        f"Can't find field '{key}' in {m.name}, but it was specified in index '{name}'.",
                        idx.source or m.source,
                        f"Declare '{key}' on {m.name} or remove it from the index.",
                    )
                if f.relation is not None:
                    raise _err(
                        f"Relationship field {m.name}.{key} cannot be part of index '{name}'",
                        idx.source or m.source,
                        "Index the reference field (e.g. 'postId') instead.",
                    )
                self._check_key_type(m, f, f"index '{name}'")
            query_field = idx.query_field
            declared_qf = idx.query_field_declared
            if idx.origin is IndexOrigin.DECLARED and query_field is None:
                if self.declared.flavour == "gen2":
                    query_field = naming.gen2_index_query_field(m.name, idx.key_fields)
                    declared_qf = True
                else:
                    query_field = naming.default_index_name(m.name, idx.key_fields)
            resolved.append(
                replace(
                    idx,
                    name=name,
                    query_field=query_field,
                    query_field_declared=declared_qf,
                )
            )
        names: set[str] = set()
        queries: set[str] = set()
        for idx in resolved:
            if idx.name in names:
                raise _err(
                    f"Model {m.name} has two indexes named '{idx.name}'",
                    idx.source or m.source,
                    "Give each @index a distinct name.",
                )
            names.add(idx.name)
            if idx.query_field is not None:
                if idx.query_field in queries:
                    raise _err(
                        f"Model {m.name} has two index queries named '{idx.query_field}'",
                        idx.source or m.source,
                        "Give each @index a distinct queryField.",
                    )
                queries.add(idx.query_field)
        w.indexes = resolved

    # ------------------------------------------------------------------ many-to-many

    def _many_to_many(self) -> None:
        sides: dict[str, list[tuple[_Work, FieldDef]]] = {}
        for w in self.work.values():
            for f in w.fields:
                if f.relation is not None and f.relation.kind is RelationKind.MANY_TO_MANY:
                    assert f.relation.relation_name is not None
                    sides.setdefault(f.relation.relation_name, []).append((w, f))
        for relation_name, pair in sides.items():
            if len(pair) != 2:
                w0, f0 = pair[0]
                raise _err(
                    f"@manyToMany relation '{relation_name}' must be declared on exactly two fields "
                    f"(found {len(pair)})",
                    f0.source or w0.model.source,
                    f'Add @manyToMany(relationName: "{relation_name}") to the matching field of '
                    f"{f0.relation.related_model if f0.relation else 'the other model'}.",
                )
            (w1, f1), (w2, f2) = pair
            assert f1.relation is not None and f2.relation is not None
            if f1.relation.related_model != w2.model.name or f2.relation.related_model != w1.model.name:
                raise _err(
                    f"@manyToMany relation '{relation_name}' does not connect {w1.model.name} and "
                    f"{w2.model.name} both ways",
                    f1.source or w1.model.source,
                    f"{w1.model.name}.{f1.name} must be [{w2.model.name}] and "
                    f"{w2.model.name}.{f2.name} must be [{w1.model.name}].",
                )
            if w1.model.name == w2.model.name:
                raise _err(
                    f"@manyToMany relation '{relation_name}' joins {w1.model.name} with itself",
                    f1.source or w1.model.source,
                    "Model the join explicitly with a join model and two @hasMany/@belongsTo pairs.",
                )
            if (
                relation_name in self.work
                or self.declared.get_enum(relation_name)
                or self.declared.get_custom_type(relation_name)
            ):
                raise _err(
                    f"@manyToMany relationName '{relation_name}' clashes with an existing type",
                    f1.source or w1.model.source,
                    "Choose a relationName that is not already a type name.",
                )
            for w in (w1, w2):
                if w.model.custom_primary_key or w.model.primary_key != ("id",):
                    raise _err(
                        f"@manyToMany on {w.model.name} requires its primary key to be 'id'",
                        w.model.source,
                        "Model the join explicitly with a join model and @hasMany/@belongsTo.",
                    )
            self.join_models.append(self._join_model(relation_name, w1, w2))
            for w, f, other in ((w1, f1, w1), (w2, f2, w2)):
                key = naming.join_model_field(other.model.name) + "Id"
                rel = RelationDef(
                    kind=RelationKind.HAS_MANY,
                    related_model=relation_name,
                    relation_name=relation_name,
                    local_fields=("id",),
                    remote_fields=(key,),
                    remote_index=naming.join_model_index_name(other.model.name),
                )
                new = replace(f, type=replace(f.type, name=relation_name), relation=rel)
                w.fields[w.fields.index(f)] = new

    def _join_model(self, relation_name: str, w1: _Work, w2: _Work) -> _Work:
        fields: list[FieldDef] = [
            FieldDef("id", TypeRef("ID", TypeKind.SCALAR, required=True), FieldOrigin.ID)
        ]
        for w in (w1, w2):
            fields.append(
                FieldDef(
                    naming.join_model_field(w.model.name) + "Id",
                    TypeRef("ID", TypeKind.SCALAR, required=True),
                )
            )
        for w in (w1, w2):
            key = naming.join_model_field(w.model.name) + "Id"
            fields.append(
                FieldDef(
                    naming.join_model_field(w.model.name),
                    TypeRef(w.model.name, TypeKind.MODEL, required=True),
                    relation=RelationDef(
                        kind=RelationKind.BELONGS_TO,
                        related_model=w.model.name,
                        fields=(key,),
                        local_fields=(key,),
                        remote_fields=("id",),
                    ),
                )
            )
        for ts in ("createdAt", "updatedAt"):
            fields.append(
                FieldDef(ts, TypeRef("AWSDateTime", TypeKind.SCALAR, required=True), FieldOrigin.TIMESTAMP)
            )
        indexes = [
            IndexDef(
                name=naming.join_model_index_name(w.model.name),
                partition_key=naming.join_model_field(w.model.name) + "Id",
                query_field=naming.join_model_query_field(relation_name, w.model.name),
                query_field_declared=False,
                origin=IndexOrigin.MANY_TO_MANY,
            )
            for w in (w1, w2)
        ]
        rules: list[AuthRule] = []
        for r in (*w1.model.auth_rules, *w2.model.auth_rules):
            if r not in rules:
                rules.append(r)
        model = ModelDef(
            name=relation_name,
            fields=(),
            auth_rules=tuple(rules),
            generated=True,
            source=w1.model.source,
        )
        return _Work(model, fields, indexes=indexes)

    # ------------------------------------------------------------------ relationships

    def _relations(self, w: _Work) -> None:
        for i, f in enumerate(list(w.fields)):
            rel = f.relation
            if rel is None or rel.kind is RelationKind.MANY_TO_MANY or rel.local_fields:
                continue
            other = self.work.get(rel.related_model)
            if other is None:
                raise _err(
                    f"Relationship field {w.model.name}.{f.name} references '{rel.related_model}', "
                    "which is not a model",
                    f.source or w.model.source,
                    f"Add @model to {rel.related_model}.",
                )
            if rel.kind is RelationKind.HAS_MANY:
                resolved = self._has_many(w, f, rel, other)
            elif rel.kind is RelationKind.HAS_ONE:
                resolved = self._has_one(w, f, rel, other)
            else:
                resolved = self._belongs_to(w, f, rel, other)
            w.fields[i] = replace(f, relation=resolved)

    def _pk_fields(self, w: _Work) -> list[FieldDef]:
        result = []
        for name in w.model.primary_key:
            f = w.get(name)
            assert f is not None
            result.append(f)
        return result

    def _require_fields(
        self, w: _Work, names: Iterable[str], owner: FieldDef, owner_model: str, arg: str
    ) -> list[FieldDef]:
        result = []
        for name in names:
            f = w.get(name)
            if f is None or f.relation is not None:
                raise _err(
                    f"Can't find field '{name}' in {w.model.name}, but it was specified in {arg} of "
                    f"{owner_model}.{owner.name}.",
                    owner.source,
                    f"Declare '{name}' on {w.model.name}, or fix the {arg} list.",
                )
            result.append(f)
        return result

    def _check_reference_types(
        self, refs: list[FieldDef], keys: list[FieldDef], f: FieldDef, where: str, target: str
    ) -> None:
        if len(refs) != len(keys):
            raise _err(
                f"The number of reference fields of {where} ({len(refs)}) does not match the number of "
                f"primary key fields of {target} ({len(keys)})",
                f.source,
                f"Reference every primary key field of {target}: {', '.join(k.name for k in keys)}.",
            )
        for r, k in zip(refs, keys, strict=True):
            if r.type.name != k.type.name or r.type.is_list:
                raise _err(
                    f"Reference field '{r.name}' of {where} has type {r.type.to_sdl()}, but the primary key "
                    f"field {target}.{k.name} is {k.type.name}",
                    f.source,
                    f"Declare '{r.name}: {k.type.name}'.",
                )

    def _add_relation_index(
        self, on: _Work, name: str, keys: tuple[str, ...], source: SourceLocation | None
    ) -> None:
        if any(i.name == name for i in on.indexes):
            return
        on.indexes.append(
            IndexDef(
                name=name,
                partition_key=keys[0],
                sort_keys=keys[1:],
                query_field=None,
                name_declared=False,
                origin=IndexOrigin.RELATION,
                source=source,
            )
        )

    def _has_many(self, w: _Work, f: FieldDef, rel: RelationDef, child: _Work) -> RelationDef:
        where = f"{w.model.name}.{f.name}"
        if rel.references:
            refs = self._require_fields(child, rel.references, f, w.model.name, "references")
            self._check_reference_types(refs, self._pk_fields(w), f, f"@hasMany field {where}", w.model.name)
            self._require_inverse(w, f, rel, child)
            index = naming.default_relation_index_name(w.model.name, f.name)
            self._add_relation_index(child, index, rel.references, f.source)
            return replace(
                rel, local_fields=w.model.primary_key, remote_fields=rel.references, remote_index=index
            )
        if rel.index_name is not None or rel.fields:
            local = rel.fields or w.model.primary_key
            self._require_fields(w, local, f, w.model.name, "fields")
            if rel.index_name is not None:
                idx = next((i for i in child.indexes if i.name_declared and i.name == rel.index_name), None)
                if idx is None:
                    raise _err(
                        f"Index '{rel.index_name}' does not exist on {child.model.name}, but @hasMany field "
                        f"{where} uses it.",
                        f.source,
                        f'Add @index(name: "{rel.index_name}") to the key field of {child.model.name}.',
                    )
                keys = idx.key_fields
            else:
                keys = child.model.primary_key
            if len(local) > len(keys):
                raise _err(
                    f"@hasMany field {where} lists {len(local)} fields, but the key it uses on "
                    f"{child.model.name} has {len(keys)}",
                    f.source,
                    "List at most as many fields as the index has key fields.",
                )
            return replace(
                rel,
                local_fields=tuple(local),
                remote_fields=tuple(keys[: len(local)]),
                remote_index=rel.index_name,
            )
        # Gen 1 implicit: one key per parent primary-key field on the child, plus a GSI
        implicit: list[str] = []
        for pk in self._pk_fields(w):
            name = naming.implicit_has_many_key(w.model.name, f.name, pk.name)
            implicit.append(name)
            child.add(
                FieldDef(name, TypeRef(pk.type.name, pk.type.kind), FieldOrigin.IMPLICIT_KEY, source=f.source)
            )
        index = naming.default_relation_index_name(w.model.name, f.name)
        self._add_relation_index(child, index, tuple(implicit), f.source)
        return replace(
            rel, local_fields=w.model.primary_key, remote_fields=tuple(implicit), remote_index=index
        )

    def _has_one(self, w: _Work, f: FieldDef, rel: RelationDef, child: _Work) -> RelationDef:
        where = f"{w.model.name}.{f.name}"
        if rel.references:
            refs = self._require_fields(child, rel.references, f, w.model.name, "references")
            self._check_reference_types(refs, self._pk_fields(w), f, f"@hasOne field {where}", w.model.name)
            self._require_inverse(w, f, rel, child)
            index = naming.default_relation_index_name(w.model.name, f.name)
            self._add_relation_index(child, index, rel.references, f.source)
            return replace(
                rel, local_fields=w.model.primary_key, remote_fields=rel.references, remote_index=index
            )
        if rel.fields:
            self._require_fields(w, rel.fields, f, w.model.name, "fields")
            return replace(
                rel, local_fields=rel.fields, remote_fields=child.model.primary_key[: len(rel.fields)]
            )
        keys = []
        for pk in self._pk_fields(child):
            name = naming.implicit_has_one_key(w.model.name, f.name, pk.name)
            keys.append(name)
            w.add(
                FieldDef(name, TypeRef(pk.type.name, pk.type.kind), FieldOrigin.IMPLICIT_KEY, source=f.source)
            )
        return replace(rel, local_fields=tuple(keys), remote_fields=child.model.primary_key)

    def _belongs_to(self, w: _Work, f: FieldDef, rel: RelationDef, parent: _Work) -> RelationDef:
        where = f"{w.model.name}.{f.name}"
        if rel.references:
            refs = self._require_fields(w, rel.references, f, w.model.name, "references")
            inverse = [
                g
                for g in parent.fields
                if g.relation is not None
                and g.relation.kind in (RelationKind.HAS_ONE, RelationKind.HAS_MANY)
                and g.relation.related_model == w.model.name
                and g.relation.references == rel.references
            ]
            if not inverse:
                raise _err(
                    "Uni-directional relationships are not supported. Add a @hasOne or @hasMany field in "
                    f"{parent.model.name} to match the @belongsTo field {where}, and ensure the number and "
                    f"type of reference fields match the number and type of primary key fields in "
                    f"{parent.model.name}.",
                    f.source or w.model.source,
                    f"Add e.g. '{naming.lower_first(naming.pluralize(w.model.name))}: [{w.model.name}] "
                    f"@hasMany(references: [{_quoted(rel.references)}])' to "
                    f"{parent.model.name}.",
                )
            self._check_reference_types(
                refs, self._pk_fields(parent), f, f"@belongsTo field {where}", parent.model.name
            )
            return replace(rel, local_fields=rel.references, remote_fields=parent.model.primary_key)
        if rel.fields:
            self._require_fields(w, rel.fields, f, w.model.name, "fields")
            return replace(
                rel, local_fields=rel.fields, remote_fields=parent.model.primary_key[: len(rel.fields)]
            )
        # implicit: reuse the key of an implicit hasMany on the parent pointing back here
        for g in parent.fields:
            grel = g.relation
            if (
                grel is not None
                and grel.kind is RelationKind.HAS_MANY
                and grel.related_model == w.model.name
                and not grel.references
                and not grel.fields
                and grel.index_name is None
            ):
                keys = tuple(
                    naming.implicit_has_many_key(parent.model.name, g.name, pk)
                    for pk in parent.model.primary_key
                )
                for key, pk in zip(keys, self._pk_fields(parent), strict=True):
                    w.add(
                        FieldDef(
                            key,
                            TypeRef(pk.type.name, pk.type.kind),
                            FieldOrigin.IMPLICIT_KEY,
                            source=f.source,
                        )
                    )
                return replace(rel, local_fields=keys, remote_fields=parent.model.primary_key)
        keys_list = []
        for pk in self._pk_fields(parent):
            name = naming.implicit_has_one_key(w.model.name, f.name, pk.name)
            keys_list.append(name)
            w.add(
                FieldDef(name, TypeRef(pk.type.name, pk.type.kind), FieldOrigin.IMPLICIT_KEY, source=f.source)
            )
        return replace(rel, local_fields=tuple(keys_list), remote_fields=parent.model.primary_key)

    def _require_inverse(self, w: _Work, f: FieldDef, rel: RelationDef, child: _Work) -> None:
        directive = "@hasMany" if rel.kind is RelationKind.HAS_MANY else "@hasOne"
        for g in child.fields:
            grel = g.relation
            if (
                grel is not None
                and grel.kind is RelationKind.BELONGS_TO
                and grel.related_model == w.model.name
                and grel.references == rel.references
            ):
                return
        raise _err(
            f"Uni-directional relationships are not supported. Add a @belongsTo field in {child.model.name} "
            f"to match the {directive} field {w.model.name}.{f.name}, and ensure the number and type of "
            f"reference fields match the number and type of primary key fields in {w.model.name}.",
            f.source or w.model.source,
            f"Add '{naming.lower_first(w.model.name)}: {w.model.name} @belongsTo(references: "
            f"[{_quoted(rel.references)}])' to {child.model.name}.",
        )

    # ------------------------------------------------------------------ field-level auth

    def _check_field_auth(self, w: _Work) -> None:
        m = w.model
        model_providers = {effective_provider(r) for r in m.auth_rules}
        extra: set[AuthProvider] = set()
        for f in w.fields:
            for r in f.auth_rules or ():
                p = effective_provider(r)
                if p not in model_providers:
                    extra.add(p)
        if not extra:
            return
        missing: list[str] = []
        for f in w.fields:
            if f.origin is not FieldOrigin.DECLARED or not f.type.required or f.relation is not None:
                continue
            rules = f.auth_rules or ()
            covered = all(any(effective_provider(r) == p and allows(r, "read") for r in rules) for p in extra)
            if not covered:
                missing.append(f.name)
        if missing:
            names = ",".join(f'"{n}"' for n in missing)
            raise _err(
                "When using field-level authorization rules you need to add rules to all of the model's "
                "required fields with at least read permissions. "
                f'Found model "{m.name}" with required fields [{names}] missing field-level '
                "authorization rules.",
                m.source,
                f"Field rules grant {', '.join(sorted(p.value for p in extra))}, which the model rules do "
                f"not; add a field-level @auth rule with read access for it to {', '.join(missing)} "
                f"(see {_FIELD_AUTH_DOCS}).",
            )

    # ------------------------------------------------------------------ finish

    def _operations(self, m: ModelDef) -> ModelOperations:
        args: dict[str, Any] = {}
        if m.operations is not None and isinstance(m.operations.model_attribute, dict):
            args = m.operations.model_attribute
        name = m.name

        def section(key: str, defaults: dict[str, Any]) -> dict[str, Any] | None:
            if key not in args:
                return dict(defaults)
            value = args[key]
            if value is None:
                return None
            if not isinstance(value, dict):
                raise _err(
                    f"@model({key}:) of {name} must be an object or null",
                    m.source,
                    f"Write {key}: {{ ... }} or {key}: null.",
                )
            unknown = set(value) - set(defaults)
            if unknown:
                raise _err(
                    f"Unknown @model({key}:) key(s) on {name}: {', '.join(sorted(unknown))}",
                    m.source,
                    f"{key} accepts {', '.join(defaults)}.",
                )
            return {**defaults, **value}

        queries = section("queries", {"get": naming.get_query(name), "list": naming.list_query(name)})
        mutations = section(
            "mutations",
            {
                "create": naming.create_mutation(name),
                "update": naming.update_mutation(name),
                "delete": naming.delete_mutation(name),
            },
        )
        subs = section(
            "subscriptions",
            {
                "onCreate": [naming.on_create_subscription(name)],
                "onUpdate": [naming.on_update_subscription(name)],
                "onDelete": [naming.on_delete_subscription(name)],
                "level": "on",
            },
        )
        level = SubscriptionLevel.OFF if subs is None else SubscriptionLevel(str(subs.get("level") or "on"))

        def sub_names(key: str, mutation: str) -> tuple[str, ...]:
            if (
                subs is None
                or level is SubscriptionLevel.OFF
                or mutations is None
                or not mutations.get(mutation)
            ):
                return ()
            value = subs.get(key)
            if value is None:
                return ()
            if isinstance(value, str):
                return (value,)
            return tuple(str(v) for v in value)

        def get(section_: dict[str, Any] | None, key: str) -> str | None:
            if section_ is None:
                return None
            value = section_.get(key)
            return str(value) if value else None

        return ModelOperations(
            get=get(queries, "get"),
            list=get(queries, "list"),
            create=get(mutations, "create"),
            update=get(mutations, "update"),
            delete=get(mutations, "delete"),
            on_create=sub_names("onCreate", "create"),
            on_update=sub_names("onUpdate", "update"),
            on_delete=sub_names("onDelete", "delete"),
            subscription_level=level,
            model_attribute=args,
        )

    def _finish(self, w: _Work) -> ModelDef:
        m = w.model
        return replace(
            m,
            fields=(*w.fields, *w.appended),
            indexes=tuple(w.indexes),
            operations=self._operations(m),
            plural_name=naming.pluralize(m.name),
        )


def _check_root_fields(models: tuple[ModelDef, ...], operations: tuple[CustomOperationDef, ...]) -> None:
    """Generated and custom root fields must not collide; ``@aws_subscribe`` must name mutations."""
    owners: dict[tuple[str, str], str] = {}

    def claim(root: str, name: str, owner: str, source: SourceLocation | None) -> None:
        key = (root, name)
        if key in owners:
            raise _err(
                f"{root}.{name} is defined twice: by {owners[key]} and by {owner}",
                source,
                "Rename the custom operation, or rename/disable the generated one with "
                "@model(queries:/mutations:/subscriptions:) or @index(queryField:).",
            )
        owners[key] = owner

    for m in models:
        ops = m.operations
        assert ops is not None
        for name in (ops.get, ops.list):
            if name:
                claim("Query", name, f"model {m.name}", m.source)
        for index in m.indexes:
            if index.query_field:
                claim(
                    "Query", index.query_field, f"index '{index.name}' of {m.name}", index.source or m.source
                )
        for name in (ops.create, ops.update, ops.delete):
            if name:
                claim("Mutation", name, f"model {m.name}", m.source)
        for name in (*ops.on_create, *ops.on_update, *ops.on_delete):
            claim("Subscription", name, f"model {m.name}", m.source)
    for op in operations:
        claim(op.kind.value, op.name, f"the custom {op.kind.value.lower()} {op.name}", op.source)
    mutations = {name for root, name in owners if root == "Mutation"}
    for op in operations:
        for mutation in op.subscribe_to:
            if mutation not in mutations:
                raise _err(
                    f"Subscription.{op.name} subscribes to '{mutation}', which is not a mutation of this API",
                    op.source,
                    f"Use one of: {', '.join(sorted(mutations)) or '(no mutations defined)'}.",
                )
