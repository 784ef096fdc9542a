"""The example app's data schema: the Amplify Gen 2 "Set up Amplify Data" Todo.

Serve it with ampbase; the unmodified ``aws-amplify`` client then uses
``client.models.Todo.create/list/get/update/delete/observeQuery`` with the API key.
"""

from ampbase import a, define_data

schema = a.schema(
    {
        "Todo": a.model(
            {
                "content": a.string(),
                "isDone": a.boolean(),
            }
        ).authorization(lambda allow: [allow.public_api_key()]),
    }
)

data = define_data(
    schema=schema,
    authorization_modes={
        "default_authorization_mode": "apiKey",
        "api_key_authorization_mode": {"expires_in_days": 30},
    },
)
