"""The frozen intermediate representation of a data schema.

Both front ends (the Python DSL in ``ampbase.schema.dsl`` and Amplify SDL in
``ampbase.schema.sdl``) produce a :class:`SchemaDef` holding what the user
*declared*. :func:`ampbase.schema.resolve.resolve_schema` then validates it and
returns the *normalised* :class:`SchemaDef` that every later layer reads: the
implicit ``id``, managed timestamps, implicit owner fields, Gen 1 implicit
relationship key fields, ``@manyToMany`` join models, default index names and
the resolved join description of every relationship are all materialised, so
the compiler, engine, storage and client never re-derive them.

Every value here is an immutable, slotted dataclass; collections are tuples.
Names are kept exactly as the user wrote them (they are wire names).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "SCALARS",
    "AuthAllow",
    "AuthConfig",
    "AuthProvider",
    "AuthRule",
    "CustomOperationDef",
    "CustomTypeDef",
    "EnumDef",
    "FieldDef",
    "FieldOrigin",
    "HandlerDef",
    "IndexDef",
    "IndexOrigin",
    "ModelDef",
    "ModelOperations",
    "OperationKind",
    "RelationDef",
    "RelationKind",
    "ResourceConfig",
    "SchemaDef",
    "SourceLocation",
    "SubscriptionLevel",
    "TableConfig",
    "TypeKind",
    "TypeRef",
]


# AppSync scalar names, as they appear on the wire.
SCALARS: frozenset[str] = frozenset(
    {
        "ID",
        "String",
        "Int",
        "Float",
        "Boolean",
        "AWSDate",
        "AWSTime",
        "AWSDateTime",
        "AWSTimestamp",
        "AWSEmail",
        "AWSJSON",
        "AWSPhone",
        "AWSURL",
        "AWSIPAddress",
    }
)


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """Where a definition was written: a DSL ``resource.py`` line or an SDL line."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.file
        if self.column is None:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.column}"


class TypeKind(StrEnum):
    SCALAR = "scalar"
    ENUM = "enum"
    CUSTOM = "custom"  # a non-model object type (Gen 2 ``a.customType``)
    MODEL = "model"


@dataclass(frozen=True, slots=True)
class TypeRef:
    """A field, argument or return type.

    ``required`` is the outer non-null marker; for lists ``item_required`` is the
    inner one. ``[String!]!`` is ``TypeRef("String", SCALAR, required=True,
    is_list=True, item_required=True)``.
    """

    name: str
    kind: TypeKind
    required: bool = False
    is_list: bool = False
    item_required: bool = False

    def to_sdl(self) -> str:
        """The GraphQL type expression, e.g. ``[String!]!``."""
        if self.is_list:
            inner = self.name + ("!" if self.item_required else "")
            return f"[{inner}]" + ("!" if self.required else "")
        return self.name + ("!" if self.required else "")


class AuthAllow(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"
    OWNER = "owner"
    GROUPS = "groups"
    CUSTOM = "custom"


class AuthProvider(StrEnum):
    API_KEY = "apiKey"
    IAM = "iam"
    IDENTITY_POOL = "identityPool"
    USER_POOLS = "userPools"
    OIDC = "oidc"
    FUNCTION = "function"


@dataclass(frozen=True, slots=True)
class AuthRule:
    """One ``@auth`` rule / ``allow.*()`` builder, as declared.

    ``provider`` and ``operations`` are ``None`` when not written; use
    :mod:`ampbase.schema.auth` helpers for the effective values
    (e.g. ``public`` defaults to ``apiKey``; no operations means all).
    """

    allow: AuthAllow
    provider: AuthProvider | None = None
    operations: tuple[str, ...] | None = None
    owner_field: str | None = None
    identity_claim: str | None = None
    group_claim: str | None = None
    groups: tuple[str, ...] = ()
    groups_field: str | None = None
    source: SourceLocation | None = field(default=None, compare=False)


class RelationKind(StrEnum):
    HAS_MANY = "hasMany"
    HAS_ONE = "hasOne"
    BELONGS_TO = "belongsTo"
    MANY_TO_MANY = "manyToMany"


@dataclass(frozen=True, slots=True)
class RelationDef:
    """A relationship field.

    Declared part (front ends fill these):
      ``references`` (Gen 2 / ``references:`` style), ``fields`` (Gen 1 ``fields:``),
      ``index_name`` (Gen 1 ``@hasMany(indexName:)``), ``relation_name``
      (``@manyToMany``).

    Resolved part (filled by ``resolve_schema``): the related records are those of
    ``related_model`` whose ``remote_fields`` equal, position by position, the
    values of this model's ``local_fields``; ``remote_index`` names the index on
    the related model that serves that lookup (``None`` = its primary key).
    A ``@manyToMany`` field resolves to ``kind=HAS_MANY`` on the join model with
    ``relation_name`` kept and ``related_model`` = the join model.
    """

    kind: RelationKind
    related_model: str
    references: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    index_name: str | None = None
    relation_name: str | None = None
    # resolved
    local_fields: tuple[str, ...] = ()
    remote_fields: tuple[str, ...] = ()
    remote_index: str | None = None


class FieldOrigin(StrEnum):
    DECLARED = "declared"
    ID = "id"  # implicit ``id: ID!``
    TIMESTAMP = "timestamp"  # managed createdAt/updatedAt (possibly renamed)
    OWNER = "owner"  # implicit owner field added by an owner rule
    IMPLICIT_KEY = "implicitKey"  # Gen 1 implicit relationship key (``postCommentsId``)


@dataclass(frozen=True, slots=True)
class FieldDef:
    name: str
    type: TypeRef
    origin: FieldOrigin = FieldOrigin.DECLARED
    relation: RelationDef | None = None
    # ``@default(value:)`` / ``.default(v)``, already typed for the field
    # (str, int, float, bool, or the JSON string for AWSJSON). ``has_default``
    # distinguishes a ``None`` default from no default.
    default: Any = None
    has_default: bool = False
    # Field-level rules replace the model's for this field; ``None`` = inherit.
    auth_rules: tuple[AuthRule, ...] | None = None
    source: SourceLocation | None = field(default=None, compare=False)

    @property
    def is_relation(self) -> bool:
        return self.relation is not None


class IndexOrigin(StrEnum):
    DECLARED = "declared"  # @index / .secondary_indexes()
    RELATION = "relation"  # default ``gsi-Parent.field`` for hasMany/hasOne
    MANY_TO_MANY = "manyToMany"  # ``byPost`` on a generated join model


@dataclass(frozen=True, slots=True)
class IndexDef:
    """A secondary index: partition key plus zero or more sort key fields.

    ``query_field`` is the generated query's name (``None`` = no query);
    ``query_field_declared`` says whether the user wrote it (model
    introspection only lists declared ones).
    """

    name: str
    partition_key: str
    sort_keys: tuple[str, ...] = ()
    query_field: str | None = None
    query_field_declared: bool = False
    name_declared: bool = True
    origin: IndexOrigin = IndexOrigin.DECLARED
    source: SourceLocation | None = field(default=None, compare=False)

    @property
    def key_fields(self) -> tuple[str, ...]:
        return (self.partition_key, *self.sort_keys)


class SubscriptionLevel(StrEnum):
    ON = "on"
    PUBLIC = "public"
    OFF = "off"


@dataclass(frozen=True, slots=True)
class ModelOperations:
    """Generated operation names; ``None`` = that operation is disabled.

    Subscriptions map to tuples because ``@model(subscriptions: {onCreate:
    ["a", "b"]})`` may name several. ``model_attribute`` is the model's
    ``@model`` arguments as model introspection shows them
    (e.g. ``{"subscriptions": None, "mutations": {"delete": None}}``).
    """

    get: str | None
    list: str | None
    create: str | None
    update: str | None
    delete: str | None
    on_create: tuple[str, ...] = ()
    on_update: tuple[str, ...] = ()
    on_delete: tuple[str, ...] = ()
    subscription_level: SubscriptionLevel = SubscriptionLevel.ON
    model_attribute: Any = None


@dataclass(frozen=True, slots=True)
class ModelDef:
    """A ``@model`` / ``a.model()``.

    After resolution ``fields`` is the full, ordered field list of the output
    type (declared fields, implicit ``id``, timestamps, implicit keys, owner
    fields), ``primary_key`` is ``(partition_key, *sort_keys)`` and
    ``operations`` is filled.
    """

    name: str
    fields: tuple[FieldDef, ...]
    primary_key: tuple[str, ...] = ("id",)
    custom_primary_key: bool = False
    indexes: tuple[IndexDef, ...] = ()
    auth_rules: tuple[AuthRule, ...] = ()
    # (createdAt name, updatedAt name); None = that timestamp is disabled.
    timestamps: tuple[str | None, str | None] = ("createdAt", "updatedAt")
    operations: ModelOperations | None = None
    plural_name: str = ""
    generated: bool = False  # a join model generated for @manyToMany
    source: SourceLocation | None = field(default=None, compare=False)

    def get_field(self, name: str) -> FieldDef | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None

    @property
    def partition_key(self) -> str:
        return self.primary_key[0]

    @property
    def sort_keys(self) -> tuple[str, ...]:
        return self.primary_key[1:]


@dataclass(frozen=True, slots=True)
class EnumDef:
    name: str
    values: tuple[str, ...]
    source: SourceLocation | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class CustomTypeDef:
    """A non-model object type (``a.custom_type``, SDL type without ``@model``).

    ``is_input`` marks an SDL ``input`` type a user declared for custom operation
    arguments; it is printed as written (no ``Input`` twin) and only used by arguments.
    """

    name: str
    fields: tuple[FieldDef, ...]
    source: SourceLocation | None = field(default=None, compare=False)
    is_input: bool = False


class OperationKind(StrEnum):
    QUERY = "Query"
    MUTATION = "Mutation"
    SUBSCRIPTION = "Subscription"


@dataclass(frozen=True, slots=True)
class HandlerDef:
    """How a custom operation is served.

    ``function_name`` is the Amplify function name (``@function(name:)``,
    Gen 2 ``FnEcho``); ``callable`` is the Python callable when the DSL gave
    one (or one was registered for the name). ``kind`` is ``"function"``,
    ``"custom"`` (JS resolver, not runnable) or ``"python"``.
    """

    kind: str
    function_name: str | None = None
    callable: Any = field(default=None, compare=False)
    invocation_type: str = "RequestResponse"


@dataclass(frozen=True, slots=True)
class CustomOperationDef:
    name: str
    kind: OperationKind
    returns: TypeRef
    arguments: tuple[FieldDef, ...] = ()
    auth_rules: tuple[AuthRule, ...] = ()
    handlers: tuple[HandlerDef, ...] = ()
    # Subscriptions: the mutations this one listens to (``@aws_subscribe``).
    subscribe_to: tuple[str, ...] = ()
    source: SourceLocation | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """``define_data(authorization_modes=...)`` or what an SDL schema needs.

    Modes use the client's names: ``apiKey``, ``userPool``, ``iam``, ``oidc``,
    ``lambda``. ``settings`` keeps the mode-specific options as given
    (``api_key_authorization_mode``, ``oidc_authorization_mode``,
    ``lambda_authorization_mode``) with snake_case keys.
    """

    default_mode: str = "apiKey"
    modes: tuple[str, ...] = ("apiKey",)
    settings: Any = None


@dataclass(frozen=True, slots=True)
class TableConfig:
    """A model's table as ``backend.py`` customised it (``ampbase.schema.backend``).

    ``ttl_attribute``: items whose attribute (epoch seconds) has passed are hidden and
    swept; ``point_in_time_recovery``: writes are journaled for ``ampbase restore``;
    ``read_capacity`` / ``write_capacity``: requests per second before throttling
    (``None`` = unlimited, on-demand).
    """

    model: str
    ttl_attribute: str | None = None
    point_in_time_recovery: bool = False
    read_capacity: float | None = None
    write_capacity: float | None = None


@dataclass(frozen=True, slots=True)
class ResourceConfig:
    """The generated resources' customisations (Gen 2 ``backend.data.resources``)."""

    tables: tuple[TableConfig, ...] = ()
    tracing: bool = False

    def table(self, model: str) -> TableConfig | None:
        for t in self.tables:
            if t.model == model:
                return t
        return None


@dataclass(frozen=True, slots=True)
class SchemaDef:
    models: tuple[ModelDef, ...] = ()
    enums: tuple[EnumDef, ...] = ()
    custom_types: tuple[CustomTypeDef, ...] = ()
    operations: tuple[CustomOperationDef, ...] = ()
    # Gen 2 schema-level ``.authorization()``; Gen 1 sandbox ``globalAuthRule``.
    schema_auth_rules: tuple[AuthRule, ...] = ()
    auth: AuthConfig = field(default_factory=AuthConfig)
    # "gen1" (SDL written by hand) or "gen2" (``a.schema`` / data-schema SDL).
    flavour: str = "gen1"
    source: SourceLocation | None = field(default=None, compare=False)
    # backend.py customisations (TTL, point-in-time recovery, throughput, tracing)
    resources: ResourceConfig = field(default_factory=ResourceConfig)

    def get_model(self, name: str) -> ModelDef | None:
        for m in self.models:
            if m.name == name:
                return m
        return None

    def get_enum(self, name: str) -> EnumDef | None:
        for e in self.enums:
            if e.name == name:
                return e
        return None

    def get_custom_type(self, name: str) -> CustomTypeDef | None:
        for t in self.custom_types:
            if t.name == name:
                return t
        return None
