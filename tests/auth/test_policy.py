"""Policy details beyond the §5 scenarios: claims, groups, IAM bypass, field matrices, custom operations."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from ampbase import a
from ampbase.auth.policy import (
    IamSettings,
    PolicySettings,
    SchemaPolicy,
    bypasses_rules,
    caller_groups,
    owner_claim,
    project_owner_value,
)
from ampbase.engine.identity import Identity
from ampbase.errors import UnauthorizedError
from ampbase.schema.resolve import resolve_schema
from ampbase.schema.sdl import load_sdl
from ampbase.storage.predicate import Compare, evaluate
from tests.auth.fixtures import IAM, IAMUSER, KEY, TRUSTED, policy_for, up


def denied(message: str) -> Any:
    return pytest.raises(UnauthorizedError, match="^" + re.escape(message) + "$")


def test_owner_claims_resolve_with_the_cognito_username_fallback() -> None:
    alice = Identity(mode="userPool", claims={"sub": "S", "cognito:username": "alice", "email": "a@x"})
    claim = owner_claim(alice, "sub::username")
    assert claim is not None and claim.combined == "S::alice" and claim.parts == ("S", "alice")
    assert claim.matches("S::alice") and claim.matches("S") and claim.matches("alice")
    assert not claim.matches("S::bob") and not claim.matches(None) and not claim.matches(["alice"])
    single = owner_claim(alice, "email")
    assert single is not None and single.combined == "a@x" and single.parts == () and single.last == "a@x"
    assert owner_claim(alice, "custom:tenant") is None
    assert owner_claim(Identity(mode="userPool", claims={"sub": "S"}), "sub::username") is None


def test_group_claims_lists_json_strings_and_plain_strings() -> None:
    def groups(value: Any) -> tuple[str, ...]:
        return caller_groups(Identity(mode="oidc", claims={"g": value}), "g")

    assert groups(["A", "B", "A"]) == ("A", "B")
    assert groups('["A", "B"]') == ("A", "B")
    assert groups("Admins") == ("Admins",)  # no substring matching of "Admin"
    assert groups(None) == () and groups(7) == ()


def test_owner_values_are_returned_after_the_last_separator() -> None:
    assert project_owner_value("sub::alice") == "alice"
    assert project_owner_value(["a::b::c", "plain", None]) == ["c", "plain", None]
    assert project_owner_value(None) is None


def test_iam_bypass_generic_access_and_admin_roles() -> None:
    assert bypasses_rules(TRUSTED, IAM)
    assert bypasses_rules(IAMUSER, IAM)
    assert not bypasses_rules(IAMUSER, replace(IAM, enable_iam_access=False))
    admin = Identity(
        mode="iam",
        iam={"userArn": "arn:aws:sts::1:assumed-role/MyAdminRole/x", "cognitoIdentityPoolId": "p"},
    )
    assert bypasses_rules(admin, replace(IAM, admin_role_names=("MyAdminRole",)))
    assert not bypasses_rules(admin, IAM)
    assert not bypasses_rules(KEY, IAM)


def test_a_model_without_rules_is_denied_except_to_bypassing_callers() -> None:
    schema = resolve_schema(load_sdl("type Todo @model { content: String }"))
    todo = SchemaPolicy(schema, PolicySettings.for_schema(schema)).model("Todo")
    with denied("Not Authorized to access listTodos on type Query"):
        todo.read_filter(KEY, "list", "listTodos", "Query")
    assert todo.read_filter(TRUSTED, "list", "listTodos", "Query") is None


def test_the_gen1_sandbox_global_rule_admits_the_api_key() -> None:
    sdl = (
        "input AMPLIFY { globalAuthRule: AuthRule = { allow: public } }\ntype Todo @model { content: String }"
    )
    schema = resolve_schema(load_sdl(sdl))
    todo = SchemaPolicy(schema).model("Todo")
    assert todo.read_filter(KEY, "list", "listTodos", "Query") is None
    assert todo.authorize_create(KEY, {"content": "x"}, "createTodo") == {"content": "x"}


PARTIAL = {
    "Episode": a.model(
        {
            "title": a.string(),
            "rating": a.integer().authorization(
                lambda allow: [allow.group("Admin"), allow.authenticated().to(["read", "update"])]
            ),
        }
    ).authorization(lambda allow: [allow.group("Admin"), allow.authenticated().to(["read"])])
}


def test_a_field_rule_grants_a_partial_update() -> None:
    episode = policy_for(PARTIAL).model("Episode")
    stored = {"id": "e1", "title": "t", "rating": 1}
    assert episode.authorize_update(up("bob"), stored, {"id": "e1", "rating": 5}, "updateEpisode") is None
    with denied("Unauthorized on [title, rating]"):
        episode.authorize_update(
            up("bob"), stored, {"id": "e1", "title": "x", "rating": None}, "updateEpisode"
        )
    with denied("Not Authorized to access createEpisode on type Mutation"):
        episode.authorize_create(up("bob"), {"title": "x"}, "createEpisode")
    with denied("Not Authorized to access deleteEpisode on type Mutation"):
        episode.authorize_delete(up("bob"), stored, "deleteEpisode")
    episode.authorize_delete(up("carol"), stored, "deleteEpisode")


SECRET = {
    "Todo": a.model(
        {"content": a.string(), "secret": a.string().authorization(lambda allow: [allow.group("Admin")])}
    ).authorization(lambda allow: [allow.group("Admin"), allow.authenticated()])
}


def test_implicit_fields_are_outside_a_partial_callers_allowed_set() -> None:
    todo = policy_for(SECRET).model("Todo")
    assert todo.authorize_create(up("bob"), {"content": "x"}, "createTodo") == {"content": "x"}
    with denied("Unauthorized on [id, secret]"):
        todo.authorize_create(up("bob"), {"id": "mine", "content": "x", "secret": "s"}, "createTodo")
    assert todo.authorize_create(up("carol"), {"id": "mine", "secret": "s"}, "createTodo")


def test_modes_per_operation_for_the_directive_layer() -> None:
    todo = policy_for(SECRET).model("Todo")
    assert todo.modes_for("create") == {"userPool"}
    keyed = policy_for(
        {"T": a.model({"c": a.string()}).authorization(lambda allow: [allow.public_api_key().to(["read"])])}
    ).model("T")
    assert keyed.modes_for("list") == {"apiKey"} and keyed.modes_for("create") == frozenset()


def test_dynamic_group_list_filters_use_contains() -> None:
    post = policy_for(
        {
            "Post": a.model({"teams": a.string().array()}).authorization(
                lambda allow: [allow.groups_defined_in("teams")]
            )
        }
    ).model("Post")
    multi = Identity(mode="userPool", claims={"sub": "s", "username": "u", "cognito:groups": ["A", "B"]})
    predicate = post.read_filter(multi, "list", "listPosts", "Query")
    assert predicate is not None
    assert evaluate(predicate, {"teams": ["C", "B"]}) and not evaluate(predicate, {"teams": ["C"]})
    assert not evaluate(predicate, {"teams": None})


def test_legacy_username_owner_claim_setting() -> None:
    schema = policy_for({"T": a.model({"c": a.string()}).authorization(lambda allow: [allow.owner()])}).schema
    settings = replace(
        PolicySettings.for_schema(schema, iam=IAM), use_sub_username_for_default_identity_claim=False
    )
    todo = SchemaPolicy(schema, settings).model("T")
    assert todo.authorize_create(up("alice"), {}, "createT") == {"owner": "alice"}
    assert todo.owner_projection == ()  # single-part claim: returned as stored
    assert todo.read_filter(up("alice"), "list", "listTs", "Query") == Compare("owner", "eq", "alice")


def test_custom_operations_without_rules_follow_the_default_mode() -> None:
    sdl = """
    type Todo @model @auth(rules: [{allow: public}]) { content: String }
    type Query { echo(msg: String): String @function(name: "echo") }
    """
    schema = resolve_schema(load_sdl(sdl))
    policy = SchemaPolicy(schema, PolicySettings.for_schema(schema, iam=IamSettings()))
    echo = schema.operations[0]
    default = schema.auth.default_mode
    policy.check_operation(Identity(mode=default), echo)
    other = "userPool" if default != "userPool" else "apiKey"
    with denied("Not Authorized to access echo on type Query"):
        policy.check_operation(Identity(mode=other), echo)


MEMO = {
    "Memo": a.model(
        {
            "title": a.string(),
            "secret": a.string(),
            "note": a.string().authorization(lambda allow: [allow.group("Admin")]),
        }
    ).authorization(lambda allow: [allow.custom(), allow.group("Admin")])
}
MEMO_RECORD = {"id": "m1", "title": "t", "secret": "s", "note": "n"}
MEMO_SECRET_ARN = (
    "arn:aws:appsync:us-east-1:123456789012:apis/abcdefghijklmnopqrstuvwxyz/types/Memo/fields/secret"
)


def lambda_caller(*denied_fields: str) -> Identity:
    return Identity(mode="lambda", resolver_context={"u": "1"}, denied_fields=denied_fields)


def test_lambda_denied_fields_are_nulled_after_the_protected_fields() -> None:
    memo = policy_for(MEMO, lambda_mode=True).model("Memo")
    assert memo.protected_fields == ("note",)
    # no deniedFields: only the protected field no rule grants the Lambda caller
    assert memo.denied_fields(lambda_caller(), MEMO_RECORD) == ("note",)
    assert memo.denied_fields(lambda_caller("Memo.secret"), MEMO_RECORD) == ("note", "secret")
    assert memo.denied_fields(lambda_caller(MEMO_SECRET_ARN), MEMO_RECORD) == ("note", "secret")
    # a field both protected and denied is listed once; other types' and unknown fields are ignored
    both = lambda_caller("Memo.note", "Memo.secret", "Other.title", "Memo.missing", "title")
    assert memo.denied_fields(both, MEMO_RECORD) == ("note", "secret")
    # an Admin may read the protected field and has no deniedFields
    assert memo.denied_fields(up("carol"), MEMO_RECORD) == ()


def test_lambda_denied_fields_without_protected_fields() -> None:
    plain = {
        "Memo": a.model({"title": a.string(), "secret": a.string()}).authorization(
            lambda allow: [allow.custom()]
        )
    }
    memo = policy_for(plain, lambda_mode=True).model("Memo")
    assert memo.protected_fields == ()
    assert memo.denied_fields(lambda_caller(), MEMO_RECORD) == ()
    assert memo.denied_fields(lambda_caller("Memo.secret"), MEMO_RECORD) == ("secret",)
    assert memo.denied_fields(lambda_caller(MEMO_SECRET_ARN), MEMO_RECORD) == ("secret",)
    assert memo.denied_fields(lambda_caller("Memo.title", MEMO_SECRET_ARN), MEMO_RECORD) == (
        "title",
        "secret",
    )
