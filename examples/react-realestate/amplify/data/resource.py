"""The schema of the optimistic-UI example: the Gen 2 guide's ``RealEstateProperty``.

The guide authorizes it with ``allow.guest()`` (IAM through a Cognito identity pool); this example
uses the API key instead so it runs against ``ampbase sandbox`` with nothing else to set up. It
adds one optional field, ``contactEmail`` (``AWSEmail``): the server validates it, which is how
the app (and its end-to-end test) shows an optimistic create being rolled back.
"""

from ampbase import a, define_data

schema = a.schema(
    {
        "RealEstateProperty": a.model(
            {
                "name": a.string().required(),
                "address": a.string(),
                "contactEmail": a.email(),
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
