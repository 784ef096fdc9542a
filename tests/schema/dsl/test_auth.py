from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ampbase import a
from ampbase.errors import SchemaDefinitionError
from ampbase.schema.dsl import Allow
from ampbase.schema.ir import AuthAllow, AuthProvider, AuthRule
from tests.schema.dsl.helpers import assert_located, lineno


def _rules(callback: Callable[[Allow], Any]) -> tuple[AuthRule, ...]:
    schema = a.schema({"M": a.model({"f": a.string(), "g": a.string().array()}).authorization(callback)})
    return schema.models[0].auth_rules


# The Gen 1 rule data-schema emits for each builder (specs/auth-spec.md §2.1).
BUILDERS: list[tuple[Callable[[Allow], Any], AuthRule]] = [
    (lambda allow: allow.public_api_key(), AuthRule(AuthAllow.PUBLIC, AuthProvider.API_KEY)),
    (lambda allow: allow.guest(), AuthRule(AuthAllow.PUBLIC, AuthProvider.IDENTITY_POOL)),
    (lambda allow: allow.authenticated(), AuthRule(AuthAllow.PRIVATE)),
    (
        lambda allow: allow.authenticated("identityPool"),
        AuthRule(AuthAllow.PRIVATE, AuthProvider.IDENTITY_POOL),
    ),
    (lambda allow: allow.authenticated("oidc"), AuthRule(AuthAllow.PRIVATE, AuthProvider.OIDC)),
    (lambda allow: allow.owner(), AuthRule(AuthAllow.OWNER, owner_field="owner")),
    (
        lambda allow: allow.owner("oidc"),
        AuthRule(AuthAllow.OWNER, AuthProvider.OIDC, owner_field="owner"),
    ),
    (lambda allow: allow.owner_defined_in("f"), AuthRule(AuthAllow.OWNER, owner_field="f")),
    (lambda allow: allow.owners_defined_in("g"), AuthRule(AuthAllow.OWNER, owner_field="g")),
    (lambda allow: allow.group("Admin"), AuthRule(AuthAllow.GROUPS, groups=("Admin",))),
    (
        lambda allow: allow.groups(["A", "B"], "oidc"),
        AuthRule(AuthAllow.GROUPS, AuthProvider.OIDC, groups=("A", "B")),
    ),
    (lambda allow: allow.group_defined_in("f"), AuthRule(AuthAllow.GROUPS, groups_field="f")),
    (lambda allow: allow.groups_defined_in("g"), AuthRule(AuthAllow.GROUPS, groups_field="g")),
    (lambda allow: allow.custom(), AuthRule(AuthAllow.CUSTOM)),
    (lambda allow: allow.custom("function"), AuthRule(AuthAllow.CUSTOM, AuthProvider.FUNCTION)),
]


@pytest.mark.parametrize(("callback", "expected"), BUILDERS)
def test_each_builder_emits_the_data_schema_rule(
    callback: Callable[[Allow], Any], expected: AuthRule
) -> None:
    assert _rules(callback) == (expected,)


def test_a_single_rule_need_not_be_wrapped_in_a_list() -> None:
    assert _rules(lambda allow: allow.public_api_key()) == _rules(lambda allow: [allow.public_api_key()])


def test_to_restricts_operations_in_the_given_order() -> None:
    (rule,) = _rules(lambda allow: [allow.authenticated().to(["read", "create"])])
    assert rule.operations == ("read", "create")


def test_identity_claim_and_with_claim_in() -> None:
    owner, group = _rules(
        lambda allow: [allow.owner().identity_claim("email"), allow.group("Admin").with_claim_in("roles")]
    )
    assert owner.identity_claim == "email"
    assert group.group_claim == "roles"


def test_rule_sources_point_at_the_allow_call() -> None:
    line = lineno(3)
    rules = _rules(
        lambda allow: [
            allow.owner(),
        ]
    )
    assert rules[0].source is not None and (rules[0].source.file, rules[0].source.line) == (__file__, line)


def test_invalid_provider_is_rejected_with_the_allowed_ones() -> None:
    line = lineno(2)
    with pytest.raises(SchemaDefinitionError) as info:
        _rules(lambda allow: [allow.owner("apiKey")])
    assert_located(info.value, line, hint="'userPools', 'oidc'")
    assert "Invalid provider" in info.value.message


def test_iam_is_not_a_gen2_provider_name() -> None:
    with pytest.raises(SchemaDefinitionError, match="Invalid provider"):
        _rules(lambda allow: [allow.authenticated("iam")])


def test_read_mixed_with_get_is_rejected() -> None:
    line = lineno(2)
    with pytest.raises(SchemaDefinitionError) as info:
        _rules(lambda allow: [allow.public_api_key().to(["read", "get"])])
    assert_located(info.value, line, hint="'read' already covers")


def test_unknown_operation_is_rejected() -> None:
    line = lineno(2)
    with pytest.raises(SchemaDefinitionError) as info:
        _rules(lambda allow: [allow.public_api_key().to(["write"])])
    assert_located(info.value, line)
    assert "'write'" in info.value.message


def test_identity_claim_only_on_owner_rules() -> None:
    line = lineno(2)
    with pytest.raises(SchemaDefinitionError) as info:
        _rules(lambda allow: [allow.group("Admin").identity_claim("sub")])
    assert_located(info.value, line, hint="with_claim_in")


def test_with_claim_in_only_on_group_rules() -> None:
    with pytest.raises(SchemaDefinitionError, match="only available on group rules"):
        _rules(lambda allow: [allow.owner().with_claim_in("roles")])


def test_forgetting_the_parentheses_is_explained() -> None:
    line = lineno(2)
    with pytest.raises(SchemaDefinitionError) as info:
        a.model({"f": a.string()}).authorization(lambda allow: [allow.owner])  # type: ignore[list-item]
    assert_located(info.value, line, hint="parentheses")


def test_an_empty_rule_list_is_rejected() -> None:
    with pytest.raises(SchemaDefinitionError, match="no rules"):
        a.model({"f": a.string()}).authorization(lambda allow: [])


def test_camel_case_builder_names_suggest_snake_case() -> None:
    with pytest.raises(AttributeError, match=r"allow\.public_api_key"):
        _rules(lambda allow: [allow.publicApiKey()])


def test_field_level_rules_are_kept_on_the_field() -> None:
    schema = a.schema(
        {
            "M": a.model(
                {"secret": a.string().authorization(lambda allow: [allow.owner().to(["read", "update"])])}
            ).authorization(lambda allow: [allow.public_api_key()])
        }
    )
    (field,) = schema.models[0].fields
    assert field.auth_rules == (
        AuthRule(AuthAllow.OWNER, owner_field="owner", operations=("read", "update")),
    )


def test_get_is_not_allowed_in_field_level_rules() -> None:
    rule = a.string().authorization(lambda allow: [allow.owner().to(["get"])])
    line = lineno(-1)
    with pytest.raises(SchemaDefinitionError) as info:
        a.schema({"M": a.model({"f": rule}).authorization(lambda allow: allow.public_api_key())})
    assert_located(info.value, line)
    assert "'get' operation is not allowed at the field level" in info.value.message


def test_schema_level_rules_are_kept_as_the_fallback() -> None:
    schema = a.schema({"M": a.model({"f": a.string()})}).authorization(lambda allow: allow.public_api_key())
    assert schema.models[0].auth_rules == ()
    assert schema.schema_rules == (AuthRule(AuthAllow.PUBLIC, AuthProvider.API_KEY),)


def test_resource_access_is_schema_level_only() -> None:
    def fn(event: Any) -> None:
        return None

    line = lineno(2)
    with pytest.raises(SchemaDefinitionError) as info:
        a.schema({"M": a.model({"f": a.string()}).authorization(lambda allow: [allow.resource(fn)])})
    assert_located(info.value, line, hint="schema-level")


def test_resource_access_is_kept_in_the_auth_settings() -> None:
    def fn(event: Any) -> None:
        return None

    from ampbase import define_data

    schema = a.schema({"M": a.model({"f": a.string()})}).authorization(
        lambda allow: [allow.public_api_key(), allow.resource(fn).to(["query"])]
    )
    data = define_data(schema=schema)
    assert data.schema.schema_auth_rules == (AuthRule(AuthAllow.PUBLIC, AuthProvider.API_KEY),)
    assert data.schema.auth.settings["resource_access"] == ({"function": fn, "operations": ("query",)},)
