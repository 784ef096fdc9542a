"""SigV4 (service appsync): HTTP, realtime connect and start signatures; forgeries are 401s."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ampbase.auth.policy import IamSettings
from ampbase.auth.sigv4 import IamCredential, SigV4Verifier, sign_headers
from ampbase.errors import AuthenticationError

MOMENT = datetime(2026, 11, 22, 5, 35, 21, tzinfo=UTC)
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
IAM = IamSettings(account_id="123456789012", identity_pool_id="us-east-1:pool", auth_role_name="authRole")
CREDENTIALS = [
    IamCredential(
        "AKIDAUTH", SECRET, kind="authenticated", session_token="tok", identity_id="us-east-1:alice"
    ),
    IamCredential("AKIDGUEST", SECRET, kind="unauthenticated"),
    IamCredential("AKIDUSER", SECRET, kind="iam"),
]
BODY = b'{"query":"query { listTodos { items { id } } }","variables":{}}'


def verifier(**kw: Any) -> SigV4Verifier:
    return SigV4Verifier(CREDENTIALS, iam=IAM, clock=lambda: MOMENT.timestamp(), **kw)


def signed(key: str = "AKIDAUTH", *, path: str = "/graphql", body: bytes = BODY, **kw: Any) -> dict[str, str]:
    kw.setdefault("session_token", "tok" if key == "AKIDAUTH" else None)
    return sign_headers(
        method="POST",
        url_path=path,
        host="127.0.0.1:4443",
        body=body,
        access_key_id=key,
        secret_access_key=kw.pop("secret", SECRET),
        region="us-east-1",
        headers={"content-type": "application/json; charset=UTF-8", "x-amz-user-agent": "aws-amplify/6"},
        now=kw.pop("now", MOMENT),
        **kw,
    )


def test_an_authenticated_identity_pool_principal() -> None:
    identity = verifier().verify(
        method="POST", path="/graphql", headers=signed(), body=BODY, source_ip="1.2.3.4"
    )
    assert identity.mode == "iam"
    assert (
        identity.iam["userArn"]
        == "arn:aws:sts::123456789012:assumed-role/authRole/CognitoIdentityCredentials"
    )
    assert identity.iam["cognitoIdentityAuthType"] == "authenticated"
    assert identity.iam["cognitoIdentityPoolId"] == "us-east-1:pool"
    assert identity.iam["cognitoIdentityId"] == "us-east-1:alice"
    assert identity.iam["sourceIp"] == ["1.2.3.4"]


def test_guest_and_plain_iam_principals() -> None:
    guest = verifier().verify(method="POST", path="/graphql", headers=signed("AKIDGUEST"), body=BODY)
    assert (
        guest.iam["userArn"] == IAM.unauth_role_arn
        and guest.iam["cognitoIdentityAuthType"] == "unauthenticated"
    )
    user = verifier().verify(method="POST", path="/graphql", headers=signed("AKIDUSER"), body=BODY)
    assert user.iam["cognitoIdentityPoolId"] is None and user.iam["userArn"].startswith("arn:aws:iam::")


def test_realtime_connect_signs_the_connect_path_with_an_empty_object() -> None:
    headers = signed(path="/graphql/connect", body=b"{}")
    # The handshake header object uses mixed-case keys.
    mixed = {("Authorization" if k == "authorization" else k): v for k, v in headers.items()}
    verifier().verify(method="POST", path="/graphql/connect", headers=mixed, body=b"{}")
    with pytest.raises(AuthenticationError, match="signature"):
        verifier().verify(method="POST", path="/graphql", headers=mixed, body=b"{}")


def test_a_bad_signature_is_refused() -> None:
    with pytest.raises(AuthenticationError, match="does not match the signature"):
        verifier().verify(method="POST", path="/graphql", headers=signed(secret="wrong"), body=BODY)
    with pytest.raises(AuthenticationError, match="does not match the signature"):
        verifier().verify(method="POST", path="/graphql", headers=signed(), body=BODY + b" ")


def test_a_wrong_or_stale_date_is_refused() -> None:
    stale = signed(now=datetime(2026, 11, 22, 5, 0, 0, tzinfo=UTC))
    with pytest.raises(AuthenticationError, match="Signature expired"):
        verifier().verify(method="POST", path="/graphql", headers=stale, body=BODY)
    headers = signed()
    headers["x-amz-date"] = "20261123T053521Z"
    with pytest.raises(AuthenticationError, match="scope date"):
        verifier().verify(method="POST", path="/graphql", headers=headers, body=BODY)
    del headers["x-amz-date"]
    with pytest.raises(AuthenticationError, match="x-amz-date"):
        verifier().verify(method="POST", path="/graphql", headers=headers, body=BODY)


def test_unknown_keys_session_tokens_and_scopes_are_refused() -> None:
    with pytest.raises(AuthenticationError, match="security token"):
        verifier().verify(method="POST", path="/graphql", headers=signed("AKIDNOPE"), body=BODY)
    with pytest.raises(AuthenticationError, match="security token"):
        verifier().verify(method="POST", path="/graphql", headers=signed(session_token="other"), body=BODY)
    with pytest.raises(AuthenticationError, match="region"):
        verifier(region="eu-west-1").verify(method="POST", path="/graphql", headers=signed(), body=BODY)
    headers = signed()
    headers["authorization"] = headers["authorization"].replace("/appsync/", "/s3/")
    with pytest.raises(AuthenticationError, match="service 'appsync'"):
        verifier().verify(method="POST", path="/graphql", headers=headers, body=BODY)
    with pytest.raises(AuthenticationError, match="requires"):
        verifier().verify(
            method="POST", path="/graphql", headers={"authorization": "AWS4-HMAC-SHA256 x"}, body=BODY
        )


def test_a_credential_kind_is_validated() -> None:
    with pytest.raises(ValueError, match="kind"):
        IamCredential("A", "B", kind="admin")


CAPTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sigv4" / "amplify-js-captures.json"


@pytest.mark.parametrize("kind", ["http", "connect", "start"])
def test_signatures_of_the_real_amplify_client_verify(kind: str) -> None:
    sample = json.loads(CAPTURES.read_text())[kind]
    headers = sample["headers"]
    moment = datetime.strptime(headers["x-amz-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    credential = IamCredential("AKIDEXAMPLE", SECRET, kind="authenticated", session_token="FAKESESSIONTOKEN")
    check = SigV4Verifier([credential], iam=IAM, region="us-east-1", clock=lambda: moment.timestamp() + 5)
    body = sample["body"].encode()
    identity = check.verify(method="POST", path=sample["path"], headers=headers, body=body)
    assert identity.iam["cognitoIdentityAuthType"] == "authenticated"
    with pytest.raises(AuthenticationError):
        check.verify(method="POST", path=sample["path"], headers=headers, body=body + b"x")
