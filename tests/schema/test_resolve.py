from __future__ import annotations

import pytest

from ampbase.errors import SchemaDefinitionError
from ampbase.schema.ir import (
    AuthAllow,
    AuthRule,
    FieldOrigin,
    IndexOrigin,
    ModelDef,
    RelationKind,
    SchemaDef,
    SubscriptionLevel,
)
from ampbase.schema.resolve import resolve_schema
from ampbase.schema.sdl import load_sdl


def resolve(sdl: str, *, flavour: str = "gen1") -> SchemaDef:
    return resolve_schema(load_sdl(sdl, filename="schema.graphql", flavour=flavour))


def model(schema: SchemaDef, name: str) -> ModelDef:
    m = schema.get_model(name)
    assert m is not None
    return m


def names(m: ModelDef) -> list[str]:
    return [f.name for f in m.fields]


def test_implicit_id_goes_after_declared_fields_then_timestamps() -> None:
    todo = model(resolve("type Todo @model { content: String }"), "Todo")
    assert names(todo) == ["content", "id", "createdAt", "updatedAt"]
    assert [f.origin for f in todo.fields[1:]] == [
        FieldOrigin.ID,
        FieldOrigin.TIMESTAMP,
        FieldOrigin.TIMESTAMP,
    ]
    assert todo.primary_key == ("id",)
    assert todo.plural_name == "Todos"


def test_declared_id_keeps_its_place_and_custom_primary_key_gets_no_id() -> None:
    schema = resolve(
        "type A @model { id: ID! name: String }\ntype B @model { email: String! @primaryKey name: String }"
    )
    assert names(model(schema, "A")) == ["id", "name", "createdAt", "updatedAt"]
    b = model(schema, "B")
    assert names(b) == ["email", "name", "createdAt", "updatedAt"]
    assert b.primary_key == ("email",)
    assert b.custom_primary_key


def test_timestamps_renamed_disabled_and_declared() -> None:
    schema = resolve(
        """
        type R @model(timestamps: { createdAt: "createdOn", updatedAt: "updatedOn" }) { id: ID! }
        type O @model(timestamps: { updatedAt: null }) { id: ID! }
        type N @model(timestamps: null) { id: ID! }
        type E @model { id: ID! createdAt: AWSDateTime }
        """
    )
    assert names(model(schema, "R")) == ["id", "createdOn", "updatedOn"]
    assert names(model(schema, "O")) == ["id", "createdAt"]
    assert names(model(schema, "N")) == ["id"]
    explicit = model(schema, "E")
    assert names(explicit) == ["id", "createdAt", "updatedAt"]
    assert explicit.get_field("createdAt").origin is FieldOrigin.DECLARED  # type: ignore[union-attr]


def test_owner_rule_adds_an_owner_field_unless_declared() -> None:
    schema = resolve(
        """
        type A @model @auth(rules: [{ allow: owner }]) { id: ID! }
        type B @model @auth(rules: [{ allow: owner, ownerField: "writer" }]) { id: ID! }
        type C @model @auth(rules: [{ allow: owner, ownerField: "author" }]) { id: ID! author: String }
        """
    )
    a_owner = model(schema, "A").fields[-1]
    assert (a_owner.name, a_owner.origin, a_owner.type.to_sdl()) == ("owner", FieldOrigin.OWNER, "String")
    assert model(schema, "B").fields[-1].name == "writer"
    assert model(schema, "C").get_field("author").origin is FieldOrigin.DECLARED  # type: ignore[union-attr]


def test_implicit_has_many_adds_child_key_and_default_gsi() -> None:
    schema = resolve(
        "type Post @model { id: ID! comments: [Comment] @hasMany }\n"
        "type Comment @model { id: ID! content: String }"
    )
    comment = model(schema, "Comment")
    key = comment.get_field("postCommentsId")
    assert key is not None and key.origin is FieldOrigin.IMPLICIT_KEY and key.type.to_sdl() == "ID"
    (index,) = comment.indexes
    assert (index.name, index.partition_key, index.query_field, index.origin) == (
        "gsi-Post.comments",
        "postCommentsId",
        None,
        IndexOrigin.RELATION,
    )
    relation = model(schema, "Post").get_field("comments").relation  # type: ignore[union-attr]
    assert relation is not None
    assert (relation.local_fields, relation.remote_fields, relation.remote_index) == (
        ("id",),
        ("postCommentsId",),
        "gsi-Post.comments",
    )


def test_implicit_keys_for_a_composite_parent_and_belongs_to_reuse() -> None:
    schema = resolve(
        """
        type Shelf @model {
          store: String! @primaryKey(sortKeyFields: ["code"])
          code: Int!
          books: [Book] @hasMany
        }
        type Book @model { id: ID! shelf: Shelf @belongsTo }
        """
    )
    book = model(schema, "Book")
    assert names(book)[-2:] == ["shelfBooksStore", "shelfBooksCode"]
    assert [f.type.name for f in book.fields[-2:]] == ["String", "Int"]
    shelf_rel = book.get_field("shelf").relation  # type: ignore[union-attr]
    assert shelf_rel is not None
    assert (shelf_rel.local_fields, shelf_rel.remote_fields, shelf_rel.remote_index) == (
        ("shelfBooksStore", "shelfBooksCode"),
        ("store", "code"),
        None,
    )
    assert book.indexes[0].key_fields == ("shelfBooksStore", "shelfBooksCode")


def test_has_one_without_fields_puts_the_key_on_the_parent() -> None:
    schema = resolve(
        """
        type Project @model { id: ID! team: Team @hasOne }
        type Team @model { id: ID! }
        type Project2 @model { id: ID! teamID: ID team: Team2 @hasOne(fields: ["teamID"]) }
        type Team2 @model { id: ID! project: Project2 @belongsTo }
        """
    )
    project = model(schema, "Project")
    assert project.fields[-1].name == "projectTeamId"
    rel = project.get_field("team").relation  # type: ignore[union-attr]
    assert rel is not None and (rel.local_fields, rel.remote_fields) == (("projectTeamId",), ("id",))
    rel2 = model(schema, "Project2").get_field("team").relation  # type: ignore[union-attr]
    assert rel2 is not None and (rel2.local_fields, rel2.remote_fields) == (("teamID",), ("id",))
    assert model(schema, "Team2").fields[-1].name == "team2ProjectId"


def test_references_resolve_through_the_default_gsi() -> None:
    schema = resolve(
        """
        type Team @model { id: ID! members: [Member] @hasMany(references: ["teamId"]) }
        type Member @model { id: ID! teamId: ID team: Team @belongsTo(references: ["teamId"]) }
        """
    )
    members = model(schema, "Team").get_field("members").relation  # type: ignore[union-attr]
    assert members is not None
    assert (members.local_fields, members.remote_fields, members.remote_index) == (
        ("id",),
        ("teamId",),
        "gsi-Team.members",
    )
    team = model(schema, "Member").get_field("team").relation  # type: ignore[union-attr]
    assert team is not None and (team.local_fields, team.remote_fields, team.remote_index) == (
        ("teamId",),
        ("id",),
        None,
    )
    assert "teamId" in names(model(schema, "Member"))
    assert all(f.origin is not FieldOrigin.IMPLICIT_KEY for f in model(schema, "Member").fields)


def test_has_many_through_a_declared_index() -> None:
    schema = resolve(
        """
        type Post @model { id: ID! comments: [Comment] @hasMany(indexName: "byPost", fields: ["id"]) }
        type Comment @model {
          id: ID!
          postID: ID! @index(name: "byPost", sortKeyFields: ["content"])
          content: String!
        }
        """
    )
    rel = model(schema, "Post").get_field("comments").relation  # type: ignore[union-attr]
    assert rel is not None and (rel.local_fields, rel.remote_fields, rel.remote_index) == (
        ("id",),
        ("postID",),
        "byPost",
    )


def test_many_to_many_generates_the_join_model() -> None:
    schema = resolve(
        """
        type Post @model { id: ID! tags: [Tag] @manyToMany(relationName: "PostTags") }
        type Tag @model { id: ID! posts: [Post] @manyToMany(relationName: "PostTags") }
        """
    )
    join = model(schema, "PostTags")
    assert join.generated
    assert names(join) == ["id", "postId", "tagId", "post", "tag", "createdAt", "updatedAt"]
    assert [(i.name, i.partition_key, i.query_field) for i in join.indexes] == [
        ("byPost", "postId", "postTagsByPostId"),
        ("byTag", "tagId", "postTagsByTagId"),
    ]
    assert join.operations is not None and join.operations.list == "listPostTags"
    tags = model(schema, "Post").get_field("tags")
    assert tags is not None and tags.relation is not None
    assert tags.type.name == "PostTags"
    assert (tags.relation.kind, tags.relation.related_model, tags.relation.relation_name) == (
        RelationKind.HAS_MANY,
        "PostTags",
        "PostTags",
    )
    assert (tags.relation.remote_fields, tags.relation.remote_index) == (("postId",), "byPost")


def test_index_names_and_query_fields_default_like_the_transformer() -> None:
    schema = resolve(
        """
        type Order @model {
          id: ID!
          email: String @index
          warehouseId: ID @index(sortKeyFields: ["total"])
          total: Float
          region: String @index(name: "byRegion")
          customerId: ID! @index(name: "byCustomer", queryField: "ordersOfCustomer")
        }
        """
    )
    found = [(i.name, i.query_field, i.query_field_declared) for i in model(schema, "Order").indexes]
    assert found == [
        ("ordersByEmail", "ordersByEmail", False),
        ("ordersByWarehouseIdAndTotal", "ordersByWarehouseIdAndTotal", False),
        ("byRegion", "ordersByRegion", False),
        ("byCustomer", "ordersOfCustomer", True),
    ]


def test_gen2_index_without_query_field_gets_data_schemas_name() -> None:
    schema = resolve(
        "type Order @model @auth(rules: [{allow: public}]) { customerId: ID! @index }", flavour="gen2"
    )
    (index,) = model(schema, "Order").indexes
    assert (index.name, index.query_field) == ("ordersByCustomerId", "listOrderByCustomerId")


def test_operations_renamed_disabled_and_subscription_levels() -> None:
    schema = resolve(
        """
        type R @model(queries: { get: "fetchR", list: "allRs" }, mutations: { create: "addR" },
                      subscriptions: { onCreate: ["onAddR"] }) { id: ID! }
        type G @model(queries: { list: null }, mutations: { delete: null },
                      subscriptions: { onUpdate: null }) {
          id: ID!
        }
        type Q @model(subscriptions: { level: off }) { id: ID! }
        type P @model(subscriptions: { level: public }) { id: ID! }
        type H @model(queries: null, mutations: null, subscriptions: null) { id: ID! }
        """
    )
    r = model(schema, "R").operations
    assert r is not None
    assert (r.get, r.list, r.create, r.update, r.delete) == ("fetchR", "allRs", "addR", "updateR", "deleteR")
    assert (r.on_create, r.on_update) == (("onAddR",), ("onUpdateR",))
    g = model(schema, "G").operations
    assert g is not None
    assert (g.get, g.list, g.delete, g.on_update, g.on_delete) == ("getG", None, None, (), ())
    assert g.model_attribute == {
        "queries": {"list": None},
        "mutations": {"delete": None},
        "subscriptions": {"onUpdate": None},
    }
    q = model(schema, "Q").operations
    assert q is not None and q.subscription_level is SubscriptionLevel.OFF and q.on_create == ()
    p = model(schema, "P").operations
    assert (
        p is not None and p.subscription_level is SubscriptionLevel.PUBLIC and p.on_create == ("onCreateP",)
    )
    h = model(schema, "H").operations
    assert h is not None
    assert (h.get, h.list, h.create, h.update, h.delete, h.on_create) == (None, None, None, None, None, ())


def test_gen2_schema_level_rules_apply_to_models_without_rules() -> None:
    declared = load_sdl("type A @model { content: String }", flavour="gen2")
    from dataclasses import replace

    rules = (AuthRule(AuthAllow.PUBLIC),)
    schema = resolve_schema(replace(declared, schema_auth_rules=rules))
    assert model(schema, "A").auth_rules == rules


def test_gen2_model_without_any_rules_is_an_error() -> None:
    with pytest.raises(SchemaDefinitionError, match="Model `A` is missing authorization rules"):
        resolve("type A @model { content: String }", flavour="gen2")


@pytest.mark.parametrize(
    ("sdl", "fragment", "line"),
    [
        (
            "type Customer @model {\n  email: String @primaryKey\n}",
            "The primary key on type 'Customer' must reference non-null fields.",
            2,
        ),
        (
            'type Order @model {\n  id: ID!\n  c: ID! @index(name: "byC", sortKeyFields: ["nope"])\n}',
            "Can't find field 'nope' in Order, but it was specified in index 'byC'.",
            3,
        ),
        (
            'type M @model {\n  id: ID!\n  teamId: ID\n  team: T @belongsTo(references: ["teamId"])\n}\n'
            "type T @model { id: ID! }",
            "Uni-directional relationships are not supported. Add a @hasOne or @hasMany field in T",
            4,
        ),
        (
            'type T @model {\n  id: ID!\n  ms: [M] @hasMany(references: ["teamId"])\n}\n'
            "type M @model { id: ID! teamId: ID }",
            "Add a @belongsTo field in M to match the @hasMany field T.ms",
            3,
        ),
        (
            'type T @model {\n  id: ID!\n  ms: [M] @hasMany(references: ["tid"])\n}\n'
            "type M @model { id: ID! }",
            "Can't find field 'tid' in M",
            3,
        ),
        (
            'type T @model {\n  id: ID!\n  ms: [M] @hasMany(indexName: "nope", fields: ["id"])\n}\n'
            "type M @model { id: ID! }",
            "Index 'nope' does not exist on M",
            3,
        ),
        (
            'type T @model {\n  id: ID!\n  ms: [M] @manyToMany(relationName: "TM")\n}\n'
            "type M @model { id: ID! }",
            "must be declared on exactly two fields",
            3,
        ),
        (
            "type E @model @auth(rules: [{ allow: owner }]) {\n  id: ID!\n"
            "  n: String @auth(rules: [{ allow: public, operations: [read] }])\n}",
            'Found model "E" with required fields ["id"] missing field-level authorization rules.',
            1,
        ),
        (
            "type A @model {\n  id: ID!\n  flag: Boolean! @index\n}",
            "cannot be used in index",
            3,
        ),
    ],
)
def test_invalid_schemas_name_the_problem_and_its_line(sdl: str, fragment: str, line: int) -> None:
    with pytest.raises(SchemaDefinitionError) as info:
        resolve(sdl)
    assert fragment in info.value.message
    assert info.value.source is not None and info.value.source.line == line
    assert info.value.hint


def test_field_rules_that_cover_required_fields_are_accepted() -> None:
    schema = resolve(
        """
        type P @model @auth(rules: [{ allow: owner }]) {
          id: ID! @auth(rules: [{ allow: owner }, { allow: public, operations: [read] }])
          name: String @auth(rules: [{ allow: owner }, { allow: public, operations: [read] }])
          phone: AWSPhone
        }
        """
    )
    assert model(schema, "P").get_field("owner") is not None


@pytest.mark.parametrize(
    ("rules", "fragment"),
    [
        ("{ allow: owner, provider: apiKey }", "provider 'apiKey' is not allowed for 'allow: owner'"),
        ('{ allow: groups, groups: ["A"], groupsField: "g" }', "both 'groups' and 'groupsField'"),
        ("{ allow: groups }", "needs 'groups' or 'groupsField'"),
        (
            '{ allow: groups, groups: ["A"], identityClaim: "sub" }',
            "'identityClaim' is only valid on owner rules",
        ),
        ('{ allow: owner, groupClaim: "g" }', "'groupClaim' is only valid on groups rules"),
        ("{ allow: public, operations: [read, get] }", "'read' cannot be combined"),
        ("{ allow: public, operations: [fly] }", "unknown operation(s) fly"),
    ],
)
def test_invalid_auth_rules_are_rejected(rules: str, fragment: str) -> None:
    with pytest.raises(SchemaDefinitionError) as info:
        resolve(f"type A @model @auth(rules: [{rules}]) {{ id: ID! }}")
    assert fragment in info.value.message


def test_rule_for_an_unconfigured_provider_is_rejected() -> None:
    from ampbase.schema.ir import AuthConfig

    declared = load_sdl(
        "type A @model @auth(rules: [{ allow: private }]) { id: ID! }",
        auth=AuthConfig(default_mode="apiKey", modes=("apiKey",)),
    )
    with pytest.raises(SchemaDefinitionError) as info:
        resolve_schema(declared)
    assert info.value.message == (
        "@auth directive with 'userPools' provider found, but the project has no Cognito User Pool "
        "authentication provider configured."
    )


def test_field_level_rules_accept_only_coarse_operations() -> None:
    with pytest.raises(SchemaDefinitionError, match="'get' operation is not allowed at the field level"):
        resolve(
            "type A @model @auth(rules: [{ allow: public }]) {\n"
            "  n: String @auth(rules: [{ allow: public, operations: [get] }])\n}"
        )


def test_dynamic_rules_on_custom_operations_are_dropped_in_gen1_and_rejected_in_gen2() -> None:
    sdl = 'type Query { q: Int @function(name: "f") @auth(rules: [{ allow: owner }, { allow: private }]) }'
    (op,) = resolve(sdl).operations
    assert op.auth_rules == (AuthRule(AuthAllow.PRIVATE),)
    with pytest.raises(SchemaDefinitionError, match="cannot use owner or dynamic group rules"):
        resolve(sdl, flavour="gen2")


def test_undeclared_dynamic_group_field_is_not_added() -> None:
    a = model(
        resolve('type A @model @auth(rules: [{ allow: groups, groupsField: "team" }]) { id: ID! }'), "A"
    )
    assert a.get_field("team") is None


def test_custom_operation_clashing_with_a_generated_one_is_rejected() -> None:
    with pytest.raises(SchemaDefinitionError, match=r"Query\.getTodo is defined twice"):
        resolve('type Todo @model { id: ID! }\ntype Query { getTodo(id: ID!): Todo @function(name: "f") }')


def test_subscription_to_an_unknown_mutation_is_rejected() -> None:
    with pytest.raises(SchemaDefinitionError, match="subscribes to 'createTodos'") as info:
        resolve(
            "type Todo @model { id: ID! }\n"
            'type Subscription { onX: Todo @aws_subscribe(mutations: ["createTodos"]) }'
        )
    assert "createTodo" in (info.value.hint or "")
