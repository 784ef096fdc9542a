"""The schema of the relationships interop suite (``ampbase serve`` this file): the "Modeling
relationships" guide's models in one schema (one-to-many, one-to-one, many-to-many through a join
model, author + editor between the same two models)."""

from __future__ import annotations

from ampbase import a, define_data

schema = a.schema(
    {
        "Member": a.model(
            {"name": a.string().required(), "teamId": a.id(), "team": a.belongs_to("Team", "teamId")}
        ),
        "Team": a.model({"mantra": a.string().required(), "members": a.has_many("Member", "teamId")}),
        "Cart": a.model(
            {
                "items": a.string().required().array(),
                "customerId": a.id(),
                "customer": a.belongs_to("Customer", "customerId"),
            }
        ),
        "Customer": a.model({"name": a.string(), "activeCart": a.has_one("Cart", "customerId")}),
        "PostTag": a.model(
            {
                "postId": a.id().required(),
                "tagId": a.id().required(),
                "post": a.belongs_to("Post", "postId"),
                "tag": a.belongs_to("Tag", "tagId"),
            }
        ),
        "Post": a.model(
            {
                "title": a.string().required(),
                "authorId": a.id(),
                "author": a.belongs_to("Person", "authorId"),
                "editorId": a.id(),
                "editor": a.belongs_to("Person", "editorId"),
                "tags": a.has_many("PostTag", "postId"),
            }
        ),
        "Tag": a.model({"name": a.string(), "posts": a.has_many("PostTag", "tagId")}),
        "Person": a.model(
            {
                "name": a.string(),
                "email": a.email(),
                "editedPosts": a.has_many("Post", "editorId"),
                "authoredPosts": a.has_many("Post", "authorId"),
            }
        ),
    }
).authorization(lambda allow: allow.public_api_key())

data = define_data(
    schema=schema,
    authorization_modes={
        "default_authorization_mode": "apiKey",
        "api_key_authorization_mode": {"expires_in_days": 30},
    },
)
