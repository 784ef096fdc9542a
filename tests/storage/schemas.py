"""Hand-built normalised schemas for the storage conformance suite."""

from __future__ import annotations

from ampbase.schema.ir import (
    FieldDef,
    FieldOrigin,
    IndexDef,
    ModelDef,
    RelationDef,
    RelationKind,
    SchemaDef,
    TypeKind,
    TypeRef,
)

__all__ = [
    "COMMENT",
    "EVENT",
    "ODD",
    "POST",
    "TODO",
    "conformance_schema",
    "custom",
    "field",
    "json_list",
    "model",
    "relation",
]


def field(name: str, type_name: str = "String", *, required: bool = False) -> FieldDef:
    kind = TypeKind.ENUM if type_name == "Status" else TypeKind.SCALAR
    origin = FieldOrigin.ID if name == "id" else FieldOrigin.DECLARED
    return FieldDef(name, TypeRef(type_name, kind, required=required), origin=origin)


def json_list(name: str, item: str = "String") -> FieldDef:
    return FieldDef(name, TypeRef(item, TypeKind.SCALAR, is_list=True))


def custom(name: str, type_name: str) -> FieldDef:
    return FieldDef(name, TypeRef(type_name, TypeKind.CUSTOM))


def relation(name: str, related: str, kind: RelationKind, *, local: str, remote: str) -> FieldDef:
    return FieldDef(
        name,
        TypeRef(related, TypeKind.MODEL, is_list=kind is RelationKind.HAS_MANY),
        relation=RelationDef(kind, related, local_fields=(local,), remote_fields=(remote,)),
    )


def model(
    name: str,
    fields: tuple[FieldDef, ...],
    *,
    primary_key: tuple[str, ...] = ("id",),
    indexes: tuple[IndexDef, ...] = (),
) -> ModelDef:
    return ModelDef(name, fields, primary_key=primary_key, indexes=indexes)


TODO = model(
    "Todo",
    (
        field("id", "ID", required=True),
        field("title"),
        field("done", "Boolean"),
        field("priority", "Int"),
        field("score", "Float"),
        field("status", "Status"),
        json_list("tags"),
        json_list("numbers", "Int"),
        custom("meta", "Meta"),
        field("payload", "AWSJSON"),
        field("ownerId"),
        field("createdAt", "AWSDateTime", required=True),
    ),
    indexes=(
        IndexDef("byOwner", "ownerId", ("createdAt",), query_field="todosByOwner"),
        IndexDef("byStatus", "status", ("priority",)),
        IndexDef("byTitle", "title"),
    ),
)

# Composite primary key (tenant | day, seq) and an index with a composite sort key.
EVENT = model(
    "Event",
    (
        field("tenant", required=True),
        field("day", required=True),
        field("seq", "Int", required=True),
        field("kind"),
        field("note"),
    ),
    primary_key=("tenant", "day", "seq"),
    indexes=(IndexDef("byKind", "kind", ("day", "seq")),),
)

POST = model(
    "Post",
    (
        field("id", "ID", required=True),
        field("title"),
        relation("comments", "Comment", RelationKind.HAS_MANY, local="id", remote="postId"),
    ),
)

COMMENT = model(
    "Comment",
    (
        field("id", "ID", required=True),
        field("postId", "ID"),
        field("body"),
        field("votes", "Int"),
        field("createdAt", "AWSDateTime"),
        relation("post", "Post", RelationKind.BELONGS_TO, local="postId", remote="id"),
    ),
    indexes=(IndexDef("byPost", "postId", ("createdAt",)),),
)

# Names that need quoting in SQL.
ODD = model(
    'Odd "Name"',
    (
        field("id", "ID", required=True),
        field('we"ird'),
        field("select"),
    ),
    indexes=(IndexDef('by "weird"', 'we"ird'),),
)


def conformance_schema() -> SchemaDef:
    return SchemaDef(models=(TODO, EVENT, POST, COMMENT, ODD))
