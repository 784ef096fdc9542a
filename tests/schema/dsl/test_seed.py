"""Every schema of the Gen 2 data guides (seed 000), written in the DSL, resolves."""

from __future__ import annotations

from ampbase import a, define_data
from ampbase.schema.ir import RelationKind, SchemaDef, TypeKind
from ampbase.schema.resolve import resolve_schema

API_KEY = {"default_authorization_mode": "apiKey", "api_key_authorization_mode": {"expires_in_days": 30}}


def _resolve(schema: object, modes: dict[str, object] | None = None) -> SchemaDef:
    return resolve_schema(define_data(schema=schema, authorization_modes=modes or API_KEY).schema)  # type: ignore[arg-type]


def test_the_quick_tour_schema() -> None:
    schema = a.schema(
        {
            "Customer": a.model(
                {
                    "customerId": a.id().required(),
                    "name": a.string(),
                    "location": a.custom_type({"lat": a.float().required(), "long": a.float().required()}),
                    "engagementStage": a.enum(["PROSPECT", "INTERESTED", "PURCHASED"]),
                    "collectionId": a.id(),
                    "collection": a.belongs_to("Collection", "collectionId"),
                }
            ).identifier(["customerId"]),
            "Collection": a.model(
                {
                    "customers": a.has_many("Customer", "collectionId"),
                    "tags": a.string().array(),
                    "representativeId": a.id().required(),
                }
            ).secondary_indexes(lambda index: [index("representativeId")]),
        }
    ).authorization(lambda allow: [allow.public_api_key()])
    resolved = _resolve(schema)
    customer = resolved.get_model("Customer")
    collection = resolved.get_model("Collection")
    assert customer is not None and collection is not None
    assert customer.primary_key == ("customerId",)
    assert resolved.get_custom_type("CustomerLocation") is not None
    assert resolved.get_enum("CustomerEngagementStage") is not None
    assert [i.query_field for i in collection.indexes if i.partition_key == "representativeId"] == [
        "listCollectionByRepresentativeId"
    ]
    customers = collection.get_field("customers")
    assert customers is not None and customers.relation is not None
    assert customers.relation.remote_fields == ("collectionId",)


def test_relationships_to_a_model_with_sort_keys_in_its_identifier() -> None:
    schema = a.schema(
        {
            "Post": a.model(
                {
                    "title": a.string().required(),
                    "content": a.string().required(),
                    "authorName": a.string(),
                    "authorDoB": a.date(),
                    "author": a.belongs_to("Person", ["authorName", "authorDoB"]),
                }
            ),
            "Person": a.model(
                {
                    "name": a.string().required(),
                    "dateOfBirth": a.date().required(),
                    "authoredPosts": a.has_many("Post", ["authorName", "authorDoB"]),
                }
            ).identifier(["name", "dateOfBirth"]),
        }
    ).authorization(lambda allow: allow.public_api_key())
    resolved = _resolve(schema)
    post = resolved.get_model("Post")
    assert post is not None
    author = post.get_field("author")
    assert author is not None and author.relation is not None
    assert author.relation.kind is RelationKind.BELONGS_TO
    assert author.relation.local_fields == ("authorName", "authorDoB")
    assert author.relation.remote_fields == ("name", "dateOfBirth")


def test_required_and_optional_relationships() -> None:
    schema = a.schema(
        {
            "Post": a.model(
                {
                    "title": a.string().required(),
                    "content": a.string().required(),
                    "authorId": a.id().required(),
                    "author": a.belongs_to("Person", "authorId"),
                    "editorId": a.id(),
                    "editor": a.belongs_to("Person", "editorId"),
                }
            ),
            "Person": a.model(
                {
                    "name": a.string(),
                    "editedPosts": a.has_many("Post", "editorId"),
                    "authoredPosts": a.has_many("Post", "authorId"),
                }
            ),
        }
    ).authorization(lambda allow: allow.public_api_key())
    post = _resolve(schema).get_model("Post")
    assert post is not None
    author_id = post.get_field("authorId")
    assert author_id is not None and author_id.type.required


def test_secondary_index_with_owner_rules_and_user_pool_default() -> None:
    schema = a.schema(
        {
            "Customer": a.model(
                {"name": a.string(), "phoneNumber": a.phone(), "accountRepresentativeId": a.id().required()}
            )
            .secondary_indexes(lambda index: [index("accountRepresentativeId").sort_keys(["name"])])
            .authorization(lambda allow: [allow.owner()]),
        }
    )
    resolved = _resolve(schema, {"default_authorization_mode": "userPool"})
    customer = resolved.get_model("Customer")
    assert customer is not None
    (index,) = customer.indexes
    assert index.query_field == "listCustomerByAccountRepresentativeIdAndName"
    owner = customer.get_field("owner")
    assert owner is not None and owner.type.kind is TypeKind.SCALAR


def test_optimistic_ui_guest_schema_with_iam_default() -> None:
    schema = a.schema(
        {
            "RealEstateProperty": a.model(
                {"name": a.string().required(), "address": a.string()}
            ).authorization(lambda allow: [allow.guest()])
        }
    )
    resolved = _resolve(schema, {"default_authorization_mode": "iam"})
    assert resolved.auth.default_mode == "iam"
    assert resolved.models[0].name == "RealEstateProperty"
