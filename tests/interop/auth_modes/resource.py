"""The schema of the OIDC / Lambda / IAM interop suite (``test_js_auth_modes.py``).

``Note`` is for OIDC users (owner by ``sub``, moderators by the ``groups`` claim), ``Memo`` for
requests the Lambda authorizer approved, ``Post`` for identity-pool principals (guests read,
signed-in identities write); ``whoAmI`` returns the caller as a handler sees it. The authorizer
is named like a Gen 2 ``defineFunction``; the server reaches it through
``AMPBASE_LAMBDA_AUTHORIZER_URL``.
"""

from __future__ import annotations

from typing import Any

from ampbase import a, define_data

OIDC_ISSUER = "https://idp.ampbase.test"
OIDC_CLIENT_ID = "interop-app"


def who_am_i(event: dict[str, Any]) -> Any:
    return event["identity"]


schema = a.schema(
    {
        "Note": a.model({"content": a.string()}).authorization(
            lambda allow: [
                allow.owner("oidc").identity_claim("sub"),
                allow.groups(["Moderators"], "oidc").with_claim_in("groups"),
            ]
        ),
        "Memo": a.model({"title": a.string(), "secret": a.string()}).authorization(
            lambda allow: [allow.custom()]
        ),
        "Post": a.model({"title": a.string()}).authorization(
            lambda allow: [allow.guest().to(["read"]), allow.authenticated("identityPool")]
        ),
        "whoAmI": a.query()
        .returns(a.json())
        .authorization(
            lambda allow: [
                allow.custom(),
                allow.authenticated("oidc"),
                allow.guest(),
                allow.authenticated("identityPool"),
            ]
        )
        .handler(a.handler.function(who_am_i)),
    }
)

data = define_data(
    schema=schema,
    authorization_modes={
        "default_authorization_mode": "oidc",
        "oidc_authorization_mode": {
            "oidc_provider_name": "InteropIdP",
            "oidc_issuer_url": OIDC_ISSUER,
            "client_id": OIDC_CLIENT_ID,
        },
        "lambda_authorization_mode": {"function": "interopAuthorizer", "time_to_live_in_seconds": 0},
    },
)
