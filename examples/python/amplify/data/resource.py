"""The Python client examples' schema: the Gen 2 guides' Todo, Team/Member, Customer index and Blog.

Serve it with ``ampbase sandbox examples/python/amplify/data/resource.py`` and run the scripts in
``examples/python/`` against the ``amplify_outputs.json`` it writes.
"""

from typing import Any

from ampbase import a, define_data


def echo(event: dict[str, Any]) -> str:
    """``client.queries.echo(content=...)``: a custom query served by a Python function."""
    return f"echo: {event['arguments']['content']}"


def announce(event: dict[str, Any]) -> dict[str, Any]:
    """``client.mutations.announce(text=...)``: its result reaches ``on_announcement`` subscribers."""
    return {"text": event["arguments"]["text"], "loud": event["arguments"]["text"].upper()}


schema = a.schema(
    {
        "Priority": a.enum(["LOW", "MEDIUM", "HIGH"]),
        "Location": a.custom_type({"lat": a.float(), "long": a.float()}),
        "Todo": a.model(
            {
                "content": a.string(),
                "isDone": a.boolean(),
                "priority": a.ref("Priority"),
                "location": a.ref("Location"),
            }
        ),
        "Team": a.model(
            {
                "mantra": a.string().required(),
                "members": a.has_many("Member", "teamId"),
            }
        ),
        "Member": a.model(
            {
                "name": a.string().required(),
                "teamId": a.id(),
                "team": a.belongs_to("Team", "teamId"),
            }
        ),
        "Customer": a.model(
            {
                "name": a.string(),
                "phoneNumber": a.phone(),
                "accountRepresentativeId": a.id().required(),
            }
        ).secondary_indexes(lambda index: [index("accountRepresentativeId").sort_keys(["name"])]),
        "Person": a.model(
            {
                "email": a.email(),
                "blogs": a.has_many("Blog", "authorId"),
            }
        ),
        "Blog": a.model(
            {
                "name": a.string().required(),
                "authorId": a.id(),
                "author": a.belongs_to("Person", "authorId"),
                "posts": a.has_many("Post", "blogId"),
            }
        ),
        "Post": a.model(
            {
                "title": a.string().required(),
                "blogId": a.id(),
                "blog": a.belongs_to("Blog", "blogId"),
            }
        ),
        "Announcement": a.custom_type({"text": a.string(), "loud": a.string()}),
        "echo": a.query()
        .arguments({"content": a.string().required()})
        .returns(a.string())
        .handler(a.handler.function(echo)),
        "announce": a.mutation()
        .arguments({"text": a.string().required()})
        .returns(a.ref("Announcement"))
        .handler(a.handler.function(announce)),
        "onAnnouncement": a.subscription().for_(a.ref("announce")),
    }
).authorization(lambda allow: [allow.public_api_key()])

data = define_data(
    schema=schema,
    authorization_modes={
        "default_authorization_mode": "apiKey",
        "api_key_authorization_mode": {"expires_in_days": 30},
    },
)
